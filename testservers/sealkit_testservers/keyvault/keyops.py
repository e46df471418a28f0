"""What a Key Vault key can do: make, import and describe key material, and run the crypto operations.

The local vault holds real private material (RSA, EC or AES) for every key it creates or imports,
so `wrapKey`/`unwrapKey`/`encrypt`/`decrypt` answer exactly as the service would: RSA-OAEP,
RSA-OAEP-256 and RSA1_5 for RSA keys, AES key wrap (RFC 3394, A128KW/A192KW/A256KW) and AES-GCM
for symmetric keys. All crypto is `cryptography`'s; nothing here is hand-rolled.
Algorithm names and key types: learn.microsoft.com/azure/key-vault/keys/about-keys-details.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from .material import b64url, public_jwk

Material = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | bytes

KEY_TYPES = ("RSA", "RSA-HSM", "EC", "EC-HSM", "oct", "oct-HSM")
HSM_KEY_TYPES = ("RSA-HSM", "EC-HSM", "oct-HSM")
KEY_OPS = ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export")
RSA_SIZES = (2048, 3072, 4096)
OCT_SIZES = (128, 192, 256)
CRYPTO_OPS = {"wrapkey": "wrapKey", "unwrapkey": "unwrapKey", "encrypt": "encrypt", "decrypt": "decrypt"}

RSA_ALGORITHMS = ("RSA-OAEP", "RSA-OAEP-256", "RSA1_5")
AES_KW = {"A128KW": 16, "A192KW": 24, "A256KW": 32}
AES_GCM = {"A128GCM": 16, "A192GCM": 24, "A256GCM": 32}

_CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}


class KeyOpError(ValueError):
    """A request the service refuses with 400 BadParameter (the message is the service-like text)."""


def family(kty: str) -> str:
    """RSA, EC or oct: the key type without its -HSM suffix."""
    return kty.removesuffix("-HSM")


def default_ops(kty: str) -> list[str]:
    """The key_ops the service lists when a create or import names none."""
    fam = family(kty)
    if fam == "RSA":
        return ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
    if fam == "EC":
        return ["sign", "verify"]
    return ["encrypt", "decrypt", "wrapKey", "unwrapKey"]


def generate(
    kty: str, *, size: int | None = None, curve: str | None = None, public_exponent: int | None = None
) -> Material:
    """Fresh key material for a `create` (each call makes a new key: versions never share material)."""
    fam = family(kty)
    if fam == "RSA":
        bits = size or 2048
        if bits not in RSA_SIZES:
            raise KeyOpError(f"RSA key size {bits} is not supported; use one of {', '.join(map(str, RSA_SIZES))}.")
        exponent = public_exponent or 65537
        if exponent not in (3, 65537):
            raise KeyOpError("public_exponent must be 3 or 65537.")
        return rsa.generate_private_key(public_exponent=exponent, key_size=bits)
    if fam == "EC":
        name = curve or "P-256"
        if name not in _CURVES:
            raise KeyOpError(f"Curve {name} is not supported; use one of {', '.join(_CURVES)}.")
        return ec.generate_private_key(_CURVES[name])
    if fam == "oct":
        bits = size or 256
        if bits not in OCT_SIZES:
            raise KeyOpError(f"AES key size {bits} is not supported; use one of {', '.join(map(str, OCT_SIZES))}.")
        return os.urandom(bits // 8)
    raise KeyOpError(f"Key type {kty} is not supported.")


def jwk_of(material: Material, kty: str) -> dict[str, str]:
    """The public JWK members the service shows (never `d` or `k`), with `kty` as stored."""
    if isinstance(material, bytes):
        return {"kty": kty}
    jwk, _ = public_jwk(material)
    return {**jwk, "kty": kty}


def _unb64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise KeyOpError(f"Property '{field}' must be a base64url string.")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError) as exc:
        raise KeyOpError(f"Property '{field}' is not valid base64url.") from exc


def _int(jwk: dict[str, Any], field: str) -> int:
    return int.from_bytes(_unb64(jwk.get(field), field), "big")


def from_jwk(jwk: dict[str, Any]) -> Material:
    """Private material from an imported JWK (RSA n/e/d[/p/q/...], EC crv/x/y/d, oct k)."""
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in KEY_TYPES:
        raise KeyOpError(f"The key type '{kty}' is not supported for import.")
    fam = family(kty)
    try:
        if fam == "RSA":
            if "d" not in jwk:
                raise KeyOpError("The JSON web key must contain the private key (d).")
            n, e, d = _int(jwk, "n"), _int(jwk, "e"), _int(jwk, "d")
            if "p" in jwk and "q" in jwk:
                p, q = _int(jwk, "p"), _int(jwk, "q")
            else:
                p, q = rsa.rsa_recover_prime_factors(n, e, d)
            numbers = rsa.RSAPrivateNumbers(
                p,
                q,
                d,
                rsa.rsa_crt_dmp1(d, p),
                rsa.rsa_crt_dmq1(d, q),
                rsa.rsa_crt_iqmp(p, q),
                rsa.RSAPublicNumbers(e, n),
            )
            return numbers.private_key()
        if fam == "EC":
            curve = _CURVES.get(str(jwk.get("crv")))
            if curve is None:
                raise KeyOpError(f"Curve {jwk.get('crv')} is not supported.")
            if "d" not in jwk:
                raise KeyOpError("The JSON web key must contain the private key (d).")
            return ec.derive_private_key(_int(jwk, "d"), curve)
        k = _unb64(jwk.get("k"), "k")
        if len(k) * 8 not in OCT_SIZES:
            raise KeyOpError(f"AES key size {len(k) * 8} is not supported.")
        return k
    except KeyOpError:
        raise
    except ValueError as exc:
        raise KeyOpError("The JSON web key is not a valid key.") from exc


def private_jwk(material: Material) -> dict[str, str]:
    """The full JWK of seeded material (for tests that import a key they also hold)."""
    if isinstance(material, bytes):
        return {"kty": "oct", "k": b64url(material)}
    if isinstance(material, rsa.RSAPrivateKey):
        numbers = material.private_numbers()
        jwk, _ = public_jwk(material)
        for field, value in (
            ("d", numbers.d),
            ("p", numbers.p),
            ("q", numbers.q),
            ("dp", numbers.dmp1),
            ("dq", numbers.dmq1),
            ("qi", numbers.iqmp),
        ):
            jwk[field] = b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))
        return jwk
    jwk, _ = public_jwk(material)
    size = (material.curve.key_size + 7) // 8
    jwk["d"] = b64url(material.private_numbers().private_value.to_bytes(size, "big"))
    return jwk


@dataclass(frozen=True)
class CryptoResult:
    """The `value` of an operation's answer, plus the AES-GCM extras encrypt returns."""

    value: bytes
    iv: bytes | None = None
    tag: bytes | None = None
    aad: bytes | None = None

    def json(self, kid: str) -> dict[str, str]:
        out = {"kid": kid, "value": b64url(self.value)}
        for field, data in (("iv", self.iv), ("tag", self.tag), ("aad", self.aad)):
            if data is not None:
                out[field] = b64url(data)
        return out


def _oaep(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm == "RSA1_5":
        return padding.PKCS1v15()
    digest: hashes.HashAlgorithm = hashes.SHA256() if algorithm == "RSA-OAEP-256" else hashes.SHA1()  # noqa: S303
    return padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)


def supported(operation: str, kty: str, algorithm: str, material: Material) -> bool:
    fam = family(kty)
    if fam == "RSA":
        return algorithm in RSA_ALGORITHMS
    if fam == "oct" and isinstance(material, bytes):
        table = AES_KW if operation in ("wrapKey", "unwrapKey") else AES_GCM
        return table.get(algorithm) == len(material)
    return False


def run(operation: str, material: Material, algorithm: str, body: dict[str, Any]) -> CryptoResult:
    """Run wrapKey/unwrapKey/encrypt/decrypt on `body` (already checked: key type fits the algorithm)."""
    value = _unb64(body.get("value"), "value")
    if isinstance(material, rsa.RSAPrivateKey):
        pad = _oaep(algorithm)
        if operation in ("wrapKey", "encrypt"):
            try:
                return CryptoResult(material.public_key().encrypt(value, pad))
            except ValueError as exc:
                raise KeyOpError("The value is too long for this key and algorithm.") from exc
        try:
            return CryptoResult(material.decrypt(value, pad))
        except ValueError as exc:
            raise KeyOpError("The ciphertext is not valid for this key.") from exc
    if not isinstance(material, bytes):
        raise KeyOpError(f"Operation {operation} is not supported for this key type.")
    if operation == "wrapKey":
        try:
            return CryptoResult(aes_key_wrap(material, value))
        except ValueError as exc:
            raise KeyOpError("The key to wrap must be at least 16 bytes and a multiple of 8 bytes.") from exc
    if operation == "unwrapKey":
        try:
            return CryptoResult(aes_key_unwrap(material, value))
        except (InvalidUnwrap, ValueError) as exc:
            raise KeyOpError("The wrapped key is not valid for this key.") from exc
    aad = _unb64(body["aad"], "aad") if body.get("aad") is not None else None
    if operation == "encrypt":
        if body.get("iv") is not None:
            raise KeyOpError("An iv may not be given for AES-GCM encryption; the service generates it.")
        iv = os.urandom(12)
        sealed = AESGCM(material).encrypt(iv, value, aad)
        return CryptoResult(sealed[:-16], iv=iv, tag=sealed[-16:], aad=aad)
    iv = _unb64(body.get("iv"), "iv")
    tag = _unb64(body.get("tag"), "tag")
    try:
        return CryptoResult(AESGCM(material).decrypt(iv, value + tag, aad))
    except (InvalidTag, ValueError) as exc:
        raise KeyOpError("The ciphertext or authentication tag is not valid for this key.") from exc
