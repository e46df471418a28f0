"""The JSON shapes the Key Vault data plane answers with (as the SDK models read them).

Ids are absolute URLs built from the address the client used (`base`), so a client that called
`https://127.0.0.1:PORT` gets ids and nextLinks it can parse and follow.
"""

from __future__ import annotations

import base64
from typing import Any

from .material import thumbprint
from .model import Attributes, CertificateVersion, Deleted, KeyVersion, SecretVersion

RECOVERY_LEVEL = "Recoverable+Purgeable"
RECOVERABLE_DAYS = 90

Json = dict[str, Any]


def error(code: str, message: str, inner: str | None = None) -> Json:
    body: Json = {"code": code, "message": message}
    if inner:
        body["innererror"] = {"code": inner}
    return {"error": body}


def attributes(attrs: Attributes, *, key: bool = False) -> Json:
    out: Json = {"enabled": attrs.enabled}
    if attrs.nbf is not None:
        out["nbf"] = attrs.nbf
    if attrs.exp is not None:
        out["exp"] = attrs.exp
    out.update(
        created=attrs.created,
        updated=attrs.updated,
        recoveryLevel=RECOVERY_LEVEL,
        recoverableDays=RECOVERABLE_DAYS,
    )
    if key:
        out["exportable"] = False
    return out


def _common(out: Json, tags: dict[str, str] | None, managed: bool) -> Json:
    if tags is not None:
        out["tags"] = dict(tags)
    if managed:
        out["managed"] = True
    return out


# -- secrets -----------------------------------------------------------------------------------


def secret_bundle(base: str, name: str, item: SecretVersion, *, value: str | None = None) -> Json:
    """The full secret; `value` None leaves it out (update, delete and recover answers)."""
    out: Json = {}
    if value is not None:
        out["value"] = value
    out["id"] = f"{base}/secrets/{name}/{item.version}"
    if item.content_type is not None:
        out["contentType"] = item.content_type
    out["attributes"] = attributes(item.attributes)
    if item.managed:
        out["kid"] = f"{base}/keys/{name}/{item.version}"
    return _common(out, item.tags, item.managed)


def secret_item(base: str, name: str, item: SecretVersion, *, versioned: bool) -> Json:
    out: Json = {"id": f"{base}/secrets/{name}/{item.version}" if versioned else f"{base}/secrets/{name}"}
    if item.content_type is not None:
        out["contentType"] = item.content_type
    out["attributes"] = attributes(item.attributes)
    return _common(out, item.tags, item.managed)


def deleted_fields(base: str, collection: str, name: str, entry: Deleted[Any]) -> Json:
    return {
        "recoveryId": f"{base}/deleted{collection}/{name}",
        "deletedDate": entry.deleted_date,
        "scheduledPurgeDate": entry.scheduled_purge_date,
    }


def deleted_secret(base: str, name: str, entry: Deleted[SecretVersion], *, item: bool = False) -> Json:
    current = entry.versions[-1]
    body = secret_item(base, name, current, versioned=False) if item else secret_bundle(base, name, current)
    return {**body, **deleted_fields(base, "secrets", name, entry)}


# -- keys --------------------------------------------------------------------------------------


def key_bundle(base: str, name: str, item: KeyVersion) -> Json:
    key: Json = {"kid": f"{base}/keys/{name}/{item.version}", **item.jwk, "key_ops": list(item.key_ops)}
    out: Json = {"key": key, "attributes": attributes(item.attributes, key=True)}
    return _common(out, item.tags, item.managed)


def key_item(base: str, name: str, item: KeyVersion, *, versioned: bool) -> Json:
    out: Json = {
        "kid": f"{base}/keys/{name}/{item.version}" if versioned else f"{base}/keys/{name}",
        "attributes": attributes(item.attributes, key=True),
    }
    return _common(out, item.tags, item.managed)


def deleted_key(base: str, name: str, entry: Deleted[KeyVersion], *, item: bool = False) -> Json:
    current = entry.versions[-1]
    body = key_item(base, name, current, versioned=False) if item else key_bundle(base, name, current)
    return {**body, **deleted_fields(base, "keys", name, entry)}


# -- certificates ------------------------------------------------------------------------------


def certificate_policy(base: str, name: str, item: CertificateVersion) -> Json:
    return {"id": f"{base}/certificates/{name}/policy", **item.policy}


def certificate_bundle(base: str, name: str, item: CertificateVersion) -> Json:
    out: Json = {
        "id": f"{base}/certificates/{name}/{item.version}",
        "kid": f"{base}/keys/{name}/{item.version}",
        "sid": f"{base}/secrets/{name}/{item.version}",
        "x5t": thumbprint(item.der),
        "cer": base64.b64encode(item.der).decode("ascii"),
        "attributes": attributes(item.attributes),
        "policy": certificate_policy(base, name, item),
    }
    return _common(out, item.tags, False)


def certificate_item(base: str, name: str, item: CertificateVersion, *, versioned: bool) -> Json:
    out: Json = {
        "id": f"{base}/certificates/{name}/{item.version}" if versioned else f"{base}/certificates/{name}",
        "x5t": thumbprint(item.der),
        "attributes": attributes(item.attributes),
    }
    return _common(out, item.tags, False)


def deleted_certificate(base: str, name: str, entry: Deleted[CertificateVersion], *, item: bool = False) -> Json:
    current = entry.versions[-1]
    body = certificate_item(base, name, current, versioned=False) if item else certificate_bundle(base, name, current)
    return {**body, **deleted_fields(base, "certificates", name, entry)}
