"""An environment's sealing certificates: the one to seal with now, and every one the repo knows.

Where it sits: the core, for `seal --env`, `set`, `reencrypt --env`, `certs pull` and lint's wrong-cluster
rule. Sealing needs the current certificate, valid today (`sealing_certificate`): the committed file when
the spec names one, else fetched from the URL or the cluster by a `Fetch` the caller supplies (the CLI
reaches the controller through the API server's service proxy; the core imports no client). Comparing
needs every certificate the repo keeps, expired or not (`committed`): the committed file and the
environment's `previous` file (older certificates: a file sealed with one still opens, since the
controller keeps old keys, but should be re-sealed). Certificates are read for their public key, dates
and DER digest only (Bitnami's carry an extension `cryptography` cannot parse).
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.certificates import (
    NOT_A_CERTIFICATE,
    SealingCertificate,
    load_certificate,
    refuse_issuer_first,
    refuse_not_yet_valid,
    refuse_private_key,
    rsa_key,
    sealing_key_certificate,
)
from sealkit.csi.model import CertSource, Environment, Spec
from sealkit.errors import InputError, KeyMaterialError, os_reason
from sealkit.files import refuse_link_out_of_repo
from sealkit.provenance import der_sha256

MAX_CERT_BYTES = 1 << 20  # a PEM bundle of certificates is a few KiB; anything larger is not one

# (source, environment name) -> (PEM bytes, a name for messages): the certificate from the URL or cluster.
Fetch = Callable[[CertSource, str], tuple[bytes, str]]


@dataclass(frozen=True)
class KnownCert:
    """A certificate as the repo keeps it, for comparing (no validity check)."""

    sha256: str  # lower-case hex SHA-256 of the DER certificate
    public_key: rsa.RSAPublicKey
    not_before: dt.datetime
    not_after: dt.datetime
    pem: bytes
    source: str

    @property
    def key_bits(self) -> int:
        return int(self.public_key.key_size)

    def expired(self, now: dt.datetime | None = None) -> bool:
        return (now or dt.datetime.now(dt.UTC)) > self.not_after

    def same_key(self, public_key: rsa.RSAPublicKey) -> bool:
        return self.public_key.public_numbers() == public_key.public_numbers()


def read_certificates(data: bytes, source: str, *, sealing: str | None = None) -> list[KnownCert]:
    """Every certificate in a PEM bundle (or one DER certificate), in file order; RSA only. With `sealing` (an
    environment's committed file, whose first certificate is the one sealing uses; the name for messages), a
    first certificate that issued another of the file (a CA) is refused, as sealing refuses it."""
    stripped = data.strip()
    try:
        if b"-----BEGIN" in stripped:
            certs = x509.load_pem_x509_certificates(stripped)
        else:
            certs = [x509.load_der_x509_certificate(stripped)]
    except NOT_A_CERTIFICATE:
        raise KeyMaterialError(f"not a PEM or DER certificate: {source}") from None
    if sealing is not None:
        refuse_issuer_first(certs, sealing)
    out = []
    for cert in certs:
        key = rsa_key(cert)
        if key is None:
            raise KeyMaterialError(f"a certificate's key is not RSA (Sealed Secrets uses RSA): {source}")
        out.append(_known(cert, key, source))
    return out


def _known(cert: x509.Certificate, key: rsa.RSAPublicKey, source: str) -> KnownCert:
    return KnownCert(
        der_sha256(cert.public_bytes(serialization.Encoding.DER)),
        key,
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        cert.public_bytes(serialization.Encoding.PEM),
        source,
    )


def served_certificate(data: bytes, source: str, now: dt.datetime | None = None) -> KnownCert:
    """The certificate a cluster or URL serves, for `certs pull` to commit: checked as sealing checks it (a
    private key beside it, a key that is not RSA or under 2048 bits, not yet valid: refused, never written
    into the repo); an expired one is returned, for `compare` to report as such."""
    cert = sealing_key_certificate(data, source)
    refuse_not_yet_valid(cert, source, now)
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return _known(cert, key, source)


def read_repo_file(root: Path, relpath: str, what: str) -> bytes | None:
    """A certificate file named in the spec, at most MAX_CERT_BYTES; None when nothing is there. Anything there
    that is not a regular file is an error naming it: a directory, a named pipe or device (opened without
    waiting for a writer: reading one hung), a symbolic link to nothing (never taken for absent), a symbolic
    link leading out of the repo (as `certs pull` refuses to write through one)."""
    path = root / relpath
    # A link leading out of the repo (the file, or a directory above it) is refused as the spec's absolute and
    # `..` paths are: what would be read is not what the repo holds and reviews, and differs between machines.
    refuse_link_out_of_repo(path, root.resolve(), relpath)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"{what} is a symbolic link to nothing: {relpath}") from None
        return None
    except OSError as exc:
        raise InputError(f"cannot read {what} ({os_reason(exc)}): {relpath}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            kind = "a directory, not a certificate file" if stat.S_ISDIR(mode) else "not a regular file"
            raise InputError(f"{what} is {kind}: {relpath}")
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_CERT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} ({os_reason(exc)}): {relpath}") from None
    if len(data) > MAX_CERT_BYTES:
        raise InputError(f"{what} is larger than {MAX_CERT_BYTES} bytes, not a certificate file: {relpath}")
    return data


@dataclass(frozen=True)
class EnvironmentCerts:
    """Every certificate the repo keeps for one environment."""

    name: str
    current: tuple[KnownCert, ...]  # the committed file (normally one; later ones in a bundle count as older)
    previous: tuple[KnownCert, ...]  # the `previous` file

    @property
    def newest(self) -> KnownCert | None:
        return self.current[0] if self.current else None

    @property
    def older(self) -> tuple[KnownCert, ...]:
        return (*self.current[1:], *self.previous)

    def all(self) -> tuple[KnownCert, ...]:
        return (*self.current, *self.previous)


def committed(spec: Spec, env: Environment, *, refuse_private_keys: bool = False) -> EnvironmentCerts:
    """The environment's committed certificates (none when its spec names no file, or the files do not exist).
    With `refuse_private_keys` (`certs pull`, which keeps these files), a file holding a private key beside
    its certificates is an error, not read for its certificates alone (lint reports it as a finding)."""
    source = env.cert_source
    current: list[KnownCert] = []
    previous: list[KnownCert] = []
    if source.file:
        data = read_repo_file(spec.root, source.file, f"environment {env.name}'s sealing certificate")
        if data is not None and refuse_private_keys:
            refuse_private_key(data, source.file)
        where = f"{source.file} (environment {env.name})"  # as `sealing_certificate` names it
        current = read_certificates(data, source.file, sealing=where) if data is not None else []
    if source.previous:
        data = read_repo_file(spec.root, source.previous, f"environment {env.name}'s previous certificates")
        if data is not None and refuse_private_keys:
            refuse_private_key(data, source.previous)
        previous = read_certificates(data, source.previous) if data is not None and data.strip() else []
    return EnvironmentCerts(env.name, tuple(current), tuple(previous))


def sealing_certificate(
    spec: Spec, env: Environment, fetch: Fetch | None, *, now: dt.datetime | None = None
) -> SealingCertificate:
    """The certificate to seal for `env` with now: its committed file, else fetched; refused when expired."""
    source = env.cert_source
    label = f"environment {env.name}"
    if source.file:
        data = read_repo_file(spec.root, source.file, f"{label}'s sealing certificate")
        if data is None:
            hint = f" (run `sealkit certs pull --env {env.name}`)" if source.url or source.context else ""
            raise InputError(f"{label}'s sealing certificate does not exist{hint}: {source.file}")
        return load_certificate(data, f"{source.file} ({label})", now=now)
    if fetch is None:
        raise InputError(f"{label}'s certificate is fetched from {source.describe()}, which this command cannot reach")
    data, where = fetch(source, env.name)
    return load_certificate(data, f"{where} ({label})", now=now)
