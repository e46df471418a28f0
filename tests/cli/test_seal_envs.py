"""`sealkit seal --env`/`--all-envs`: one Secret sealed for several clusters, each file where it belongs, with
its provenance; re-running updates in place; bad input is one line and writes nothing anywhere."""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.documents import load_documents
from sealkit.errors import UnsealError
from sealkit_cli.main import cli
from tests.conftest import make_certificate
from tests.support.envrepo import EnvRepo, environment, make_repo, vector_pairs

ENVS = ("dev", "staging", "prod")
PLAINTEXT = {"password": "s3cret-made-up-value", "username": "orders"}


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None})


def secret(name: str = "db", namespace: str = "shop", data: dict[str, str] | None = None, **meta: Any) -> str:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, **meta},
        "stringData": data if data is not None else PLAINTEXT,
    }
    return yaml.safe_dump(obj)


@pytest.fixture
def repo(tmp_path: Path, vectors: dict[str, Any]) -> EnvRepo:
    made = make_repo(tmp_path / "repo", vector_pairs(vectors, ENVS))
    staging = made.dir("staging")
    staging.mkdir(parents=True)
    (staging / "kustomization.yaml").write_text(
        "# staging's SealedSecrets\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - payments.webhook.sealedsecret.yaml   # sealed earlier\n"
    )
    return made


@pytest.fixture(scope="module")
def expired_cert() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    return make_certificate(key, not_before=start, days=2).decode()


def sealed_object(path: Path) -> dict[str, Any]:
    (doc,) = [d for d in load_documents(path.read_text(), str(path)) if d.obj.get("kind") == "SealedSecret"]
    obj: dict[str, Any] = doc.obj
    return obj


def test_one_secret_for_three_environments_in_one_command(repo: EnvRepo) -> None:
    result = run("seal", "--spec", str(repo.spec), *[a for env in ENVS for a in ("--env", env)], input=secret())
    assert result.exit_code == 0, result.output
    for env in ENVS:
        path = repo.file(env, "shop", "db")
        assert path.is_file(), f"{env}'s file lands in its own directory"
        obj = sealed_object(path)
        annotations = obj["metadata"]["annotations"]
        assert annotations["sealkit.io/certificate-sha256"] == repo.certs[env].sha256
        assert annotations["sealkit.io/environment"] == env
        assert "annotations" not in obj["spec"]["template"]["metadata"], "provenance never reaches the Secret"
        assert repo.opens(env, obj) == {k: v.encode() for k, v in PLAINTEXT.items()}
        for other in ENVS:
            if other != env:
                with pytest.raises(UnsealError):
                    repo.opens(other, obj)
    assert sorted(p.name for p in repo.dir("dev").iterdir()) == ["shop.db.sealedsecret.yaml"]
    assert (
        str(repo.file("prod", "shop", "db").relative_to(repo.root)) == "clusters/prod/secrets/shop.db.sealedsecret.yaml"
    )
    kustomization = (repo.dir("staging") / "kustomization.yaml").read_text()
    assert kustomization == (
        "# staging's SealedSecrets\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - payments.webhook.sealedsecret.yaml   # sealed earlier\n  - shop.db.sealedsecret.yaml\n"
    )
    assert not (repo.dir("dev") / "kustomization.yaml").exists(), "no kustomization is made where there was none"


def changed(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_rerun_updates_in_place_keeping_order_and_comments(repo: EnvRepo) -> None:
    assert run("seal", "--spec", str(repo.spec), "--all-envs", input=secret()).exit_code == 0
    before = {}
    for env in ENVS:
        path = repo.file(env, "shop", "db")
        text = path.read_text()
        # People comment and reorder files: a comment at the top, one on an item, items in their own order.
        lines = text.splitlines()
        password = next(i for i, line in enumerate(lines) if line.strip().startswith("password:"))
        username = next(i for i, line in enumerate(lines) if line.strip().startswith("username:"))
        lines[password], lines[username] = lines[username], lines[password] + "  # rotated quarterly"
        text = f"# {env}: the orders database\n" + "\n".join(lines) + "\n"
        path.write_text(text)
        path.chmod(0o640)
        before[env] = text
    new_values = {"password": "rotated-made-up", "username": "orders", "extra": "added-item"}
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret(data=new_values))
    assert result.exit_code == 0, result.output
    assert "updated" in result.output and "new" not in result.output
    for env in ENVS:
        path = repo.file(env, "shop", "db")
        after = path.read_text()
        diff = changed(before[env], after)
        # Only the two existing value lines changed (in place) and the new item was added after them.
        assert [line[0] for line in diff] == ["-", "-", "+", "+", "+"], diff
        assert after.startswith(f"# {env}: the orders database\n")
        assert "# rotated quarterly" in after
        keys = list(sealed_object(path)["spec"]["encryptedData"])
        assert keys == ["username", "password", "extra"], "the file's order is kept, new items go last"
        assert repo.opens(env, sealed_object(path)) == {k: v.encode() for k, v in new_values.items()}
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    kustomization = (repo.dir("staging") / "kustomization.yaml").read_text()
    assert kustomization.count("shop.db.sealedsecret.yaml") == 1, "listed once"


def test_plaintext_is_read_once_and_never_written(repo: EnvRepo, tmp_path: Path) -> None:
    source = tmp_path / "secret.yaml"
    source.write_text(secret(name="api", data={"token": "only-in-memory-token"}))
    result = run("seal", "--spec", str(repo.spec), "--all-envs", "-f", str(source))
    assert result.exit_code == 0, result.output
    for path in repo.root.rglob("*"):
        if path.is_file():
            assert b"only-in-memory-token" not in path.read_bytes(), path
    assert "only-in-memory-token" not in result.output
    leftovers = [p for p in repo.root.rglob(".*") if p.is_file()]
    assert leftovers == [], "no temporary files stay behind"


def test_spec_found_as_csi_finds_it(repo: EnvRepo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(repo.root)
    assert run("seal", "--env", "dev", input=secret()).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("SEALKIT_CSI_SPEC", str(repo.spec))
    assert run("seal", "--env", "prod", input=secret()).exit_code == 0
    assert repo.file("prod", "shop", "db").is_file()


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def two_secrets(second: str = "api", namespace: str = "shop") -> str:
    return secret() + "---\n" + secret(name=second, namespace=namespace, data={"token": "t"})


def bad_cases(repo: EnvRepo, tmp_path: Path) -> dict[str, tuple[list[str], str, str]]:
    """name -> (extra args, stdin, the message's distinctive part)."""
    return {
        "unknown environment": (["--env", "dev", "--env", "qa"], secret(), "unknown environment 'qa'"),
        "name clash": (["--all-envs"], two_secrets(second="db"), "two Secrets would be written to the same file"),
        "no namespace": (["--all-envs"], secret(namespace=""), "the Secret has no namespace"),
        # #16: what would go into the files in clear is checked first, and never quoted.
        "label holding a value": (["--all-envs"], secret(labels={"app": {"password": "hunter2"}}), "metadata.labels"),
        "type holding a value": (
            ["--all-envs"],
            yaml.safe_dump({**yaml.safe_load(secret()), "type": {"password": "hunter2"}}),
            "type: is a mapping",
        ),
        "tls without its keys": (
            ["--all-envs"],
            yaml.safe_dump({**yaml.safe_load(secret()), "type": "kubernetes.io/tls"}),
            "needs the key tls.crt",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "unknown environment",
        "name clash",
        "no namespace",
        "label holding a value",
        "type holding a value",
        "tls without its keys",
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(repo: EnvRepo, tmp_path: Path, case: str) -> None:
    before = snapshot(repo.root)
    args, stdin, message = bad_cases(repo, tmp_path)[case]
    result = run("seal", "--spec", str(repo.spec), *args, input=stdin)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output and "hunter2" not in result.output
    assert snapshot(repo.root) == before, "nothing written for any environment"


def test_missing_expired_or_unreachable_certificate(repo: EnvRepo, tmp_path: Path, expired_cert: str) -> None:
    """prod's certificate is the problem; dev and staging would be fine: nothing is written for them either."""
    cases = {
        "missing": (environment("prod", sealingCert="certs/gone.pem"), "sealing certificate does not exist"),
        "expired": (environment("prod", sealingCert="certs/expired.pem"), "the certificate expired on"),
        "unreachable": (
            environment("prod", sealingCert="https://127.0.0.1:9/v1/cert.pem"),
            "https://127.0.0.1:9/v1/cert.pem",
        ),
        "unreachable cluster": (
            environment("prod", sealingCert={"context": "prod"}),
            "environment prod",
        ),
    }
    (repo.root / "certs" / "expired.pem").write_text(expired_cert)
    for name, (prod, message) in cases.items():
        repo.write_spec({"dev": environment("dev"), "staging": environment("staging"), "prod": prod})
        before = snapshot(repo.root)
        kubeconfig = tmp_path / "no-such-kubeconfig"
        result = run("seal", "--spec", str(repo.spec), "--all-envs", "--kubeconfig", str(kubeconfig), input=secret())
        assert result.exit_code != 0, name
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], (name, result.output)
        assert snapshot(repo.root) == before, name


def test_sealed_secrets_outside_the_repo_is_refused(repo: EnvRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo.root / "clusters" / "escape").parent.mkdir(parents=True, exist_ok=True)
    (repo.root / "clusters" / "escape").symlink_to(outside)
    for value, message in (
        ("../outside", "must be a path inside the config repo"),
        ("/tmp/x", "must be a path inside the config repo"),
        ("clusters/escape/secrets", "resolves outside the repo"),
    ):
        repo.write_spec({"dev": environment("dev"), "prod": environment("prod", sealedSecrets=value)})
        before = snapshot(repo.root)
        result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret())
        assert result.exit_code != 0
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], (value, result.output)
        assert snapshot(repo.root) == before
        assert list(outside.iterdir()) == []


def test_a_file_holding_another_object_or_scope_is_refused(repo: EnvRepo) -> None:
    assert run("seal", "--spec", str(repo.spec), "--all-envs", input=secret()).exit_code == 0
    before = snapshot(repo.root)
    scoped = secret(annotations={"sealedsecrets.bitnami.com/namespace-wide": "true"})
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=scoped)
    assert result.exit_code != 0 and "the file is sealed strict, the Secret namespace-wide" in result.output
    assert snapshot(repo.root) == before


def test_existing_files_in_other_layouts_are_updated_as_they_read(repo: EnvRepo) -> None:
    """A `|` block value as the last item, CRLF line breaks, and item names YAML reads as other types: before,
    the run said `updated` and wrote the new item under spec.template (or `1:`/`on:` keys that are a number and
    a bool), leaving a file that did not open."""
    assert run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret()).exit_code == 0
    path = repo.file("dev", "shop", "db")
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("username:"))
    value = lines[at].split(": ", 1)[1]
    lines[at : at + 1] = ["    username: |", f"      {value}"]
    before = "\r\n".join(lines) + "\r\n"
    path.write_bytes(before.encode())
    values = {"password": "rotated-made-up", "on": "a-bool-in-yaml-1.1", "1": "a-number"}
    result = run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret(data=values))
    assert result.exit_code == 0, result.output
    after = path.read_bytes().decode()
    assert after.count("\n") == after.count("\r\n"), "CRLF kept on every line"
    obj = sealed_object(path)
    assert list(obj["spec"]["encryptedData"])[:2] == ["password", "username"]
    assert obj["spec"]["template"] == yaml.safe_load(before)["spec"]["template"]
    opened = repo.opens("dev", obj)
    assert opened == {**{k: v.encode() for k, v in values.items()}, "username": PLAINTEXT["username"].encode()}


def test_an_item_that_is_a_yaml_alias_is_refused_and_nothing_is_written(repo: EnvRepo) -> None:
    assert run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret()).exit_code == 0
    path = repo.file("dev", "shop", "db")
    text = path.read_text()
    value = next(line for line in text.splitlines() if line.strip().startswith("password:")).split(": ", 1)[1]
    text = text.replace(f"password: {value}", f"password: &v {value}").replace(
        "  template:", "    copy: *v\n  template:"
    )
    path.write_text(text)
    result = run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret(data={"copy": "new-made-up"}))
    assert result.exit_code == 2
    assert result.output.startswith("error: spec.encryptedData.copy is a YAML anchor or alias; ")
    assert result.output.endswith(" in place: " + str(path) + " document 1\n") and result.output.count("\n") == 1
    assert path.read_text() == text


def test_a_write_failure_in_one_environment_writes_nothing(repo: EnvRepo) -> None:
    """prod's directory refuses new files: read-only for a user; for root (CI), which writes into read-only
    directories, immutable (`chattr +i`, refused to root too)."""
    prod = repo.dir("prod")
    prod.mkdir(parents=True)
    with unwritable(prod):
        before = snapshot(repo.root)
        result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret())
        assert result.exit_code != 0 and "cannot write" in result.output
        assert snapshot(repo.root) == before


@contextlib.contextmanager
def unwritable(directory: Path) -> Iterator[None]:
    """`directory` refuses new files while the block runs, also to root: mode 0500, or for root the
    immutable attribute (skips where the file system has none)."""
    if os.geteuid() != 0:
        directory.chmod(0o500)
        try:
            yield
        finally:
            directory.chmod(0o700)
        return
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"root writes into read-only directories, and chattr +i failed here: {made.stderr!r}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_a_directory_that_cannot_be_made_in_one_environment_writes_nothing(repo: EnvRepo) -> None:
    """As above, also as root (CI): a file sits where a directory above prod's has to be made (found while
    planning; a failure while writing, as root too: the file name too long, below)."""
    prod = repo.dir("prod").parent
    prod.parent.mkdir(parents=True, exist_ok=True)
    prod.write_text("a file, not a directory")
    before = snapshot(repo.root)
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret())
    assert result.exit_code == 2
    assert result.output == "error: environment prod's sealedSecrets cannot be read (a file is in the way): " + (
        "clusters/prod/secrets\n"
    )
    assert snapshot(repo.root) == before
    assert not repo.dir("dev").exists(), "the directory made for dev is removed again"


def test_an_environment_directory_whose_name_no_file_system_takes_is_named_and_nothing_is_written(
    repo: EnvRepo,
) -> None:
    """prod's sealedSecrets cannot even be looked up (ENAMETOOLONG, also as root): one line naming it as the spec
    does, not a bare 'file name too long'; dev, planned first, gets nothing either."""
    long = f"clusters/{'p' * 300}/secrets"
    repo.write_spec({"dev": environment("dev"), "prod": environment("prod", sealedSecrets=long)})
    before = snapshot(repo.root)
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret())
    assert result.exit_code == 2
    assert result.output == f"error: environment prod's sealedSecrets cannot be read (file name too long): {long}\n"
    assert snapshot(repo.root) == before
    assert not repo.dir("dev").exists()


def test_two_kustomization_files_are_refused_and_nothing_is_written(repo: EnvRepo) -> None:
    """kustomize refuses a directory with two of kustomization.yaml/.yml/Kustomization; sealkit listed the new
    file in the first it found, maybe the one a fixed kustomize or a reviewer would not read."""
    (repo.dir("staging") / "Kustomization").write_text("resources: []\n")
    before = snapshot(repo.root)
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret())
    assert result.exit_code == 2
    assert result.output == (
        "error: the directory has 2 kustomization files (kustomization.yaml and Kustomization; kustomize refuses "
        f"it): {repo.dir('staging')}\n"
    )
    assert snapshot(repo.root) == before


def test_a_kustomization_that_cannot_be_looked_up_is_named_and_nothing_is_written(
    repo: EnvRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """staging's kustomization.yaml cannot be looked up (EACCES, simulated: CI runs as root): taken for absent,
    the new file would go unlisted; a bare 'permission denied' named nothing."""
    import errno

    blocked = repo.dir("staging") / "kustomization.yaml"
    real = os.stat

    def refuse(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if isinstance(path, str | os.PathLike) and Path(path) == blocked:
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real(path, *args, **kwargs)

    before = snapshot(repo.root)
    monkeypatch.setattr(os, "stat", refuse)
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret())
    monkeypatch.undo()
    assert result.exit_code == 2
    assert result.output == f"error: cannot read (permission denied): {blocked}\n"
    assert snapshot(repo.root) == before


def test_a_file_linked_out_of_the_repo_is_refused_and_one_linked_inside_is_updated(
    repo: EnvRepo, tmp_path: Path
) -> None:
    """A SealedSecret file that is a symbolic link: one leading out of the repo was updated out there (what
    the repo commits is the link; kustomize refuses it); one leading inside the repo is updated through."""
    assert run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret()).exit_code == 0
    sealed = repo.file("dev", "shop", "db")
    outside = tmp_path / "outside.yaml"
    sealed.rename(outside)
    sealed.symlink_to(outside)
    before, kept = snapshot(repo.root), outside.read_bytes()
    result = run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret(data={"password": "new"}))
    assert result.exit_code == 2
    root = repo.root.resolve()
    assert result.output == f"error: a symbolic link out of the repo ({root}) is in the way: {sealed}\n"
    assert snapshot(repo.root) == before and outside.read_bytes() == kept

    shared = repo.root / "shared" / "db.yaml"
    shared.parent.mkdir()
    sealed.unlink()
    outside.rename(shared)
    sealed.symlink_to(shared)
    again = run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret(data={"password": "new"}))
    assert again.exit_code == 0, again.output
    assert sealed.is_symlink() and shared.read_bytes() != kept
    (doc,) = load_documents(shared.read_text(), "shared")
    assert repo.opens("dev", doc.obj)["password"] == b"new"


def test_a_pipe_where_a_sealed_file_goes_is_refused_unopened(repo: EnvRepo) -> None:
    """Read as the existing file, a named pipe blocked the run for ever; it is refused without being opened (a
    watchdog gives a reader EOF after 5 s, so that a regression fails instead of hanging)."""
    repo.dir("dev").mkdir(parents=True)
    pipe = repo.file("dev", "shop", "db")
    os.mkfifo(pipe)
    watchdog = threading.Timer(5.0, lambda: os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)))
    watchdog.start()
    try:
        result = run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret())
    finally:
        watchdog.cancel()
    assert result.exit_code == 2
    assert result.output == f"error: cannot read (not a regular file): {pipe}\n"
    assert stat.S_ISFIFO(pipe.lstat().st_mode)


def test_a_secret_whose_file_name_fits_is_sealed_however_long(repo: EnvRepo) -> None:
    name = "n" * (255 - len("shop.") - len(".sealedsecret.yaml"))  # the longest file name a file system takes
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret(name=name))
    assert result.exit_code == 0, result.output
    for env in ENVS:
        opened = repo.opens(env, sealed_object(repo.file(env, "shop", name)))
        assert opened == {k: v.encode() for k, v in PLAINTEXT.items()}
    assert [p.name for p in repo.root.rglob(".*.tmp")] == []


def test_a_secret_whose_file_name_cannot_exist_is_one_line_and_writes_nothing(repo: EnvRepo) -> None:
    before = snapshot(repo.root)
    name = "n" * 253  # a valid Secret name; with its namespace and suffix, longer than a file name may be
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=secret(name=name))
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("error: cannot write (file name too long): ") and line.endswith(".sealedsecret.yaml")
    assert snapshot(repo.root) == before


def test_env_refuses_single_cluster_options(repo: EnvRepo) -> None:
    for extra in (["-w", "out.yaml"], ["--cert", "certs/dev.pem"], ["--merge-into", "x.yaml"], ["--raw"]):
        result = run("seal", "--spec", str(repo.spec), "--env", "dev", *extra, input=secret())
        assert result.exit_code != 0 and "--env writes each environment's own files" in result.output, extra


def test_env_values_complete_from_the_spec(repo: EnvRepo) -> None:
    from sealkit_cli import completers
    from sealkit_cli.commands.seal import seal

    ctx = click.Context(seal)
    ctx.params["spec_file"] = str(repo.spec)
    (env_option,) = [p for p in seal.params if p.name == "envs"]
    assert [c.value for c in completers.environments(ctx, env_option, "")] == ["dev", "prod", "staging"]
    assert [c.value for c in completers.environments(ctx, env_option, "st")] == ["staging"]
    assert [c.value for c in env_option.shell_complete(ctx, "p")] == ["prod"]


def test_certs_pull_check_fails_on_an_expired_committed_certificate(repo: EnvRepo, expired_cert: str) -> None:
    """File-only environments: nothing to pull, but `--check` (the CI job) still catches an expired one."""
    assert run("certs", "pull", "--check", "--spec", str(repo.spec)).exit_code == 0
    (repo.root / "certs" / "expired.pem").write_text(expired_cert)
    repo.write_spec({"dev": environment("dev"), "prod": environment("prod", sealingCert="certs/expired.pem")})
    before = snapshot(repo.root)
    result = run("certs", "pull", "--check", "--spec", str(repo.spec))
    assert result.exit_code == 1, result.output
    assert "error: committed certificates stale or expired: prod " in result.output
    (prod,) = [line for line in result.output.splitlines() if line.startswith("prod:")]
    assert "expired on" in prod and "certs/expired.pem" in prod
    assert "Traceback" not in result.output
    assert snapshot(repo.root) == before, "--check writes nothing"


@pytest.fixture
def many_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every run split over three worker processes, however small (one piece per worker is enough), even
    while other tests' servers run threads in this process; yields the share counts of each run."""
    from sealkit_cli import workers

    monkeypatch.setattr(workers, "MIN_PIECES_PER_WORKER", 1)
    monkeypatch.setattr(workers, "allowed_cpus", lambda: 3)
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)
    shares: list[int] = []
    real = workers.map_shares

    def counted(run: Any, split: Any, discard: Any = None) -> Any:
        shares.append(len(split))
        return real(run, split, discard)

    monkeypatch.setattr(workers, "map_shares", counted)
    yield shares


def several_secrets(count: int) -> str:
    return "---\n".join(secret(name=f"app-{i}", data={"token": f"t{i}", "user": f"u{i}"}) for i in range(count))


def test_a_run_over_worker_processes_writes_what_one_process_writes(repo: EnvRepo, many_workers: list[int]) -> None:
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=several_secrets(4))
    assert result.exit_code == 0, result.output
    assert many_workers == [3], "three processes did the work"
    for env in ENVS:
        for i in range(4):
            obj = sealed_object(repo.file(env, "shop", f"app-{i}"))
            assert repo.opens(env, obj) == {"token": f"t{i}".encode(), "user": f"u{i}".encode()}
            assert obj["metadata"]["annotations"]["sealkit.io/certificate-sha256"] == repo.certs[env].sha256
    resources = yaml.safe_load((repo.dir("staging") / "kustomization.yaml").read_text())["resources"]
    assert resources == ["payments.webhook.sealedsecret.yaml", *[f"shop.app-{i}.sealedsecret.yaml" for i in range(4)]]
    assert [p.name for p in repo.root.rglob(".*.tmp")] == [], "every staged file was placed"
    heads = [line.split(":")[0] for line in result.output.splitlines() if not line.startswith(" ")]
    assert heads == sorted(ENVS), "the report keeps the environments' order (--all-envs: by name)"

    again = run("seal", "--spec", str(repo.spec), "--all-envs", input=several_secrets(4).replace("t3", "rotated"))
    assert again.exit_code == 0, again.output
    assert again.output.count("updated") == 4 * len(ENVS)
    for env in ENVS:
        assert repo.opens(env, sealed_object(repo.file(env, "shop", "app-3")))["token"] == b"rotated"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_failure_in_any_worker_writes_nothing(repo: EnvRepo, many_workers: list[int], env: str) -> None:
    assert run("seal", "--spec", str(repo.spec), "--env", "staging", input=several_secrets(4)).exit_code == 0
    clash = repo.file(env, "shop", "app-2")
    clash.parent.mkdir(parents=True, exist_ok=True)
    clash.write_text(repo.file("staging", "shop", "app-1").read_text())  # another Secret's SealedSecret
    before = snapshot(repo.root)
    dirs = sorted(d for d in repo.root.rglob("*") if d.is_dir())
    assert not all(repo.dir(other).exists() for other in ENVS), "a directory the run would have to make"
    result = run("seal", "--spec", str(repo.spec), "--all-envs", input=several_secrets(4))
    assert result.exit_code == 2
    assert result.output == f"error: the file holds SealedSecret shop/app-1, not shop/app-2: {clash}\n"
    assert snapshot(repo.root) == before, "no environment changed, no staged file left"
    assert sorted(d for d in repo.root.rglob("*") if d.is_dir()) == dirs, "no directory left behind"
    assert many_workers[-1] == 3


def test_a_failure_late_in_one_process_leaves_no_staged_file(repo: EnvRepo) -> None:
    """One process (a run too small to fork), chunks of 4 Secrets: the third chunk meets a file that is not
    YAML, and the new files the first two chunks staged beside their places are removed (they were left as
    `.shop.app-0.sealedsecret.yaml.<pid>.0.tmp`, for a `git add .` to pick up)."""
    broken = repo.file("dev", "shop", "app-9")
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("not: [valid\n")
    before = snapshot(repo.root)
    result = run("seal", "--spec", str(repo.spec), "--env", "dev", input=several_secrets(12))
    assert result.exit_code == 2 and result.output.startswith("error: not valid YAML"), result.output
    assert snapshot(repo.root) == before, "no file written, no staged file left"


def test_sigterm_midway_puts_every_file_back(
    repo: EnvRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CI job cancelled while files are placed: SIGTERM raises like Ctrl-C, what was placed is undone and
    the staged files removed, one line, status 143 (before: the process vanished with some environments
    written, others not, and staged files left)."""
    import signal
    import threading

    from sealkit import filewrites
    from sealkit_cli.main import LazyGroup, main

    monkeypatch.setattr(LazyGroup, "freeze_imports", False)  # main() sets it: put back for later tests here

    assert run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret()).exit_code == 0
    stdin = tmp_path / "secrets.yaml"
    stdin.write_text(two_secrets())
    before = snapshot(repo.root)
    real_link = filewrites._link

    def link_then_terminated(tmp: str, path: Path) -> None:
        real_link(tmp, path)
        # After the first new file is in place; to this thread, as `kill PID` reaches a CLI run (it has no
        # other thread): a test runner's own threads would take a process-wide signal.
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)

    monkeypatch.setattr(filewrites, "_link", link_then_terminated)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with pytest.raises(SystemExit) as exited:
            main(["seal", "--spec", str(repo.spec), "--all-envs", "-f", str(stdin)])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exited.value.code == 143
    assert capsys.readouterr().err == "error: terminated\n"
    assert snapshot(repo.root) == before, "every environment as it was, no staged file left"
