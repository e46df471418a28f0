"""What one vault holds: named objects with version histories, and their soft-deleted twins.

Plain data only; the JSON shapes live in `render.py` and the HTTP rules in `api.py`.
Secrets, keys and certificates are three separate collections, as in the service; a
certificate also owns a managed key and a managed secret of the same name and version.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from .keyops import Material

Kind = Literal["secret", "key", "certificate"]
KINDS: tuple[Kind, ...] = ("secret", "key", "certificate")

NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")

TimeLike = int | float | dt.datetime


def now() -> int:
    return int(time.time())


def to_unix(value: TimeLike | None) -> int | None:
    """Unix seconds from an int/float or an aware/naive-UTC datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp())
    return int(value)


def new_version() -> str:
    return uuid.uuid4().hex


def valid_name(name: str) -> bool:
    return bool(NAME_RE.fullmatch(name))


@dataclass
class Attributes:
    """enabled/nbf/exp plus the service-kept created/updated times (unix seconds)."""

    enabled: bool = True
    nbf: int | None = None
    exp: int | None = None
    created: int = field(default_factory=now)
    updated: int = field(default_factory=now)


@dataclass
class SecretVersion:
    version: str
    value: str
    attributes: Attributes
    content_type: str | None = None
    tags: dict[str, str] | None = None
    managed: bool = False  # True when a certificate backs this secret


@dataclass
class KeyVersion:
    version: str
    jwk: dict[str, str]  # public JWK members (kty, n, e or crv, x, y), already base64url
    key_ops: list[str]
    attributes: Attributes
    tags: dict[str, str] | None = None
    managed: bool = False
    material: Material | None = None  # the private key (or AES bytes) the crypto operations use

    @property
    def kty(self) -> str:
        return self.jwk["kty"]


@dataclass
class CertificateVersion:
    version: str
    der: bytes
    attributes: Attributes
    content_type: str
    policy: dict[str, object]
    tags: dict[str, str] | None = None


V = TypeVar("V", SecretVersion, KeyVersion, CertificateVersion)


@dataclass
class Deleted(Generic[V]):
    versions: list[V]
    deleted_date: int
    scheduled_purge_date: int


@dataclass
class Collection(Generic[V]):
    """One kind of object: live version lists by name, and soft-deleted ones."""

    live: dict[str, list[V]] = field(default_factory=dict)
    deleted: dict[str, Deleted[V]] = field(default_factory=dict)

    def current(self, name: str) -> V | None:
        versions = self.live.get(name)
        return versions[-1] if versions else None

    def find(self, name: str, version: str) -> V | None:
        """The named version, or the newest one for an empty version."""
        if not version:
            return self.current(name)
        for item in self.live.get(name, []):
            if item.version.lower() == version.lower():
                return item
        return None

    def add(self, name: str, item: V) -> None:
        self.live.setdefault(name, []).append(item)

    def soft_delete(self, name: str, retention_days: int) -> Deleted[V] | None:
        versions = self.live.pop(name, None)
        if versions is None:
            return None
        stamp = now()
        entry = Deleted(versions, stamp, stamp + retention_days * 86400)
        self.deleted[name] = entry
        return entry

    def names(self) -> list[str]:
        return sorted(self.live, key=str.lower)

    def all_versions(self, name: str) -> Iterator[V]:
        yield from self.live.get(name, [])


@dataclass
class VaultData:
    """All three collections of one vault."""

    secrets: Collection[SecretVersion] = field(default_factory=Collection)
    keys: Collection[KeyVersion] = field(default_factory=Collection)
    certificates: Collection[CertificateVersion] = field(default_factory=Collection)

    def collection(self, kind: Kind) -> Collection[Any]:
        if kind == "secret":
            return self.secrets
        if kind == "key":
            return self.keys
        return self.certificates
