"""A fixed key ring for the controller's HTTP API in tests (the controller serves its live KeyStore)."""

from __future__ import annotations

from dataclasses import dataclass

from sealkit.keys import KeyRing


@dataclass
class StaticKeys:
    """A fixed key ring: the HTTP API's KeySource without a running controller."""

    ring: KeyRing

    def keyring(self) -> KeyRing:
        return self.ring

    def newest_certificate_pem(self) -> bytes | None:
        newest = self.ring.newest()
        return newest.certificate_pem if newest else None
