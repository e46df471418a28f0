"""`sealkit seal` and `sealkit unseal` end to end through the click CLI."""

from __future__ import annotations

import ast
import base64
import gc
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.documents import load_documents
from sealkit.keys import load_certificate
from sealkit_cli.main import cli

PLAINTEXT = "correct-horse-battery-staple"


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env=env)


def secret(name: str = "db", namespace: str | None = "team-a", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": {"password": PLAINTEXT}, **extra}


def all_key_args(key_files: list[tuple[Path, Path]]) -> list[str]:
    return [arg for private, _ in key_files for arg in ("--private-key", str(private))]


def test_every_ok_vector_opens_through_the_cli_in_order(
    vectors: dict[str, Any], vector_document: Any, key_files: list[tuple[Path, Path]], tmp_path: Path
) -> None:
    ok = [c for c in vectors["cases"] if c["expect"] == "ok"]
    source = tmp_path / "sealed.yaml"
    source.write_text(yaml.safe_dump_all([vector_document(c) for c in ok]))
    out = tmp_path / "secrets.yaml"
    result = run("unseal", *all_key_args(key_files), "-f", str(source), "-w", str(out))
    assert result.exit_code == 0, result.output
    secrets = list(yaml.safe_load_all(out.read_text()))
    assert len(secrets) == len(ok)
    for case, opened in zip(ok, secrets, strict=True):
        assert opened["metadata"]["name"] == case["unseal_name"]
        assert base64.b64decode(opened["data"][case["item"]]) == base64.b64decode(case["plaintext_b64"]), case["id"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_every_fail_vector_is_refused_by_the_cli(
    vectors: dict[str, Any], vector_document: Any, key_files: list[tuple[Path, Path]]
) -> None:
    for case in (c for c in vectors["cases"] if c["expect"] == "fail"):
        result = run("unseal", *all_key_args(key_files), input=json.dumps(vector_document(case)))
        assert result.exit_code == 2, case["id"]
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: item 'ascii'"), result.output
        assert lines[0].endswith(": stdin document 1"), result.output


def test_multi_document_yaml_and_concatenated_json(key_files: list[tuple[Path, Path]]) -> None:
    private, cert = key_files[0]
    docs = [secret("a"), secret("b"), secret("c")]
    for text in (yaml.safe_dump_all(docs), "".join(json.dumps(d) for d in docs)):
        sealed = run("seal", "--cert", str(cert), "-o", "json", input=text)
        assert sealed.exit_code == 0, sealed.output
        objects = [d.obj for d in load_documents(sealed.stdout, "out")]
        assert [o["metadata"]["name"] for o in objects] == ["a", "b", "c"]
        opened = run("unseal", "--private-key", str(private), input=sealed.stdout)
        assert [s["metadata"]["name"] for s in yaml.safe_load_all(opened.stdout)] == ["a", "b", "c"]


def test_output_file_format_follows_its_extension(key_files: list[tuple[Path, Path]], tmp_path: Path) -> None:
    _, cert = key_files[0]
    for name, loader in (("out.json", json.loads), ("out.yaml", yaml.safe_load), ("out.yml", yaml.safe_load)):
        target = tmp_path / name
        result = run("seal", "--cert", str(cert), "-w", str(target), input=yaml.safe_dump(secret()))
        assert result.exit_code == 0 and result.stdout == ""
        assert loader(target.read_text())["kind"] == "SealedSecret"
    forced = tmp_path / "forced.json"
    run("seal", "--cert", str(cert), "-o", "yaml", "-w", str(forced), input=yaml.safe_dump(secret()))
    assert forced.read_text().startswith("---\napiVersion")


def test_kubeseal_flag_names_and_environment(key_files: list[tuple[Path, Path]], tmp_path: Path) -> None:
    private, cert = key_files[0]
    src = tmp_path / "s.yaml"
    src.write_text(yaml.safe_dump(secret()))
    dst = tmp_path / "sealed.yaml"
    result = run(
        "seal", "--secret-file", str(src), "--sealed-secret-file", str(dst), env={"SEALED_SECRETS_CERT": str(cert)}
    )
    assert result.exit_code == 0, result.output
    opened = run("unseal", "--recovery-private-key", str(private), "--sealed-secret-file", str(dst))
    assert base64.b64decode(yaml.safe_load(opened.stdout)["data"]["password"]).decode() == PLAINTEXT


def test_namespace_flag(key_files: list[tuple[Path, Path]]) -> None:
    _, cert = key_files[0]
    filled = run("seal", "--cert", str(cert), "-n", "team-b", input=yaml.safe_dump(secret(namespace=None)))
    assert yaml.safe_load(filled.stdout)["metadata"]["namespace"] == "team-b"
    clash = run("seal", "--cert", str(cert), "-n", "team-b", input=yaml.safe_dump(secret()))
    assert clash.exit_code == 2 and "differs from --namespace team-b" in clash.output
    missing = run("seal", "--cert", str(cert), input=yaml.safe_dump(secret(namespace=None)))
    assert missing.exit_code == 2 and "no namespace" in missing.output
    cluster = run("seal", "--cert", str(cert), "--scope", "cluster-wide", input=yaml.safe_dump(secret(namespace=None)))
    assert cluster.exit_code == 0 and yaml.safe_load(cluster.stdout)["metadata"]["annotations"] == {
        "sealedsecrets.bitnami.com/cluster-wide": "true",
        "sealkit.io/certificate-sha256": load_certificate(cert.read_bytes()).sha256,
    }


def test_raw_needs_what_the_scope_binds(key_files: list[tuple[Path, Path]]) -> None:
    _, cert = key_files[0]
    assert "no name" in run("seal", "--raw", "--cert", str(cert), "--namespace", "a", input="v").output
    assert "no namespace" in run("seal", "--raw", "--cert", str(cert), "--name", "a", input="v").output
    ok = run("seal", "--raw", "--cert", str(cert), "--scope", "cluster-wide", input="v")
    assert ok.exit_code == 0 and ok.stdout.startswith("Ag")


@pytest.mark.parametrize("command", ["seal", "kubeseal"])
def test_raw_refuses_an_empty_stdin_but_seals_an_empty_file(command: str, key_files: list[tuple[Path, Path]]) -> None:
    """An empty pipe is a command before it that failed (`vault read ... | sealkit seal --raw`), not a value."""
    _, cert = key_files[0]
    flags = ["--raw", "--cert", str(cert), "--scope", "cluster-wide"]
    refused = run(command, *flags, input="")
    assert refused.exit_code == 2
    assert refused.output == "error: nothing on stdin to seal (an empty value: --from-file /dev/null): stdin\n"
    empty = run(command, *flags, "--from-file", os.devnull)
    assert empty.exit_code == 0 and empty.stdout.startswith("Ag")


def test_version_and_completion() -> None:
    assert run("--version").output.strip() == "sealkit, version 0.1.0"
    script = subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main"],
        env={**os.environ, "_SEALKIT_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "_SEALKIT_COMPLETE=bash_complete" in script.stdout


@pytest.mark.parametrize("scope", ["strict", "namespace-wide", "cluster-wide"])
def test_round_trip_each_scope(key_files: list[tuple[Path, Path]], scope: str) -> None:
    private, cert = key_files[1]
    sealed = run("seal", "--cert", str(cert), "--scope", scope, input=yaml.safe_dump(secret()))
    assert PLAINTEXT not in sealed.stdout
    opened = run("unseal", "--private-key", str(private), input=sealed.stdout)
    assert base64.b64decode(yaml.safe_load(opened.stdout)["data"]["password"]).decode() == PLAINTEXT


def test_seal_with_a_cert_loads_no_cluster_environment_or_json_module(
    key_files: list[tuple[Path, Path]], tmp_path: Path
) -> None:
    """`seal --cert` of namespaced Secrets starts with what sealing needs (benchmarks/bench_seal.py times it):
    no private-key code (`sealkit.keys`, cryptography's serialization with its SSH and bcrypt parts), no
    dataclasses, no CSV reader or click completion module; and the process freezes its start-up objects."""
    _, cert = key_files[0]
    source = tmp_path / "secret.yaml"
    source.write_text(yaml.safe_dump(secret()))
    probe = (
        "import gc, sys\n"
        "before = set(sys.modules)\n"
        "from sealkit_cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(set(sys.modules) - before)\n"
        "sys.stderr.write(repr((loaded, gc.get_freeze_count())))\n"
    )
    args = ["seal", "-f", str(source), "--cert", str(cert)]
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    assert yaml.safe_load(out.stdout)["kind"] == "SealedSecret"
    loaded, frozen = ast.literal_eval(out.stderr.strip().splitlines()[-1])
    assert "sealkit.sealing" in loaded
    assert "sealkit.certificates" in loaded
    unwanted = (
        "sealkit.clients",
        "sealkit.csi",
        "sealkit.envs",
        "sealkit_cli.sealflow",
        "sealkit.durations",
        "cryptography.hazmat.primitives.serialization",
        "click.shell_completion",
    )
    alone = ("json", "logging", "pathlib", "sealkit.keys", "dataclasses", "csv")
    assert [m for m in loaded if m.startswith(unwanted) or m in alone] == []
    assert frozen > 0  # the modules' objects are out of the collector's sight (sealkit_cli.main._import)


def test_a_test_runner_process_is_not_frozen(key_files: list[tuple[Path, Path]]) -> None:
    """Only `main()` (the sealkit process) freezes what the imports made: click's runner leaves the collector
    as it was, so a test process keeps collecting its own garbage."""
    _, cert = key_files[0]
    before = gc.get_freeze_count()
    result = run("seal", "--cert", str(cert), input=yaml.safe_dump(secret()))
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == before


def test_seal_with_a_cert_still_refuses_a_bad_client_flag_at_once(key_files: list[tuple[Path, Path]]) -> None:
    _, cert = key_files[0]
    for flags, what in (
        (["--request-timeout", "soon"], "--request-timeout"),
        (["--as-group", "admins"], "--as-group"),
    ):
        result = run("seal", "--cert", str(cert), *flags, input=yaml.safe_dump(secret()))
        assert result.exit_code != 0
        assert what in result.output and "SealedSecret" not in result.output


def crossed_key_backup(vectors: dict[str, Any], path: Path) -> Path:
    """A key Secret backup whose tls.crt is another key's certificate (two keys' files put together)."""
    keys = vectors["keys"]
    crossed = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "sealed-secrets-keyabc"},
        "data": {
            "tls.key": base64.b64encode(keys[0]["private_pem"].encode()).decode(),
            "tls.crt": base64.b64encode(keys[1]["cert_pem"].encode()).decode(),
        },
    }
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [crossed]}))
    return path


def test_unseal_refuses_a_key_backup_whose_tls_crt_is_another_keys(
    vectors: dict[str, Any], vector_document: Any, tmp_path: Path
) -> None:
    """As `keys restore` refuses it: before, only its dates were read (which key is newest), so a crossed
    backup passed as sound; nothing is read from the input or written."""
    keys = crossed_key_backup(vectors, tmp_path / "keys.yaml")
    ok = next(c for c in vectors["cases"] if c["expect"] == "ok")
    source = tmp_path / "sealed.yaml"
    source.write_text(yaml.safe_dump(vector_document(ok)))
    out = tmp_path / "secret.yaml"
    result = run("unseal", "--private-key", str(keys), "-f", str(source), "-w", str(out))
    assert result.exit_code == 2
    assert result.output == (
        "error: tls.crt is the certificate of another key, not of tls.key: "
        f"{keys} document 1 item 1 (sealed-secrets-keyabc)\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--private-key", "-"], "-f and --private-key"),
        (["--private-key", "-", "-f", "-"], "-f and --private-key"),
        (["--private-key", "-,-", "-f", "sealed.yaml"], "--private-key twice"),
    ],
)
def test_stdin_given_for_two_inputs_is_refused_naming_them(
    key_files: list[tuple[Path, Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], where: str
) -> None:
    """The first read took all of stdin and the second found nothing: `no SealedSecret in the input: stdin`
    about a stream that held one (or `no private key found`). Refused before anything is read."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sealed.yaml").write_text("kind: SealedSecret\n")
    result = run("unseal", *args, input=key_files[2][0].read_text())
    assert result.exit_code == 2
    assert result.output == f"error: stdin can be read once: give all but one of these as files: {where}\n"
