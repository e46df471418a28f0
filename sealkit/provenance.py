"""Provenance of a SealedSecret: the certificate(s) it was sealed with, and the environment it was sealed for.

Where it sits: the core. Every command that writes a SealedSecret from sealkit's own command line (`seal`,
`seal --env`, `set`, `reencrypt`, `csi seal-creds`) stamps it; `sealkit lint` reads it to tell a file
sealed for another cluster from one sealed with an older key of the right one. `sealkit kubeseal` does not
stamp: its output is what kubeseal writes.

The annotations go in the SealedSecret's own `metadata.annotations`, never in `spec.template`: Bitnami's
controller builds the Secret from `spec.template.metadata` alone and takes the scope from its two
`sealedsecrets.bitnami.com/*-wide` annotations (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go,
`Unseal`), so these change nothing in how the object opens and never reach the Secret.

    sealkit.io/certificate-sha256: "<64 hex>[,<64 hex>...]"   the newest first (several only after `set`
                                                              or a merge added items with a newer cert)
    sealkit.io/environment: "prod"                            only when sealed with --env
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from sealkit.certificates import SealingCertificate
from sealkit.errors import InputError

CERTIFICATE_ANNOTATION = "sealkit.io/certificate-sha256"
ENVIRONMENT_ANNOTATION = "sealkit.io/environment"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENV_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def der_sha256(der: bytes) -> str:
    """The provenance fingerprint of a certificate: lower-case hex SHA-256 of its DER bytes."""
    return hashlib.sha256(der).hexdigest()


def short(sha256: str) -> str:
    """A fingerprint shortened for messages (`sha256:0123456789ab`), as people compare them by eye."""
    return f"sha256:{sha256[:12]}"


class Provenance(NamedTuple):
    """What a SealedSecret says about how it was sealed (a named tuple: cheap to define at start)."""

    certificates: tuple[str, ...]  # hex SHA-256 of each DER certificate its items were sealed with, newest first
    environment: str | None = None

    def annotations(self) -> dict[str, str]:
        out = {CERTIFICATE_ANNOTATION: ",".join(self.certificates)}
        if self.environment:
            out[ENVIRONMENT_ANNOTATION] = self.environment
        return out


def of_certificate(cert: SealingCertificate, environment: str | None = None) -> Provenance:
    if not cert.sha256:
        raise ValueError("the certificate was not loaded with load_certificate (no SHA-256)")
    return Provenance((cert.sha256,), environment)


def read(annotations: Mapping[str, Any] | None, where: str) -> Provenance | None:
    """The provenance in a SealedSecret's `metadata.annotations`; None without one; InputError when malformed."""
    if not isinstance(annotations, Mapping) or CERTIFICATE_ANNOTATION not in annotations:
        return None
    value = annotations.get(CERTIFICATE_ANNOTATION)
    parts = tuple(p.strip() for p in value.split(",")) if isinstance(value, str) else ()
    if not parts or not all(_SHA256.fullmatch(p) for p in parts):
        raise InputError(
            f"metadata.annotations.{CERTIFICATE_ANNOTATION} is not a comma-separated list of lower-case hex "
            f"SHA-256 fingerprints: {where}"
        )
    environment = annotations.get(ENVIRONMENT_ANNOTATION)
    if environment is not None and not (isinstance(environment, str) and _ENV_NAME.fullmatch(environment)):
        raise InputError(f"metadata.annotations.{ENVIRONMENT_ANNOTATION} is not an environment name: {where}")
    return Provenance(parts, environment)


def stamp(sealed: dict[str, Any], provenance: Provenance) -> dict[str, Any]:
    """`sealed` (a SealedSecret made in memory) with the provenance in its own metadata.annotations."""
    meta = dict(sealed.get("metadata") or {})
    meta["annotations"] = {**(meta.get("annotations") or {}), **provenance.annotations()}
    return {**sealed, "metadata": meta}


def after_update(existing: Provenance | None, new: Provenance, *, every_item: bool, where: str) -> Provenance | None:
    """The provenance of a file whose items were partly or wholly sealed again with `new`'s certificate.

    Every item sealed again: `new`. Some items kept: the kept ones were sealed with what the file says, so
    its certificates stay listed after the new one; a file that said nothing stays silent (None: unknown),
    and one that names another environment than `new` is refused (its other items would open elsewhere).
    """
    if every_item:
        return new
    if existing is None:
        return None
    if new.environment and existing.environment and new.environment != existing.environment:
        raise InputError(
            f"the file was sealed for environment {existing.environment!r}, not {new.environment!r}: its other "
            f"items would not open there (seal every item again, or move the file): {where}"
        )
    certificates = (*new.certificates, *(c for c in existing.certificates if c not in new.certificates))
    return Provenance(certificates, new.environment or existing.environment)
