"""What the spec expects of each Key Vault object, and whether what the vault holds meets it.

The vault is read by the Key Vault client (`sealkit.clients.keyvault`); it hands over plain
`Observed`/`Absent` values, never a secret's value. Judging them here keeps the rules testable
without Azure: the service itself serves expired and not-yet-valid objects without complaint,
and a wrong content type only shows when the provider converts a certificate at mount time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sealkit.csi.model import Application, KeyVaultObject, Spec, Store

PKCS12 = "application/x-pkcs12"
PEM = "application/x-pem-file"
CERTIFICATE_CONTENT_TYPES = (PKCS12, PEM)
DEFAULT_WARN_WITHIN = dt.timedelta(days=30)


@dataclass(frozen=True)
class Reference:
    """One object one application reads in one environment."""

    environment: str
    application: str
    index: int  # position in the application's `objects` list (what --pin edits)
    vault: str
    name: str
    type: str  # secret | key | cert
    version: str  # "" = latest
    format: str | None = None
    tls_sync: bool = False  # synced into a kubernetes.io/tls Secret

    @property
    def lookup(self) -> Lookup:
        return Lookup(self.vault, self.type, self.name, self.version)


@dataclass(frozen=True)
class Lookup:
    """What is fetched: the same lookup from several references is fetched once."""

    vault: str
    type: str
    name: str
    version: str


@dataclass(frozen=True)
class Observed:
    """An object version's attributes as the vault reports them (never its value)."""

    version: str
    enabled: bool
    not_before: dt.datetime | None = None
    expires_on: dt.datetime | None = None
    content_type: str | None = None
    certificate_backed: bool = False  # a secret the vault manages for a certificate (it has a kid)


@dataclass(frozen=True)
class Absent:
    """The vault refused the object: not found (or deleted), or disabled (403 *Disabled)."""

    code: str  # e.g. SecretNotFound, KeyDisabled
    disabled: bool = False


Answer = Observed | Absent


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    NOT_CHECKED = "not-checked"  # its vault could not be read (see the report's vault failures)


@dataclass(frozen=True)
class ObjectResult:
    reference: Reference
    status: Status
    problems: tuple[str, ...] = ()
    observed: Observed | None = None


def _tls_synced(app: Application) -> set[str]:
    return {key.object_name for secret in app.sync if secret.type == "kubernetes.io/tls" for key in secret.data}


def references(
    spec: Spec, environments: Iterable[str] | None = None, applications: Iterable[str] | None = None
) -> list[Reference]:
    """Every (environment, application, Key Vault object) the spec mounts, in spec order (applications
    reading HashiCorp Vault in an environment are checked by `sealkit.csi.hashicorp.check`)."""
    out: list[Reference] = []
    for env, app in spec.reading(Store.KEY_VAULT, environments, applications):
        tls = _tls_synced(app)
        vault = app.vault_for(env)
        for index, obj in enumerate(app.objects):
            out.append(_reference(env.name, app.name, index, vault, obj, obj.file_name in tls))
    return out


def _reference(env: str, app: str, index: int, vault: str, obj: KeyVaultObject, tls: bool) -> Reference:
    return Reference(env, app, index, vault, obj.name, obj.type, obj.version_for(env), obj.format, tls)


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _content_problems(ref: Reference, seen: Observed) -> tuple[list[str], list[str]]:
    """(failures, warnings) about the secret's content type against the spec's format and sync."""
    failed: list[str] = []
    warned: list[str] = []
    if ref.type != "secret":
        return failed, warned
    shown = seen.content_type or "no content type"
    if seen.certificate_backed:
        if seen.content_type not in CERTIFICATE_CONTENT_TYPES:
            failed.append(
                f"certificate-backed secret has content type {shown}: the provider converts only {PKCS12} and {PEM}"
            )
        elif ref.format == "pfx" and seen.content_type == PEM:
            failed.append(f"format pfx, but the certificate stores PEM ({PEM}): the provider would write PEM")
        elif ref.tls_sync and ref.format == "pfx":
            failed.append("synced into a kubernetes.io/tls Secret but mounted as pfx: tls.crt/tls.key need PEM")
    elif ref.format is not None:
        warned.append(f"format {ref.format} applies only to certificate-backed secrets; this one is not ({shown})")
    elif ref.tls_sync and seen.content_type != PEM:
        warned.append(f"synced into a kubernetes.io/tls Secret but not a certificate or PEM ({shown})")
    return failed, warned


def evaluate(
    ref: Reference, answer: Answer, now: dt.datetime, warn_within: dt.timedelta = DEFAULT_WARN_WITHIN
) -> ObjectResult:
    """Judge one reference by what its vault answered."""
    which = f"version {ref.version}" if ref.version else "current version"
    if isinstance(answer, Absent):
        if answer.disabled:
            return ObjectResult(ref, Status.FAILED, (f"{which} is disabled ({answer.code})",))
        if ref.version:
            return ObjectResult(ref, Status.FAILED, (f"pinned {which} not found, or deleted ({answer.code})",))
        return ObjectResult(ref, Status.FAILED, (f"not found, or deleted ({answer.code})",))
    failed: list[str] = []
    warned: list[str] = []
    if not answer.enabled:
        failed.append(f"{which} is disabled")
    if answer.expires_on is not None:
        if answer.expires_on <= now:
            failed.append(f"expired {_when(answer.expires_on)}")
        elif answer.expires_on - now <= warn_within:
            warned.append(f"expires {_when(answer.expires_on)}")
    if answer.not_before is not None and answer.not_before > now:
        failed.append(f"not valid before {_when(answer.not_before)}")
    content_failed, content_warned = _content_problems(ref, answer)
    failed += content_failed
    warned += content_warned
    status = Status.FAILED if failed else Status.WARNING if warned else Status.OK
    return ObjectResult(ref, status, tuple(failed + warned), answer)
