"""The key-encryption key (KEK) in Azure Key Vault or Managed HSM: wrap and unwrap data keys with the real SDK.

Where it sits: the one Key Vault layer (`sealkit.clients.keyvault`), the vault side of `sealkit.wrapping`.
`VaultKek` is a `KeyWrapper`: `wrap` uses the KEK's current version (the newest one when the configured URL
has none), `unwrap` the exact version a wrapped key records. RSA KEKs go through
`CryptographyClient.wrap_key/unwrap_key` (RSA-OAEP-256; the SDK wraps locally with the public key it fetched,
and every unwrap is a vault call). AES KEKs (Managed HSM `oct-HSM`) are wrapped by the HSM itself
(`wrapkey` through the KeyClient's pipeline): the SDK's local symmetric provider would otherwise invent key
bytes nothing can unwrap (see docs/testservers-keyvault.md); they unwrap through `CryptographyClient`.

Every failure leaves as one `KekError` line with a `reason`; data keys and wrapped values never appear in
one. Throttling (429/503) is retried within a small budget (`sealkit.retry`); longer waits are the caller's.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sealkit.clients.keyvault import errors as e
from sealkit.clients.keyvault.sdk import KEY, client_options, make_client, pinned
from sealkit.errors import Refusal
from sealkit.retry import RetryPolicy, Throttled, call_with_retries
from sealkit.wrapping.envelope import KekError, Wrapped
from sealkit.wrapping.kekid import A256KW, RSA_OAEP_256, KekId, parse_kek_id

logger = logging.getLogger(__name__)

T = TypeVar("T")

ROLE_HINT = (
    "this identity needs the Key Vault Crypto User role on the key "
    "(Managed HSM Crypto User on a Managed HSM key), or get/wrapKey/unwrapKey access policy permissions"
)
_RSA_TYPES = ("RSA", "RSA-HSM")
MIN_RSA_BITS = 2048  # the smallest RSA key Key Vault makes; a smaller imported one is refused as a KEK
_AES_TYPES = ("oct", "oct-HSM")


class VaultKekError(KekError):
    """A `KekError` about the vault's KEK; `refusal` says who refused (`Refusal.OBJECT`: the key itself, whoever
    asks: disabled, or the operation not among its key_ops; `Refusal.CALLER`: this identity lacks a role or access
    policy, or its token is refused), None for anything else. The metric `reason` stays as it is (`forbidden` for
    both 403s): readers that must tell them apart (`keys check-recovery`) read this, never the message's words."""

    def __init__(
        self,
        message: str,
        reason: str = "other",
        retry_after: float | None = None,
        *,
        where: str | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(message, reason, retry_after, where=where)
        self.refusal = refusal


def kek_where(kek: str) -> str:
    """The `where` of every KEK error about the vault key `kek` (its URL, versioned when known)."""
    return f"Key Vault key {kek}"


def map_error(exc: Exception, action: str, kek: str, sent: Iterable[str] = ()) -> VaultKekError:
    """One line for any SDK failure of `action` ("read", "wrapKey", "unwrapKey") on the KEK `kek`: what went
    wrong (in words and the service's codes, never an SDK class name), then the key as where. What the request
    `sent` (a data key to wrap, base64url) is redacted wherever the answer echoes it (`errors.scrub`)."""
    problem = e.classify(exc, sent)
    if problem is None:
        raise exc
    where = kek_where(kek)
    inner, code, service = problem.inner, problem.code, problem.service
    if problem.kind == e.NOT_FOUND:
        return VaultKekError(f"not found ({code or 'KeyNotFound'})", "not_found", where=where)
    if problem.kind == e.DISABLED:
        what = f"the key is disabled, so {action} is refused ({inner})"
        return VaultKekError(what, "disabled", where=where, refusal=Refusal.OBJECT)
    if problem.kind == e.THROTTLED:
        what = f"throttled ({problem.status} {code or 'Throttled'})"
        return VaultKekError(what, "throttled", problem.retry_after, where=where)
    if problem.kind == e.FORBIDDEN:
        if problem.object_refuses:  # 403 KeyOperationForbidden: the key's key_ops, whoever asks
            what = f"{action} is not among the key's permitted operations (key_ops)"
            return VaultKekError(what, "forbidden", where=where, refusal=Refusal.OBJECT)
        what = f"{action} refused (403 {inner or code or 'Forbidden'}); {ROLE_HINT}"
        return VaultKekError(what, "forbidden", where=where, refusal=Refusal.CALLER)
    if problem.kind == e.UNAUTHORIZED:
        return VaultKekError("the vault refused the token (401)", "credential", where=where, refusal=Refusal.CALLER)
    if problem.kind == e.REFUSED:
        return VaultKekError(problem.own, "credential", where=where)
    if problem.kind == e.NO_TOKEN:
        return VaultKekError(problem.credential, "credential", where=where)
    if problem.kind == e.UNREACHABLE:
        return VaultKekError(f"cannot reach the vault ({problem.text})", "unreachable", where=where)
    if problem.kind == e.CHALLENGE:
        return VaultKekError(
            f"the vault's challenge names resource {problem.resource}, which does not match the URL's host; "
            "accept it explicitly if the URL is right (private endpoint, custom domain, local Managed HSM)",
            "credential",
            where=where,
        )
    if problem.kind == e.VALUE:
        return VaultKekError(problem.text, "credential", where=where)
    if problem.kind == e.ANSWER:  # sealkit's own words, whole: "the vault's answer is not JSON"
        return VaultKekError(problem.text, where=where)
    # Any other answer: its status and code in brackets, then the service's words; without an answer, what the SDK
    # says went wrong (never its class name).
    if problem.status is None:
        return VaultKekError(f"{action} failed: {problem.text}" if problem.text else f"{action} failed", where=where)
    if problem.kind == e.HTTP and problem.status == 400:
        answer, reason = f"400 {code or 'BadParameter'}", "invalid"
    else:
        answer, reason = " ".join(part for part in (str(problem.status), code) if part), "other"
    return VaultKekError(
        f"{action} failed ({answer}): {service}" if service else f"{action} failed ({answer})", reason, where=where
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VaultKek:
    """The KEK `kek_url` names (with or without version), through one credential; thread-safe.

    Without `kek_url` it only unwraps (with the KEK versions wrapped keys record); wrapping then fails.
    """

    def __init__(
        self,
        kek_url: str | None,
        credential: Any,
        *,
        timeout: float = 10.0,
        verify_challenge_resource: bool = True,
        retry: RetryPolicy | None = None,
        client_options: Mapping[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kek = parse_kek_id(kek_url, "KEK") if kek_url else None
        self._credential = credential
        self._timeout = timeout
        self._verify_resource = verify_challenge_resource
        self._retry = retry or RetryPolicy(attempts=3, max_wait=5.0)
        self._extra = dict(client_options or {})
        self._sleep = sleep
        self._lock = threading.Lock()
        self._key_clients: dict[str, Any] = {}
        self._crypto: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return self.kek.url if self.kek is not None else ""

    # --- SDK clients -------------------------------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        return {**client_options(self._timeout, verify_challenge_resource=self._verify_resource), **self._extra}

    def _key_client(self, vault_url: str) -> Any:
        with self._lock:
            if vault_url not in self._key_clients:
                self._key_clients[vault_url] = make_client(KEY, vault_url, self._credential, self._options())
            return self._key_clients[vault_url]

    def _crypto_client(self, kek_id: str) -> Any:
        with self._lock:
            if kek_id not in self._crypto:
                from azure.keyvault.keys.crypto import CryptographyClient

                options = pinned(parse_kek_id(kek_id).vault_url, self._options())
                self._crypto[kek_id] = CryptographyClient(kek_id, self._credential, **options)
            return self._crypto[kek_id]

    def _call(self, action: str, kek: str, fn: Callable[[], T], sent: Iterable[str] = ()) -> T:
        """`fn()` with SDK errors mapped to one line (never echoing what `fn` `sent`); throttling retried within
        the policy."""

        def once() -> T:
            try:
                return fn()
            except KekError:
                raise
            except Exception as exc:
                error = map_error(exc, action, kek, sent)
                if error.reason == "throttled":
                    raise Throttled(error.what, error.retry_after) from None
                raise error from None

        def still_throttled(message: str) -> Exception:
            return KekError(message, "throttled", where=kek_where(kek))

        return call_with_retries(once, self._retry, self._sleep, give_up=still_throttled)

    # --- KeyWrapper ------------------------------------------------------------------------------------------

    def _current(self) -> tuple[KekId, str]:
        """(versioned id, algorithm) of the key new wraps use, checked: enabled, a type that wraps, wrapKey allowed."""
        kek = self.kek
        if kek is None:
            raise KekError("no KEK is configured to wrap new keys with", "credential", where="--kek-url")
        key = self._call(
            "read", kek.url, lambda: self._key_client(kek.vault_url).get_key(kek.name, kek.version or None)
        )
        version = str(key.properties.version or "")
        versioned = kek.with_version(version)
        where = kek_where(versioned.url)
        if not key.properties.enabled:
            what = "the key is disabled; new keys cannot be wrapped with it"
            raise VaultKekError(what, "disabled", where=where, refusal=Refusal.OBJECT)
        # The vault refuses wrapKey outside nbf/exp, but the SDK wraps locally with an RSA key's public part.
        now = dt.datetime.now(dt.UTC)
        expires, not_before = key.properties.expires_on, key.properties.not_before
        if expires is not None and expires <= now:
            what = f"the key expired at {expires:%Y-%m-%dT%H:%M:%SZ}; new keys cannot be wrapped with it"
            raise KekError(what, "disabled", where=where)
        if not_before is not None and not_before > now:
            what = f"the key is not valid before {not_before:%Y-%m-%dT%H:%M:%SZ}; new keys cannot be wrapped with it"
            raise KekError(what, "disabled", where=where)
        kty = str(getattr(key.key_type, "value", key.key_type) or "")
        if kty in _RSA_TYPES:
            algorithm = RSA_OAEP_256
            bits = int.from_bytes(bytes(getattr(key.key, "n", None) or b"")).bit_length()
            if bits < MIN_RSA_BITS:
                what = f"an RSA key of {bits} bits is too small to wrap keys (at least {MIN_RSA_BITS})"
                raise KekError(what, "invalid", where=where)
        elif kty in _AES_TYPES:
            algorithm = A256KW
        else:
            kind = f"{'an' if kty[:1] in 'AEIOUaeiou' else 'a'} {kty} key" if kty else "a key of unknown type"
            raise KekError(f"{kind} cannot wrap keys (use RSA or oct-HSM)", "invalid", where=where)
        ops = [str(getattr(op, "value", op)) for op in (key.key_operations or [])]
        if ops and not {"wrapKey", "unwrapKey"} <= set(ops):
            what = "wrapKey and unwrapKey must be among the key's permitted operations (key_ops)"
            raise VaultKekError(what, "forbidden", where=where, refusal=Refusal.OBJECT)
        return versioned, algorithm

    def current_id(self) -> str:
        return self._current()[0].url

    def wrap(self, data_key: bytes) -> Wrapped:
        versioned, algorithm = self._current()
        sent = (_b64url(data_key),)
        if algorithm == A256KW:
            return self._call("wrapKey", versioned.url, lambda: self._wrap_on_hsm(versioned, data_key), sent)
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        crypto = self._crypto_client(versioned.url)
        result = self._call(
            "wrapKey", versioned.url, lambda: crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, data_key), sent
        )
        return Wrapped(str(result.key_id or versioned.url), RSA_OAEP_256, bytes(result.encrypted_key))

    def _wrap_on_hsm(self, versioned: KekId, data_key: bytes) -> Wrapped:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.core.rest import HttpRequest

        client = self._key_client(versioned.vault_url)
        request = HttpRequest(
            "POST",
            f"/keys/{versioned.name}/{versioned.version}/wrapkey",
            json={"alg": A256KW, "value": _b64url(data_key)},
        )
        response = client.send_request(request)
        if response.status_code == 404:
            raise ResourceNotFoundError(response=response)
        if response.status_code != 200:
            raise HttpResponseError(response=response)
        body = response.json()
        return Wrapped(str(body.get("kid") or versioned.url), A256KW, _unb64url(str(body["value"])))

    def unwrap(self, kek_id: str, algorithm: str, wrapped: bytes) -> bytes:
        from azure.keyvault.keys.crypto import KeyWrapAlgorithm

        parsed = parse_kek_id(kek_id, "wrapped key's KEK id")
        crypto = self._crypto_client(parsed.url)
        sent = (_b64url(wrapped),)

        def unwrap() -> Any:
            return crypto.unwrap_key(KeyWrapAlgorithm(algorithm), wrapped)

        result = self._call("unwrapKey", parsed.url, unwrap, sent)
        return bytes(result.key)

    def close(self) -> None:
        with self._lock:
            for client in [*self._key_clients.values(), *self._crypto.values()]:
                client.close()
            self._key_clients.clear()
            self._crypto.clear()
