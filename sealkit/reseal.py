"""Checking and re-sealing SealedSecrets offline: the same work the controller's verify/rotate do."""

from __future__ import annotations

from typing import Any

from sealkit.errors import InputError
from sealkit.keys import KeyRing, SealingCertificate
from sealkit.sealedsecret import parse_sealed_secret
from sealkit.sealing import seal_value
from sealkit.unsealing import open_items, unseal


def verify_sealed_secret(obj: Any, keyring: KeyRing, *, where: str, read_values: bool = False) -> None:
    """Raise UnsealError/InputError naming the item and cause when the SealedSecret would not unseal: a value
    that does not open, or a template (its metadata, type, data templates, the keys its type needs) that the
    controller or the API server would refuse. The unseal runs without reading what the values hold (see
    `unseal`'s `read_values`): the controller's /v1/verify answers anyone who posts a copy of a SealedSecret,
    and an item renamed `.dockerconfigjson` under that type answered whether its value is a JSON object. So
    'ok' means the controller makes the Secret unless a value's content is wrong for its type (then the
    SealedSecret's status says so). `read_values` (for whoever holds the keys: offline verify, check-recovery)
    checks the values' content too, as the controller's unseal does."""
    unseal(obj, keyring, where=where, read_values=read_values)


def reseal_values(obj: Any, keyring: KeyRing, cert: SealingCertificate, *, where: str) -> dict[str, str]:
    """Every encryptedData value opened and sealed again for `cert`, same name, namespace and scope."""
    view = parse_sealed_secret(obj, where)
    if view.legacy_data:
        raise InputError("deprecated spec.data cannot be re-encrypted in place; seal the Secret again", where=where)
    opened = open_items(view, keyring)
    return {item: seal_value(cert, value, view.target) for item, value in opened.items.items()}
