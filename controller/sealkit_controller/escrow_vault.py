"""Escrowed sealing keys in Azure Key Vault: the SDK side of `sealkit.escrow`, for the controller and the CLI.

Why here: the controller escrows keys and restores them, and `sealkit keys` does the same by hand; the
controller must not depend on the CLI, so the CLI imports this module (lazily). The credential is given
by the caller: the CLI builds it with `sealkit_cli.azure_vault.make_credential` (`--auth`, workload
identity in a pod), tests pass the local vault's. azure-keyvault-secrets is imported when a store is made.

Every failure leaves as one `EscrowVaultError` line with a `reason` (for metrics) and never a value:
values are parsed and dropped inside this module. Clients are built with `retry_total=0` and short
timeouts; throttling (429/503) is retried here within a small budget honouring Retry-After, and anything
longer is the caller's backoff to decide.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from sealkit.azureerrors import error_codes, one_line, retry_after, service_message
from sealkit.csi.vaultcheck import Throttled, VaultAccessError
from sealkit.csi.vaultrun import RetryPolicy, call_with_retries
from sealkit.escrow import (
    CONTENT_TYPE,
    EscrowEntry,
    EscrowError,
    EscrowPayload,
    build_payload,
    entry_from_listing,
    parse_payload,
    verify_read_back,
)
from sealkit.keys import PrivateKey

logger = logging.getLogger("sealkit.escrow")

T = TypeVar("T")

# Reasons, used as the `reason` label of the escrow failure metric.
FORBIDDEN = "forbidden"
UNREACHABLE = "unreachable"
CREDENTIAL = "credential"
THROTTLED = "throttled"
CONFLICT = "conflict"
NOT_FOUND = "not_found"
INVALID = "invalid"
OTHER = "error"
REASONS = (FORBIDDEN, UNREACHABLE, CREDENTIAL, THROTTLED, CONFLICT, NOT_FOUND, INVALID, OTHER)


class EscrowVaultError(EscrowError):
    """The vault did not store, list or return an escrowed key; `reason` is one of `REASONS`."""

    def __init__(self, message: str, reason: str = OTHER, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after


def map_error(exc: Exception, action: str, url: str) -> EscrowVaultError:
    """One line for any SDK failure of `action` ("store", "read", "list") at `url`."""
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    where = f"Key Vault {url}"
    if isinstance(exc, ResourceNotFoundError):
        return EscrowVaultError(f"{where}: not found ({service_message(exc)})", NOT_FOUND)
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        status = exc.status_code
        code, inner = error_codes(exc)
        if status in (429, 503):
            message = f"{where}: throttled ({status} {code or 'Throttled'})"
            return EscrowVaultError(message, THROTTLED, retry_after(exc))
        if status == 403 and inner.endswith("Disabled"):
            return EscrowVaultError(f"{where}: the secret is disabled ({inner})", FORBIDDEN)
        if status == 403:
            need = "set, get and list" if action == "store" else "get and list"
            return EscrowVaultError(
                f"{where}: 403 {inner or code or 'Forbidden'}: this identity may not {action} secrets there "
                f"(give it the Key Vault Secrets Officer role, or {need} secret permissions): {service_message(exc)}",
                FORBIDDEN,
            )
        if status == 401:
            return EscrowVaultError(f"{where}: 401, the vault refused the token ({service_message(exc)})", CREDENTIAL)
        if status == 409:
            return EscrowVaultError(
                f"{where}: 409 {code or 'Conflict'}: a deleted secret of that name is kept; recover it "
                f"(az keyvault secret recover) or purge it, then retry ({service_message(exc)})",
                CONFLICT,
            )
        return EscrowVaultError(f"{where}: {status} {code}: {service_message(exc)}", OTHER)
    if isinstance(exc, ClientAuthenticationError):
        return EscrowVaultError(f"{where}: no token: {one_line(str(exc.message or exc))}", CREDENTIAL)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return EscrowVaultError(f"{where}: cannot reach the vault ({type(exc).__name__})", UNREACHABLE)
    if isinstance(exc, ValueError) and "challenge resource" in str(exc):
        return EscrowVaultError(
            f"{where}: the vault's challenge names a resource that does not match the URL's host; "
            "accept it explicitly if the URL is right (private endpoint, custom domain)",
            CREDENTIAL,
        )
    if isinstance(exc, AzureError):
        return EscrowVaultError(f"{where}: {one_line(str(exc))}", OTHER)
    if isinstance(exc, ValueError):  # e.g. a credential built without its environment
        return EscrowVaultError(f"{where}: {one_line(str(exc))}", CREDENTIAL)
    raise exc


class EscrowVault:
    """One vault holding escrowed keys: list entries, store with read-back, fetch with checks.

    Thread-safe (the SDK client is); the controller calls it from its thread pool.
    """

    def __init__(
        self,
        url: str,
        credential: Any,
        *,
        timeout: float = 10.0,
        verify_challenge_resource: bool = True,
        retry: RetryPolicy | None = None,
        client: Any = None,
        client_options: Mapping[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self._credential = credential
        self._timeout = timeout
        self._verify_resource = verify_challenge_resource
        self._retry = retry or RetryPolicy(attempts=3, max_wait=5.0)
        self._client = client
        self._client_options = dict(client_options or {})
        self._sleep = sleep
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from azure.keyvault.secrets import SecretClient

                self._client = SecretClient(
                    self.url,
                    self._credential,
                    retry_total=0,
                    connection_timeout=self._timeout,
                    read_timeout=self._timeout,
                    verify_challenge_resource=self._verify_resource,
                    **self._client_options,
                )
            return self._client

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        """`fn()` with SDK errors mapped to one line; throttling retried within the policy."""

        def once() -> T:
            try:
                return fn()
            except EscrowError:
                raise
            except Exception as exc:
                error = map_error(exc, action, self.url)
                if error.reason == THROTTLED:
                    raise Throttled(str(error), error.retry_after) from None
                raise error from None

        try:
            return call_with_retries(once, self._retry, self._sleep)
        except VaultAccessError as exc:  # still throttled
            raise EscrowVaultError(str(exc), THROTTLED) from None

    def entries(self, cluster: str) -> list[EscrowEntry]:
        """Every escrowed key of `cluster` in this vault (names and tags only: no value is read)."""

        def listing() -> list[EscrowEntry]:
            found = []
            for props in self.client.list_properties_of_secrets():
                entry = entry_from_listing(
                    str(props.name),
                    props.tags,
                    cluster=cluster,
                    enabled=bool(props.enabled),
                    version=str(props.version or ""),
                )
                if entry is not None and (props.content_type or CONTENT_TYPE) == CONTENT_TYPE:
                    found.append(entry)
            return found

        return self._call("list", listing)

    def store(self, key: PrivateKey, cluster: str) -> EscrowEntry:
        """Write `key` as a new version of its secret, read that version back and compare the key."""
        payload = build_payload(key, cluster)
        written = self._call("store", lambda: self._set(payload))
        self._call("read", lambda: self._read_back(payload, written))
        logger.info("escrowed sealing key %s as %s in %s", key.fingerprint, payload.name, self.url)
        created = key.not_before
        return EscrowEntry(payload.name, cluster, key.fingerprint, created, True, written)

    def _set(self, payload: EscrowPayload) -> str:
        secret = self.client.set_secret(
            payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags), enabled=True
        )
        version = str(secret.properties.version or "")
        del secret
        return version

    def _read_back(self, payload: EscrowPayload, version: str) -> None:
        secret = self.client.get_secret(payload.name, version or None)
        value = str(secret.value or "")
        del secret
        try:
            verify_read_back(value, payload)
        except EscrowError as exc:
            raise EscrowVaultError(f"read-back check failed: {exc}", INVALID) from None

    def fetch(self, entry: EscrowEntry) -> PrivateKey:
        """The key `entry` names, checked against its name and fingerprint tag."""

        def get() -> PrivateKey:
            secret = self.client.get_secret(entry.name)
            value, tags = str(secret.value or ""), dict(secret.properties.tags or {})
            del secret
            try:
                return parse_payload(value, name=entry.name, cluster=entry.cluster, tags=tags)
            except EscrowError as exc:
                raise EscrowVaultError(str(exc), INVALID) from None

        key = self._call("read", get)
        if key.fingerprint != entry.fingerprint:
            raise EscrowVaultError(
                f"escrowed key {entry.name}: holds {key.fingerprint}, its listing said {entry.fingerprint}", INVALID
            )
        return key

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
