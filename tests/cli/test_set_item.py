"""`sealkit set NAMESPACE/NAME KEY`: one item into existing sealed files of the chosen environments; the other
items are never decrypted (their bytes stay), the value comes from a file, a literal, stdin or a hidden prompt."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.documents import load_documents
from sealkit_cli.main import cli
from tests.support.envrepo import EnvRepo, make_repo, vector_pairs

ENVS = ("dev", "staging", "prod")


def run(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env={"KUBECONFIG": None})


@pytest.fixture
def repo(tmp_path: Path, vectors: dict[str, Any]) -> EnvRepo:
    made = make_repo(tmp_path / "repo", vector_pairs(vectors, ENVS))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "stringData": {"username": "orders", "password": "pw-1"},
    }
    assert run("seal", "--spec", str(made.spec), "--all-envs", input=yaml.safe_dump(secret)).exit_code == 0
    return made


def obj(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = load_documents(path.read_text(), str(path))[0].obj
    return found


def test_set_adds_an_item_leaving_the_others_byte_for_byte(repo: EnvRepo) -> None:
    before = {env: obj(repo.file(env, "shop", "db"))["spec"]["encryptedData"] for env in ENVS}
    result = run("set", "shop/db", "api-token", "--spec", str(repo.spec), "--env", "dev", "--env", "prod",
                 "--from-literal", "tok-1")  # fmt: skip
    assert result.exit_code == 0, result.output
    for env in ("dev", "prod"):
        after = obj(repo.file(env, "shop", "db"))["spec"]["encryptedData"]
        assert {k: after[k] for k in before[env]} == before[env], "other items never re-sealed"
        assert repo.opens(env, obj(repo.file(env, "shop", "db")))["api-token"] == b"tok-1"
    assert obj(repo.file("staging", "shop", "db"))["spec"]["encryptedData"] == before["staging"], "not chosen"


@pytest.mark.parametrize("how", ["file", "stdin", "literal"])
def test_value_sources_replace_an_item(repo: EnvRepo, tmp_path: Path, how: str) -> None:
    value = b"line one\nline two\n"
    args: list[str] = []
    stdin: bytes | None = None
    if how == "file":
        (tmp_path / "v").write_bytes(value)
        args = ["--from-file", str(tmp_path / "v")]
    elif how == "stdin":
        stdin = value
    else:
        args = ["--from-literal", value.decode()]
    result = run("set", "shop/db", "password", "--spec", str(repo.spec), "--all-envs", *args, input=stdin)
    assert result.exit_code == 0, result.output
    for env in ENVS:
        opened = repo.opens(env, obj(repo.file(env, "shop", "db")))
        assert opened == {"username": b"orders", "password": value}
        annotations = obj(repo.file(env, "shop", "db"))["metadata"]["annotations"]
        assert annotations["sealkit.io/certificate-sha256"] == repo.certs[env].sha256
    assert "line one" not in result.output


def _read_until(fd: int, marker: bytes, seen: bytearray, timeout: float = 30.0) -> None:
    """Read the terminal until `marker` shows up (the prompt), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {marker!r} on the terminal; saw {bytes(seen)!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError(f"the terminal closed before {marker!r}; saw {bytes(seen)!r}")
            seen.extend(chunk)


def test_hidden_prompt_on_a_terminal(repo: EnvRepo) -> None:
    """On a real (pseudo-)terminal with nothing piped: a prompt that does not echo, asked twice."""
    sealkit = str(Path(sys.executable).with_name("sealkit"))
    argv = [sealkit, "set", "shop/db", "password", "--spec", str(repo.spec), "--env", "dev"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: sealkit with the pty as its controlling terminal
        os.execve(sealkit, argv, {**os.environ, "KUBECONFIG": "/nonexistent"})  # noqa: S606 - the child replaces itself with sealkit, no shell
    seen = bytearray()
    try:
        _read_until(fd, b"Value for password:", seen)
        os.write(fd, b"typed-secret\n")
        _read_until(fd, b"Repeat for confirmation:", seen)
        os.write(fd, b"typed-secret\n")
        _read_until(fd, b"dev: set password", seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, bytes(seen)
    assert b"typed-secret" not in seen, "the prompt does not echo"
    assert repo.opens("dev", obj(repo.file("dev", "shop", "db")))["password"] == b"typed-secret"


def test_set_refuses_and_writes_nothing(repo: EnvRepo) -> None:
    snapshot = {p: p.read_bytes() for p in repo.root.rglob("*.yaml")}
    cases = [
        (["shop/api", "token", "--all-envs", "--from-literal", "x"], "has no SealedSecret shop/api to change"),
        (["shop/db", "token", "--env", "qa", "--from-literal", "x"], "unknown environment 'qa'"),
        (["shop/db", "bad key!", "--all-envs", "--from-literal", "x"], "bad key!"),
        (
            ["shop-db", "token", "--all-envs", "--from-literal", "x"],
            "error: give the SealedSecret as NAMESPACE/NAME: shop-db",
        ),
        (["shop/db", "token", "--from-literal", "x"], "choose environments: --env NAME"),
        (["shop/ORD", "token", "--all-envs", "--from-literal", "x"], "error: NAME is not a valid Kubernetes name"),
        (["Shop/db", "token", "--all-envs", "--from-literal", "x"], "error: NAMESPACE is not a valid namespace name"),
        (
            ["shop/db", "token", "--env", "dev", "--from-literal", "x", "--from-file", "f"],
            "error: give the value once: --from-file or --from-literal",
        ),
        (
            ["shop/db", "token", "--env", "dev", "--from-file", "-"],
            "error: --from-file names a file; pipe the value on stdin without it: --from-file -",
        ),
    ]
    for args, message in cases:
        result = run("set", *args[:2], "--spec", str(repo.spec), *args[2:])
        assert result.exit_code != 0, args
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], (args, result.output)
    empty = run("set", "shop/db", "token", "--spec", str(repo.spec), "--all-envs", input=b"")
    assert (
        empty.exit_code == 2 and empty.output == "error: nothing on stdin (an empty value: --from-literal ''): stdin\n"
    )
    assert {p: p.read_bytes() for p in repo.root.rglob("*.yaml")} == snapshot
    repo.file("prod", "shop", "db").unlink()  # one environment lacks the file: none is changed
    snapshot = {p: p.read_bytes() for p in repo.root.rglob("*.yaml")}
    result = run("set", "shop/db", "token", "--spec", str(repo.spec), "--all-envs", "--from-literal", "x")
    assert result.exit_code != 0 and "environment prod has no SealedSecret shop/db" in result.output
    assert {p: p.read_bytes() for p in repo.root.rglob("*.yaml")} == snapshot
