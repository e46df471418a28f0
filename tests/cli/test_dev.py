"""`sealkit dev up|down`: a local cluster to try sealkit by hand.

A real `sealkit dev up` process (tests/support/devcluster.py): kubectl and sealkit against it as against
a cluster, the certificate it prints being the one the controller serves; SIGINT and SIGTERM stop
everything and remove the temporary files, key included; --workdir keeps them and uses the key again;
`dev down` cleans up after a killed `up`; without the test servers it says how to install them. The
walk-through with --detach is tests/scripts/test_try_it_by_hand.py.
"""

from __future__ import annotations

import base64
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sealkit.keys import load_certificate, load_private_keys
from sealkit_cli.main import cli
from tests.support.devcluster import DevUp, clean_env, command_line, run, running, sealkit_command

SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: dev-test}
stringData: {password: not-a-real-one}
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevUp]:
    dev = DevUp(tmp_path_factory.mktemp("devtmp")).start()
    try:
        yield dev
    finally:
        dev.stop()
        dev.kill()


def test_up_prints_what_to_export_and_keeps_its_files_private(cluster: DevUp) -> None:
    folder = cluster.directory
    assert folder.parent == cluster.tmpdir and folder.name.startswith("sealkit-dev-")
    assert cluster.kubeconfig == folder / "kubeconfig" and cluster.cert == folder / "cert.pem"
    assert sorted(p.name for p in folder.iterdir()) == [
        "cert.pem",
        "dev.log",
        "dev.pid",
        "kubeconfig",
        "sealing-key.yaml",
    ]
    assert folder.stat().st_mode & 0o077 == 0 and cluster.key.stat().st_mode & 0o077 == 0
    (key,) = load_private_keys(cluster.key.read_bytes())
    # The controller runs as in real use: `sealkit controller` in a process of its own, on this kubeconfig.
    assert cluster.process is not None and cluster.controller_pid != cluster.process.pid
    arguments = command_line(cluster.controller_pid)
    assert arguments[arguments.index("sealkit_cli.main") + 1] == "controller"
    assert arguments[arguments.index("--kubeconfig") + 1] == str(cluster.kubeconfig)
    assert key.fingerprint == cluster.fingerprint == load_certificate(cluster.cert.read_bytes()).fingerprint


def test_sealkit_cert_seal_and_verify_reach_the_controller(cluster: DevUp, tmp_path: Path) -> None:
    env = cluster.env()
    served = run(sealkit_command("cert"), env)
    assert served.returncode == 0, served.stderr
    assert served.stdout == cluster.cert.read_text()  # the controller serves the printed certificate
    (tmp_path / "secret.yaml").write_text(SECRET)
    sealed = run(sealkit_command("seal", "-f", "secret.yaml", "-w", "out/db.yaml"), env, cwd=tmp_path)
    assert sealed.returncode == 0, sealed.stderr
    verified = run(sealkit_command("verify", "out"), env, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.splitlines() == [
        "ok    out/db.yaml document 1 (dev-test/db)",
        "1 SealedSecrets in 1 files: 1 open, 0 failed",
    ]


def test_kubectl_applies_and_the_controller_unseals(cluster: DevUp, tmp_path: Path) -> None:
    from tests.support.binaries import tool

    kubectl = [tool("kubectl"), "--cache-dir", str(tmp_path / "cache")]
    env = cluster.env()
    assert run([*kubectl, "create", "namespace", "dev-apply"], env).stdout == "namespace/dev-apply created\n"
    (tmp_path / "secret.yaml").write_text(SECRET.replace("dev-test", "dev-apply"))
    assert run(sealkit_command("seal", "-f", "secret.yaml", "-w", "db.yaml"), env, cwd=tmp_path).returncode == 0
    applied = run([*kubectl, "apply", "-f", str(tmp_path / "db.yaml")], env)
    assert applied.stdout == "sealedsecret.bitnami.com/db created\n", applied.stderr
    waited = run([*kubectl, "wait", "--for=create", "secret/db", "-n", "dev-apply", "--timeout=60s"], env)
    assert waited.returncode == 0, waited.stderr
    got = run([*kubectl, "get", "secret", "db", "-n", "dev-apply", "-o", "yaml"], env)
    secret = yaml.safe_load(got.stdout)
    assert base64.b64decode(secret["data"]["password"]) == b"not-a-real-one"
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "SealedSecret"


@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGINT, True), (signal.SIGINT, False), (signal.SIGTERM, False)],
    ids=["ctrl-c-in-a-terminal", "sigint", "sigterm"],
)
def test_a_stop_signal_stops_everything_and_removes_the_files(sig: signal.Signals, group: bool, tmp_path: Path) -> None:
    dev = DevUp(tmp_path).start()
    try:
        folder, kubeconfig, controller = dev.directory, dev.kubeconfig, dev.controller_pid
        assert running(controller)
        status, rest = dev.stop(sig, group=group)
    finally:
        dev.kill()
    assert status == 0, rest
    assert rest == f"Stopped the local cluster; removed {folder}\n"
    assert not folder.exists() and list(tmp_path.iterdir()) == []  # key material included
    assert not running(controller)  # the controller process is stopped with it
    # The API server is gone with it.
    refused = run(sealkit_command("cert", "--kubeconfig", str(kubeconfig)), clean_env(tmp_path))
    assert refused.returncode != 0


def test_workdir_keeps_the_files_and_the_key_is_used_again(tmp_path: Path) -> None:
    workdir = tmp_path / "my-cluster"
    first = DevUp(tmp_path, ("--key-size", "2048", "--workdir", str(workdir))).start()
    try:
        assert first.directory == workdir
        # One cluster per directory: a second `up` says so in one line (also through --detach).
        for extra in ((), ("--detach",)):
            again = run(sealkit_command("dev", "up", "--workdir", str(workdir), *extra), clean_env(tmp_path))
            assert again.returncode != 0 and again.stdout == ""
            (line,) = again.stderr.splitlines()
            assert line.lower().startswith("error: a local cluster already runs from this directory")
            assert line.endswith(str(workdir))
        status, rest = first.stop(signal.SIGTERM)
    finally:
        first.kill()
    assert status == 0 and rest == f"Stopped the local cluster; kept {workdir}\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["cert.pem", "dev.log", "kubeconfig", "sealing-key.yaml"]
    second = DevUp(tmp_path, ("--key-size", "2048", "--workdir", str(workdir))).start()
    try:
        assert second.fingerprint == first.fingerprint
        down = run(sealkit_command("dev", "down"), clean_env(tmp_path, SEALKIT_DEV_DIR=str(workdir)))
        assert second.process is not None and second.process.wait(60) == 0
    finally:
        second.kill()
    assert down.returncode == 0, down.stderr
    assert down.stdout == f"stopped the local cluster (pid {second.process.pid}); kept {workdir}\n"
    assert (workdir / "sealing-key.yaml").exists() and not (workdir / "dev.pid").exists()


def test_down_removes_what_a_killed_up_left(tmp_path: Path) -> None:
    dev = DevUp(tmp_path).start()
    folder, controller = dev.directory, dev.controller_pid
    dev.kill()  # SIGKILL: no chance to clean up; its controller process is left running
    assert (folder / "sealing-key.yaml").exists() and running(controller)
    down = run(sealkit_command("dev", "down", "--dir", str(folder)), clean_env(tmp_path))
    assert down.returncode == 0, down.stderr
    assert down.stdout == f"no process ran any more; removed {folder}\n"
    assert not running(controller)  # `down` stopped the controller the killed `up` left
    assert list(tmp_path.iterdir()) == []
    gone = run(sealkit_command("dev", "down", "--dir", str(folder)), clean_env(tmp_path))
    assert (
        gone.returncode != 0 and gone.stderr.lower() == f"error: no local cluster runs from this directory: {folder}\n"
    )
    unnamed = run(sealkit_command("dev", "down"), clean_env(tmp_path))
    assert unnamed.returncode != 0 and unnamed.stderr.endswith(": --dir or SEALKIT_DEV_DIR\n")


@pytest.mark.parametrize("detach", [(), ("--detach",)], ids=["foreground", "detached"])
def test_without_the_test_servers_it_says_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, detach: tuple[str, ...]
) -> None:
    import tempfile

    monkeypatch.setitem(sys.modules, "sealkit_testservers.kube", None)  # as if sealkit-testservers were missing
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(cli, ["dev", "up", *detach])
    assert result.exit_code != 0
    (line,) = result.output.splitlines()
    assert line.lower() == (
        "error: the kubernetes emulator is not installed (pip install -e ./testservers in a sealkit checkout, "
        "as scripts/bootstrap.sh does): sealkit-testservers"
    )
    assert list(tmp_path.iterdir()) == []  # nothing made before finding out


def test_a_port_in_use_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for extra in ((), ("--detach",)):
            args = ("dev", "up", "--key-size", "2048", "--port", str(port), *extra)
            done = run(sealkit_command(*args), clean_env(tmp_path))
            assert done.returncode != 0 and done.stdout == ""
            assert done.stderr.lower() == f"error: the local cluster did not start (port {port} is in use): --port\n"
            assert list(tmp_path.iterdir()) == []  # no directory, no key
