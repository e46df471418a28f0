"""Reading Vault paths for `sealkit csi verify`: what keys a secret has, never a value.

One hvac client per (Vault, thread) and one login per (Vault, auth mount, role) or per Vault for a token
(checked once with `auth/token/lookup-self`, so a bad token is one line, not one per path). Each path is
read with GET exactly as the provider requests it (`/v1/<secretPath>`, KV v2 `?version=N` included).
Values are dropped as soon as the response is read; only key names and whether each value decodes as
base64 or hex leave here.
"""

from __future__ import annotations

import base64
import binascii
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from sealkit.clients.vault import auth as vault_auth
from sealkit.clients.vault import errors as e
from sealkit.csi.hashicorp.check import Answer, Denied, Found, Login, Lookup, Missing, Target
from sealkit.vault.errors import CredentialError, VaultAccessError

VERSIONED_KV_WARNING = "Invalid path for a versioned K/V secrets engine"


def _decodes(value: object, decoder: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        decoder(value)
    except (binascii.Error, ValueError):
        return False
    return True


def found(data: Mapping[str, Any]) -> Found:
    """The provider's view of a response's data: KV v2 nests the secret in data.data (keyFromData)."""
    inner = data.get("data")
    secret: Mapping[str, Any] = inner if isinstance(inner, dict) else data
    keys = frozenset(str(k) for k in secret)
    b64 = frozenset(k for k in keys if _decodes(secret[k], lambda v: base64.b64decode(v, validate=True)))
    hexa = frozenset(k for k in keys if _decodes(secret[k], bytes.fromhex))
    return Found(keys, b64, hexa)


class VaultReader:
    """Logs in lazily and reads paths; shared by the verify worker threads."""

    def __init__(self, auth: vault_auth.VaultAuth, insecure: frozenset[Target] = frozenset()) -> None:
        self.auth = auth
        self.insecure = insecure  # targets whose spec says tls.insecureSkipVerify (as the provider would)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._tokens: dict[tuple[Target, Login | None], str] = {}
        self._failed: dict[tuple[Target, Login | None], VaultAccessError] = {}
        self._clients: list[Any] = []  # every thread's clients, closed at the end
        self._clients_lock = threading.Lock()

    # -- clients and tokens ----------------------------------------------------------------------

    def _verify(self, target: Target) -> bool | str:
        if target in self.insecure:
            return False
        return self.auth.ca_cert or True

    def client(self, target: Target, token: str = "") -> Any:
        """This thread's hvac client for `target` (explicit address, CA, timeout; no redirects)."""
        import hvac

        clients: dict[Target, Any] = self._local.__dict__.setdefault("clients", {})
        client = clients.get(target)
        if client is None:
            client = hvac.Client(
                url=self.auth.url_for(target.address),
                token="",
                verify=self._verify(target),
                timeout=self.auth.timeout,
                allow_redirects=False,
                namespace=target.namespace or None,
            )
            clients[target] = client
            with self._clients_lock:
                self._clients.append(client)
        client.token = token
        return client

    def token_for(self, target: Target, login: Login) -> str:
        """The token to read with: logged in once per (Vault, login), failures remembered."""
        key = (target, login if self.auth.mode == "kubernetes" else None)
        with self._lock:
            if key in self._tokens:
                return self._tokens[key]
            if key in self._failed:
                raise self._failed[key]
            try:
                token = self._login(target, login) if self.auth.mode == "kubernetes" else self._check_token(target)
            except VaultAccessError as exc:
                if not isinstance(exc, CredentialError):
                    self._failed[key] = exc
                raise
            self._tokens[key] = token
            return token

    def _check_token(self, target: Target) -> str:
        token = vault_auth.token(self.auth)
        try:
            self.client(target, token).auth.token.lookup_self()
        except Exception as exc:
            raise self._login_error(exc, "the token") from None
        return token

    def _login(self, target: Target, login: Login) -> str:
        role = self.auth.role or login.role
        jwt = vault_auth.service_account_jwt(self.auth)
        client = self.client(target)
        try:
            answer = client.auth.kubernetes.login(role, jwt, use_token=False, mount_point=login.mount)
        except Exception as exc:
            raise self._login_error(exc, f"the Kubernetes login as role {role!r} at auth/{login.mount}") from None
        finally:
            del jwt
        token = (answer.get("auth") or {}).get("client_token") if isinstance(answer, dict) else None
        if not token:
            raise VaultAccessError(f"the Kubernetes login as role {role!r} at auth/{login.mount} returned no token")
        return str(token)

    @staticmethod
    def _login_error(exc: Exception, what: str) -> VaultAccessError:
        if wide := e.vault_wide(exc):
            return wide
        status = e.status_of(exc)
        if status is None:
            return VaultAccessError(f"{what} failed: {e.vault_text(exc)}")
        text = e.vault_text(exc)
        if status == 403:
            return VaultAccessError(f"{what} was refused (403 {text})")
        if status == 404:
            return VaultAccessError(f"{what} failed: no such auth mount or namespace (404 {text})")
        return VaultAccessError(f"{what} failed ({status} {text})")

    # -- reads -----------------------------------------------------------------------------------

    def fetch(self, lookup: Lookup) -> Answer:
        """What Vault holds at the lookup's path: key names (`Found`), or why not (`Missing`, `Denied`)."""
        token = self.token_for(lookup.target, lookup.login)
        client = self.client(lookup.target, token)
        path, _, query = lookup.secret_path.partition("?")
        params = dict(urllib.parse.parse_qsl(query)) if query else None
        try:
            body = client.adapter.get(f"/v1/{path.lstrip('/')}", params=params)
        except Exception as exc:
            if wide := e.vault_wide(exc):
                raise wide from None
            status = e.status_of(exc)
            if status == 403:
                return Denied()
            if status == 404:
                return self._missing(client, lookup, getattr(exc, "json", None))
            if status is None:
                raise VaultAccessError(f"reading {path} failed: {e.vault_text(exc)}") from None
            raise VaultAccessError(f"reading {path} failed ({status} {e.vault_text(exc)})") from None
        data = body.get("data") if isinstance(body, dict) else None
        del body
        if not isinstance(data, dict):
            return Missing()
        answer = found(data)
        del data
        return answer

    def _missing(self, client: Any, lookup: Lookup, body: object) -> Missing:
        warnings = body.get("warnings") if isinstance(body, dict) else None
        hint = any(VERSIONED_KV_WARNING in str(w) for w in warnings or [])
        data = body.get("data") if isinstance(body, dict) else None
        deleted = isinstance(data, dict) and isinstance(data.get("metadata"), dict)
        return Missing(deleted=deleted, versioned_hint=hint, mount_version=self._mount_version(client, lookup))

    @staticmethod
    def _mount_version(client: Any, lookup: Lookup) -> int | None:
        """The KV version of the mount (what `vault kv get` asks first), to explain a 404; None if unknown."""
        if lookup.mount is None:
            return None
        try:
            body = client.adapter.get(f"/v1/sys/internal/ui/mounts/{lookup.mount}")
        except Exception:
            return None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or data.get("type") != "kv":
            return None
        version = str((data.get("options") or {}).get("version") or "1")
        return 2 if version == "2" else 1

    def close(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.adapter.close()
