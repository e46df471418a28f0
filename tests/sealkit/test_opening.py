"""Opening one sealed value with a key ring (`sealkit.opening`): keys whose size is not a whole number of
bytes, and the diagnosis when nothing opens."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit import hybrid
from sealkit.errors import UnsealError
from sealkit.keys import KeyRing, PrivateKey, fingerprint
from sealkit.opening import open_value
from sealkit.scope import Scope
from sealkit.sealing import Target

TARGET = Target(Scope.STRICT, "team-a", "db")


def ring(*keys: rsa.RSAPrivateKey) -> KeyRing:
    return KeyRing([PrivateKey(key, fingerprint(key.public_key()), "test") for key in keys])


def probable_prime(bits: int, rng: random.Random) -> int:
    """A prime of exactly `bits` bits, its two top bits set, p - 1 prime to 65537 (Miller-Rabin, 32 rounds)."""
    small = [n for n in range(3, 2000, 2) if all(n % d for d in range(3, int(n**0.5) + 1, 2))]
    while True:
        n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if any(n % p == 0 for p in small) or (n - 1) % 65537 == 0:
            continue
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for _ in range(32):
            x = pow(rng.randrange(2, n - 1), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            return n


def key_of_exactly(bits: int) -> rsa.RSAPrivateKey:
    """An RSA key whose modulus has exactly `bits` bits: OpenSSL rounds some odd sizes down (asked for 3073 bits
    it makes 3072), so the primes are made here (seeded: the same key every run)."""
    rng = random.Random(bits)
    p = probable_prime((bits + 1) // 2, rng)
    q = probable_prime(bits // 2, rng)
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


@pytest.fixture(scope="module", params=[2050, 3073])
def odd_key(request: pytest.FixtureRequest) -> rsa.RSAPrivateKey:
    """A key whose size is not a multiple of 8 bits (openssl and Go make them when asked): its RSA parts are
    the modulus in whole bytes, (bits + 7) // 8, as Go's rsa.PublicKey.Size() counts them."""
    key = key_of_exactly(request.param)
    assert key.key_size == request.param
    return key


def test_a_value_sealed_for_a_key_of_odd_size_opens(odd_key: rsa.RSAPrivateKey, small_key: rsa.RSAPrivateKey) -> None:
    """Such a key sealed but never unsealed: the part's length was compared with bits // 8 (256 for 2050 bits),
    so unseal, verify and the controller said 'sealed with a 2056-bit key, but the keys held are 2048-bit'."""
    blob = hybrid.encrypt(odd_key.public_key(), b"s3cret", TARGET.label)
    assert hybrid.rsa_part_length(blob) == (odd_key.key_size + 7) // 8
    assert hybrid.decrypt(odd_key, blob, TARGET.label) == b"s3cret"
    opened = open_value(ring(small_key, odd_key), blob, TARGET, item="password")
    assert opened.plaintext == b"s3cret" and opened.key.key is odd_key and opened.rsa_operations == 1


def test_another_size_is_named_by_the_bits_of_the_keys_held(
    odd_key: rsa.RSAPrivateKey, small_key: rsa.RSAPrivateKey
) -> None:
    blob = hybrid.encrypt(small_key.public_key(), b"s3cret", TARGET.label)
    with pytest.raises(UnsealError) as caught:
        open_value(ring(odd_key), blob, TARGET, item="password")
    assert str(caught.value).startswith(
        f"item 'password': sealed with a 2048-bit key, but the keys held are {odd_key.key_size}-bit (tried SHA256:"
    )


def test_another_scope_is_diagnosed_for_a_key_of_odd_size(odd_key: rsa.RSAPrivateKey) -> None:
    wide = Target(Scope.NAMESPACE_WIDE, "team-a", "db")
    blob = hybrid.encrypt(odd_key.public_key(), b"s3cret", wide.label)
    with pytest.raises(UnsealError) as caught:
        open_value(ring(odd_key), blob, TARGET, item="password")
    assert "sealed namespace-wide for namespace 'team-a', but the SealedSecret is strict for team-a/db" in str(
        caught.value
    )
