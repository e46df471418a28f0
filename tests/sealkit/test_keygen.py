"""Generated key pairs load like Bitnami's and seal/open."""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from sealkit.keygen import generate_key_pair
from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.manifest import decode_base64
from sealkit.opening import open_value
from sealkit.scope import Scope
from sealkit.sealing import Target, seal_value


def test_generated_pair_round_trips_through_the_loaders() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    generated = generate_key_pair(bits=2048, common_name="sealed-secret", now=start)
    cert = load_certificate(generated.certificate_pem, now=start + dt.timedelta(days=1))
    assert cert.not_before == start and cert.not_after == start + dt.timedelta(hours=87600)
    assert generated.private_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----"), "PKCS#1, as key Secrets hold it"
    (loaded,) = load_private_keys(generated.private_pem)
    assert loaded.fingerprint == cert.fingerprint == generated.key.fingerprint
    usage = x509.load_pem_x509_certificate(generated.certificate_pem).extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.value.key_encipherment and usage.critical
    target = Target(Scope.STRICT, "ns", "name")
    blob = decode_base64(seal_value(cert, b"value", target), "x")
    assert open_value(KeyRing([loaded]), blob, target, item="x").plaintext == b"value"


def test_repr_shows_no_private_key() -> None:
    generated = generate_key_pair(bits=2048)
    assert b"PRIVATE KEY" in generated.private_pem
    assert "PRIVATE KEY" not in repr(generated) and "private_pem" not in repr(generated)
