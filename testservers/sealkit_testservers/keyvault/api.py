"""The data-plane HTTP rules of one vault: bearer challenge, token checks, faults, routes.

Mirrors what the service does for the calls the SDKs make (see docs/testservers-keyvault.md):
401 + `WWW-Authenticate` for a request without a valid token, 400 BadParameter for bad names
or api-versions, 404 `<Kind>NotFound`, 403 for disabled objects and denied principals,
409 for names held by a soft-deleted object, lists paged with absolute `nextLink`s.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import keyops, render
from .https import Request, Response
from .keys_api import KeyRoutes
from .material import PEM, PKCS12, convert_secret
from .model import Attributes, Collection, Kind, SecretVersion, new_version, now, valid_name
from .permissions import classify
from .tokens import Principal
from .wire import TITLE as _TITLE
from .wire import ApiError, not_found
from .wire import attributes_from as _attributes_from
from .wire import bad as _bad
from .wire import tags_from as _tags_from

if TYPE_CHECKING:
    from .vault import Vault

DEFAULT_RESOURCE = "https://vault.azure.net"
HSM_RESOURCE = "https://managedhsm.azure.net"
MAX_PAGE = 25
MAX_SECRET_BYTES = 25 * 1024
SUPPORTED_API_VERSIONS = frozenset(
    {"2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"}
)

_COLLECTIONS: dict[str, Kind] = {"secrets": "secret", "keys": "key", "certificates": "certificate"}
_DELETED: dict[str, Kind] = {f"deleted{k}": v for k, v in _COLLECTIONS.items()}


@dataclass(frozen=True)
class RequestRecord:
    """One vault request as logged: no bodies, so no secret values."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    client_id: str | None
    api_version: str | None
    error_code: str | None


def challenge_resource(host: str) -> str:
    """The resource a vault at `host` names in its challenge, by the service's rule.

    The service answers `resource="https://vault.azure.net"` for `<name>.vault.azure.net`: the host
    minus its first label. The SDK checks exactly that suffix relation (with the port), so
    `127.0.0.1:PORT` gets `https://0.0.1:PORT` and passes without `verify_challenge_resource=False`.
    A dotless host (localhost, [::1]) cannot pass; it gets vault.azure.net.
    """
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else ""
    if "." not in hostname:
        return DEFAULT_RESOURCE
    return "https://" + host.split(".", 1)[1]


class VaultApi:
    """The request handler of one vault listener."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self.keys = KeyRoutes(vault)

    # -- entry -----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        principal: Principal | None = None
        try:
            principal, response = self._authenticate(request)
            if principal is not None:
                response = self._authorized(request, principal)
        except ApiError as exc:
            response = exc.response
        code = None
        if response.status >= 400:
            try:
                code = json.loads(response.body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
        self.vault._record(
            RequestRecord(
                method=request.method,
                path=request.path,
                query={k: v[0] for k, v in request.query.items()},
                status=response.status,
                client_id=principal.client_id if principal else None,
                api_version=request.param("api-version"),
                error_code=code,
            )
        )
        return response

    def _resource(self, request: Request) -> str:
        if self.vault.config.challenge_resource:
            return self.vault.config.challenge_resource
        return HSM_RESOURCE if self.vault.managed_hsm else challenge_resource(request.host)

    def _challenge(self, request: Request, message: str) -> Response:
        resource = self._resource(request)
        authority = f"{self.vault.config.authority_host()}/{self.vault.config.tenant_id}"
        header = f'Bearer authorization="{authority}", resource="{resource}"'
        return Response.json(401, render.error("Unauthorized", message), {"WWW-Authenticate": header})

    def _authenticate(self, request: Request) -> tuple[Principal | None, Response]:
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, self._challenge(request, "AKV10000: Request is missing a Bearer or PoP token.")
        principal = self.vault.config.signer.verify(token.strip())
        if principal is None:
            return None, self._challenge(request, "AKV10013: Token is expired, malformed or not from this server.")
        if principal.tenant_id != self.vault.config.tenant_id:
            return None, self._challenge(
                request, f"AKV10032: Invalid issuer. Expected tenant {self.vault.config.tenant_id}."
            )
        expected = {self._resource(request).rstrip("/"), HSM_RESOURCE if self.vault.managed_hsm else DEFAULT_RESOURCE}
        if principal.audience.rstrip("/") not in expected:
            return None, self._challenge(request, f"AKV10022: Invalid audience: {principal.audience}.")
        return principal, Response(200)

    def _authorized(self, request: Request, principal: Principal) -> Response:
        api_version = request.param("api-version")
        versions = self.vault.config.api_versions
        if not api_version:
            raise _bad("The api-version query parameter is required.")
        if versions is not None and api_version not in versions:
            raise _bad(
                f"The specified version ({api_version}) is not recognized. "
                f"Consider using one of: {', '.join(sorted(versions))}."
            )
        segments = [unquote(s) for s in request.path.split("/")[1:]]
        collection, operation = classify(request.method, segments)
        refused = self.vault.permissions.check(
            principal.client_id,
            collection,
            operation,
            resource=request.path,
            tenant_id=principal.tenant_id,
            vault=self.vault.name,
            managed_hsm=self.vault.managed_hsm,
        )
        if refused is not None:
            return refused
        injected = self.vault.faults.check(request)
        if injected is not None:
            return injected
        with self.vault.lock:
            return self._route(request, f"https://{request.host}", principal)

    # -- routing ---------------------------------------------------------------------------------

    def _route(self, request: Request, base: str, principal: Principal) -> Response:
        segments = [unquote(s) for s in request.path.split("/")[1:]]
        head, rest = segments[0], segments[1:]
        answer = None
        if head in _COLLECTIONS:
            answer = self._collection_route(request, base, principal, _COLLECTIONS[head], rest)
        elif head in _DELETED:
            answer = self._deleted_route(request, base, _DELETED[head], rest)
        if answer is not None:
            return answer
        message = f"{request.method} {request.path} is not implemented by the local Key Vault test server."
        raise ApiError(501, "NotImplemented", message)

    def _collection_route(
        self, request: Request, base: str, principal: Principal, kind: Kind, rest: list[str]
    ) -> Response | None:
        """/secrets, /keys, /certificates and below; None when nothing here answers."""
        method = request.method
        if rest in ([], [""]):
            return self._list(request, base, kind) if method == "GET" else None
        name = rest[0]
        if not valid_name(name):
            raise _bad(f"The request URI contains an invalid name: {name}")
        tail = rest[1:]
        if kind == "key":
            answer = self._key_route(request, base, principal, name, tail)
            if answer is not None:
                return answer
        if not tail or tail == [""]:
            if method == "GET":
                return self._get(request, base, kind, name, "")
            if method == "PUT" and kind == "secret":
                return self._set_secret(request, base, name)
            if method == "DELETE":
                return self._delete(base, kind, name)
            return None
        if len(tail) != 1:
            return None
        if tail[0] == "versions" and method == "GET":
            return self._list_versions(request, base, kind, name)
        if tail[0] == "policy" and kind == "certificate" and method == "GET":
            item = self.vault.data.certificates.current(name)
            if item is None:
                raise not_found(kind, name)
            return Response.json(200, render.certificate_policy(base, name, item))
        if method == "GET":
            return self._get(request, base, kind, name, tail[0])
        if method == "PATCH" and kind == "secret":
            return self._update_secret(request, base, name, tail[0])
        return None

    def _deleted_route(self, request: Request, base: str, kind: Kind, rest: list[str]) -> Response | None:
        """/deletedsecrets, /deletedkeys, /deletedcertificates and below; None when nothing here answers."""
        method = request.method
        if rest in ([], [""]) and method == "GET":
            return self._list_deleted(request, base, kind)
        if rest and not valid_name(rest[0]):
            raise _bad(f"The request URI contains an invalid name: {rest[0]}")
        if len(rest) == 1 and method == "GET":
            return self._get_deleted(base, kind, rest[0])
        if len(rest) == 1 and method == "DELETE":
            return self._purge(kind, rest[0])
        if len(rest) == 2 and rest[1] == "recover" and method == "POST":
            return self._recover(base, kind, rest[0])
        return None

    def _key_route(
        self, request: Request, base: str, principal: Principal, name: str, tail: list[str]
    ) -> Response | None:
        """Key writes and crypto operations; None lets the shared read/delete routes answer."""
        method = request.method
        if method == "POST" and tail == ["create"]:
            return self.keys.create(self._body(request), base, name)
        if method == "PUT" and tail in ([], [""]):
            return self.keys.import_key(self._body(request), base, name)
        if method == "PATCH" and len(tail) <= 1:
            return self.keys.update(self._body(request), base, name, tail[0] if tail else "")
        if method == "POST" and tail and tail[-1].lower() in keyops.CRYPTO_OPS and len(tail) <= 2:
            version = tail[0] if len(tail) == 2 else ""
            op = tail[-1].lower()
            return self.keys.crypto(self._body(request), base, name, version, op, principal.client_id)
        return None

    # -- helpers ---------------------------------------------------------------------------------

    def _collection(self, kind: Kind) -> Collection[Any]:
        return self.vault.data.collection(kind)

    def _page(self, request: Request, base: str, items: list[dict[str, Any]]) -> Response:
        raw_max = request.param("maxresults")
        size = MAX_PAGE
        if raw_max is not None:
            if not raw_max.isdigit() or not 1 <= int(raw_max) <= MAX_PAGE:
                raise _bad(f"maxresults must be between 1 and {MAX_PAGE}")
            size = int(raw_max)
        start = 0
        token = request.param("$skiptoken")
        if token:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["NextMarker"])
            except (ValueError, KeyError, TypeError) as exc:
                raise _bad("The $skiptoken is not valid") from exc
        chunk = items[start : start + size]
        next_link = None
        if start + size < len(items):
            marker = base64.urlsafe_b64encode(json.dumps({"NextMarker": start + size}).encode()).decode()
            api_version = request.param("api-version")
            next_link = (
                f"{base}{request.path}?api-version={api_version}&$skiptoken={marker.rstrip('=')}&maxresults={size}"
            )
        return Response.json(200, {"value": chunk, "nextLink": next_link})

    def _render_item(self, kind: Kind, base: str, name: str, item: Any, *, versioned: bool) -> dict[str, Any]:
        if kind == "secret":
            return render.secret_item(base, name, item, versioned=versioned)
        if kind == "key":
            return render.key_item(base, name, item, versioned=versioned)
        return render.certificate_item(base, name, item, versioned=versioned)

    # -- reads -----------------------------------------------------------------------------------

    def _list(self, request: Request, base: str, kind: Kind) -> Response:
        collection = self._collection(kind)
        items = [
            self._render_item(kind, base, name, collection.live[name][-1], versioned=False)
            for name in collection.names()
        ]
        return self._page(request, base, items)

    def _list_versions(self, request: Request, base: str, kind: Kind, name: str) -> Response:
        collection = self._collection(kind)
        items = [self._render_item(kind, base, name, v, versioned=True) for v in collection.all_versions(name)]
        return self._page(request, base, items)

    def _get(self, request: Request, base: str, kind: Kind, name: str, version: str) -> Response:
        item = self._collection(kind).find(name, version)
        if item is None:
            raise not_found(kind, name, version)
        if kind == "certificate":
            return Response.json(200, render.certificate_bundle(base, name, item))
        if kind == "key":  # a disabled key's metadata and public part stay readable, as in the service
            return Response.json(200, render.key_bundle(base, name, item))
        if not item.attributes.enabled:
            raise ApiError(
                403,
                "Forbidden",
                f"Operation get is not allowed on a disabled {kind}.",
                f"{_TITLE[kind]}Disabled",
            )
        value = self._secret_value(item, request.param("outContentType"))
        return Response.json(200, render.secret_bundle(base, name, item, value=value))

    @staticmethod
    def _secret_value(item: SecretVersion, out_type: str | None) -> str:
        if not out_type or not item.managed or item.content_type == out_type:
            return item.value
        if out_type not in (PKCS12, PEM):
            raise _bad(f"outContentType must be {PKCS12} or {PEM}")
        return convert_secret(item.value, item.content_type or PKCS12, out_type)

    # -- secret writes ---------------------------------------------------------------------------

    def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError as exc:
            raise _bad("The request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise _bad("The request body must be a JSON object.")
        return body

    def _set_secret(self, request: Request, base: str, name: str) -> Response:
        body = self._body(request)
        value = body.get("value")
        if not isinstance(value, str):
            raise _bad("Property 'value' is required and must be a string.")
        if len(value.encode("utf-8")) > MAX_SECRET_BYTES:
            raise _bad(f"The secret value exceeds the maximum size of {MAX_SECRET_BYTES} bytes.")
        secrets = self.vault.data.secrets
        if name in secrets.deleted:
            raise ApiError(
                409,
                "Conflict",
                f"Secret {name} is currently in a deleted but recoverable state, and its name cannot be "
                "reused; in this state, the secret can only be recovered or purged.",
                "ObjectIsDeletedButRecoverable",
            )
        current = secrets.current(name)
        if current is not None and current.managed:
            raise ApiError(409, "Conflict", f"Secret {name} is managed by a certificate and cannot be set.")
        content_type = body.get("contentType")
        if content_type is not None and not isinstance(content_type, str):
            raise _bad("contentType must be a string")
        attributes = Attributes()
        _attributes_from(body.get("attributes"), attributes)
        item = SecretVersion(
            version=new_version(),
            value=value,
            attributes=attributes,
            content_type=content_type,
            tags=_tags_from(body.get("tags")),
        )
        secrets.add(name, item)
        return Response.json(200, render.secret_bundle(base, name, item, value=value))

    def _update_secret(self, request: Request, base: str, name: str, version: str) -> Response:
        body = self._body(request)
        item = self.vault.data.secrets.find(name, version)
        if item is None:
            raise not_found("secret", name, version)
        _attributes_from(body.get("attributes"), item.attributes)
        if "contentType" in body:
            item.content_type = body["contentType"]
        if "tags" in body:
            item.tags = _tags_from(body["tags"])
        item.attributes.updated = now()
        return Response.json(200, render.secret_bundle(base, name, item))

    # -- deletion --------------------------------------------------------------------------------

    def _delete(self, base: str, kind: Kind, name: str) -> Response:
        current = self._collection(kind).current(name)
        if current is None:
            raise not_found(kind, name)
        if kind != "certificate" and current.managed:
            raise ApiError(
                403, "Forbidden", f"{_TITLE[kind]} {name} is managed by a certificate; delete the certificate."
            )
        self.vault._soft_delete(name, kind)
        return self._get_deleted(base, kind, name)

    def _deleted_json(self, base: str, kind: Kind, name: str, entry: Any, *, item: bool) -> dict[str, Any]:
        if kind == "secret":
            return render.deleted_secret(base, name, entry, item=item)
        if kind == "key":
            return render.deleted_key(base, name, entry, item=item)
        return render.deleted_certificate(base, name, entry, item=item)

    def _get_deleted(self, base: str, kind: Kind, name: str) -> Response:
        entry = self._collection(kind).deleted.get(name)
        if entry is None:
            raise ApiError(404, f"{_TITLE[kind]}NotFound", f"Deleted {_TITLE[kind]} not found: {name}")
        return Response.json(200, self._deleted_json(base, kind, name, entry, item=False))

    def _list_deleted(self, request: Request, base: str, kind: Kind) -> Response:
        deleted = self._collection(kind).deleted
        items = [self._deleted_json(base, kind, n, deleted[n], item=True) for n in sorted(deleted, key=str.lower)]
        return self._page(request, base, items)

    def _purge(self, kind: Kind, name: str) -> Response:
        if name not in self._collection(kind).deleted:
            raise ApiError(404, f"{_TITLE[kind]}NotFound", f"Deleted {_TITLE[kind]} not found: {name}")
        self.vault._purge(name, kind)
        return Response(204)

    def _recover(self, base: str, kind: Kind, name: str) -> Response:
        collection = self._collection(kind)
        if name not in collection.deleted:
            raise ApiError(404, f"{_TITLE[kind]}NotFound", f"Deleted {_TITLE[kind]} not found: {name}")
        if name in collection.live:
            raise ApiError(409, "Conflict", f"{_TITLE[kind]} {name} already exists.")
        self.vault._recover(name, kind)
        item = collection.live[name][-1]
        renderers: dict[Kind, Callable[..., dict[str, Any]]] = {
            "secret": render.secret_bundle,
            "key": render.key_bundle,
            "certificate": render.certificate_bundle,
        }
        return Response.json(200, renderers[kind](base, name, item))
