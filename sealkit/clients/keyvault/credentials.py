"""Choosing the azure-identity credential: every `--auth` mode, listed once, fast-failing, one line on failure.

Used by `sealkit csi verify/discover`, `sealkit keys` and `sealkit controller --escrow-auth`. The chosen
credential is wrapped in `GuardedCredential`: one-line failures, and tokens only for accepted resources.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sealkit.vault.errors import CredentialError
from sealkit.vault.sdkerrors import one_line

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo

AUTH_MODES = ("default", "workload-identity", "service-principal", "cli", "managed-identity")


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


@functools.cache
def credential_failed() -> type[Exception]:
    """`CredentialFailed`: raised through the SDK pipeline when the credential (not the vault) fails.

    A subclass of the SDK's ClientAuthenticationError, so the SDK passes it on as its own; built on
    first use, so that importing this module does not import azure-core.
    """
    from azure.core.exceptions import ClientAuthenticationError

    class CredentialFailed(ClientAuthenticationError):
        """The credential could not, or would not, get a token."""

    return CredentialFailed


def credential_message(exc: Exception) -> str:
    """One line for a credential's failure, with what to do about the usual one."""
    from azure.core.exceptions import ServiceRequestError

    text = str(exc)
    if "failed to retrieve a token from the included credentials" in text:
        return (
            "no Azure credential found: DefaultAzureCredential tried the environment, workload identity, "
            "managed identity and developer sign-ins; set AZURE_TENANT_ID + AZURE_CLIENT_ID with "
            "AZURE_FEDERATED_TOKEN_FILE or AZURE_CLIENT_SECRET, run `az login`, or choose one with --auth"
        )
    if isinstance(exc, ServiceRequestError):
        return f"cannot reach the token endpoint: {one_line(text)}"
    return f"the credential could not get a token: {one_line(text)}"


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
            raise credential_failed()(
                f"the vault asked for a token for {refused[0].removesuffix('/.default')}, "
                f"not an accepted challenge resource ({resources})"
            )

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.exceptions import AzureError

        self._check(scopes)
        try:
            token: AccessToken = self.inner.get_token(*scopes, **kwargs)
        except (AzureError, ValueError) as exc:
            raise credential_failed()(credential_message(exc)) from None
        return token

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo
        from azure.core.exceptions import AzureError

        self._check(scopes)
        try:
            if hasattr(self.inner, "get_token_info"):
                info: AccessTokenInfo = self.inner.get_token_info(*scopes, options=options)
                return info
            token = self.inner.get_token(*scopes, **dict(options or {}))
        except (AzureError, ValueError) as exc:
            raise credential_failed()(credential_message(exc)) from None
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
                    "this mode needs AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (and AZURE_TENANT_ID or the spec's "
                    "tenant); the secret is read from the environment only",
                    where=f"--auth {options.mode}",
                )
            if options.disable_instance_discovery:
                common["disable_instance_discovery"] = True
            inner = identity.ClientSecretCredential(tenant, client_id, secret, **common)
        elif options.mode == "cli":
            inner = identity.AzureCliCredential(tenant_id=tenant or "", process_timeout=max(1, round(options.timeout)))
        elif options.mode == "managed-identity":
            inner = identity.ManagedIdentityCredential(client_id=client_id, **common)
        else:
            raise CredentialError(f"unknown mode (one of {', '.join(AUTH_MODES)})", where=f"--auth {options.mode}")
    except ValueError as exc:
        text = str(exc)
        missing = text[text.find("Missing required arguments") :] if "Missing required arguments" in text else ""
        hint = " (set the AZURE_* variables or the --tenant-id/--client-id/--federated-token-file flags)"
        what = f"{one_line(missing or text)}{hint if missing else ''}"
        raise CredentialError(what, where=f"--auth {options.mode}") from None
    return GuardedCredential(inner, options.accepted_resources)
