"""Checking and re-sealing SealedSecrets offline: the same work the controller's verify/rotate do."""

from __future__ import annotations

from typing import Any

from sealkit.errors import InputError
from sealkit.keys import KeyRing, SealingCertificate
from sealkit.sealedsecret import parse_sealed_secret
from sealkit.sealing import seal_value
from sealkit.unsealing import open_items, unseal


def verify_sealed_secret(obj: Any, keyring: KeyRing, *, where: str, read_values: bool = False) -> None:
    """Raise UnsealError/InputError/TemplateError naming the item and cause when the SealedSecret would not
    unseal. One check in two modes (`unseal`'s `read_values`):

    - opens only (default; the controller's /v1/verify, which answers anyone who posts a copy of a
      SealedSecret): every value opens; the template (metadata, type, item keys) is one the controller and the
      API server take; each `spec.template.data` entry parses and uses only functions sealkit renders, checked
      before anything is opened and never executed over the values; the keys the type needs (the items' and
      the templates' keys: names alone) and its annotation; the 1 MiB limit and an empty `ssh-privatekey` over
      the items no template replaces (their sizes, which the ciphertext shows). Nothing is concluded from what
      a value or a template's output holds: a `{{ fail }}` in a template, a template's output size or an empty
      `ssh-privatekey` it makes, an item renamed `.dockerconfigjson` that is not JSON, a value posted as
      spec.data (whose keys are then unknown) all pass. So 'ok' means the controller makes the Secret unless a
      template fails or makes a value wrong when run, or a value's content is wrong for its type (then the
      SealedSecret's status says so).
    - full (`read_values=True`, for whoever holds the keys: offline verify, check-recovery): the whole unseal,
      as the controller's: templates run over the values and the values' content is checked too."""
    unseal(obj, keyring, where=where, read_values=read_values)


def reseal_values(obj: Any, keyring: KeyRing, cert: SealingCertificate, *, where: str) -> dict[str, str]:
    """Every encryptedData value opened and sealed again for `cert`, same name, namespace and scope."""
    view = parse_sealed_secret(obj, where)
    if view.legacy_data:
        raise InputError("deprecated spec.data cannot be re-encrypted in place; seal the Secret again", where=where)
    opened = open_items(view, keyring)
    return {item: seal_value(cert, value, view.target) for item, value in opened.items.items()}
