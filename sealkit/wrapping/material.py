"""Key files holding plaintext and wrapped keys side by side: `sealkit unseal --private-key`, restores from files.

A key file (PEM, a key Secret, a v1 List of them, a `sealkit keys backup` file) may hold wrapped key Secrets
next to plaintext ones. They are read here without any vault call; `open_wrapped` unwraps them through a
`KeyWrapper` when the caller has one (and says exactly what is missing when it has none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sealkit.keys import PrivateKey, load_key_documents
from sealkit.wrapping.envelope import KekError, KeyWrapper, WrappedKey, unwrap_private_key
from sealkit.wrapping.keysecret import wrapped_from_secret


@dataclass(frozen=True)
class KeyMaterial:
    keys: list[PrivateKey]
    wrapped: list[WrappedKey]


def load_key_material(data: bytes, source: str) -> KeyMaterial:
    """Plaintext keys and (checked, still wrapped) wrapped keys from one key file."""
    documents = load_key_documents(data, source)
    wrapped = [wrapped_from_secret(obj, where) for obj, where in documents.wrapped]
    return KeyMaterial(documents.keys, wrapped)


def open_wrapped(wrapped: Iterable[WrappedKey], kek: Callable[[], KeyWrapper]) -> list[PrivateKey]:
    """Every wrapped key unwrapped through the vault (`kek()` is built only if there is one to open)."""
    items = list(wrapped)
    if not items:
        return []
    opened = []
    wrapper = None
    for item in items:
        try:
            wrapper = wrapper or kek()
            opened.append(unwrap_private_key(item, wrapper))
        except KekError as exc:  # the key file's entry is where; the vault key and its answer are what
            raise KekError(
                f"a wrapped key; opening it needs unwrap access to its Key Vault key {item.kek_id} ({exc.what})",
                exc.reason,
                exc.retry_after,
                where=item.source or f"wrapped key {item.fingerprint}",
            ) from None
    return opened
