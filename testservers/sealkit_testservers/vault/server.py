"""The local HashiCorp Vault: HTTP and HTTPS listeners on 127.0.0.1, its own CA, and the seeding API.

    with VaultServer() as vault:                 # KV v2 at "secret", a root token
        vault.put_secret("secret", "app/db", {"password": "s3cret"})
        vault.add_policy("app", 'path "secret/data/app/*" { capabilities = ["read"] }')
        vault.add_role("app", service_account_names=["app"], service_account_namespaces=["prod"],
                       policies=["app"])
        client = vault.client()                   # a real hvac.Client (HTTPS, CA verified)

State changes (seal, new secrets, policies, roles, revoked tokens) apply to the next request.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ..keyvault.https import HOST, Listener
from ..keyvault.tls import TlsFiles, make_tls_files
from . import acl
from .api import RequestRecord, VaultApi
from .kubeauth import service_account_jwt
from .state import KvSecret, KvVersion, Mount, Namespace, Role, Token, new_token_id

VERSION = "1.17.6"


class VaultServer:
    """Owns the listeners, the CA files and all Vault state; `stop()` ends it."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        kv_mounts: Mapping[str, int] | None = None,
        https_port: int = 0,
        http_port: int = 0,
        root_token: str | None = None,
    ) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="sealkit-vault-")) if workdir is None else workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tls: TlsFiles = make_tls_files(self.workdir / "tls")
        self.lock = threading.RLock()
        self.namespaces: dict[str, Namespace] = {"": Namespace("")}
        self.tokens: dict[str, Token] = {}
        self.sealed = False
        self.cluster_name = "vault-cluster-local"
        self.cluster_id = str(uuid.uuid4())
        self.clock = time.time
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        for mount, version in (kv_mounts if kv_mounts is not None else {"secret": 2}).items():
            self.add_mount(mount, kv_version=version)
        self.root_token = self.make_token(("root",), display_name="root", token_id=root_token).id
        api = VaultApi(self)
        self._https = Listener(api.handle, self.tls.server_context(), port=https_port, server_header="vault")
        self._http = Listener(api.handle, None, port=http_port, server_header="vault")

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> VaultServer:
        self._https.start()
        self._http.start()
        return self

    def stop(self) -> None:
        self._https.stop()
        self._http.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> VaultServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The HTTPS address (VAULT_ADDR); verify it with `ca_path`."""
        return f"https://{HOST}:{self._https.port}"

    @property
    def http_url(self) -> str:
        """The plain-HTTP address (like `vault server -dev`)."""
        return f"http://{HOST}:{self._http.port}"

    @property
    def ca_path(self) -> Path:
        """PEM of the test CA (VAULT_CACERT, hvac's `verify=`)."""
        return self.tls.ca_path

    # -- seal ------------------------------------------------------------------------------------

    def seal(self) -> None:
        """Seal: every call but sys/health and sys/seal-status answers 503 "Vault is sealed"."""
        with self.lock:
            self.sealed = True

    def unseal(self) -> None:
        with self.lock:
            self.sealed = False

    def seal_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "type": "shamir",
            "initialized": True,
            "sealed": self.sealed,
            "t": 1,
            "n": 1,
            "progress": 0,
            "nonce": "",
            "version": VERSION,
            "build_date": "2024-09-24T19:48:40Z",
            "migration": False,
            "recovery_seal": False,
            "storage_type": "inmem",
        }
        if not self.sealed:
            status.update(cluster_name=self.cluster_name, cluster_id=self.cluster_id)
        return status

    # -- namespaces and mounts -------------------------------------------------------------------

    def add_namespace(self, path: str) -> None:
        """An Enterprise namespace ("team-a", "team-a/sub"); its parents are made too."""
        parts = [p for p in path.strip("/").split("/") if p]
        if not parts:
            raise ValueError("a namespace needs a name")
        with self.lock:
            for i in range(1, len(parts) + 1):
                self.namespaces.setdefault("/".join(parts[:i]), Namespace("/".join(parts[:i])))

    def _space(self, namespace: str) -> Namespace:
        space = self.namespaces.get(namespace.strip("/"))
        if space is None:
            raise KeyError(f"no namespace {namespace!r}: add_namespace() it first")
        return space

    def add_mount(self, path: str, *, kv_version: int = 2, namespace: str = "") -> None:
        """Enable a KV secrets engine (version 1 or 2) at `path`."""
        if kv_version not in (1, 2):
            raise ValueError("kv_version must be 1 or 2")
        mount = path.strip("/")
        with self.lock:
            space = self._space(namespace)
            existing = space.mounts.get(mount)
            if existing is not None and existing.kv_version != kv_version:
                raise ValueError(f"mount {mount!r} is KV v{existing.kv_version}, not v{kv_version}")
            space.mounts.setdefault(mount, Mount(mount, kv_version))

    # -- secrets ---------------------------------------------------------------------------------

    def put_secret(
        self,
        mount: str,
        path: str,
        data: Mapping[str, Any],
        *,
        kv_version: int | None = None,
        namespace: str = "",
        custom_metadata: Mapping[str, str] | None = None,
    ) -> int:
        """Write `data` at `path` in `mount` (made if missing, KV v2 unless `kv_version=1`).

        Returns the new version (KV v2) or 0 (KV v1, which keeps no versions).
        """
        key = path.strip("/")
        with self.lock:
            space = self._space(namespace)
            name = mount.strip("/")
            if name not in space.mounts:
                self.add_mount(name, kv_version=kv_version or 2, namespace=namespace)
            target = space.mounts[name]
            if kv_version is not None and target.kv_version != kv_version:
                raise ValueError(f"mount {name!r} is KV v{target.kv_version}, not v{kv_version}")
            if target.kv_version == 1:
                target.v1[key] = dict(data)
                return 0
            secret = target.v2.setdefault(key, KvSecret())
            secret.versions.append(KvVersion(dict(data)))
            secret.updated = time.time()
            if custom_metadata is not None:
                secret.custom_metadata = dict(custom_metadata)
            return secret.current

    def delete_secret(
        self,
        mount: str,
        path: str,
        *,
        versions: Iterable[int] | None = None,
        destroy: bool = False,
        namespace: str = "",
    ) -> None:
        """KV v2: soft-delete (or destroy) `versions` (default: the newest); KV v1: remove the path."""
        key = path.strip("/")
        with self.lock:
            target = self._space(namespace).mounts[mount.strip("/")]
            if target.kv_version == 1:
                target.v1.pop(key)
                return
            secret = target.v2[key]
            for number in versions if versions is not None else [secret.current]:
                version = secret.versions[number - 1]
                if destroy:
                    version.destroyed = True
                else:
                    version.deleted = time.time()

    # -- policies, roles, tokens -----------------------------------------------------------------

    def add_policy(self, name: str, rules: str | Mapping[str, Iterable[str]], *, namespace: str = "") -> None:
        """Add or replace an ACL policy (HCL text or {path: capabilities})."""
        parsed = acl.parse(rules)
        with self.lock:
            self._space(namespace).policies[name] = parsed

    def add_role(
        self,
        name: str,
        *,
        service_account_names: Iterable[str],
        service_account_namespaces: Iterable[str],
        policies: Iterable[str],
        mount: str = "kubernetes",
        namespace: str = "",
        ttl: int = 3600,
        audience: str | None = None,
    ) -> None:
        """A Kubernetes auth role at `auth/<mount>` (enabled on first use); "*" binds any name."""
        role = Role(
            name,
            tuple(service_account_names),
            tuple(service_account_namespaces),
            tuple(policies),
            ttl=ttl,
            audience=audience,
        )
        if not role.service_account_names or not role.service_account_namespaces:
            raise ValueError("a role needs service account names and namespaces (use '*' for any)")
        with self.lock:
            self._space(namespace).auth_mounts.setdefault(mount.strip("/"), {})[name] = role

    def make_token(
        self,
        policies: Iterable[str],
        *,
        namespace: str = "",
        ttl: int | None = None,
        display_name: str = "token",
        meta: dict[str, str] | None = None,
        path: str = "auth/token/create",
        token_id: str | None = None,
    ) -> Token:
        with self.lock:
            self._space(namespace)
            token = Token(
                id=token_id or new_token_id(),
                accessor=secrets.token_urlsafe(18),
                policies=tuple(dict.fromkeys(policies)),
                namespace=namespace.strip("/"),
                display_name=display_name,
                ttl=ttl,
                meta=meta,
                entity_id=str(uuid.uuid4()) if meta else "",
                path=path,
            )
            self.tokens[token.id] = token
            return token

    def issue_token(
        self, policies: Iterable[str], *, namespace: str = "", ttl: int | None = None, display_name: str = "token"
    ) -> str:
        """A token with `policies` (plus "default") in `namespace`; returns its id (X-Vault-Token)."""
        return self.make_token(("default", *policies), namespace=namespace, ttl=ttl, display_name=display_name).id

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)

    @staticmethod
    def service_account_jwt(namespace: str, name: str, *, audience: str | None = None, uid: str | None = None) -> str:
        """A Kubernetes service-account JWT look-alike that Kubernetes auth logins accept."""
        return service_account_jwt(namespace, name, audience=audience, uid=uid)

    # -- request log -----------------------------------------------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far (method, path, namespace, status, token accessor; never bodies)."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- client side -----------------------------------------------------------------------------

    def env(self, token: str | None = None, *, tls: bool = True) -> dict[str, str]:
        """VAULT_ADDR, VAULT_TOKEN (root unless given) and, over HTTPS, VAULT_CACERT."""
        values = {"VAULT_ADDR": self.url if tls else self.http_url, "VAULT_TOKEN": token or self.root_token}
        if tls:
            values["VAULT_CACERT"] = str(self.ca_path)
        return values

    def client(self, token: str | None = None, *, namespace: str | None = None, tls: bool = True, **kwargs: Any) -> Any:
        """A real `hvac.Client` (imported lazily): root token unless `token`; "" for no token."""
        import hvac

        if tls:
            kwargs.setdefault("verify", str(self.ca_path))
        return hvac.Client(
            url=self.url if tls else self.http_url,
            token=self.root_token if token is None else token or None,
            namespace=namespace,
            **kwargs,
        )
