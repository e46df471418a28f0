"""What `sealkit csi verify` expects of each HashiCorp Vault object, and how it judges what Vault answered.

Vault is read by the one Vault client (`sealkit.clients.vault`), which hands over plain answers:
`Found` (the key names at a path, and which values decode as base64/hex, never a value), `Missing`
(404), `Denied` (403). Anything about a Vault as a whole (sealed, unreachable, login refused) is raised
as `VaultAccessError` and stops that Vault; no usable token (`CredentialError`) stops every Vault.
Each distinct read is made once, `concurrency` at a time. Paths of other secrets engines (PKI issue,
database creds, ...) are not read: reading them would issue credentials.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sealkit.csi import textreport
from sealkit.csi.model import Spec, Store, VaultObject
from sealkit.csi.vaultreads import read_each


@dataclass(frozen=True)
class Target:
    """One Vault as a client reaches it: address and Enterprise namespace (one stop each)."""

    address: str
    namespace: str = ""

    def __str__(self) -> str:
        return f"{self.address} (namespace {self.namespace})" if self.namespace else self.address


@dataclass(frozen=True)
class Login:
    """How pods log in: the Kubernetes auth mount and role (used by `--vault-auth kubernetes`)."""

    mount: str
    role: str


@dataclass(frozen=True)
class Lookup:
    """What is read: the same path read with the same login is read once."""

    target: Target
    login: Login
    secret_path: str  # as the provider requests it (KV v2: <mount>/data/<path>[?version=N])
    mount: str | None  # the KV mount (to explain a 404), None for other engines


@dataclass(frozen=True)
class Reference:
    """One file one application mounts from Vault in one environment."""

    environment: str
    application: str
    index: int
    lookup: Lookup
    file: str
    kv: int | None
    key: str | None
    encoding: str | None
    version: int = 0

    @property
    def readable(self) -> bool:
        """KV reads only: GETs on other engines may issue credentials, PUT/POST always do."""
        return self.kv is not None


@dataclass(frozen=True)
class Found:
    """A secret's key names and, per key, whether its value decodes as base64 and as hex. Never a value."""

    keys: frozenset[str]
    base64: frozenset[str] = frozenset()
    hex: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Missing:
    """404: no secret there (or that version is deleted), with what Vault said about the mount."""

    deleted: bool = False  # KV v2: the version exists but is deleted or destroyed
    versioned_hint: bool = False  # Vault warned "Invalid path for a versioned K/V secrets engine"
    mount_version: int | None = None  # the KV version of the mount holding the path, when Vault told


@dataclass(frozen=True)
class Denied:
    """403 on the read: the login's policies do not grant `read` on the path."""


@dataclass(frozen=True)
class Empty:
    """An answer without a secret (204, `data` null or not a map): the provider fails the mount."""

    why: str  # "no data", "its data is not a map"


Answer = Found | Missing | Denied | Empty
Fetch = Callable[[Lookup], Answer]


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # not a KV read: not read on purpose
    NOT_CHECKED = "not-checked"  # its Vault could not be read (see the report's errors)


@dataclass(frozen=True)
class Result:
    reference: Reference
    status: Status
    problem: str = ""


@dataclass(frozen=True)
class Report:
    results: tuple[Result, ...]
    failures: Mapping[Target, str] = field(default_factory=dict)
    credential_error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.credential_error is None
            and all(r.status in (Status.OK, Status.SKIPPED) for r in self.results)
        )

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)


def references(
    spec: Spec, environments: Iterable[str] | None = None, applications: Iterable[str] | None = None
) -> list[Reference]:
    """Every (environment, application, Vault object) the spec mounts, in spec order."""
    out: list[Reference] = []
    for env, app in spec.reading(Store.HASHICORP_VAULT, environments, applications):
        vault = app.hashicorp_vault_for(env)
        assert vault.role is not None
        target = Target(vault.address, vault.namespace or "")
        login = Login(vault.auth_mount_path, vault.role.name)
        for index, obj in enumerate(app.vault_objects):
            out.append(_reference(env.name, app.name, index, target, login, obj))
    return out


def _reference(env: str, app: str, index: int, target: Target, login: Login, obj: VaultObject) -> Reference:
    lookup = Lookup(target, login, obj.api_path(env), obj.mount)
    return Reference(env, app, index, lookup, obj.file, obj.kv, obj.key, obj.encoding, obj.version_for(env))


def _missing(ref: Reference, answer: Missing) -> str:
    path = ref.lookup.secret_path
    if answer.deleted:
        which = f"version {ref.version}" if ref.version else "the current version"
        return f"{which} of {path} is deleted or destroyed (404)"
    if ref.kv == 1 and (answer.versioned_hint or answer.mount_version == 2):
        return f"not found: {ref.lookup.mount} is a KV v2 mount, so the spec's kv: 1 is wrong (set kv: 2) (404)"
    if ref.kv == 2 and answer.mount_version == 1:
        return f"not found: {ref.lookup.mount} is a KV v1 mount, so the spec's kv: 2 adds a wrong data/ (set kv: 1)"
    if ref.version:
        return f"version {ref.version} of {path.split('?')[0]} not found (404)"
    return f"path not found: {path} (404)"


MAX_KEYS_SHOWN = 20
MAX_KEY_SHOWN = 64
_PLAIN_KEY = re.compile(rf"[\w.@+/:=-]{{1,{MAX_KEY_SHOWN}}}", re.ASCII)


def key_list(keys: Iterable[str]) -> str:
    """Key names Vault answered, for one line: the first MAX_KEYS_SHOWN, each as written when plain, else
    quoted with its control characters escaped (a key name from Vault is not trusted to be printable)."""
    names = sorted(keys)
    shown = [k if _PLAIN_KEY.fullmatch(k) else _quoted(k) for k in names[:MAX_KEYS_SHOWN]]
    more = f" and {len(names) - MAX_KEYS_SHOWN} more" if len(names) > MAX_KEYS_SHOWN else ""
    return (", ".join(shown) or "none") + more


def _quoted(key: str) -> str:
    text = repr(key[:MAX_KEY_SHOWN])
    return text + "..." if len(key) > MAX_KEY_SHOWN else text


def evaluate(ref: Reference, answer: Answer) -> Result:
    """Judge one reference by what Vault answered (one line; key names, never values)."""
    if isinstance(answer, Denied):
        return Result(
            ref, Status.FAILED, f"permission denied: the login's policies do not grant read on {ref.lookup.secret_path}"
        )
    if isinstance(answer, Missing):
        return Result(ref, Status.FAILED, _missing(ref, answer))
    if isinstance(answer, Empty):
        return Result(
            ref,
            Status.FAILED,
            f"Vault answered {ref.lookup.secret_path} with {answer.why}: the provider fails the mount",
        )
    if ref.key is None:
        return Result(ref, Status.OK)
    if ref.key not in answer.keys:
        have = key_list(answer.keys)
        return Result(ref, Status.FAILED, f"no key {ref.key!r} at {ref.lookup.secret_path} (keys: {have})")
    encoding = (ref.encoding or "").lower()
    if encoding == "base64" and ref.key not in answer.base64:
        return Result(ref, Status.FAILED, f"the value of {ref.key!r} is not base64: the provider refuses the mount")
    if encoding == "hex" and ref.key not in answer.hex:
        return Result(ref, Status.FAILED, f"the value of {ref.key!r} is not hex: the provider refuses the mount")
    return Result(ref, Status.OK)


def run(refs: Iterable[Reference], fetch: Fetch, *, concurrency: int = 8) -> Report:
    """Read each distinct lookup once (`concurrency` at a time) and judge every reference."""
    refs = list(refs)
    reads = read_each(
        (ref.lookup for ref in refs if ref.readable),
        fetch,
        lambda lookup: lookup.target,
        concurrency=concurrency,
        thread_name_prefix="sealkit-hcvault",
    )
    results = []
    for ref in refs:
        if not ref.readable:
            results.append(Result(ref, Status.SKIPPED, "not a KV secret: not read (reading it may issue credentials)"))
            continue
        answer = reads.answers[ref.lookup]
        if answer is None:
            results.append(Result(ref, Status.NOT_CHECKED, "Vault not readable"))
        else:
            results.append(evaluate(ref, answer))
    failures = dict(sorted(reads.failures.items(), key=lambda item: str(item[0])))
    return Report(tuple(results), failures, reads.credential)


# --- the report (never a secret's value) -----------------------------------------------------------

_COLUMNS = ("ENV", "APP", "FILE", "PATH", "KEY", "STATUS", "DETAIL")


def error_lines(report: Report) -> list[str]:
    """One line per Vault that could not be read (one in all for a credential problem): what, then which Vault."""
    if report.credential_error:
        return [report.credential_error]
    return [f"{message}: vault {target}" for target, message in report.failures.items()]


def summary(report: Report) -> str:
    counts = textreport.counts(Status, report.count, Status.OK)
    vaults = len({r.reference.lookup.target for r in report.results})
    return f"{len(report.results)} Vault reference(s) in {vaults} Vault(s): {counts}"


def table(report: Report, *, only_problems: bool = False) -> str:
    rows = [
        (
            r.reference.environment,
            r.reference.application,
            r.reference.file,
            r.reference.lookup.secret_path,
            r.reference.key or "-",
            r.status.value,
            r.problem,
        )
        for r in report.results
        if not only_problems or r.status not in (Status.OK, Status.SKIPPED)
    ]
    return textreport.table(_COLUMNS, rows)


def to_json(report: Report) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "summary": {status.value: report.count(status) for status in Status} | {"references": len(report.results)},
        "errors": error_lines(report),
        "objects": [
            {
                "environment": r.reference.environment,
                "application": r.reference.application,
                "address": r.reference.lookup.target.address,
                "namespace": r.reference.lookup.target.namespace or None,
                "file": r.reference.file,
                "path": r.reference.lookup.secret_path,
                "key": r.reference.key,
                "status": r.status.value,
                "problem": r.problem or None,
            }
            for r in report.results
        ],
    }
