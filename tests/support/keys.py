"""Keys for tests: a fixed key ring for the controller's HTTP API (the controller serves its live KeyStore), and a
KEK in memory for the envelope and the key lifecycle without a vault."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from sealkit.keys import KeyRing
from sealkit.wrapping.envelope import KekError, Wrapped

KEK = "https://kv.vault.azure.net/keys/kek"


@dataclass
class StaticKeys:
    """A fixed key ring: the HTTP API's KeySource without a running controller."""

    ring: KeyRing

    def keyring(self) -> KeyRing:
        return self.ring

    def newest_certificate_pem(self) -> bytes | None:
        newest = self.ring.newest()
        return newest.certificate_pem if newest else None


class LocalKek:
    """A KEK in memory: one AES-256 key per version, RFC 3394 key wrap (A256KW)."""

    def __init__(self) -> None:
        self.versions = {"v1": os.urandom(32)}
        self.current = "v1"
        self.unwraps = 0

    def current_id(self) -> str:
        return f"{KEK}/{self.current}"

    def wrap(self, data_key: bytes) -> Wrapped:
        return Wrapped(self.current_id(), "A256KW", aes_key_wrap(self.versions[self.current], data_key))

    def unwrap(self, kek_id: str, algorithm: str, wrapped: bytes) -> bytes:
        self.unwraps += 1
        version = kek_id.rsplit("/", 1)[-1]
        try:
            return aes_key_unwrap(self.versions[version], wrapped)
        except InvalidUnwrap:
            raise KekError("unwrapKey failed (400 BadParameter)", "invalid", where=f"Key Vault key {kek_id}") from None
