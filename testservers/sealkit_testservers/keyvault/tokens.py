"""Access tokens: JWT-shaped, HMAC-signed by the local token endpoint, checked by the local vaults.

The SDKs treat access tokens as opaque; a JWT shape keeps logs and debuggers familiar, and the
signature lets a vault know which tenant and client (the "principal") is calling.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for."""

    tenant_id: str
    client_id: str
    audience: str
    expires_on: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Mints and verifies tokens with a per-server random key."""

    def __init__(self, issuer_host: str = "sts.local") -> None:
        self._key = secrets.token_bytes(32)
        self._issuer_host = issuer_host

    def _sign(self, signing_input: bytes) -> str:
        return _b64(hmac.new(self._key, signing_input, hashlib.sha256).digest())

    def mint(self, *, tenant_id: str, client_id: str, audience: str, lifetime: int) -> str:
        issued = int(time.time())
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        claims = {
            "aud": audience,
            "iss": f"https://{self._issuer_host}/{tenant_id}/",
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "tid": tenant_id,
            "appid": client_id,
            "oid": client_id,
            "sub": client_id,
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}'.encode())}"

    def verify(self, token: str) -> Principal | None:
        """The token's principal, or None if it is malformed, forged or expired."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        header, payload, signature = parts
        if not hmac.compare_digest(signature, self._sign(f"{header}.{payload}".encode())):
            return None
        try:
            claims = json.loads(_unb64(payload))
        except ValueError:
            return None
        if int(claims.get("exp", 0)) <= int(time.time()):
            return None
        return Principal(
            tenant_id=str(claims["tid"]),
            client_id=str(claims["appid"]),
            audience=str(claims["aud"]),
            expires_on=int(claims["exp"]),
        )
