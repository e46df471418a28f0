"""Bad input: one clear line naming the file/document/item, exit 2, no traceback, no plaintext."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PLAINTEXT = "Sup3r-S3cret-Value-42"
B64 = base64.b64encode(PLAINTEXT.encode()).decode()


def sealkit(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """The real entry point in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-c", "from sealkit_cli.main import main; main()", *args],
        input=stdin.decode("latin-1"),
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("SEALKIT_DEBUG", "KUBECONFIG")}
        | {"HOME": "/nonexistent"},
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert PLAINTEXT not in result.stderr and B64 not in result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in expected:
        assert fragment in lines[0], lines[0]


SECRET = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: a}}\ndata: {{password: {B64}}}\n"


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        (f"password: {PLAINTEXT}\n  bad: [indent\n".encode(), ("not valid YAML", "stdin line")),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", ("binary data", ": stdin")),
        (b'{"kind": "Secret", ', ("not valid JSON", ": stdin line 1")),
        (b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", ("not a v1 Secret: stdin document 1",)),
        (SECRET.replace("name: db, ", "").encode(), ("no metadata.name", ": stdin document 1")),
        (SECRET.replace(B64, "'%%%'").encode(), ("data[password]: invalid base64: stdin document 1",)),
        (SECRET.replace(f"data: {{password: {B64}}}", "data: {}").encode(), ("no data or stringData",)),
        (("---\n" + SECRET + "---\n" + SECRET.replace("kind: Secret", "kind: Pod")).encode(), ("stdin document 2",)),
        (b"", ("no Secret in the input: stdin",)),
    ],
)
def test_seal_refuses_bad_secrets(cert_file: Path, stdin: bytes, expected: tuple[str, ...]) -> None:
    assert_one_clear_line(sealkit("seal", "--cert", str(cert_file), stdin=stdin), *expected)


@pytest.fixture
def cert_file(key_files: list[tuple[Path, Path]]) -> Path:
    return key_files[0][1]


@pytest.fixture
def key_file(key_files: list[tuple[Path, Path]]) -> Path:
    return key_files[0][0]


def test_a_key_is_not_a_certificate(key_file: Path) -> None:
    assert_one_clear_line(
        sealkit("seal", "--cert", str(key_file), stdin=SECRET.encode()), "a private key, not a certificate"
    )


def test_missing_files_are_named(tmp_path: Path, cert_file: Path) -> None:
    missing = tmp_path / "nope.pem"
    assert_one_clear_line(sealkit("seal", "--cert", str(missing), stdin=SECRET.encode()), f"no such file: {missing}")
    assert_one_clear_line(sealkit("seal", "--cert", str(cert_file), "-f", str(missing)), "no such file")
    assert_one_clear_line(sealkit("unseal", "--private-key", str(missing), stdin=b"x"), "no such file")


def test_no_certificate_at_all() -> None:
    env_free = sealkit("seal", stdin=SECRET.encode())
    assert_one_clear_line(env_free, "no kubeconfig found", "--cert FILE|URL")


def sealed_manifest(cert_file: Path, scope: str = "strict") -> str:
    result = sealkit("seal", "--cert", str(cert_file), "--scope", scope, stdin=SECRET.encode())
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_unseal_refuses_tampered_and_truncated_values(cert_file: Path, key_file: Path) -> None:
    sealed = yaml.safe_load(sealed_manifest(cert_file))
    blob = bytearray(base64.b64decode(sealed["spec"]["encryptedData"]["password"]))
    blob[-1] ^= 1
    sealed["spec"]["encryptedData"]["password"] = base64.b64encode(bytes(blob)).decode()
    tampered = sealkit("unseal", "--private-key", str(key_file), stdin=yaml.safe_dump(sealed).encode())
    assert_one_clear_line(tampered, "item 'password'", "changed after sealing")
    sealed["spec"]["encryptedData"]["password"] = base64.b64encode(bytes(blob[:100])).decode()
    truncated = sealkit("unseal", "--private-key", str(key_file), stdin=yaml.safe_dump(sealed).encode())
    assert_one_clear_line(truncated, "item 'password'", "truncated")


def test_unseal_names_the_other_scope(cert_file: Path, key_file: Path) -> None:
    sealed = yaml.safe_load(sealed_manifest(cert_file, "cluster-wide"))
    del sealed["metadata"]["annotations"]
    result = sealkit("unseal", "--private-key", str(key_file), stdin=yaml.safe_dump(sealed).encode())
    assert_one_clear_line(result, "sealed cluster-wide, but the SealedSecret is strict for a/db")


def test_unseal_with_a_certificate_instead_of_a_key(cert_file: Path) -> None:
    result = sealkit("unseal", "--private-key", str(cert_file), stdin=sealed_manifest(cert_file).encode())
    assert_one_clear_line(result, "no private key found (the PEM holds certificate)")


def test_unseal_of_a_plain_secret(key_file: Path) -> None:
    result = sealkit("unseal", "--private-key", str(key_file), stdin=SECRET.encode())
    assert_one_clear_line(result, "v1/Secret is not a bitnami.com/v1alpha1 SealedSecret")
