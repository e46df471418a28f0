"""One local vault: its objects, its HTTPS port, its faults, permissions and logs, and the seeding API.

The SDK needs the vault URL to be a server root, so every vault has its own port; `url` is
`https://127.0.0.1:<port>` (that host also passes the SDK's challenge-resource check). A vault
made with `managed_hsm=True` behaves as a Managed HSM: challenge resource
`https://managedhsm.azure.net`, HSM key types only (oct-HSM included).
"""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from . import keyops
from .api import RequestRecord, VaultApi
from .clients import ClientKind
from .faults import Fault, Faults, retry_after_value
from .https import HOST, Listener
from .keys_api import KeyOperationRecord
from .material import PKCS12, PrivateKey, b64url, new_key, public_jwk, secret_value, self_signed
from .model import (
    KINDS,
    Attributes,
    CertificateVersion,
    Collection,
    KeyVersion,
    Kind,
    SecretVersion,
    TimeLike,
    VaultData,
    new_version,
    to_unix,
    valid_name,
)
from .permissions import Permissions
from .render import RECOVERABLE_DAYS
from .tokens import TokenSigner


@dataclass(frozen=True)
class VaultConfig:
    """What a vault shares with its server: token checks, tenant, authority address."""

    signer: TokenSigner
    tenant_id: str
    authority_host: Callable[[], str]
    tls_context: ssl.SSLContext
    ca_path: Path
    default_credential: Callable[[bool], Any]
    challenge_resource: str | None = None
    api_versions: frozenset[str] | None = None
    managed_hsm: bool = False

    def tls_context_client(self) -> ssl.SSLContext:
        """A stdlib client context trusting the test CA (for raw wire checks)."""
        return ssl.create_default_context(cafile=str(self.ca_path))


def _check_name(name: str) -> None:
    if not valid_name(name):
        raise ValueError(f"invalid Key Vault object name {name!r}: use 1-127 letters, digits and dashes")


class Vault:
    """A running local vault. Seed it from Python; point the SDK clients at `url`."""

    def __init__(self, name: str, config: VaultConfig, *, port: int = 0) -> None:
        self.name = name
        self.config = config
        self.data = VaultData()
        self.lock = threading.RLock()
        self.faults = Faults()
        self.permissions = Permissions()
        self._log: list[RequestRecord] = []
        self._key_log: list[KeyOperationRecord] = []
        self._log_lock = threading.Lock()
        self._listener = Listener(VaultApi(self).handle, config.tls_context, port=port, server_header="keyvault")

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._listener.port

    @property
    def url(self) -> str:
        """The vault URL to give SecretClient/KeyClient/CertificateClient/CryptographyClient."""
        return f"https://{HOST}:{self.port}"

    @property
    def managed_hsm(self) -> bool:
        """True for a Managed HSM (clients then need `verify_challenge_resource=False`: see the docs)."""
        return self.config.managed_hsm

    def key_id(self, name: str, version: str | None = None) -> str:
        """The key identifier the SDK takes (`<url>/keys/<name>[/<version>]`)."""
        return f"{self.url}/keys/{name}" + (f"/{version}" if version else "")

    @property
    def running(self) -> bool:
        return self._listener.running

    def start(self) -> Vault:
        """Start (or restart, on the same port) serving."""
        self._listener.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections: the vault becomes unreachable."""
        self._listener.stop()
        _forget_sdk_challenges(self.port)

    @property
    def ca_path(self) -> Path:
        return self.config.ca_path

    def client(self, kind: ClientKind = "secret", *, credential: Any = None, aio: bool = False, **kwargs: Any) -> Any:
        """A real SecretClient/KeyClient/CertificateClient (sync or aio) for this vault.

        Without `credential`, a ClientSecretCredential of the server's default client is used.
        Extra keyword arguments go to the SDK client (e.g. `retry_total=0`). For a Managed HSM
        `verify_challenge_resource=False` is added (the local host is not `*.managedhsm.azure.net`).
        """
        from .clients import make_client

        credential = credential if credential is not None else self.config.default_credential(aio)
        if self.managed_hsm:
            kwargs.setdefault("verify_challenge_resource", False)
        return make_client(self, kind, credential=credential, aio=aio, **kwargs)

    def crypto_client(
        self, name: str, version: str | None = None, *, credential: Any = None, aio: bool = False, **kwargs: Any
    ) -> Any:
        """A real CryptographyClient (sync or aio) for key `name` (newest version unless `version`)."""
        from .clients import make_crypto_client

        credential = credential if credential is not None else self.config.default_credential(aio)
        if self.managed_hsm:
            kwargs.setdefault("verify_challenge_resource", False)
        return make_crypto_client(self, self.key_id(name, version), credential=credential, aio=aio, **kwargs)

    # -- request log -----------------------------------------------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request so far (method, path, query, status, client id, error code; no bodies)."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Forget the request log and the key-operation log."""
        with self._log_lock:
            self._log.clear()
            self._key_log.clear()

    def _record_key_operation(self, record: KeyOperationRecord) -> None:
        with self._log_lock:
            self._key_log.append(record)

    @property
    def key_operations(self) -> list[KeyOperationRecord]:
        """Every wrapKey/unwrapKey/encrypt/decrypt the server ran or refused (never values)."""
        with self._log_lock:
            return list(self._key_log)

    def count_key_operations(
        self, operation: str, name: str | None = None, *, version: str | None = None, succeeded: bool | None = True
    ) -> int:
        """How many `operation` calls (e.g. "unwrapKey") reached the server; `succeeded=None` counts all."""
        return sum(
            1
            for r in self.key_operations
            if r.operation == operation
            and (name is None or r.name == name)
            and (version is None or r.version == version)
            and (succeeded is None or (r.status == 200) == succeeded)
        )

    # -- faults ----------------------------------------------------------------------------------

    def throttle(
        self, times: int = 1, *, retry_after: float = 1, method: str | None = None, path: str | None = None
    ) -> Fault:
        """Answer the next `times` matching requests 429 with `Retry-After` (seconds; <1 for fast tests)."""
        return self.faults.add(
            Fault(
                429,
                "Throttled",
                "Request was not processed because too many requests were received. "
                "Reason: VaultRequestTypeLimitReached",
                times=times,
                method=method,
                path_prefix=path,
                headers={"Retry-After": retry_after_value(retry_after)},
            )
        )

    def fail(
        self,
        status: int,
        code: str,
        message: str = "Injected failure.",
        *,
        times: int | None = 1,
        method: str | None = None,
        path: str | None = None,
        inner: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Fault:
        """Answer matching requests with any status and Key Vault error code (`times=None`: always)."""
        return self.faults.add(Fault(status, code, message, times, method, path, inner, dict(headers or {})))

    def deny(self, client_id: str | None = None, operations: Iterable[str] | None = None) -> None:
        """403 ForbiddenByRbac for this client id (None: for everyone), like a missing role assignment.

        Without `operations` every request is refused; with them only those operations, named as
        access-policy permissions, bare or by collection: `["unwrapKey"]`, `["keys/get", "list"]`.
        Takes effect on the next request (a running client keeps its token but loses the right).
        """
        self.permissions.deny(client_id, operations)

    def allow(self, client_id: str | None = None, operations: Iterable[str] | None = None) -> None:
        """Undo `deny`: all of it for this client id (None: for everyone), or only `operations`."""
        self.permissions.allow(client_id, operations)

    def clear_faults(self) -> None:
        """Drop every injected fault and every denial."""
        self.faults.clear()
        self.permissions.clear()

    # -- seeding ---------------------------------------------------------------------------------

    def add_secret(
        self,
        name: str,
        value: str,
        content_type: str | None = None,
        tags: dict[str, str] | None = None,
        enabled: bool = True,
        nbf: TimeLike | None = None,
        exp: TimeLike | None = None,
    ) -> str:
        """Add a new version of secret `name`; returns the version id."""
        _check_name(name)
        with self.lock:
            self._check_not_deleted(self.data.secrets, name)
            current = self.data.secrets.current(name)
            if current is not None and current.managed:
                raise ValueError(f"secret {name!r} is backed by a certificate; add a certificate version instead")
            version = new_version()
            attributes = Attributes(enabled=enabled, nbf=to_unix(nbf), exp=to_unix(exp))
            self.data.secrets.add(
                name, SecretVersion(version, value, attributes, content_type, dict(tags) if tags else None)
            )
            return version

    def add_key(
        self,
        name: str,
        *,
        kty: str | None = None,
        size: int | None = None,
        curve: str = "P-256",
        private_key: PrivateKey | bytes | None = None,
        key_ops: list[str] | None = None,
        tags: dict[str, str] | None = None,
        enabled: bool = True,
        nbf: TimeLike | None = None,
        exp: TimeLike | None = None,
    ) -> str:
        """Add a new version of key `name` with real private material; returns the version id.

        `kty`: RSA, RSA-HSM, EC, EC-HSM (vaults), oct-HSM (Managed HSM only); default RSA, or
        RSA-HSM in a Managed HSM. `size`: RSA 2048/3072/4096 (default 2048), oct 128/192/256
        (default 256). Each call makes fresh material unless `private_key` (or AES bytes) is given,
        so versions never open each other's wrapped keys.
        """
        _check_name(name)
        kty = kty or ("RSA-HSM" if self.managed_hsm else "RSA")
        self._check_kty(kty)
        if private_key is None:
            material = keyops.generate(kty, size=size, curve=curve)
        else:
            material = private_key
            if isinstance(material, bytes) != (keyops.family(kty) == "oct"):
                raise ValueError(f"private_key does not fit key type {kty}")
        with self.lock:
            self._check_not_deleted(self.data.keys, name)
            current = self.data.keys.current(name)
            if current is not None and current.managed:
                raise ValueError(f"key {name!r} is backed by a certificate; add a certificate version instead")
            version = new_version()
            attributes = Attributes(enabled=enabled, nbf=to_unix(nbf), exp=to_unix(exp))
            item = KeyVersion(
                version,
                keyops.jwk_of(material, kty),
                list(key_ops) if key_ops is not None else keyops.default_ops(kty),
                attributes,
                dict(tags) if tags else None,
                material=material,
            )
            self.data.keys.add(name, item)
            return version

    def _check_kty(self, kty: str) -> None:
        if kty not in keyops.KEY_TYPES:
            raise ValueError(f"unknown key type {kty!r}: use one of {', '.join(keyops.KEY_TYPES)}")
        if self.managed_hsm and kty not in keyops.HSM_KEY_TYPES:
            raise ValueError(f"a Managed HSM holds only HSM keys ({', '.join(keyops.HSM_KEY_TYPES)}), not {kty}")
        if not self.managed_hsm and keyops.family(kty) == "oct":
            raise ValueError("symmetric (oct) keys exist only in a Managed HSM: add_vault(..., managed_hsm=True)")

    def disable_key(self, name: str, version: str | None = None) -> None:
        """Disable one key version (default: the newest): unwrapKey/decrypt then answer 403 KeyDisabled."""
        self.disable(name, version, kind="key")

    def enable_key(self, name: str, version: str | None = None) -> None:
        self.enable(name, version, kind="key")

    def set_key_ops(self, name: str, key_ops: list[str], version: str | None = None) -> None:
        """Replace a key version's key_ops (default: the newest), as `update_key_properties` would."""
        with self.lock:
            item = self.data.keys.find(name, version or "")
            if item is None:
                raise KeyError(f"key {name!r} has no version {version!r}")
            item.key_ops = list(key_ops)

    def key(self, name: str, version: str | None = None) -> KeyVersion | None:
        """The stored key version (newest by default), private material included, for assertions."""
        with self.lock:
            return self.data.keys.find(name, version or "")

    def wrap_locally(self, name: str, key: bytes, *, algorithm: str | None = None, version: str | None = None) -> bytes:
        """Wrap `key` with a stored key as wrapKey would, without a request (to seed wrapped data).

        Default algorithm: RSA-OAEP-256 for RSA keys, A<size>KW for oct keys. Not logged.
        """
        item = self.key(name, version)
        if item is None or item.material is None:
            raise KeyError(f"no key {name!r} (version {version!r}) with material")
        alg = algorithm or _default_wrap_algorithm(item)
        return keyops.run("wrapKey", item.material, alg, {"value": b64url(key)}).value

    def unwrap_locally(
        self, name: str, wrapped: bytes, *, algorithm: str | None = None, version: str | None = None
    ) -> bytes:
        """The inverse of `wrap_locally` (for assertions; not logged)."""
        item = self.key(name, version)
        if item is None or item.material is None:
            raise KeyError(f"no key {name!r} (version {version!r}) with material")
        alg = algorithm or _default_wrap_algorithm(item)
        return keyops.run("unwrapKey", item.material, alg, {"value": b64url(wrapped)}).value

    def add_certificate(
        self,
        name: str,
        *,
        content_type: str = PKCS12,
        subject: str | None = None,
        dns_names: list[str] | None = None,
        not_before: TimeLike | None = None,
        not_after: TimeLike | None = None,
        private_key: PrivateKey | None = None,
        certificate: x509.Certificate | None = None,
        kty: Literal["RSA", "EC"] = "RSA",
        tags: dict[str, str] | None = None,
        enabled: bool = True,
    ) -> str:
        """Add a certificate version with its managed key and secret (same name and version).

        Without `certificate`, a self-signed one is made for `subject` (default CN=<name>) valid
        from `not_before` (default: an hour ago) to `not_after` (default: a year on); those times
        become nbf/exp of all three objects, as in the service. `content_type` picks the backing
        secret's format: application/x-pkcs12 (base64 PFX) or application/x-pem-file.
        """
        _check_name(name)
        key = private_key or new_key(kty)
        if certificate is None:
            start_unix = to_unix(not_before)
            if start_unix is None:
                start_unix = int(dt.datetime.now(dt.UTC).timestamp()) - 3600
            start = dt.datetime.fromtimestamp(start_unix, dt.UTC)
            end_unix = to_unix(not_after)
            end = dt.datetime.fromtimestamp(end_unix, dt.UTC) if end_unix else start + dt.timedelta(days=366)
            certificate = self_signed(key, subject or name, list(dns_names or []), start, end)
        nbf = int(certificate.not_valid_before_utc.timestamp())
        exp = int(certificate.not_valid_after_utc.timestamp())
        value = secret_value(certificate, key, content_type)
        jwk, key_ops = public_jwk(key)
        policy = self._policy(certificate, jwk, content_type)
        with self.lock:
            for collection in (self.data.certificates, self.data.keys, self.data.secrets):
                self._check_not_deleted(collection, name)
            for collection, label in ((self.data.keys, "key"), (self.data.secrets, "secret")):
                current = collection.current(name)
                if current is not None and not current.managed:
                    raise ValueError(f"a {label} named {name!r} exists already; a certificate cannot reuse it")
            version = new_version()
            the_tags = dict(tags) if tags else None

            def attributes() -> Attributes:
                return Attributes(enabled=enabled, nbf=nbf, exp=exp)

            der = certificate.public_bytes(serialization.Encoding.DER)
            self.data.certificates.add(
                name, CertificateVersion(version, der, attributes(), content_type, policy, the_tags)
            )
            self.data.keys.add(
                name, KeyVersion(version, jwk, key_ops, attributes(), the_tags, managed=True, material=key)
            )
            self.data.secrets.add(
                name, SecretVersion(version, value, attributes(), content_type, the_tags, managed=True)
            )
            return version

    @staticmethod
    def _policy(cert: x509.Certificate, jwk: dict[str, str], content_type: str) -> dict[str, Any]:
        key_props: dict[str, Any] = {"exportable": True, "kty": jwk["kty"], "reuse_key": False}
        if jwk["kty"] == "RSA":
            key_props["key_size"] = _rsa_bits(jwk["n"])
        else:
            key_props["crv"] = jwk["crv"]
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns_names = san.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            dns_names = []
        x509_props: dict[str, Any] = {
            "subject": cert.subject.rfc4514_string(),
            "ekus": ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
            "key_usage": ["digitalSignature", "keyEncipherment"],
            "validity_months": 12,
        }
        if dns_names:
            x509_props["sans"] = {"dns_names": dns_names}
        stamp = int(cert.not_valid_before_utc.timestamp())
        return {
            "key_props": key_props,
            "secret_props": {"contentType": content_type},
            "x509_props": x509_props,
            "lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}],
            "issuer": {"name": "Self"},
            "attributes": {"enabled": True, "created": stamp, "updated": stamp},
        }

    # -- state changes ---------------------------------------------------------------------------

    def _collection(self, kind: Kind) -> Collection[Any]:
        return self.data.collection(kind)

    @staticmethod
    def _check_not_deleted(collection: Collection[Any], name: str) -> None:
        if name in collection.deleted:
            raise ValueError(f"{name!r} is soft-deleted; purge or recover it first")

    def _kinds_for(self, name: str, kind: Kind | None, *, deleted: bool = False) -> list[Kind]:
        if kind is not None:
            kinds: list[Kind] = [kind]
            if kind == "certificate":
                kinds += ["key", "secret"]
        else:
            kinds = list(KINDS)
        found = [k for k in kinds if name in (self._collection(k).deleted if deleted else self._collection(k).live)]
        if not found:
            state = "soft-deleted " if deleted else ""
            raise KeyError(f"no {state}{kind or 'object'} named {name!r} in vault {self.name!r}")
        return found

    def _set_enabled(self, name: str, version: str | None, kind: Kind | None, enabled: bool) -> None:
        with self.lock:
            for k in self._kinds_for(name, kind):
                collection = self._collection(k)
                item = collection.find(name, version or "")
                if item is None:
                    raise KeyError(f"{k} {name!r} has no version {version!r}")
                item.attributes.enabled = enabled
                item.attributes.updated = int(dt.datetime.now(dt.UTC).timestamp())

    def disable(self, name: str, version: str | None = None, kind: Kind | None = None) -> None:
        """Disable one version (default: the newest) of every object named `name` (or only `kind`)."""
        self._set_enabled(name, version, kind, False)

    def enable(self, name: str, version: str | None = None, kind: Kind | None = None) -> None:
        self._set_enabled(name, version, kind, True)

    def _soft_delete(self, name: str, kind: Kind) -> None:
        with self.lock:
            kinds: list[Kind] = ["certificate", "key", "secret"] if kind == "certificate" else [kind]
            for k in kinds:
                self._collection(k).soft_delete(name, RECOVERABLE_DAYS)

    def delete(self, name: str, kind: Kind | None = None) -> None:
        """Soft-delete every object named `name` (or only `kind`; a certificate takes its key and secret)."""
        with self.lock:
            for k in self._kinds_for(name, kind):
                self._collection(k).soft_delete(name, RECOVERABLE_DAYS)

    def _purge(self, name: str, kind: Kind) -> None:
        with self.lock:
            kinds: list[Kind] = ["certificate", "key", "secret"] if kind == "certificate" else [kind]
            for k in kinds:
                self._collection(k).deleted.pop(name, None)

    def purge(self, name: str, kind: Kind | None = None) -> None:
        """Forget a soft-deleted object for good."""
        with self.lock:
            for k in self._kinds_for(name, kind, deleted=True):
                self._collection(k).deleted.pop(name, None)

    def _recover(self, name: str, kind: Kind) -> None:
        with self.lock:
            kinds: list[Kind] = ["certificate", "key", "secret"] if kind == "certificate" else [kind]
            for k in kinds:
                collection = self._collection(k)
                entry = collection.deleted.pop(name, None)
                if entry is not None:
                    collection.live[name] = entry.versions

    # -- inspection ------------------------------------------------------------------------------

    def secret(self, name: str, version: str | None = None) -> SecretVersion | None:
        """The stored secret version (newest by default), for assertions in tests."""
        with self.lock:
            return self.data.secrets.find(name, version or "")

    def names(self, kind: Kind = "secret") -> list[str]:
        with self.lock:
            return self._collection(kind).names()

    def versions(self, name: str, kind: Kind = "secret") -> list[str]:
        """Version ids of `name`, oldest first."""
        with self.lock:
            return [v.version for v in self._collection(kind).all_versions(name)]


def _default_wrap_algorithm(item: KeyVersion) -> str:
    if isinstance(item.material, bytes):
        return f"A{len(item.material) * 8}KW"
    return "RSA-OAEP-256"


def _rsa_bits(n_b64: str) -> int:
    padded = n_b64 + "=" * (-len(n_b64) % 4)
    return len(base64.urlsafe_b64decode(padded)) * 8


def _forget_sdk_challenges(port: int) -> None:
    """Drop this vault's entry from the Key Vault SDKs' process-wide challenge caches.

    The SDKs remember each vault's challenge by host:port; a later vault on a reused port
    (another test) must not inherit this one's resource or tenant.
    """
    for package in ("secrets", "keys", "certificates"):
        module = sys.modules.get(f"azure.keyvault.{package}._shared.http_challenge_cache")
        if module is None:
            continue
        for host in (HOST, "localhost"):
            module.remove_challenge_for_url(f"https://{host}:{port}")
