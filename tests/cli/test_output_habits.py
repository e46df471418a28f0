"""Output habits every command shares (`sealkit_cli.terminal`, `io`): results line by line as they are
decided, also into a pipe; progress and time estimates only when stderr is a terminal; an output file's
missing parent directories created (or the one that cannot be named)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.documents import dump_yaml
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit_cli.main import cli
from tests.support.devcluster import GUARD, DevUp, LineReader, run, sealkit_command


def secret(name: str, namespace: str = "default") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "stringData": {"token": f"not-a-real-{name}"},
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevUp]:
    dev = DevUp(tmp_path_factory.mktemp("devtmp")).start()
    try:
        yield dev
    finally:
        dev.stop()
        dev.kill()


@pytest.fixture
def sealed_files(cluster: DevUp, tmp_path: Path) -> list[Path]:
    cert = load_certificate(cluster.cert.read_bytes())
    files = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(dump_yaml([seal_secret(secret(name), cert)]))
        files.append(path)
    return files


def test_results_reach_a_pipe_as_they_are_decided(cluster: DevUp, sealed_files: list[Path]) -> None:
    # One request per 1,000 s: the first result is decided at once, the run then waits ~17 minutes.
    process = subprocess.Popen(
        sealkit_command("verify", "--rate", "0.001", *map(str, sealed_files)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=cluster.env(),
    )
    try:
        first = LineReader(process).line(GUARD)  # block-buffered output would only come at exit
        assert process.poll() is None
    finally:
        process.kill()
        process.wait(GUARD)
        assert process.stdout is not None
        process.stdout.close()
    assert first == f"ok    {sealed_files[0]} document 1 (default/a)\n"


def stderr_of(command: list[str], env: dict[str, str], *, terminal: bool) -> tuple[int, str, str]:
    """Run `command` with stderr on a pseudo-terminal (or a pipe): status, stdout, stderr."""
    if not terminal:
        done = run(command, env)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env)
        os.close(follower)
        out, _ = process.communicate(timeout=GUARD)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return process.returncode, out.decode(), b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize("terminal", [True, False])
def test_the_time_estimate_is_for_a_terminal_only(cluster: DevUp, sealed_files: list[Path], terminal: bool) -> None:
    status, out, err = stderr_of(sealkit_command("verify", *map(str, sealed_files)), cluster.env(), terminal=terminal)
    assert status == 0, out + err
    assert out.splitlines()[-1] == "2 SealedSecrets in 2 files: 2 open, 0 failed"
    estimate = "2 SealedSecrets through the controller at up to 2/s: about 1s\n"
    assert err == (estimate if terminal else "")


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return generate_key_pair(bits=2048)


def test_output_files_get_their_missing_directories(
    pair: GeneratedKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("cert.pem").write_bytes(pair.certificate_pem)
    Path("key.pem").write_bytes(pair.private_pem)
    Path("secret.yaml").write_text(yaml.safe_dump(secret("db", "team-a")))
    Path("repo").mkdir()
    runner = CliRunner(env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None})
    for args, written in (
        (["seal", "--cert", "cert.pem", "-f", "secret.yaml", "-w", "sealed/team-a/db.yaml"], "sealed/team-a/db.yaml"),
        (["kubeseal", "--cert", "cert.pem", "-f", "secret.yaml", "-w", "k/s.json"], "k/s.json"),
        (["cert", "--cert", "cert.pem", "-w", "certs/prod/cert.pem"], "certs/prod/cert.pem"),
        (
            ["unseal", "--private-key", "key.pem", "-f", "sealed/team-a/db.yaml", "-w", "plain/x/db.yaml"],
            "plain/x/db.yaml",
        ),
        (["lint", "--all-files", "--output", "reports/2024/lint.txt", "repo"], "reports/2024/lint.txt"),
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)
        assert Path(written).is_file(), args
    assert Path("plain/x/db.yaml").stat().st_mode & 0o777 == 0o600
    assert yaml.safe_load(Path("sealed/team-a/db.yaml").read_text())["kind"] == "SealedSecret"


SealTo = Callable[[str], Result]


@pytest.fixture
def seal_to(pair: GeneratedKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SealTo:
    """In an empty directory holding only cert.pem and secret.yaml: `sealkit seal ... -w OUTPUT`."""
    monkeypatch.chdir(tmp_path)
    Path("cert.pem").write_bytes(pair.certificate_pem)
    Path("secret.yaml").write_text(yaml.safe_dump(secret("db", "team-a")))
    runner = CliRunner(env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None})
    return lambda output: runner.invoke(cli, ["seal", "--cert", "cert.pem", "-f", "secret.yaml", "-w", output])


def test_a_file_in_the_way_is_named_and_nothing_is_written(seal_to: SealTo) -> None:
    Path("sealed").write_text("a file, not a directory")
    result = seal_to("sealed/team-a/db.yaml")
    assert result.exit_code != 0
    (line,) = result.output.splitlines()
    assert line.lower() == "error: cannot create directory sealed (a file is in the way): sealed/team-a/db.yaml"
    assert Path("sealed").read_text() == "a file, not a directory"


def test_a_directory_whose_name_no_file_system_takes_is_named(seal_to: SealTo, tmp_path: Path) -> None:
    """The directory above the output cannot even be looked up (ENAMETOOLONG, also as root): the line names it."""
    long = "d" * 300
    result = seal_to(f"{long}/team-a/db.yaml")
    assert result.exit_code == 2
    assert result.output == f"error: cannot create directory {long} (file name too long): {long}/team-a/db.yaml\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "secret.yaml"]


@pytest.mark.parametrize(
    ("output", "line"),
    [
        # The directories are made, then the file's own name is too long (ENAMETOOLONG, also as root).
        (f"new/team-a/{'s' * 300}.yaml", f"error: cannot write (file name too long): new/team-a/{'s' * 300}.yaml\n"),
        # `new` is made, then the one below it cannot be.
        (
            f"new/{'d' * 300}/db.yaml",
            f"error: cannot create directory new/{'d' * 300} (file name too long): new/{'d' * 300}/db.yaml\n",
        ),
    ],
)
def test_a_failed_write_leaves_no_directory_it_made(seal_to: SealTo, tmp_path: Path, output: str, line: str) -> None:
    """Directories made for an output file that then cannot be written are removed again (they stayed)."""
    result = seal_to(output)
    assert result.exit_code == 2
    assert result.output == line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "secret.yaml"]


def test_an_output_file_with_the_longest_name_a_file_system_takes_is_written(seal_to: SealTo, tmp_path: Path) -> None:
    name = "s" * 250 + ".yaml"  # the temporary file beside it gets a shortened name
    result = seal_to(name)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(Path(name).read_text())["kind"] == "SealedSecret"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cert.pem", "secret.yaml", name])


def test_keys_backup_to_file_gets_its_directories_too(cluster: DevUp, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "dev" / "keys.yaml"
    done = run(sealkit_command("keys", "backup", "--to-file", str(target)), cluster.env())
    assert done.returncode == 0, done.stderr
    assert target.stat().st_mode & 0o777 == 0o600
    assert yaml.safe_load(target.read_text())["kind"] == "List"


@pytest.mark.parametrize("through_main", [True, False])
def test_stdout_is_line_buffered_in_a_pipe(through_main: bool) -> None:
    """Every write reaches a pipe at its newline, not only click's echoes (which flush themselves)."""
    code = (
        "import sys\n"
        "from sealkit_cli.main import main\n"
        f"if {through_main}:\n"
        "    try:\n"
        "        main(['--version'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "sys.stderr.write(str(sys.stdout.line_buffering))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=GUARD, check=False)
    assert done.stderr == str(through_main)
