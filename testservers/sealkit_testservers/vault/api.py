"""The HTTP API of the local Vault: the calls hvac and the Secrets Store CSI Vault provider make.

Answers as Vault 1.x does (developer.hashicorp.com/vault/api-docs): every body is JSON with
`errors` on failure; 403 `["permission denied"]` for a missing or unknown token and the
multierror text `"1 error occurred:\\n\\t* permission denied\\n\\n"` when a policy refuses; 404
`{"errors": []}` for a missing secret; 503 `["Vault is sealed"]` while sealed (only
`sys/health` and `sys/seal-status` answer then). The namespace comes from `X-Vault-Namespace`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..keyvault.https import Request, Response
from . import acl
from .kubeauth import LoginError, login
from .state import KvSecret, Mount, Namespace, Token

if TYPE_CHECKING:
    from .server import VaultServer

DENIED = "1 error occurred:\n\t* permission denied\n\n"
V2_WRONG_PATH = (
    "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. "
    "If using the Vault CLI, use 'vault kv get' for this operation."
)
V1_LEASE = 2764800  # KV v1 answers the mount's default lease (768h)


def _json(status: int, payload: Any) -> Response:
    """Vault's content type is exactly `application/json`; hvac reads `errors` only then."""
    return Response.json(status, payload, {"Content-Type": "application/json"})


class VaultError(Exception):
    def __init__(self, status: int, *errors: str, warnings: list[str] | None = None) -> None:
        super().__init__(errors[0] if errors else str(status))
        body: dict[str, Any] = {"errors": list(errors)}
        if warnings:
            body["warnings"] = warnings
        self.response = _json(status, body)


@dataclass(frozen=True)
class RequestRecord:
    """One request as logged: never bodies or tokens (`accessor` names the token)."""

    method: str
    path: str
    namespace: str
    status: int
    accessor: str | None


def rfc3339(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(
    data: Any, *, lease_duration: int = 0, auth: Any = None, mount_type: str | None = None, status: int = 200
) -> Response:
    body = {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": lease_duration,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": auth,
    }
    if mount_type:
        body["mount_type"] = mount_type
    return _json(status, body)


class VaultApi:
    """The request handler of the local Vault's listeners."""

    def __init__(self, server: VaultServer) -> None:
        self.server = server

    def handle(self, request: Request) -> Response:
        namespace = (request.header("x-vault-namespace") or "").strip("/")
        token: Token | None = None
        try:
            if not request.path.startswith("/v1/"):
                raise VaultError(404)
            path = unquote(request.path[len("/v1/") :])  # as Go's net/http: Vault routes the decoded path
            method = request.method
            if method == "GET" and request.param("list") == "true":
                method = "LIST"
            with self.server.lock:
                token = self.server.tokens.get(request.header("x-vault-token") or "")
                response = self._route(request, method, path.rstrip("/") if method != "LIST" else path, namespace)
        except VaultError as exc:
            response = exc.response
        except Exception:  # a bug in the double must show up as a 500, not a hang
            response = _json(500, {"errors": ["1 error occurred:\n\t* internal error\n\n"]})
        self.server._record(
            RequestRecord(request.method, request.path, namespace, response.status, token.accessor if token else None)
        )
        return response

    # -- routing ---------------------------------------------------------------------------------

    def _route(self, request: Request, method: str, path: str, namespace: str) -> Response:
        if path == "sys/health":
            return self._health(request)
        if path == "sys/seal-status":
            return _json(200, self.server.seal_status())
        if self.server.sealed:
            raise VaultError(503, "Vault is sealed")
        space = self.server.namespaces.get(namespace)
        if space is None:
            raise VaultError(404, f'no handler for route "{path}". route entry not found.')
        parts = path.split("/")
        if parts[0] == "auth" and len(parts) == 3 and parts[2] == "login" and method in ("POST", "PUT"):
            return self._login(request, space, parts[1])
        token = self._token(request, namespace)
        if path == "auth/token/lookup-self" and method == "GET":
            return envelope(self._token_data(token))
        if path == "sys/mounts" and method == "GET":
            self._require(token, space, "sys/mounts", "read")
            return envelope({f"{m.path}/": self._mount_json(m) for m in space.mounts.values()})
        if path.startswith("sys/internal/ui/mounts/") and method == "GET":
            return self._ui_mount(token, space, path.removeprefix("sys/internal/ui/mounts/"))
        found = space.mount_for(path)
        if found is None:
            if parts[0] in ("sys", "auth"):
                raise VaultError(404, f'no handler for route "{path}". route entry not found.')
            raise VaultError(403, DENIED)  # Vault cannot tell an unmounted path from a forbidden one
        mount, rest = found
        if method not in ("GET", "LIST"):
            raise VaultError(405, "1 error occurred:\n\t* unsupported operation\n\n")
        if mount.kv_version == 1:
            return self._kv1(token, space, mount, rest, method)
        return self._kv2(request, token, space, mount, rest, method)

    # -- auth ------------------------------------------------------------------------------------

    def _token(self, request: Request, namespace: str) -> Token:
        token = self.server.tokens.get(request.header("x-vault-token") or "")
        if token is None or token.expired:
            raise VaultError(403, "permission denied")
        if token.namespace != namespace and not (token.namespace == "" and "root" in token.policies):
            raise VaultError(403, "permission denied")
        return token

    def _require(self, token: Token, space: Namespace, path: str, capability: str) -> None:
        if "root" in token.policies:
            return
        policies = [space.policies[name] for name in token.policies if name in space.policies]
        if not acl.allowed(policies, path, capability):
            raise VaultError(403, DENIED)

    def _token_data(self, token: Token) -> dict[str, Any]:
        expires = None if token.ttl is None else token.created + token.ttl
        remaining = 0 if expires is None else max(0, int(expires - self.server.clock()))
        return {
            "accessor": token.accessor,
            "creation_time": int(token.created),
            "creation_ttl": token.ttl or 0,
            "display_name": token.display_name,
            "entity_id": token.entity_id,
            "expire_time": rfc3339(expires) or None,
            "explicit_max_ttl": 0,
            "id": token.id,
            "issue_time": rfc3339(token.created),
            "meta": token.meta,
            "namespace_path": f"{token.namespace}/" if token.namespace else "",
            "num_uses": 0,
            "orphan": True,
            "path": token.path,
            "policies": list(token.policies),
            "renewable": token.ttl is not None,
            "ttl": remaining,
            "type": "service",
        }

    def _login(self, request: Request, space: Namespace, mount: str) -> Response:
        roles = space.auth_mounts.get(mount)
        if roles is None:
            raise VaultError(404, f'no handler for route "auth/{mount}/login". route entry not found.')
        try:
            body = request.json() or {}
        except ValueError as exc:
            raise VaultError(400, "failed to parse JSON input") from exc
        try:
            role, claims = login(roles, body)
        except LoginError as exc:
            raise VaultError(exc.status, exc.message) from exc
        token = self.server.make_token(
            ("default", *role.policies),
            namespace=space.path,
            ttl=role.ttl,
            display_name=f"{mount}-{claims.namespace}-{claims.name}",
            meta={
                "role": role.name,
                "service_account_name": claims.name,
                "service_account_namespace": claims.namespace,
                "service_account_secret_name": "",
                "service_account_uid": claims.uid,
            },
            path=f"auth/{mount}/login",
        )
        auth = {
            "client_token": token.id,
            "accessor": token.accessor,
            "policies": list(token.policies),
            "token_policies": list(token.policies),
            "metadata": token.meta,
            "lease_duration": role.ttl,
            "renewable": True,
            "entity_id": token.entity_id,
            "token_type": "service",
            "orphan": True,
            "mfa_requirement": None,
            "num_uses": 0,
        }
        return envelope(None, auth=auth)

    # -- sys -------------------------------------------------------------------------------------

    def _health(self, request: Request) -> Response:
        status = self.server.seal_status()
        sealed = status["sealed"]
        code = request.param("sealedcode" if sealed else "activecode")
        body = {
            "initialized": True,
            "sealed": sealed,
            "standby": False,
            "performance_standby": False,
            "replication_performance_mode": "disabled",
            "replication_dr_mode": "disabled",
            "server_time_utc": int(self.server.clock()),
            "version": status["version"],
            "enterprise": False,
            "cluster_name": self.server.cluster_name,
            "cluster_id": self.server.cluster_id,
            "echo_duration_ms": 0,
            "clock_skew_ms": 0,
        }
        default = 503 if sealed else 200
        return _json(int(code) if code and code.isdigit() else default, body)

    @staticmethod
    def _mount_json(mount: Mount) -> dict[str, Any]:
        return {
            "accessor": mount.accessor,
            "config": {"default_lease_ttl": 0, "force_no_cache": False, "max_lease_ttl": 0},
            "description": "",
            "external_entropy_access": False,
            "local": False,
            "options": {"version": str(mount.kv_version)},
            "plugin_version": "",
            "running_plugin_version": f"v0.{mount.kv_version + 19}.0+builtin",
            "running_sha256": "",
            "seal_wrap": False,
            "type": "kv",
            "uuid": mount.uuid,
        }

    def _ui_mount(self, token: Token, space: Namespace, path: str) -> Response:
        """What `vault kv get` asks first: which mount holds `path`, and its KV version."""
        found = space.mount_for(path.strip("/"))
        if found is None:
            raise VaultError(403, DENIED)
        mount = found[0]
        return envelope({**self._mount_json(mount), "path": f"{mount.path}/"})

    # -- KV v1 -----------------------------------------------------------------------------------

    def _kv1(self, token: Token, space: Namespace, mount: Mount, rest: str, method: str) -> Response:
        if method == "LIST":
            self._require(token, space, f"{mount.path}/{rest}", "list")
            return self._list(mount.keys(), rest, mount_type="kv")
        self._require(token, space, f"{mount.path}/{rest}", "read")
        data = mount.v1.get(rest)
        if data is None:
            raise VaultError(404)
        return envelope(dict(data), lease_duration=V1_LEASE, mount_type="kv")

    @staticmethod
    def _list(keys: list[str], prefix: str, *, mount_type: str) -> Response:
        prefix = prefix.strip("/")
        prefix = f"{prefix}/" if prefix else ""
        children = sorted(
            {
                k[len(prefix) :].split("/")[0] + ("/" if "/" in k[len(prefix) :] else "")
                for k in keys
                if k.startswith(prefix)
            }
        )
        if not children:
            raise VaultError(404)
        return envelope({"keys": children}, mount_type=mount_type)

    # -- KV v2 -----------------------------------------------------------------------------------

    def _kv2(self, request: Request, token: Token, space: Namespace, mount: Mount, rest: str, method: str) -> Response:
        area, _, key = rest.partition("/")
        if area == "metadata" and method == "LIST":
            self._require(token, space, f"{mount.path}/{rest}", "list")
            return self._list([k for k, s in mount.v2.items() if s.versions], key, mount_type="kv")
        if area not in ("data", "metadata") or not key or method != "GET":
            self._require(token, space, f"{mount.path}/{rest}", "list" if method == "LIST" else "read")
            raise VaultError(404, warnings=[V2_WRONG_PATH])
        self._require(token, space, f"{mount.path}/{rest}", "read")
        secret = mount.v2.get(key)
        if secret is None or not secret.versions:
            raise VaultError(404)
        if area == "metadata":
            return envelope(self._metadata(secret), mount_type="kv")
        raw = request.param("version")
        number = secret.current if raw in (None, "", "0") else int(raw) if raw.isdigit() else -1
        if not 1 <= number <= secret.current:
            raise VaultError(404)
        version = secret.versions[number - 1]
        meta = {
            "created_time": rfc3339(version.created),
            "custom_metadata": secret.custom_metadata,
            "deletion_time": rfc3339(version.deleted),
            "destroyed": version.destroyed,
            "version": number,
        }
        if version.deleted is not None or version.destroyed:
            return envelope({"data": None, "metadata": meta}, mount_type="kv", status=404)
        return envelope({"data": dict(version.data), "metadata": meta}, mount_type="kv")

    @staticmethod
    def _metadata(secret: KvSecret) -> dict[str, Any]:
        return {
            "cas_required": False,
            "created_time": rfc3339(secret.created),
            "current_version": secret.current,
            "custom_metadata": secret.custom_metadata,
            "delete_version_after": "0s",
            "max_versions": 0,
            "oldest_version": 0,
            "updated_time": rfc3339(secret.updated),
            "versions": {
                str(i): {
                    "created_time": rfc3339(v.created),
                    "deletion_time": rfc3339(v.deleted),
                    "destroyed": v.destroyed,
                }
                for i, v in enumerate(secret.versions, start=1)
            },
        }
