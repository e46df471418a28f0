"""Key-encryption key ids: Azure Key Vault and Managed HSM key URLs, and the wrap algorithms sealkit uses.

A KEK is named by its key URL, `https://<vault host>/keys/<name>` (the newest version is used for new
wraps) or `https://<vault host>/keys/<name>/<version>` (exactly that version). Wrapped keys always record
the full versioned id, so a wrapped key opens with the version that wrapped it, whatever the KEK
configured later says.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from sealkit.errors import InputError, shown_url

RSA_OAEP_256 = "RSA-OAEP-256"  # RSA KEKs (Key Vault RSA/RSA-HSM, Managed HSM RSA-HSM)
A256KW = "A256KW"  # AES-256 KEKs (Managed HSM oct-HSM), RFC 3394 key wrap
ALGORITHMS = (RSA_OAEP_256, A256KW)

_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")
_VERSION = re.compile(r"[0-9A-Za-z]{1,64}")


@dataclass(frozen=True)
class KekId:
    """A parsed KEK URL: the vault's URL (scheme, host, port), the key's name and version ("" = newest)."""

    vault_url: str
    name: str
    version: str = ""

    @property
    def url(self) -> str:
        tail = f"/{self.version}" if self.version else ""
        return f"{self.vault_url}/keys/{self.name}{tail}"

    def with_version(self, version: str) -> KekId:
        return KekId(self.vault_url, self.name, version)

    def __str__(self) -> str:
        return self.url


def parse_kek_id(text: str, what: str = "KEK") -> KekId:
    """A Key Vault / Managed HSM key URL, with or without version; one clear line when it is not one."""
    hint = "e.g. https://kv-prod.vault.azure.net/keys/sealing-kek or .../keys/sealing-kek/<version>"
    raw = text.strip()
    where = f"{what} {shown_url(text)!r}"
    try:
        parts = urllib.parse.urlsplit(raw)
    except ValueError:
        raise InputError(f"not a URL ({hint})", where=where) from None
    if parts.scheme != "https" or not parts.hostname:
        raise InputError(f"not an https:// Key Vault key URL ({hint})", where=where)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InputError(f"a key URL has no query, fragment or user ({hint})", where=where)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) not in (2, 3) or segments[0] != "keys":
        raise InputError(f"the path must be /keys/<name>[/<version>] ({hint})", where=where)
    name = segments[1]
    version = segments[2] if len(segments) == 3 else ""
    if not _NAME.fullmatch(name):
        raise InputError("key names are 1-127 letters, digits and dashes", where=where)
    if version and not _VERSION.fullmatch(version):
        raise InputError(f"{version!r} is not a key version", where=where)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise InputError(f"not a valid port ({hint})", where=where) from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return KekId(f"https://{host}{port}", name, version)


def check_algorithm(algorithm: str, where: str) -> str:
    if algorithm not in ALGORITHMS:
        known = ", ".join(ALGORITHMS)
        raise InputError(f"unknown key wrap algorithm {algorithm!r} (sealkit uses {known})", where=where)
    return algorithm
