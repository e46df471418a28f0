"""What sealkit seals opens with a decryptor written here on `cryptography`'s primitives alone.

The decryptor shares no code with `sealkit/`: it re-derives the format from its definition
(uint16 BE len(R) || RSA-OAEP-SHA256(key, label) || AES-256-GCM(zero nonce)).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealkit_cli.main import cli


def independent_open(private_pem: bytes, value_b64: str, label: bytes) -> bytes:
    key: Any = serialization.load_pem_private_key(private_pem, password=None)
    blob = base64.b64decode(value_b64, validate=True)
    rsa_len = int.from_bytes(blob[:2], "big")
    wrapped, sealed = blob[2 : 2 + rsa_len], blob[2 + rsa_len :]
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)
    session_key = key.decrypt(wrapped, oaep)
    assert len(session_key) == 32
    return AESGCM(session_key).decrypt(b"\x00" * 12, sealed, None)


VALUES: dict[str, bytes] = {
    "empty": b"",
    "binary": bytes(range(256)) * 3,
    "utf8": "pässwörd — 秘密 🔐".encode(),
    "large": os.urandom(64 * 1024),
    "ascii": b"hunter2",
}

LABELS = {
    "strict": b"team-a/db-creds",
    "namespace-wide": b"team-a",
    "cluster-wide": b"",
}


def secret_manifest() -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db-creds", "namespace": "team-a"},
            "data": {k: base64.b64encode(v).decode() for k, v in VALUES.items()},
        }
    )


@pytest.mark.parametrize("scope", list(LABELS))
def test_file_mode_output_opens_independently(key_files: list[tuple[Path, Path]], scope: str) -> None:
    private, cert = key_files[0]
    result = CliRunner().invoke(
        cli, ["seal", "--cert", str(cert), "--scope", scope, "--allow-empty-data"], input=secret_manifest()
    )
    assert result.exit_code == 0, result.output
    sealed = yaml.safe_load(result.stdout)
    assert set(sealed["spec"]["encryptedData"]) == set(VALUES)
    for item, plaintext in VALUES.items():
        value = sealed["spec"]["encryptedData"][item]
        assert independent_open(private.read_bytes(), value, LABELS[scope]) == plaintext


@pytest.mark.parametrize("scope", list(LABELS))
@pytest.mark.parametrize("item", ["empty", "binary", "utf8", "large"])
def test_raw_mode_output_opens_independently(
    key_files: list[tuple[Path, Path]], tmp_path: Path, scope: str, item: str
) -> None:
    private, cert = key_files[1]
    value_file = tmp_path / "value"
    value_file.write_bytes(VALUES[item])
    args = ["seal", "--raw", "--cert", str(cert), "--scope", scope, "--from-file", str(value_file)]
    args += ["--namespace", "team-a", "--name", "db-creds"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert not result.stdout.endswith("\n"), "raw output is bare base64, as kubeseal prints it"
    assert independent_open(private.read_bytes(), result.stdout, LABELS[scope]) == VALUES[item]


def test_wrong_label_does_not_open_independently(key_files: list[tuple[Path, Path]]) -> None:
    private, cert = key_files[0]
    result = CliRunner().invoke(cli, ["seal", "--cert", str(cert)], input=secret_manifest())
    value = yaml.safe_load(result.stdout)["spec"]["encryptedData"]["ascii"]
    with pytest.raises(ValueError):
        independent_open(private.read_bytes(), value, b"team-a")
