"""A local Microsoft Entra token endpoint for the client-credentials grant.

Serves what azure-identity and MSAL ask for when `authority`/`AZURE_AUTHORITY_HOST` points here:
`GET /<tenant>/v2.0/.well-known/openid-configuration` (MSAL's tenant discovery) and
`POST /<tenant>/oauth2/v2.0/token` with a client secret or a federated client assertion
(workload identity). Errors use Entra's shape: `{"error", "error_description", "error_codes"}`.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from .https import Request, Response
from .tokens import TokenSigner

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_TENANT = "72f988bf-0000-4000-8000-00000000a11e"


@dataclass
class Client:
    """An app registration: a secret, a federated token (workload identity), or both."""

    client_id: str
    tenant_id: str
    secret: str | None = None
    federated_token: str | None = None


@dataclass(frozen=True)
class TokenRequestRecord:
    """One token request as logged (never the secret or assertion)."""

    tenant_id: str
    client_id: str | None
    grant: str  # "secret", "assertion" or "" when neither was sent
    scope: str
    status: int


def _aad_error(status: int, error: str, code: int, description: str) -> Response:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": "",
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }
    return Response.json(status, body)


class TokenAuthority:
    """Tenants, app registrations and the HTTP handler of the token endpoint."""

    def __init__(self, signer: TokenSigner, *, tenant_id: str = DEFAULT_TENANT, token_lifetime: int = 3600):
        self.signer = signer
        self.tenant_id = tenant_id
        self.token_lifetime = token_lifetime
        self._clients: dict[str, Client] = {}
        self._tenants = {tenant_id}
        self._log: list[TokenRequestRecord] = []
        self._lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------------

    def add_client(
        self,
        client_id: str | None = None,
        *,
        secret: str | None = None,
        federated_token: str | None = None,
        tenant_id: str | None = None,
    ) -> Client:
        client = Client(
            client_id=client_id or str(uuid.uuid4()),
            tenant_id=tenant_id or self.tenant_id,
            secret=secret,
            federated_token=federated_token,
        )
        with self._lock:
            self._clients[client.client_id] = client
            self._tenants.add(client.tenant_id)
        return client

    @property
    def requests(self) -> list[TokenRequestRecord]:
        with self._lock:
            return list(self._log)

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        base = f"https://{request.host}"
        if request.method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self._openid_configuration(base, parts[0])
        if request.method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
            return self._token(request, parts[0])
        return _aad_error(404, "not_found", 90000, f"No route for {request.method} {request.path}.")

    def _openid_configuration(self, base: str, tenant: str) -> Response:
        if tenant not in self._tenants:
            return _aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        root = f"{base}/{tenant}"
        return Response.json(
            200,
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "tenant_region_scope": "EU",
            },
        )

    def _token(self, request: Request, tenant: str) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}
        client_id = form.get("client_id")
        scope = form.get("scope", "")
        grant = "secret" if "client_secret" in form else "assertion" if "client_assertion" in form else ""
        response = self._issue(form, tenant, client_id, scope)
        with self._lock:
            self._log.append(TokenRequestRecord(tenant, client_id, grant, scope, response.status))
        return response

    def _issue(self, form: dict[str, str], tenant: str, client_id: str | None, scope: str) -> Response:
        if tenant not in self._tenants:
            return _aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        client = self._clients.get(client_id or "")
        if client is None or client.tenant_id != tenant:
            return _aad_error(
                400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was not found."
            )
        if "client_secret" in form:
            if client.secret is None or form["client_secret"] != client.secret:
                return _aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        elif "client_assertion" in form:
            if form.get("client_assertion_type") != JWT_BEARER:
                return _aad_error(400, "invalid_request", 90014, "client_assertion_type is missing or wrong.")
            if client.federated_token is None or form["client_assertion"] != client.federated_token:
                return _aad_error(
                    400, "invalid_client", 700213, "No matching federated identity record found for assertion."
                )
        else:
            return _aad_error(401, "invalid_client", 7000218, "client_assertion or client_secret is required.")
        audiences = [s.removesuffix("/.default") for s in scope.split() if s.endswith("/.default")]
        if not audiences:
            return _aad_error(
                400, "invalid_scope", 1002012, f"The scope '{scope}' is not valid; it must end in /.default."
            )
        token = self.signer.mint(
            tenant_id=tenant, client_id=client.client_id, audience=audiences[0], lifetime=self.token_lifetime
        )
        expires_in = self.token_lifetime
        return Response.json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": expires_in,
                "ext_expires_in": expires_in,
                "access_token": token,
            },
        )
