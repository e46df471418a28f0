"""The Azure SDK side of `csi verify` / `csi discover`: credentials, clients, and error mapping.

Imported only by those commands (azure-identity and the Key Vault SDKs cost ~0.5 s to import).
Everything leaving this module is plain data (`Observed`, `Absent`, `Listed`) or a one-line
`VaultAccessError`; secret values are dropped as soon as a response is parsed.

For CI the SDK's patience is wrong: azure-core retries for seconds and credentials wait on
unreachable endpoints. Clients and credentials are built with `retry_total=0` and short timeouts;
429 is retried by sealkit's own bounded loop (`sealkit.csi.vaultrun`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from sealkit.azureerrors import error_codes, retry_after
from sealkit.csi.discover import Listed
from sealkit.csi.vaultcheck import Absent, Answer, Lookup, Observed, Throttled, VaultAccessError
from sealkit.csi.vaultrun import CredentialError

AUTH_MODES = ("default", "workload-identity", "service-principal", "cli", "managed-identity")
_KINDS = {"secret": "secret", "key": "key", "cert": "certificate"}


@dataclass(frozen=True)
class AuthOptions:
    """How to get a token; None fields fall back to the AZURE_* variables azure-identity reads."""

    mode: str = "default"
    tenant_id: str | None = None
    client_id: str | None = None
    federated_token_file: str | None = None
    authority_host: str | None = None
    disable_instance_discovery: bool = False
    timeout: float = 10.0  # seconds, per connection and per read
    accepted_resources: tuple[str, ...] = ()  # extra challenge resources to accept (see docs/csi.md)


def quiet_azure_logging() -> None:
    """azure-identity logs multi-line warnings on failure; sealkit prints one line instead."""
    if not os.environ.get("SEALKIT_DEBUG"):
        logging.getLogger("azure").setLevel(logging.CRITICAL)


def _one_line(text: str, limit: int = 240) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _first_line(text: str) -> str:
    return _one_line(text.strip().splitlines()[0] if text.strip() else text)


class CredentialFailed(ClientAuthenticationError):
    """Raised through the SDK pipeline when the credential (not the vault) fails."""


def _credential_message(exc: Exception) -> str:
    text = str(exc)
    if "failed to retrieve a token from the included credentials" in text:
        return (
            "no Azure credential found: DefaultAzureCredential tried the environment, workload identity, "
            "managed identity and developer sign-ins; set AZURE_TENANT_ID + AZURE_CLIENT_ID with "
            "AZURE_FEDERATED_TOKEN_FILE or AZURE_CLIENT_SECRET, run `az login`, or choose one with --auth"
        )
    if isinstance(exc, ServiceRequestError):
        return f"cannot reach the token endpoint: {_first_line(text)}"
    return f"the credential could not get a token: {_first_line(text)}"


class GuardedCredential:
    """Wraps the real credential: one-line failures, and tokens only for accepted resources.

    With `accepted` set (the clients then skip the SDK's own challenge-resource check), a vault
    that asks for a token for any other resource gets none: turning the check off must not let a
    wrong host collect, say, an Azure Resource Manager token.
    """

    def __init__(self, inner: Any, accepted: Iterable[str] = ()) -> None:
        self.inner = inner
        self.accepted = {f"{resource.rstrip('/')}/.default" for resource in accepted}

    def _check(self, scopes: tuple[str, ...]) -> None:
        refused = [scope for scope in scopes if self.accepted and scope not in self.accepted]
        if refused:
            resources = ", ".join(sorted(s.removesuffix("/.default") for s in self.accepted))
            raise CredentialFailed(
                f"the vault asked for a token for {refused[0].removesuffix('/.default')}, "
                f"not an accepted challenge resource ({resources})"
            )

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self._check(scopes)
        try:
            token: AccessToken = self.inner.get_token(*scopes, **kwargs)
        except (AzureError, ValueError) as exc:
            raise CredentialFailed(_credential_message(exc)) from None
        return token

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self._check(scopes)
        try:
            if hasattr(self.inner, "get_token_info"):
                info: AccessTokenInfo = self.inner.get_token_info(*scopes, options=options)
                return info
            token = self.inner.get_token(*scopes, **dict(options or {}))
        except (AzureError, ValueError) as exc:
            raise CredentialFailed(_credential_message(exc)) from None
        return AccessTokenInfo(token.token, token.expires_on)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def make_credential(options: AuthOptions, tenant_hint: str | None = None) -> GuardedCredential:
    """The chosen azure-identity credential, fast-failing, wrapped in `GuardedCredential`."""
    from azure import identity

    common: dict[str, Any] = {
        "retry_total": 0,
        "connection_timeout": options.timeout,
        "read_timeout": options.timeout,
    }
    if options.authority_host:
        common["authority"] = options.authority_host
    tenant = options.tenant_id or os.environ.get("AZURE_TENANT_ID") or tenant_hint
    client_id = options.client_id or os.environ.get("AZURE_CLIENT_ID")
    try:
        if options.mode == "default":
            if options.disable_instance_discovery:
                common["disable_instance_discovery"] = True
            inner: Any = identity.DefaultAzureCredential(
                process_timeout=max(1, round(options.timeout)),
                managed_identity_client_id=client_id,
                workload_identity_client_id=client_id,
                workload_identity_tenant_id=tenant,
                **common,
            )
        elif options.mode == "workload-identity":
            inner = identity.WorkloadIdentityCredential(
                tenant_id=tenant,
                client_id=client_id,
                token_file_path=options.federated_token_file or os.environ.get("AZURE_FEDERATED_TOKEN_FILE"),
                **common,
            )
        elif options.mode == "service-principal":
            secret = os.environ.get("AZURE_CLIENT_SECRET")
            if not (tenant and client_id and secret):
                raise CredentialError(
                    "--auth service-principal needs AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (and AZURE_TENANT_ID "
                    "or the spec's tenant); the secret is read from the environment only"
                )
            if options.disable_instance_discovery:
                common["disable_instance_discovery"] = True
            inner = identity.ClientSecretCredential(tenant, client_id, secret, **common)
        elif options.mode == "cli":
            inner = identity.AzureCliCredential(tenant_id=tenant or "", process_timeout=max(1, round(options.timeout)))
        elif options.mode == "managed-identity":
            inner = identity.ManagedIdentityCredential(client_id=client_id, **common)
        else:
            raise CredentialError(f"unknown --auth {options.mode!r} (one of {', '.join(AUTH_MODES)})")
    except ValueError as exc:
        text = str(exc)
        missing = text[text.find("Missing required arguments") :] if "Missing required arguments" in text else ""
        hint = " (set the AZURE_* variables or the --tenant-id/--client-id/--federated-token-file flags)"
        raise CredentialError(
            f"--auth {options.mode}: {_first_line(missing or text)}{hint if missing else ''}"
        ) from None
    return GuardedCredential(inner, options.accepted_resources)


def _message(exc: HttpResponseError) -> str:
    error = exc.error
    text = str(getattr(error, "message", "") or exc.message or exc.reason or "")
    return _first_line(text.split(" Caller:")[0])


def _map_error(exc: Exception, kind: str) -> Absent:
    """Object-level answers become `Absent`; anything about the vault is raised as one line."""
    if isinstance(exc, CredentialFailed):
        raise CredentialError(str(exc.message)) from None
    if isinstance(exc, ResourceNotFoundError):
        code, _ = error_codes(exc)
        return Absent(code or "NotFound")
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        code, inner = error_codes(exc)
        status = exc.status_code
        if status == 403 and inner.endswith("Disabled"):
            return Absent(inner, disabled=True)
        if status in (429, 503):
            raise Throttled(f"throttled ({status} {code or 'Throttled'})", retry_after(exc)) from None
        if status == 403:
            raise VaultAccessError(
                f"403 {inner or code or 'Forbidden'}: this identity may not read {kind}s here "
                f"(needs e.g. the Key Vault {kind.capitalize()}s User role or a get access policy): {_message(exc)}"
            ) from None
        if status == 401:
            raise VaultAccessError(f"401: the vault refused the token ({_message(exc)})") from None
        raise VaultAccessError(f"{status} {code}: {_message(exc)}") from None
    if isinstance(exc, ClientAuthenticationError):
        raise CredentialError(_credential_message(exc)) from None
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        raise VaultAccessError(f"cannot reach the vault: {_first_line(str(exc))}") from None
    if isinstance(exc, ValueError) and "challenge resource" in str(exc):
        resource = str(exc).split("'")[1] if "'" in str(exc) else "?"
        raise VaultAccessError(
            f"the vault's challenge names resource {resource}, which does not match this URL's host; if the URL "
            f"is right (private endpoint, custom domain), pass --accept-challenge-resource https://{resource}"
        ) from None
    if isinstance(exc, AzureError):
        raise VaultAccessError(_first_line(str(exc))) from None
    raise exc


class VaultReader:
    """Lazily built SDK clients, one per (vault URL, kind), shared by the worker threads."""

    def __init__(self, urls: Mapping[str, str], credentials: Mapping[str, GuardedCredential], options: AuthOptions):
        self.urls = dict(urls)
        self.credentials = dict(credentials)  # vault -> credential (by the vault's tenant)
        self.options = options
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, vault: str, kind: str) -> Any:
        key = (vault, kind)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._build(vault, kind)
            return self._clients[key]

    def _build(self, vault: str, kind: str) -> Any:
        url = self.urls[vault]
        options: dict[str, Any] = {
            "retry_total": 0,
            "connection_timeout": self.options.timeout,
            "read_timeout": self.options.timeout,
        }
        if self.options.accepted_resources:
            options["verify_challenge_resource"] = False  # GuardedCredential checks the resource instead
        credential = self.credentials[vault]
        if kind == "secret":
            from azure.keyvault.secrets import SecretClient

            return SecretClient(url, credential, **options)
        if kind == "key":
            from azure.keyvault.keys import KeyClient

            return KeyClient(url, credential, **options)
        from azure.keyvault.certificates import CertificateClient

        return CertificateClient(url, credential, **options)

    def fetch(self, lookup: Lookup) -> Answer:
        """The attributes of one object version (`Observed`) or why it is missing (`Absent`)."""
        kind = _KINDS[lookup.type]
        client = self.client(lookup.vault, lookup.type)
        version = lookup.version or None
        try:
            if lookup.type == "secret":
                secret = client.get_secret(lookup.name, version)
                props = secret.properties
                del secret  # the value is never kept
                backed = bool(props.key_id) or bool(props.managed)
                return _observed(props, props.content_type, backed)
            if lookup.type == "key":
                return _observed(client.get_key(lookup.name, version).properties)
            if version:
                cert = client.get_certificate_version(lookup.name, version)
            else:
                cert = client.get_certificate(lookup.name)
            return _observed(cert.properties)
        except Exception as exc:
            return _map_error(exc, kind)

    def list_vault(self, vault: str) -> list[Listed]:
        """Every object of the vault (current versions' attributes, paged by the SDK)."""
        items: list[Listed] = []
        try:
            secrets = list(self.client(vault, "secret").list_properties_of_secrets())
            keys = list(self.client(vault, "key").list_properties_of_keys())
            certs = list(self.client(vault, "cert").list_properties_of_certificates())
        except Exception as exc:
            _map_error(exc, "secret")
            raise VaultAccessError(f"listing failed: {_first_line(str(exc))}") from None
        cert_types = {p.name: p.content_type for p in secrets if p.managed}
        for p in secrets:
            items.append(_listed(p, "secret", p.content_type, bool(p.managed)))
        for p in keys:
            items.append(_listed(p, "key", None, bool(p.managed)))
        for p in certs:
            items.append(_listed(p, "cert", cert_types.get(p.name), False))
        return items

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        for credential in {id(c): c for c in self.credentials.values()}.values():
            credential.close()


def _observed(props: Any, content_type: str | None = None, backed: bool = False) -> Observed:
    return Observed(
        version=str(props.version or ""),
        enabled=bool(props.enabled),
        not_before=props.not_before,
        expires_on=props.expires_on,
        content_type=content_type,
        certificate_backed=backed,
    )


def _listed(props: Any, kind: str, content_type: str | None, managed: bool) -> Listed:
    return Listed(
        name=str(props.name),
        type=kind,
        enabled=bool(props.enabled),
        content_type=content_type,
        expires_on=props.expires_on,
        not_before=props.not_before,
        tags=dict(props.tags or {}),
        managed=managed,
    )
