"""Vault's Kubernetes auth method, as far as a test needs it: role lookup and service-account binding.

`POST /v1/auth/<mount>/login {"role", "jwt"}`. The JWT is decoded, not verified (a test server
has no TokenReview to ask): its `sub` must read `system:serviceaccount:<namespace>:<name>`.
Refusals as in hashicorp/vault-plugin-auth-kubernetes (path_login.go): 400 `missing role`,
`missing jwt`, `invalid role name "<role>"`; 403 `namespace not authorized`, then
`service account name not authorized`; 403 `permission denied` for a token that is not a JWT
or names no service account, and for a role `audience` the token lacks.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .state import Role


class LoginError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ServiceAccount:
    namespace: str
    name: str
    uid: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def service_account_jwt(namespace: str, name: str, *, audience: str | None = None, uid: str | None = None) -> str:
    """A projected service-account token look-alike (RS256 header, random signature) for `name`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": {"name": name, "uid": uid or str(uuid.uuid4())},
        },
    }
    if audience is not None:
        claims["aud"] = [audience]
    header = _b64(json.dumps({"alg": "RS256", "kid": "local"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_b64(secrets.token_bytes(64))}"


def _claims(jwt: str) -> dict[str, Any]:
    parts = jwt.split(".")
    if len(parts) != 3:
        raise LoginError(403, "permission denied")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError as exc:
        raise LoginError(403, "permission denied") from exc
    if not isinstance(claims, dict):
        raise LoginError(403, "permission denied")
    return claims


def _allowed(patterns: tuple[str, ...], value: str) -> bool:
    return any(p == "*" or p == value or (p.endswith("*") and value.startswith(p[:-1])) for p in patterns)


def login(roles: dict[str, Role], body: dict[str, Any]) -> tuple[Role, ServiceAccount]:
    """The role and service account a login body names, or LoginError as Vault refuses."""
    role_name, jwt = body.get("role"), body.get("jwt")
    if not role_name:
        raise LoginError(400, "missing role")
    if not jwt:
        raise LoginError(400, "missing jwt")
    role = roles.get(str(role_name))
    if role is None:
        raise LoginError(400, f'invalid role name "{role_name}"')
    claims = _claims(str(jwt))
    prefix, _, rest = str(claims.get("sub", "")).rpartition(":")
    ns_prefix, _, namespace = prefix.rpartition(":")
    if ns_prefix != "system:serviceaccount" or not namespace or not rest:
        raise LoginError(403, "permission denied")
    exp = claims.get("exp")
    if isinstance(exp, int | float) and exp <= time.time():
        raise LoginError(403, "permission denied")
    if role.audience is not None:
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences or []
        if role.audience not in audiences:
            raise LoginError(403, "permission denied")
    if not _allowed(role.service_account_namespaces, namespace):
        raise LoginError(403, "namespace not authorized")
    if not _allowed(role.service_account_names, rest):
        raise LoginError(403, "service account name not authorized")
    k8s = claims.get("kubernetes.io")
    uid = ""
    if isinstance(k8s, dict) and isinstance(k8s.get("serviceaccount"), dict):
        uid = str(k8s["serviceaccount"].get("uid", ""))
    return role, ServiceAccount(namespace, rest, uid)
