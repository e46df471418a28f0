"""SealedSecret checks given the cluster's certificate (`lint --cert`): the key size a value was sealed with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.keygen import build_certificate
from sealkit.keys import load_certificate
from sealkit.lint.config import LintConfig
from sealkit.lint.scanner import lint
from sealkit.lint.sealed import SealedChecks
from sealkit.sealing import seal_secret


def test_a_key_of_odd_size_matches_its_own_values(tmp_path: Path) -> None:
    """A 2050-bit key seals 257-byte RSA parts: compared as bytes x 8 (2056 bits) with the certificate's 2050,
    every value was 'sealed with a 2056-bit key': sealed for another cluster."""
    from cryptography.hazmat.primitives import serialization

    key = rsa.generate_private_key(public_exponent=65537, key_size=2050)
    now = dt.datetime.now(dt.UTC)
    cert = build_certificate(
        key, subject="odd", not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=9)
    )
    sealing = load_certificate(cert.public_bytes(serialization.Encoding.PEM))
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
        "stringData": {"a": "b"},
    }
    (tmp_path / "db.yaml").write_text(yaml.safe_dump(seal_secret(secret, sealing)))
    checks = SealedChecks(frozenset({2050}))
    assert lint([tmp_path], LintConfig(root=tmp_path), checks, all_files=True).findings == []
    other = lint([tmp_path], LintConfig(root=tmp_path), SealedChecks(frozenset({4096})), all_files=True).findings
    assert [f.rule.id for f in other] == ["SK203"] and "sealed with a 2056-bit key" in other[0].message
