"""Reading Vault paths for `sealkit csi verify`: what keys a secret has, never a value.

One hvac client per (Vault, thread) and one login per (Vault, auth mount, role) or per Vault for a token
(checked once with `auth/token/lookup-self`, so a bad token is one line, not one per path). Each path is
read with GET exactly as the provider requests it: `/v1/<secretPath>` cleaned and escaped as Go's
`path.Join` and `url.URL` do (so `#`, `%` and `.` segments reach Vault as the provider sends them), KV v2
`?version=N` included.

Every request goes through hvac's raw adapter without raising, and every answer is read here: bounded
(`MAX_ANSWER_BYTES`, decompressed, within `--timeout` as a whole), parsed as one JSON object, and judged by
its status (a redirect is never followed, so a token never travels to another host). Values are dropped as
soon as the response is read; only key names and whether each value decodes as base64 or hex leave here.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sealkit.clients.transport import read_bounded
from sealkit.clients.vault import auth as vault_auth
from sealkit.clients.vault import errors as e
from sealkit.csi.hashicorp.check import Answer, Denied, Empty, Found, Login, Lookup, Missing, Target
from sealkit.errors import os_reason
from sealkit.vault.errors import CredentialError, VaultAccessError

VERSIONED_KV_WARNING = "Invalid path for a versioned K/V secrets engine"
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a KV secret is at most ~1 MiB in Vault's default storage
# What Go's url.URL leaves unescaped in a path (RFC 3986 unreserved, plus `$&+,/:;=@`); `quote` adds alnum
# and `-._~`.
_PATH_SAFE = "/$&+,:;=@"


def _decodes_base64(value: str) -> None:
    # Go's base64.StdEncoding skips \r and \n; everything else must be the alphabet, padded.
    base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)


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
    b64 = frozenset(k for k in keys if _decodes(secret[k], _decodes_base64))
    hexa = frozenset(k for k in keys if _decodes(secret[k], binascii.a2b_hex))  # as Go's hex: no spaces
    return Found(keys, b64, hexa)


def request_path(secret_path: str) -> tuple[str, dict[str, str] | None]:
    """The URL path and query parameters the provider sends for `secret_path`: `/v1/` + the path, cleaned
    as Go's `path.Join` does and escaped as Go's `url.URL` does (`%` as `%25`, `#` as `%23`), so Vault
    decodes exactly the path the provider reads."""
    path, _, query = secret_path.partition("?")
    clean = posixpath.normpath("/v1/" + path.lstrip("/"))
    params = dict(urllib.parse.parse_qsl(query)) if query else None
    return urllib.parse.quote(clean, safe=_PATH_SAFE), params


@dataclass(frozen=True)
class Reply:
    """One answer: its status, and its body as a JSON object (`{}` for no body, None when the body is not a
    JSON object)."""

    status: int
    body: dict[str, Any] | None


def _no_constants(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON (Go's decoder refuses them)


def parse_body(content: bytes) -> dict[str, Any] | None:
    """A body as the JSON object Vault sends ({} when empty); None for anything else."""
    if not content.strip():
        return {}
    try:
        parsed = json.loads(content, parse_constant=_no_constants)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return parsed if isinstance(parsed, dict) else None


@cache
def _session_class() -> type[Any]:
    """A requests Session that reads every answer bounded: at most MAX_ANSWER_BYTES after decompression, and
    within the request's timeout as a whole, status line and headers included (a server trickling bytes cannot
    hold a read open)."""
    import requests

    from sealkit.clients.transport import bound_answers

    class BoundedSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            bound_answers(self)

        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            kwargs["stream"] = True
            response = super().send(request, **kwargs)
            timeout = kwargs.get("timeout")
            read_bounded(
                response,
                timeout=timeout if isinstance(timeout, int | float) else 30.0,
                limit=MAX_ANSWER_BYTES,
                too_large=lambda: VaultAccessError(f"Vault's answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB"),
            )
            return response

    return BoundedSession


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
        self._ca_checked = False

    # -- clients and tokens ----------------------------------------------------------------------

    def _verify(self, target: Target) -> bool | str:
        if target in self.insecure:
            return False
        return self.auth.ca_cert or True

    def _check_ca(self) -> None:
        """--vault-cacert is a readable PEM bundle (else every Vault would fail with a library's words)."""
        if self._ca_checked or not self.auth.ca_cert:
            return
        try:
            ssl.create_default_context(cafile=self.auth.ca_cert)
        except ssl.SSLError:
            raise CredentialError("the CA bundle holds no PEM certificate", where=self.auth.ca_cert) from None
        except OSError as exc:
            raise CredentialError(f"cannot read the CA bundle ({os_reason(exc)})", where=self.auth.ca_cert) from None
        self._ca_checked = True

    def client(self, target: Target, token: str = "") -> Any:
        """This thread's hvac client for `target` (explicit address, CA, timeout; no redirects)."""
        import hvac
        from hvac.adapters import RawAdapter

        clients: dict[Target, Any] = self._local.__dict__.setdefault("clients", {})
        client = clients.get(target)
        if client is None:
            verify = self._verify(target)
            if verify is False:  # the spec asks for it, and lint says so (SK308): no warning per request
                import urllib3

                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            session = _session_class()()
            session.verify = verify
            client = hvac.Client(
                url=self.auth.url_for(target.address),
                token="",
                verify=verify,
                timeout=self.auth.timeout,
                allow_redirects=False,
                namespace=target.namespace or None,
                session=session,
                adapter=RawAdapter,
            )
            clients[target] = client
            with self._clients_lock:
                self._clients.append(client)
        client.token = token
        return client

    def _request(self, client: Any, method: str, url: str, **kwargs: Any) -> Reply:
        """One request, its answer read (bounded); failures before any answer as one `VaultAccessError`."""
        try:
            response = client.adapter.request(method, url, raise_exception=False, **kwargs)
        except VaultAccessError:
            raise
        except Exception as exc:
            raise e.transport_problem(exc) from None
        return Reply(response.status_code, parse_body(response.content))

    def token_for(self, target: Target, login: Login) -> str:
        """The token to read with: logged in once per (Vault, login), failures remembered."""
        key = (target, login if self.auth.mode == "kubernetes" else None)
        with self._lock:
            if key in self._tokens:
                return self._tokens[key]
            if key in self._failed:
                raise self._failed[key]
            self._check_ca()
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
        client = self.client(target, token)
        reply = self._request(client, "GET", "/v1/auth/token/lookup-self")
        if reply.status != 200 or reply.body is None:
            raise self._login_error(reply, "the token", (token,))
        return token

    def _login(self, target: Target, login: Login) -> str:
        role = self.auth.role or login.role
        what = f"the Kubernetes login as role {role!r} at auth/{login.mount}"
        jwt = vault_auth.service_account_jwt(self.auth)
        client = self.client(target)
        try:
            reply = self._request(client, "POST", f"/v1/auth/{login.mount}/login", json={"role": role, "jwt": jwt})
            if reply.status != 200 or reply.body is None:
                raise self._login_error(reply, what, (jwt,))
            auth = reply.body.get("auth")
        finally:
            del jwt
        token = auth.get("client_token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise VaultAccessError(f"{what} returned no token")
        if not vault_auth.TOKEN_SHAPE.fullmatch(token):
            raise VaultAccessError(f"{what} returned a token with characters a token cannot have")
        return token

    @staticmethod
    def _login_error(reply: Reply, what: str, secrets: tuple[str, ...]) -> VaultAccessError:
        if wide := e.vault_wide(reply.status, reply.body, secrets):
            return wide
        text = e.vault_text(reply.body, secrets)
        if reply.status == 200 or reply.body is None:
            return VaultAccessError(f"{what} failed: {text} ({reply.status})")
        if reply.status == 403:
            return VaultAccessError(f"{what} was refused (403 {text})")
        if reply.status == 404:
            return VaultAccessError(f"{what} failed: no such auth mount or namespace (404 {text})")
        return VaultAccessError(f"{what} failed ({reply.status} {text})")

    # -- reads -----------------------------------------------------------------------------------

    def fetch(self, lookup: Lookup) -> Answer:
        """What Vault holds at the lookup's path: key names (`Found`), or why not (`Missing`, `Denied`,
        `Empty`)."""
        token = self.token_for(lookup.target, lookup.login)
        client = self.client(lookup.target, token)
        url, params = request_path(lookup.secret_path)
        shown = lookup.secret_path.partition("?")[0]
        reply = self._request(client, "GET", url, params=params)
        if wide := e.vault_wide(reply.status, reply.body, (token,)):
            raise wide
        if reply.status == 403:
            return Denied()
        if reply.status == 404:
            return self._missing(client, lookup, reply.body)
        if reply.status == 204:
            return Empty("no data")  # the provider: an empty response
        if reply.body is None:
            raise VaultAccessError(f"reading {shown}: {e.vault_text(None)} ({reply.status})")
        if reply.status != 200:
            raise VaultAccessError(f"reading {shown} failed ({reply.status} {e.vault_text(reply.body, (token,))})")
        data = reply.body.get("data")
        del reply
        if data is None:
            return Empty("no data")
        if not isinstance(data, dict):
            return Empty("data that is not a map")
        answer = found(data)
        del data
        return answer

    def _missing(self, client: Any, lookup: Lookup, body: Mapping[str, Any] | None) -> Missing:
        warnings = body.get("warnings") if body is not None else None
        hint = isinstance(warnings, list) and any(VERSIONED_KV_WARNING in str(w) for w in warnings)
        data = body.get("data") if body is not None else None
        deleted = isinstance(data, dict) and isinstance(data.get("metadata"), dict)
        return Missing(deleted=deleted, versioned_hint=hint, mount_version=self._mount_version(client, lookup))

    def _mount_version(self, client: Any, lookup: Lookup) -> int | None:
        """The KV version of the mount (what `vault kv get` asks first), to explain a 404; None if unknown."""
        if lookup.mount is None:
            return None
        try:
            reply = self._request(client, "GET", request_path(f"sys/internal/ui/mounts/{lookup.mount}")[0])
        except VaultAccessError:
            return None
        data = reply.body.get("data") if reply.status == 200 and reply.body is not None else None
        if not isinstance(data, dict) or data.get("type") != "kv":
            return None
        options = data.get("options") or {}  # KV v1 mounts may have none
        if not isinstance(options, dict):
            return None
        version = str(options.get("version") or "1")
        return 2 if version == "2" else 1 if version == "1" else None

    def close(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.adapter.close()
