"""Choosing the azure-identity credential: every `--auth` mode, listed once, fast-failing, one line on failure.

Used by `sealkit csi verify/discover`, `sealkit keys` and `sealkit controller --escrow-auth/--kek-auth`. The chosen
credential is wrapped in `GuardedCredential`: one-line failures, and tokens only for accepted resources. Hints
name the AZURE_* variables every caller shares, and only the flags the caller says it has (`AuthOptions`).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealkit.errors import os_reason
from sealkit.vault.errors import CredentialError
from sealkit.vault.sdkerrors import one_line

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, AccessTokenInfo

AUTH_MODES = ("default", "workload-identity", "service-principal", "cli", "managed-identity")

# A credential argument azure-identity may find missing: the AZURE_* variable that sets it, and its place in
# `AuthOptions.identity_flags`.
_SETTINGS = {
    "tenant_id": ("AZURE_TENANT_ID", 0),
    "client_id": ("AZURE_CLIENT_ID", 1),
    "token_file_path": ("AZURE_FEDERATED_TOKEN_FILE", 2),
}


# The settings read before a credential is built: one that azure-identity would take and fail on later (a
# traceback, a message naming no setting, a token endpoint at a bad URL) is refused naming its variable or flag.
_GUID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
_HOST_PORT = re.compile(rf"{_DOMAIN.pattern}(?::[0-9]{{1,5}})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{{1,5}})?")
MAX_TOKEN_FILE_BYTES = 64 * 1024  # a projected service account token is a few KiB; azure-identity reads it whole
MAX_TOKEN_ANSWER_BYTES = 1024 * 1024  # a token endpoint's answer (a token, OpenID metadata) is a few KiB


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
    # The caller's own flags, for error lines and hints: the one that chose `mode` (the where of a credential
    # that cannot be built), and those that set tenant_id, client_id and federated_token_file, in that order
    # (the CLI's --tenant-id...); none for a caller that reads the AZURE_* variables only (the controller).
    mode_flag: str = "--auth"
    identity_flags: tuple[str, str, str] | None = None


def _where(flag_value: str | None, flag: str, variable: str) -> tuple[str | None, str]:
    """A setting's value and where it came from: the caller's flag when given, else its AZURE_* variable."""
    if flag_value is not None and flag:
        return flag_value, flag
    return (flag_value if flag_value is not None else os.environ.get(variable)), f"environment variable {variable}"


def check_token_file(path: str, where: str) -> None:
    """The federated token file is one azure-identity can read: a regular, non-empty UTF-8 file of at most
    `MAX_TOKEN_FILE_BYTES` (it reads it whole, on every token); its content is never shown."""
    too_large = f"the federated token file is larger than {MAX_TOKEN_FILE_BYTES // 1024} KiB"
    try:
        info = Path(path).stat()  # before opening: a pipe would block the open
        if stat.S_ISDIR(info.st_mode):
            raise CredentialError("the federated token file is a directory", where=where)
        if not stat.S_ISREG(info.st_mode):
            raise CredentialError("the federated token file is not a regular file", where=where)
        if info.st_size > MAX_TOKEN_FILE_BYTES:
            raise CredentialError(too_large, where=where)
        with Path(path).open("rb") as file:
            content = file.read(MAX_TOKEN_FILE_BYTES + 1)
    except OSError as exc:
        raise CredentialError(f"cannot read the federated token file ({os_reason(exc)})", where=where) from None
    if len(content) > MAX_TOKEN_FILE_BYTES:
        raise CredentialError(too_large, where=where)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError("the federated token file is not UTF-8 text", where=where) from None
    if not text.strip():
        raise CredentialError("the federated token file is empty", where=where)


def _check_authority(value: str, where: str) -> None:
    """An authority host as azure-identity takes it: an https:// URL with a host, or a bare host name."""
    if not value.strip():
        raise CredentialError("empty (unset it for the public cloud)", where=where)
    if "://" in value:
        scheme, _, rest = value.partition("://")
        if scheme.lower() != "https":
            raise CredentialError("not an https:// URL (tokens would be asked for in clear)", where=where)
        value = rest.rstrip("/")
    if not _HOST_PORT.fullmatch(value):
        raise CredentialError("not an https:// URL or a host name", where=where)


def check_settings(options: AuthOptions) -> tuple[str, str] | None:
    """Refuse, naming the variable or flag and never a secret's value, an AZURE_* setting azure-identity would
    take and fail on later: a tenant that is no GUID or domain name, a client id holding white space, an authority
    host that is not https://, a federated token file that is not a small readable file, a blank client secret.
    Returns the federated token file azure-identity will read at token time, and where it was set, if any."""
    flags = options.identity_flags or ("", "", "")
    tenant, where = _where(options.tenant_id, flags[0], "AZURE_TENANT_ID")
    if tenant and not (_GUID.fullmatch(tenant) or _DOMAIN.fullmatch(tenant)):
        raise CredentialError("not a tenant ID (a GUID) or a domain name", where=where)
    client_id, where = _where(options.client_id, flags[1], "AZURE_CLIENT_ID")
    if client_id and (not client_id.strip() or any(c.isspace() or not c.isprintable() for c in client_id)):
        raise CredentialError("not a client ID (it holds white space)", where=where)
    authority, where = _where(options.authority_host, "authority host", "AZURE_AUTHORITY_HOST")
    if authority is not None:
        _check_authority(authority, where)
    secret = os.environ.get("AZURE_CLIENT_SECRET")
    if options.mode in ("default", "service-principal") and secret and secret.strip() != secret:
        what = "blank (white space only)" if not secret.strip() else "starts or ends with white space"
        raise CredentialError(what, where="environment variable AZURE_CLIENT_SECRET")
    token_file, where = _where(options.federated_token_file, flags[2], "AZURE_FEDERATED_TOKEN_FILE")
    if options.mode in ("default", "workload-identity") and token_file:
        check_token_file(token_file, where)
        return token_file, where
    return None


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


# DefaultAzureCredential's members that ask a token endpoint; the chain stops at the first that fails (rather
# than being unavailable), so one of them last in its list of attempts is the failure.
_REQUESTING = ("EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential")
_ATTEMPT = re.compile(r"^\t(\w+): (.*)$", re.MULTILINE)


def _transport_words(exc: BaseException) -> str | None:
    from sealkit.clients.keyvault.sdk import answer_refused
    from sealkit.clients.transport import exception_chain, failed_in_transport, transport_cause

    for link in exception_chain(exc):
        if isinstance(link, answer_refused()):  # sealkit's own words: a token endpoint's answer over the limit
            return f"the credential could not get a token: {one_line(str(getattr(link, 'message', '') or link))}"
    if failed_in_transport(exc):  # words, never the library's text (it names its connection pool, host, port)
        return f"cannot reach the token endpoint: {transport_cause(exc)}"
    return None


def credential_message(exc: Exception, mode_flag: str = "--auth", failure: BaseException | None = None) -> str:
    """One line for a credential's failure, with what to do about the usual one (`mode_flag` chooses another);
    `failure` is the token request's own failure where the credential kept only its text (`sdk.last_failure`)."""
    text = str(exc)
    chained = "failed to retrieve a token from the included credentials" in text
    words = _transport_words(exc)
    if not words and failure is not None and not chained:
        words = _transport_words(failure)
    if words:
        return words
    attempts = _ATTEMPT.findall(text) if chained else []
    if attempts and attempts[-1][0] in _REQUESTING and "unavailable" not in attempts[-1][1].lower():
        # A member that failed, not "no credential" (an unavailable one's requests, an IMDS probe, say, may
        # have failed before it): say which, with the failure of its token request, or in its words.
        name, why = attempts[-1]
        return (_transport_words(failure) if failure is not None else None) or (
            f"the credential could not get a token: {name}: {one_line(why)}"
        )
    if chained:
        return (
            "no Azure credential found: DefaultAzureCredential tried the environment, workload identity, "
            "managed identity and developer sign-ins; set AZURE_TENANT_ID + AZURE_CLIENT_ID with "
            f"AZURE_FEDERATED_TOKEN_FILE or AZURE_CLIENT_SECRET, run `az login`, or choose one with {mode_flag}"
        )
    return f"the credential could not get a token: {one_line(text)}"


class GuardedCredential:
    """Wraps the real credential: one-line failures, and tokens only for accepted resources.

    With `accepted` set (the clients then skip the SDK's own challenge-resource check), a vault
    that asks for a token for any other resource gets none: turning the check off must not let a
    wrong host collect, say, an Azure Resource Manager token.
    """

    def __init__(
        self,
        inner: Any,
        accepted: Iterable[str] = (),
        mode_flag: str = "--auth",
        token_file: tuple[str, str] | None = None,
    ) -> None:
        self.inner = inner
        self.accepted = {f"{resource.rstrip('/')}/.default" for resource in accepted}
        self.mode_flag = mode_flag
        self.token_file = token_file  # (path, where): checked again before each token (the kubelet replaces it)

    def _failed(self, exc: OSError) -> Exception:
        if self.token_file is not None:
            return credential_failed()(f"cannot read the federated token file ({os_reason(exc)}): {self.token_file[1]}")
        return credential_failed()(f"the credential could not get a token ({os_reason(exc)})")

    def _check(self, scopes: tuple[str, ...]) -> None:
        refused = [scope for scope in scopes if self.accepted and scope not in self.accepted]
        if refused:
            resources = ", ".join(sorted(s.removesuffix("/.default") for s in self.accepted))
            raise credential_failed()(
                f"the vault asked for a token for {refused[0].removesuffix('/.default')}, "
                f"not an accepted challenge resource ({resources})"
            )
        if self.token_file is not None:
            try:
                check_token_file(*self.token_file)
            except CredentialError as exc:
                raise credential_failed()(str(exc)) from None

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.exceptions import AzureError

        from sealkit.clients.keyvault.sdk import forget_failures, last_failure

        self._check(scopes)
        forget_failures()
        try:
            token: AccessToken = self.inner.get_token(*scopes, **kwargs)
        except (AzureError, ValueError) as exc:
            raise credential_failed()(credential_message(exc, self.mode_flag, last_failure())) from None
        except OSError as exc:  # the token file, gone or unreadable since it was checked
            raise self._failed(exc) from None
        return token

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        from azure.core.credentials import AccessTokenInfo
        from azure.core.exceptions import AzureError

        from sealkit.clients.keyvault.sdk import forget_failures, last_failure

        self._check(scopes)
        forget_failures()
        try:
            if hasattr(self.inner, "get_token_info"):
                info: AccessTokenInfo = self.inner.get_token_info(*scopes, options=options)
                return info
            token = self.inner.get_token(*scopes, **dict(options or {}))
        except (AzureError, ValueError) as exc:
            raise credential_failed()(credential_message(exc, self.mode_flag, last_failure())) from None
        except OSError as exc:
            raise self._failed(exc) from None
        return AccessTokenInfo(token.token, token.expires_on)

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


def _how_to_set(options: AuthOptions, arguments: Iterable[str], *more: str) -> str:
    """How to set each credential argument (its AZURE_* variable, or the caller's flag when it has one), then
    `more`, as one phrase: `AZURE_TENANT_ID or --tenant-id, ..., and X`."""
    flags = options.identity_flags or ("", "", "")
    parts = []
    for argument in arguments:
        variable, index = _SETTINGS[argument]
        parts.append(f"{variable} or {flags[index]}" if flags[index] else variable)
    parts.extend(more)
    if len(parts) < 2:
        return "".join(parts)
    last = ", and " if any(" or " in part for part in parts) else " and "
    return ", ".join(parts[:-1]) + last + parts[-1]


def make_credential(options: AuthOptions, tenant_hint: str | None = None) -> GuardedCredential:
    """The chosen azure-identity credential, fast-failing, wrapped in `GuardedCredential`; one that cannot be
    built is a `CredentialError` whose where is the setting (`check_settings`) or `options.mode_flag` and the mode."""
    token_file = check_settings(options)
    from azure import identity

    from sealkit.clients.keyvault.sdk import bounded_transport

    common: dict[str, Any] = {
        "retry_total": 0,
        "connection_timeout": options.timeout,
        "read_timeout": options.timeout,
    }
    # Token endpoints (Entra ID, a managed identity endpoint, a proxy before them) are read as the vault is:
    # size-bounded after decompression and time-bounded as a whole, headers included. DefaultAzureCredential
    # hands it to every credential of its chain that makes requests.
    common["transport"] = bounded_transport(common, what="the token endpoint", limit=MAX_TOKEN_ANSWER_BYTES)
    if options.authority_host:
        common["authority"] = options.authority_host
    tenant = options.tenant_id or os.environ.get("AZURE_TENANT_ID") or tenant_hint
    client_id = options.client_id or os.environ.get("AZURE_CLIENT_ID")
    where = f"{options.mode_flag} {options.mode}"
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
                needs = _how_to_set(options, ("tenant_id", "client_id"), "AZURE_CLIENT_SECRET")
                raise CredentialError(
                    f"this mode needs {needs}; the secret is read from the environment only", where=where
                )
            if options.disable_instance_discovery:
                common["disable_instance_discovery"] = True
            inner = identity.ClientSecretCredential(tenant, client_id, secret, **common)
        elif options.mode == "cli":
            inner = identity.AzureCliCredential(tenant_id=tenant or "", process_timeout=max(1, round(options.timeout)))
        elif options.mode == "managed-identity":
            inner = identity.ManagedIdentityCredential(client_id=client_id, **common)
        else:
            raise CredentialError(f"unknown mode (one of {', '.join(AUTH_MODES)})", where=where)
    except ValueError as exc:
        text = str(exc)
        if "Missing required arguments" not in text:
            raise CredentialError(one_line(text), where=where) from None
        missing = one_line(text[text.find("Missing required arguments") :]).rstrip(".")
        arguments = [name for name in re.findall(r"'(\w+)'", missing) if name in _SETTINGS]
        hint = _how_to_set(options, arguments) if arguments else "the AZURE_* variables"
        raise CredentialError(f"{missing}; set {hint}", where=where) from None
    return GuardedCredential(inner, options.accepted_resources, options.mode_flag, token_file)
