"""Escrowed sealing keys in Azure Key Vault: the vault side of `sealkit.escrow`, for the controller and the CLI.

The credential is the caller's (`credentials.make_credential`, or a test vault's). Every failure leaves
as one `EscrowVaultError` line with a `reason` (for metrics) and never a value: values are parsed and
dropped inside this module. Throttling (429/503) is retried here within a small budget honouring
Retry-After (`sealkit.retry`); anything longer is the caller's backoff to decide.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sealkit.clients.keyvault import errors as e
from sealkit.clients.keyvault.sdk import SECRET, bounded_pages, client_options, make_client
from sealkit.escrow.scheme import (
    CONTENT_TYPE,
    CONTENT_TYPES,
    SCHEME_VERSION,
    WRAPPED_CONTENT_TYPE,
    Escrowable,
    EscrowEntry,
    EscrowError,
    EscrowPayload,
    build_payload,
    entry_from_listing,
    parse_escrowed,
    verify_read_back,
)
from sealkit.escrow.sync import (
    CONFLICT,
    CREDENTIAL,
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    OTHER,
    THROTTLED,
    UNREACHABLE,
    EscrowVaultError,
    Refusal,
)
from sealkit.retry import RetryPolicy, Throttled, call_with_retries

logger = logging.getLogger(__name__)

T = TypeVar("T")


def vault_where(url: str) -> str:
    """The `where` of every error about the escrow vault at `url`."""
    return f"Key Vault {url}"


def map_error(exc: Exception, action: str, url: str, sent: Iterable[str] = ()) -> EscrowVaultError:
    """One line for any SDK failure of `action` ("store", "read", "list") at `url`: what, then the vault. What the
    request `sent` (an escrow payload's value) is redacted wherever the answer echoes it (`errors.scrub`)."""
    problem = e.classify(exc, sent)
    if problem is None:
        raise exc
    where = vault_where(url)
    status, code, inner, service = problem.status, problem.code, problem.inner, problem.service
    if problem.kind == e.NOT_FOUND:
        return EscrowVaultError(f"not found ({service})", NOT_FOUND, where=where)
    if problem.kind == e.THROTTLED:
        what = f"throttled ({status} {code or 'Throttled'})"
        return EscrowVaultError(what, THROTTLED, problem.retry_after, where=where)
    if problem.kind == e.DISABLED:  # a 403 too (reason forbidden, the metric label); the secret refuses, not the role
        return EscrowVaultError(f"the secret is disabled ({inner})", FORBIDDEN, where=where, refusal=Refusal.OBJECT)
    if problem.kind == e.FORBIDDEN:
        refusal = Refusal.OBJECT if problem.object_refuses else Refusal.CALLER
        # Reading (keys list, restore, check-recovery) needs no more than Secrets User (docs/disaster-recovery.md).
        if action == "store":
            need = "the Key Vault Secrets Officer role, or set, get and list secret permissions"
        else:
            need = "the Key Vault Secrets User role, or get and list secret permissions; storing needs Secrets Officer"
        return EscrowVaultError(
            f"403 {inner or code or 'Forbidden'}: this identity may not {action} secrets there "
            f"(give it {need}): {service}",
            FORBIDDEN,
            where=where,
            refusal=refusal,
        )
    if problem.kind == e.UNAUTHORIZED:
        what = f"401, the vault refused the token ({service})"
        return EscrowVaultError(what, CREDENTIAL, where=where, refusal=Refusal.CALLER)
    if problem.kind == e.CONFLICT:
        return EscrowVaultError(
            f"409 {code or 'Conflict'}: a deleted secret of that name is kept; recover it "
            f"(az keyvault secret recover) or purge it, then retry ({service})",
            CONFLICT,
            where=where,
        )
    if problem.kind == e.HTTP:
        return EscrowVaultError(f"{status} {code}: {service}", OTHER, where=where)
    if problem.kind in (e.REFUSED, e.NO_TOKEN):
        return EscrowVaultError(f"no token: {problem.text}", CREDENTIAL, where=where)
    if problem.kind == e.UNREACHABLE:
        return EscrowVaultError(f"cannot reach the vault ({problem.text})", UNREACHABLE, where=where)
    if problem.kind == e.CHALLENGE:
        return EscrowVaultError(
            "the vault's challenge names a resource that does not match the URL's host; "
            "accept it explicitly if the URL is right (private endpoint, custom domain)",
            CREDENTIAL,
            where=where,
        )
    if problem.kind == e.VALUE:  # e.g. a credential built without its environment
        return EscrowVaultError(problem.text, CREDENTIAL, where=where)
    return EscrowVaultError(problem.text, OTHER, where=where)


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
        self._url = url.rstrip("/")
        self._credential = credential
        self._timeout = timeout
        self._verify_resource = verify_challenge_resource
        self._retry = retry or RetryPolicy(attempts=3, max_wait=5.0)
        self._client = client
        self._client_options = dict(client_options or {})
        self._sleep = sleep
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self._url

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                options = {
                    **client_options(self._timeout, verify_challenge_resource=self._verify_resource),
                    **self._client_options,
                }
                self._client = make_client(SECRET, self.url, self._credential, options)
            return self._client

    def _call(self, action: str, fn: Callable[[], T], sent: Iterable[str] = ()) -> T:
        """`fn()` with SDK errors mapped to one line (never echoing what `fn` `sent`); throttling retried within
        the policy."""

        def once() -> T:
            try:
                return fn()
            except EscrowError:
                raise
            except Exception as exc:
                error = map_error(exc, action, self.url, sent)
                if error.reason == THROTTLED:  # the vault is added back when retrying gives up, last
                    raise Throttled(error.what, error.retry_after) from None
                raise error from None

        def still_throttled(message: str) -> Exception:
            return EscrowVaultError(message, THROTTLED, where=vault_where(self.url))

        return call_with_retries(once, self._retry, self._sleep, give_up=still_throttled)

    def entries(self, cluster: str) -> list[EscrowEntry]:
        """Every escrowed key of `cluster` in this vault (names and tags only: no value is read)."""

        def listing() -> list[EscrowEntry]:
            found = []
            for props in bounded_pages(self.client.list_properties_of_secrets()):
                content_type = props.content_type or CONTENT_TYPE
                if content_type not in CONTENT_TYPES:
                    continue
                entry = entry_from_listing(
                    str(props.name),
                    props.tags,
                    cluster=cluster,
                    enabled=bool(props.enabled),
                    version=str(props.version or ""),
                    content_type=content_type,
                    not_before=props.not_before,
                    expires_on=props.expires_on,
                )
                if entry is not None:
                    found.append(entry)
            return found

        return self._call("list", listing)

    def store(self, key: Escrowable, cluster: str) -> EscrowEntry:
        """Write `key` as a new version of its secret, read that version back and compare the key.

        A wrapped key is written wrapped (and compared envelope for envelope): no key operation is made.
        """
        payload = build_payload(key, cluster)
        sent = (payload.value,)
        written = self._call("store", lambda: self._set(payload), sent)
        self._call("read", lambda: self._read_back(payload, written), sent)
        wrapped = payload.content_type == WRAPPED_CONTENT_TYPE
        logger.info(
            "escrowed %ssealing key %s as %s in %s",
            "wrapped " if wrapped else "",
            key.fingerprint,
            payload.name,
            self.url,
        )
        kek = str(payload.tags.get("kek", ""))
        return EscrowEntry(payload.name, cluster, key.fingerprint, key.not_before, True, written, wrapped, kek)

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
            raise EscrowVaultError(f"read-back check failed: {exc.what}", INVALID, where=exc.where) from None

    def fetch(self, entry: EscrowEntry, *, dated: bool = False) -> Escrowable:
        """The key `entry` names (a wrapped copy stays wrapped), checked against its name and fingerprint tag.
        `dated` (a restore): a copy only expired or not yet valid is read too (`EscrowEntry.restorable`)."""

        def get() -> Escrowable:
            secret = self.client.get_secret(entry.name, entry.version or None)
            value, props = str(secret.value or ""), secret.properties
            del secret
            tags, content_type = dict(props.tags or {}), props.content_type
            # What was read is checked as the listing was: it may be a newer version than the one listed.
            where = f"escrowed key {entry.name}"
            read = entry_from_listing(
                entry.name,
                tags,
                cluster=entry.cluster,
                enabled=bool(props.enabled),
                content_type=content_type or CONTENT_TYPE,
                not_before=props.not_before,
                expires_on=props.expires_on,
            )
            if read is None:
                what = f"its tags do not name it a scheme-{SCHEME_VERSION} escrow of cluster {entry.cluster}'s key"
                raise EscrowVaultError(what, INVALID, where=where)
            if not (read.enabled or (dated and read.restorable)):
                raise EscrowVaultError(f"the copy read is {read.state}", INVALID, where=where)
            try:
                return parse_escrowed(
                    value, name=entry.name, cluster=entry.cluster, content_type=content_type, tags=tags
                )
            except EscrowError as exc:
                raise EscrowVaultError(exc.what, INVALID, where=exc.where) from None

        key = self._call("read", get)
        if key.fingerprint != entry.fingerprint:
            what = f"it holds {key.fingerprint}, its listing said {entry.fingerprint}"
            raise EscrowVaultError(what, INVALID, where=f"escrowed key {entry.name}")
        return key

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
