"""`sealkit certs pull [--check]` against what a URL serves: only a certificate that sealing would take is
written into the repo; anything else ends the run with one line, exit 2, and nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit_cli.main import cli
from tests.cli.test_certsource import chain
from tests.conftest import make_certificate
from tests.support.fileserver import serving


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None})


def write_spec(root: Path, environments: dict[str, Any]) -> Path:
    spec = root / "sealkit-csi.yaml"
    body = {"apiVersion": "sealkit/v1alpha1", "kind": "KeyVaultCsi", "environments": environments}
    spec.write_text(yaml.safe_dump(body, sort_keys=False))
    return spec


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _with_private_key(key: rsa.RSAPrivateKey) -> bytes:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return make_certificate(key) + private


def _weak(_: rsa.RSAPrivateKey) -> bytes:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key refused
    return make_certificate(weak)


def _not_yet_valid(key: rsa.RSAPrivateKey) -> bytes:
    return make_certificate(key, not_before=dt.datetime.now(dt.UTC) + dt.timedelta(days=20))


@pytest.mark.parametrize(
    ("served", "why"),
    [
        (_with_private_key, "holds a private key beside the certificate"),
        (_weak, "the certificate's key is 1024-bit RSA, too weak to seal with"),
        (_not_yet_valid, "the certificate is not valid before"),
        (lambda key: chain(key, ca_first=True), "the first certificate issued another certificate of the file"),
    ],
)
def test_a_served_certificate_that_would_not_seal_is_never_committed(
    tmp_path: Path, small_key: rsa.RSAPrivateKey, served: Callable[[rsa.RSAPrivateKey], bytes], why: str
) -> None:
    """The URL (or controller) answers with a private key beside the certificate, a 1024-bit key, a
    certificate valid only from next month, or a CA before the certificate it issued: `sealkit cert` and
    sealing refuse each; `certs pull` wrote it into the repo (the private key dropped without a word, the CA
    taken for the sealing certificate) and `--check` passed."""
    body = served(small_key)
    with serving("/v1/cert.pem", body) as url:
        where = f"{url}/v1/cert.pem"
        spec = write_spec(tmp_path, {"prod": {"sealingCert": {"file": "certs/prod.pem", "url": where}}})
        before = files(tmp_path)
        for check in ([], ["--check"]):
            result = run("certs", "pull", "--spec", str(spec), *check)
            assert result.exit_code == 2, result.output
            assert result.output.startswith(f"error: {why}") and result.output.count("\n") == 1, result.output
            assert result.output.endswith(f": {where} (environment prod)\n"), result.output
            assert "PRIVATE" not in result.output and "Traceback" not in result.output
            assert files(tmp_path) == before, "nothing written"


@pytest.mark.parametrize("holder", ["certs/prod.pem", "certs/prod-previous.pem"])
@pytest.mark.parametrize("pulled", [True, False], ids=["pulled", "file-only"])
def test_a_committed_certificate_file_holding_a_private_key_is_refused(
    tmp_path: Path, small_key: rsa.RSAPrivateKey, holder: str, pulled: bool
) -> None:
    """The committed certificate (or the previous file) also holds the private key: `certs pull` said
    'unchanged' and `--check` passed, reading the certificates alone and leaving the key in the repo."""
    cert = make_certificate(small_key)
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs/prod.pem").write_bytes(cert)
    (tmp_path / "certs/prod-previous.pem").write_bytes(b"")
    (tmp_path / holder).write_bytes(_with_private_key(small_key))
    with serving("/v1/cert.pem", cert) as url:
        source: dict[str, str] = {"file": "certs/prod.pem", "previous": "certs/prod-previous.pem"}
        if pulled:
            source["url"] = f"{url}/v1/cert.pem"
        spec = write_spec(tmp_path, {"prod": {"sealingCert": source}})
        before = files(tmp_path)
        for check in ([], ["--check"]):
            result = run("certs", "pull", "--spec", str(spec), *check)
            assert result.exit_code == 2, result.output
            expected = "holds a private key beside the certificate: a sealing certificate is public, keep the key out"
            assert result.output == f"error: {expected} of it: {holder}\n"
            assert files(tmp_path) == before, "nothing written"


def test_a_cluster_serving_another_environments_certificate_is_refused(
    tmp_path: Path, small_key: rsa.RSAPrivateKey, vectors: dict[str, Any]
) -> None:
    """prod's URL (or context) reaches dev's cluster: the pull committed dev's certificate as prod's, and prod's
    secrets were then sealed for whoever holds dev's key. A key committed for both (shared on purpose) stays."""
    dev_cert = make_certificate(small_key)
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs/prod.pem").write_text(vectors["keys"][0]["cert_pem"])
    with serving("/v1/cert.pem", dev_cert) as url:
        where = f"{url}/v1/cert.pem"
        envs = {name: {"sealingCert": {"file": f"certs/{name}.pem", "url": where}} for name in ("dev", "prod")}
        spec = write_spec(tmp_path, envs)
        before = files(tmp_path)
        both = run("certs", "pull", "--spec", str(spec))  # nothing committed for dev: both serve one certificate
        assert both.exit_code == 2 and "served for environment dev is environment prod's" in both.output
        assert files(tmp_path) == before, "nothing written"
        (tmp_path / "certs/dev.pem").write_bytes(dev_cert)
        before = files(tmp_path)
        for args in (["--env", "prod"], [], ["--check"]):
            result = run("certs", "pull", "--spec", str(spec), *args)
            assert result.exit_code == 2, (args, result.output)
            assert result.output.startswith("error: the certificate sha256:"), result.output
            assert " served for environment prod is environment dev's: is that prod's cluster?" in result.output
            assert result.output.endswith(f": {where} (environment prod)\n") and result.output.count("\n") == 1
            assert files(tmp_path) == before, "nothing written"
        (tmp_path / "certs/prod.pem").write_bytes(dev_cert)  # shared on purpose, committed by hand
        result = run("certs", "pull", "--spec", str(spec), "--check")
        assert result.exit_code == 0 and result.output.count(": unchanged sha256:") == 2, result.output


def _ca_first(key: rsa.RSAPrivateKey) -> bytes:
    return chain(key, ca_first=True)


@pytest.mark.parametrize(
    ("committed", "why"),
    [
        (_weak, "the certificate's key is 1024-bit RSA, too weak to seal with"),
        (_not_yet_valid, "the certificate is not valid before"),
        (_ca_first, "the first certificate issued another certificate of the file (a CA)"),
    ],
    ids=["weak", "not-yet-valid", "ca-first"],
)
def test_a_committed_certificate_that_would_not_seal_fails_the_check(
    tmp_path: Path, small_key: rsa.RSAPrivateKey, committed: Callable[[rsa.RSAPrivateKey], bytes], why: str
) -> None:
    """A committed certificate with nothing to pull from: `--check` (the CI job) passed a 1024-bit key or one
    valid only from next month ('no url or context to pull from', exit 0), and the next `seal --env` refused
    it. It is judged as sealing judges it: one line naming the file and the environment, exit 2."""
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs/prod.pem").write_bytes(committed(small_key))
    spec = write_spec(tmp_path, {"prod": {"sealingCert": "certs/prod.pem"}})
    before = files(tmp_path)
    for check in ([], ["--check"]):
        result = run("certs", "pull", "--spec", str(spec), *check)
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"error: {why}") and result.output.count("\n") == 1, result.output
        assert result.output.endswith(": certs/prod.pem (environment prod)\n"), result.output
        assert files(tmp_path) == before, "nothing written"


def test_a_committed_chain_in_order_passes_the_check(tmp_path: Path, small_key: rsa.RSAPrivateKey) -> None:
    """The sealing certificate first and its CA after it (a chain in its usual order), as kubeseal reads it."""
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs/prod.pem").write_bytes(chain(small_key, ca_first=False))
    spec = write_spec(tmp_path, {"prod": {"sealingCert": "certs/prod.pem"}})
    result = run("certs", "pull", "--spec", str(spec), "--check")
    assert result.exit_code == 0 and "(no url or context to pull from): certs/prod.pem" in result.output


@pytest.mark.parametrize("linked", ["certs/prod.pem", "certs"])
@pytest.mark.parametrize("pulled", [True, False], ids=["pulled", "file-only"])
def test_a_committed_certificate_linked_out_of_the_repo_fails_the_check(
    tmp_path: Path, small_key: rsa.RSAPrivateKey, linked: str, pulled: bool
) -> None:
    """The committed certificate (or its directory) is a link out of the repo: with nothing to pull from,
    `--check` read the file out there and passed (exit 0), and so did `seal --env`, while the repo holds only a
    link that is another file on every other machine. Refused as the spec's paths out of the repo are (and as
    a pull already refused to write through it)."""
    cert = make_certificate(small_key)
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (outside / "prod.pem").write_bytes(cert)
    if linked == "certs":
        (repo / "certs").symlink_to(outside)
    else:
        (repo / "certs").mkdir()
        (repo / "certs/prod.pem").symlink_to(outside / "prod.pem")
    with serving("/v1/cert.pem", cert) as url:
        source: dict[str, str] = {"file": "certs/prod.pem"}
        if pulled:
            source["url"] = f"{url}/v1/cert.pem"
        spec = write_spec(repo, {"prod": {"sealingCert": source}})
        for check in ([], ["--check"]):
            result = run("certs", "pull", "--spec", str(spec), *check)
            assert result.exit_code == 2, result.output
            expected = f"error: a symbolic link out of the repo ({repo.resolve()}) is in the way: certs/prod.pem\n"
            assert result.output == expected
            assert (outside / "prod.pem").read_bytes() == cert
