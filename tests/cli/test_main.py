"""The entry point's last resort (`sealkit_cli.main.report`): an OS error that escapes a command is one line,
naming the file only when the user typed its name (as a word, `--flag=PATH` or `-fPATH`), never a temporary
file of ours."""

from __future__ import annotations

import errno
import os

import pytest

from sealkit.certificates import NEGATIVE_SERIAL
from sealkit_cli.main import report

TYPED = "/repo/clusters/prod/out.yaml"


def reported(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], name: str) -> str:
    monkeypatch.setattr("sys.argv", ["sealkit", *argv])
    monkeypatch.delenv("SEALKIT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exited:
        report(PermissionError(errno.EACCES, os.strerror(errno.EACCES), name))
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["seal", "-w", TYPED],
        ["seal", f"--output={TYPED}"],  # lost its location before
        ["seal", f"-w{TYPED}"],  # lost its location before
    ],
)
def test_a_typed_file_is_named_however_its_flag_was_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert reported(monkeypatch, capsys, argv, TYPED) == f"error: permission denied: {TYPED}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["seal", f"--output={TYPED}"],
        ["seal", f"-w{TYPED}"],
        ["seal", "--output", TYPED],
        ["seal", f"--output={TYPED}.tmp", f"-wx{TYPED}"],
    ],
)
def test_a_file_the_user_did_not_type_is_never_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """Our temporary file beside the target, or a name that only ends a word of the command line."""
    temporary = "/repo/clusters/prod/.out.yaml.x8k2j3"
    assert reported(monkeypatch, capsys, argv, temporary) == "error: permission denied\n"
    assert reported(monkeypatch, capsys, ["seal", f"-wx{TYPED}"], TYPED) == "error: permission denied\n"


def test_python_warnings_stay_out_of_a_commands_output(tmp_path: os.PathLike[str]) -> None:
    """cryptography's notice about a certificate it parsed printed two lines on stderr (one naming a source
    file of sealkit) beside the sealed output; a command's output is its own lines only. PYTHONWARNINGS (a
    developer asking) still shows them."""
    import subprocess
    import sys
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.support.keys import negative_serial_certificate

    cert = Path(tmp_path) / "cert.pem"  # sealing with it is refused; parsing it warns before that
    cert.write_bytes(negative_serial_certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    secret = b"apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: team}\nstringData: {password: x}\n"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "SEALKIT_DEBUG")}
    command = [sys.executable, "-m", "sealkit_cli.main", "seal", "--cert", str(cert)]
    refused = subprocess.run(command, input=secret, capture_output=True, env=env, check=False)
    assert refused.returncode == 2 and refused.stdout == b""
    assert refused.stderr.decode().splitlines() == [f"error: {NEGATIVE_SERIAL}: {cert}"]
    asked = subprocess.run(
        command, input=secret, capture_output=True, env={**env, "PYTHONWARNINGS": "always"}, check=False
    )
    assert asked.returncode == 2 and b"CryptographyDeprecationWarning" in asked.stderr
