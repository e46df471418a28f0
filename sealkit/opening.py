"""Opening one sealed value with a key ring, and saying precisely why when it does not open."""

from __future__ import annotations

from dataclasses import dataclass

from sealkit import hybrid
from sealkit.errors import UnsealError
from sealkit.keys import KeyRing, PrivateKey
from sealkit.scope import Scope
from sealkit.sealing import Target


@dataclass(frozen=True)
class OpenedValue:
    plaintext: bytes
    key: PrivateKey
    rsa_operations: int


def open_value(
    keyring: KeyRing,
    blob: bytes,
    target: Target,
    *,
    item: str,
    preferred_key: str | None = None,
    alternatives: tuple[Target, ...] = (),
) -> OpenedValue:
    """Try the keys in order (`preferred_key` first); on failure raise UnsealError with a diagnosis."""
    if len(keyring) == 0:
        raise UnsealError(f"item {item!r}: no private keys to open it with")
    try:
        wrapped, sealed = hybrid.split(blob)
    except hybrid.MalformedValue as exc:
        raise UnsealError(f"item {item!r}: not a sealed value ({exc})") from None
    label = target.label
    operations = 0
    for key in keyring.try_order(preferred_key):
        if len(wrapped) != hybrid.modulus_bytes(key.key.key_size):
            continue
        operations += 1
        try:
            session_key = hybrid.unwrap_session_key(key.key, wrapped, label)
        except hybrid.WrongKeyOrLabel:
            continue
        try:
            return OpenedValue(hybrid.open_payload(session_key, sealed), key, operations)
        except hybrid.TamperedValue:
            raise UnsealError(
                f"item {item!r}: the value was changed after sealing (key {key.fingerprint} opened its RSA part, "
                "but the AES-GCM tag does not match)"
            ) from None
    raise UnsealError(f"item {item!r}: {diagnose(keyring, wrapped, target, alternatives)}")


def describe(target: Target) -> str:
    if target.scope is Scope.CLUSTER_WIDE:
        return "cluster-wide"
    if target.scope is Scope.NAMESPACE_WIDE:
        return f"namespace-wide for namespace {target.namespace!r}"
    return f"strict for {target.namespace}/{target.name}"


def candidate_targets(target: Target, alternatives: tuple[Target, ...]) -> list[Target]:
    """Other labels the value may have been sealed under: the other two scopes, and the alternatives'."""
    seen = {target.label}
    out: list[Target] = []
    for base in (target, *alternatives):
        for scope in Scope:
            candidate = Target(scope, base.namespace, base.name)
            if candidate.scope is not Scope.CLUSTER_WIDE and not candidate.namespace:
                continue
            if candidate.label not in seen:
                seen.add(candidate.label)
                out.append(candidate)
    return out


def diagnose(keyring: KeyRing, wrapped: bytes, target: Target, alternatives: tuple[Target, ...] = ()) -> str:
    """Why nothing opened: wrong size, another scope or name/namespace, or a key not held here."""
    tried = ", ".join(keyring.fingerprints())
    if len(wrapped) not in {hybrid.modulus_bytes(key.key.key_size) for key in keyring}:
        held = "/".join(str(bits) for bits in sorted({key.key.key_size for key in keyring}))
        return (
            f"sealed with a {len(wrapped) * 8}-bit key, but the keys held are {held}-bit "
            f"(tried {tried}): sealed for another cluster"
        )
    for candidate in candidate_targets(target, alternatives):
        for key in keyring:
            if len(wrapped) != hybrid.modulus_bytes(key.key.key_size):
                continue
            try:
                hybrid.unwrap_session_key(key.key, wrapped, candidate.label)
            except hybrid.WrongKeyOrLabel:
                continue
            return (
                f"sealed {describe(candidate)}, but the SealedSecret is {describe(target)} "
                f"(key {key.fingerprint}): re-seal it for this name, namespace and scope"
            )
    return (
        f"no key could decrypt it (tried {tried}); it was not sealed for {target.namespace or '-'}/"
        f"{target.name} under any scope with these keys: sealed with another key or for another name or namespace"
    )
