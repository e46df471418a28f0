"""The keys data plane beyond reads: create, import, update, and the crypto operations.

Routes (api-version 7.x / 2025-07-01, as azure-keyvault-keys sends them):
`POST /keys/{name}/create`, `PUT /keys/{name}` (import), `PATCH /keys/{name}/{version}`,
`POST /keys/{name}/{version}/{wrapkey|unwrapkey|encrypt|decrypt}` (an empty version, `//`, means
the newest). Refusals follow the service: 404 `KeyNotFound`; 403 `Forbidden` with innererror
`KeyDisabled` for decrypt/unwrapKey on a disabled key (encrypt and wrapKey stay allowed, as the
service does); 403 `KeyOperationForbidden` for an operation missing from `key_ops`; 400
`BadParameter` for an algorithm the key type cannot use. Every crypto call is logged as a
`KeyOperationRecord` so tests can count server-side unwraps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import keyops, render
from .https import Response
from .keyops import KeyOpError
from .model import Attributes, KeyVersion, new_version, now
from .wire import ApiError, attributes_from, bad, not_found, tags_from

if TYPE_CHECKING:
    from .vault import Vault

# Outside nbf/exp the service refuses these and still allows decrypt, unwrapKey and verify
# (learn.microsoft.com/azure/key-vault/keys/about-keys-details, "Date-time controlled operations").
_TIME_CONTROLLED = ("encrypt", "wrapKey", "sign")
# Refused on a disabled key (azure-sdk-for-python issue 45342, measured on the service).
_DISABLED_REFUSES = ("decrypt", "unwrapKey", "sign")


@dataclass(frozen=True)
class KeyOperationRecord:
    """One crypto request as the server saw it (never the value)."""

    operation: str  # wrapKey, unwrapKey, encrypt, decrypt
    name: str
    version: str  # the version that answered ("" if none was found)
    algorithm: str | None
    client_id: str | None
    status: int
    error_code: str | None


class KeyRoutes:
    """Key writes and crypto operations of one vault (called under the vault lock)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    @property
    def _hsm(self) -> bool:
        return self.vault.managed_hsm

    # -- create / import / update ----------------------------------------------------------------

    def check_kty(self, kty: str) -> None:
        if kty not in keyops.KEY_TYPES:
            raise bad(f"The key type '{kty}' is not supported; use one of {', '.join(keyops.KEY_TYPES)}.")
        if self._hsm and kty not in keyops.HSM_KEY_TYPES:
            raise bad(f"Key type {kty} is not supported by Managed HSM; use an -HSM key type.")
        if not self._hsm and keyops.family(kty) == "oct":
            raise bad(f"Key type {kty} is only supported by Managed HSM.")

    def _key_ops(self, value: Any, kty: str) -> list[str]:
        if value is None:
            return keyops.default_ops(kty)
        if not isinstance(value, list) or not all(isinstance(op, str) for op in value):
            raise bad("key_ops must be a list of strings.")
        unknown = [op for op in value if op not in keyops.KEY_OPS]
        if unknown:
            raise bad(f"Invalid key operation: {unknown[0]}.")
        return list(value)

    def _check_not_deleted(self, name: str) -> None:
        if name in self.vault.data.keys.deleted:
            raise ApiError(
                409,
                "Conflict",
                f"Key {name} is currently in a deleted but recoverable state, and its name cannot be reused; "
                "in this state, the key can only be recovered or purged.",
                "ObjectIsDeletedButRecoverable",
            )
        current = self.vault.data.keys.current(name)
        if current is not None and current.managed:
            raise ApiError(409, "Conflict", f"Key {name} is managed by a certificate and cannot be changed.")

    def create(self, body: dict[str, Any], base: str, name: str) -> Response:
        kty = body.get("kty")
        if not isinstance(kty, str):
            raise bad("Property 'kty' is required.")
        self.check_kty(kty)
        size, exponent, curve = body.get("key_size"), body.get("public_exponent"), body.get("crv")
        if size is not None and not isinstance(size, int):
            raise bad("key_size must be an integer.")
        if exponent is not None and not isinstance(exponent, int):
            raise bad("public_exponent must be an integer.")
        try:
            material = keyops.generate(
                kty, size=size, curve=curve if isinstance(curve, str) else None, public_exponent=exponent
            )
        except KeyOpError as exc:
            raise bad(str(exc)) from exc
        return self._store(body, base, name, kty, material, self._key_ops(body.get("key_ops"), kty))

    def import_key(self, body: dict[str, Any], base: str, name: str) -> Response:
        jwk = body.get("key")
        if not isinstance(jwk, dict):
            raise bad("Property 'key' is required and must be a JSON web key.")
        try:
            material = keyops.from_jwk(jwk)
        except KeyOpError as exc:
            raise bad(str(exc)) from exc
        kty = keyops.family(str(jwk["kty"]))
        if body.get("Hsm") or self._hsm or str(jwk["kty"]).endswith("-HSM"):
            kty += "-HSM"
        self.check_kty(kty)
        return self._store(body, base, name, kty, material, self._key_ops(jwk.get("key_ops"), kty))

    def _store(
        self, body: dict[str, Any], base: str, name: str, kty: str, material: keyops.Material, ops: list[str]
    ) -> Response:
        self._check_not_deleted(name)
        attributes = Attributes()
        attributes_from(body.get("attributes"), attributes)
        item = KeyVersion(
            version=new_version(),
            jwk=keyops.jwk_of(material, kty),
            key_ops=ops,
            attributes=attributes,
            tags=tags_from(body.get("tags")),
            material=material,
        )
        self.vault.data.keys.add(name, item)
        return Response.json(200, render.key_bundle(base, name, item))

    def update(self, body: dict[str, Any], base: str, name: str, version: str) -> Response:
        item = self.vault.data.keys.find(name, version)
        if item is None:
            raise not_found("key", name, version)
        if "key_ops" in body and body["key_ops"] is not None:
            item.key_ops = self._key_ops(body["key_ops"], item.kty)
        attributes_from(body.get("attributes"), item.attributes)
        if body.get("tags") is not None:
            item.tags = tags_from(body["tags"])
        item.attributes.updated = now()
        return Response.json(200, render.key_bundle(base, name, item))

    # -- crypto ----------------------------------------------------------------------------------

    def crypto(self, body: dict[str, Any], base: str, name: str, version: str, op: str, client_id: str) -> Response:
        """Run one operation and log it (success or refusal) as a `KeyOperationRecord`."""
        operation = keyops.CRYPTO_OPS[op]
        algorithm = body.get("alg")
        item = self.vault.data.keys.find(name, version)
        status, code = 200, None
        try:
            return self._crypto(body, base, name, version, operation, item)
        except ApiError as exc:
            status = exc.response.status
            code = exc.code
            raise
        finally:
            self.vault._record_key_operation(
                KeyOperationRecord(
                    operation=operation,
                    name=name,
                    version=item.version if item is not None else "",
                    algorithm=algorithm if isinstance(algorithm, str) else None,
                    client_id=client_id,
                    status=status,
                    error_code=code,
                )
            )

    def _crypto(
        self, body: dict[str, Any], base: str, name: str, version: str, operation: str, item: KeyVersion | None
    ) -> Response:
        algorithm = body.get("alg")
        if not isinstance(algorithm, str) or not algorithm:
            raise bad("Property 'alg' is required.")
        if item is None:
            raise not_found("key", name, version)
        if not item.attributes.enabled and operation in _DISABLED_REFUSES:
            raise ApiError(403, "Forbidden", f"Operation {operation} is not allowed on a disabled key.", "KeyDisabled")
        if operation not in item.key_ops:
            raise ApiError(
                403, "Forbidden", f"Operation {operation} is not permitted on this key.", "KeyOperationForbidden"
            )
        stamp = now()
        attrs = item.attributes
        if operation in _TIME_CONTROLLED:
            if attrs.nbf is not None and stamp < attrs.nbf:
                raise ApiError(403, "Forbidden", f"Operation {operation} is not allowed before the key's nbf.")
            if attrs.exp is not None and stamp >= attrs.exp:
                raise ApiError(403, "Forbidden", f"Operation {operation} is not allowed on an expired key.")
        material = item.material
        if material is None or not keyops.supported(operation, item.kty, algorithm, material):
            raise bad(f"Algorithm {algorithm} is not supported for operation {operation} on a {item.kty} key.")
        try:
            result = keyops.run(operation, material, algorithm, body)
        except KeyOpError as exc:
            raise bad(str(exc)) from exc
        return Response.json(200, result.json(f"{base}/keys/{name}/{item.version}"))
