"""The escrow scheme: names, payloads and tags, and the checks that make a restored key trustworthy."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from sealkit.escrow import scheme as escrow
from sealkit.escrow.scheme import EscrowError
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import PrivateKey, fingerprint, load_private_keys
from tests.sealkit.test_certificates import unknown_key_type

VAULT_NAME = re.compile(r"[0-9a-zA-Z-]{1,127}")
CLUSTERS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,84}[a-z0-9])?", fullmatch=True)


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return generate_key_pair(bits=2048, now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def other() -> GeneratedKey:
    return generate_key_pair(bits=2048)


def test_key_id_is_the_start_of_the_digest_behind_the_fingerprint(pair: GeneratedKey) -> None:
    numbers = pair.key.public_key.public_numbers()

    def mpint(value: int) -> bytes:
        raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
        return len(raw).to_bytes(4, "big") + raw

    wire = len(b"ssh-rsa").to_bytes(4, "big") + b"ssh-rsa" + mpint(numbers.e) + mpint(numbers.n)
    assert escrow.key_id(pair.key.fingerprint) == hashlib.sha256(wire).hexdigest()[:32]
    expected = "sealkit-prod-eu-" + hashlib.sha256(wire).hexdigest()[:32]
    assert escrow.secret_name("prod-eu", pair.key.fingerprint) == expected


@given(cluster=CLUSTERS, digest=st.binary(min_size=32, max_size=32))
def test_names_are_valid_vault_names_and_parse_back(cluster: str, digest: bytes) -> None:
    fp = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    name = escrow.secret_name(cluster, fp)
    assert VAULT_NAME.fullmatch(name)
    assert escrow.parse_secret_name(name) == (cluster, digest.hex()[:32])
    assert escrow.parse_secret_name(name.upper()) == (cluster, digest.hex()[:32])  # vault names ignore case


@pytest.mark.parametrize(
    "bad", ["", "Prod", "-prod", "prod-", "prod_eu", "prod.eu", "a" * (escrow.MAX_CLUSTER_LENGTH + 1), "ü"]
)
def test_bad_cluster_names_are_refused_in_one_line(bad: str) -> None:
    with pytest.raises(EscrowError, match="escrow cluster name") as info:
        escrow.check_cluster_name(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(EscrowError, match=r"starting and ending with a letter or digit: --cluster-name$"):
        escrow.check_cluster_name(bad, where="--cluster-name")


@pytest.mark.parametrize(
    "name",
    [
        "db-password",
        "sealkit-dev",
        "sealkit-dev-" + "g" * 32,
        "sealkit--" + "a" * 32,
        "sealkit-dev" + "a" * 32,
        "other-dev-" + "a" * 32,
    ],
)
def test_foreign_names_do_not_parse(name: str) -> None:
    assert escrow.parse_secret_name(name) is None


def test_bad_fingerprints_are_refused() -> None:
    for bad in ("", "SHA256:abc", "MD5:" + "a" * 43, "SHA256:" + "*" * 43):
        with pytest.raises(EscrowError):
            escrow.key_id(bad)


def test_payload_holds_pkcs1_key_then_certificate_with_tags(pair: GeneratedKey) -> None:
    payload = escrow.build_payload(pair.key, "dev")
    assert payload.content_type == "application/x-pem-file"
    assert payload.value.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert payload.value.index("BEGIN CERTIFICATE") > payload.value.index("END RSA PRIVATE KEY")
    assert dict(payload.tags) == {
        "fingerprint": pair.key.fingerprint,
        "created": "2026-01-02T03:04:05Z",
        "cluster": "dev",
        "sealkit-escrow": "1",
    }
    # The payload is an ordinary PEM bundle: `sealkit unseal --recovery-private-key` reads it too.
    (loaded,) = load_private_keys(payload.value.encode())
    assert loaded.fingerprint == pair.key.fingerprint and loaded.not_before == pair.key.not_before
    assert "PRIVATE" not in repr(payload) and payload.value[40:80] not in repr(payload)


def test_round_trip_keeps_key_certificate_and_date(pair: GeneratedKey) -> None:
    payload = escrow.build_payload(pair.key, "dev")
    key = escrow.parse_payload(payload.value, name=payload.name, cluster="dev", tags=payload.tags)
    assert key.fingerprint == pair.key.fingerprint
    assert key.certificate_pem is not None and key.certificate_pem.strip() == pair.certificate_pem.strip()
    assert key.not_before == pair.key.not_before
    escrow.verify_read_back(payload.value, payload)


def test_key_without_certificate_has_no_created_tag(small_key: rsa.RSAPrivateKey) -> None:
    bare = PrivateKey(small_key, fingerprint(small_key.public_key()), "byo")
    payload = escrow.build_payload(bare, "dev")
    assert "created" not in payload.tags and "CERTIFICATE" not in payload.value
    assert escrow.parse_payload(payload.value, name=payload.name, cluster="dev").certificate_pem is None


def test_certificate_of_another_key_is_refused(pair: GeneratedKey, other: GeneratedKey) -> None:
    mixed = PrivateKey(pair.key.key, pair.key.fingerprint, "x", pair.key.not_before, other.certificate_pem)
    with pytest.raises(EscrowError) as unsent:
        escrow.build_payload(mixed, "dev")
    assert str(unsent.value) == (  # what is wrong, then where
        "the certificate is the certificate of another key, not of the private key; not escrowed: "
        f"sealing key {pair.key.fingerprint}"
    )
    good = escrow.build_payload(pair.key, "dev")
    swapped = good.value.split("-----BEGIN CERTIFICATE-----")[0] + other.certificate_pem.decode()
    with pytest.raises(EscrowError) as mixed_up:
        escrow.parse_payload(swapped, name=good.name, cluster="dev")
    assert str(mixed_up.value) == (
        f"the certificate is the certificate of another key, not of the private key: escrowed key {good.name}"
    )


def test_a_certificate_of_an_unknown_key_type_is_refused_in_one_line(pair: GeneratedKey) -> None:
    """Its `public_key()` raises UnsupportedAlgorithm, which is no ValueError: it ended a backup or a restore as
    an internal error."""
    unknown = unknown_key_type(pair.certificate_pem)
    mixed = PrivateKey(pair.key.key, pair.key.fingerprint, "x", pair.key.not_before, unknown)
    with pytest.raises(EscrowError) as unsent:
        escrow.build_payload(mixed, "dev")
    assert str(unsent.value) == f"the certificate's key is not RSA; not escrowed: sealing key {pair.key.fingerprint}"
    good = escrow.build_payload(pair.key, "dev")
    swapped = good.value.split("-----BEGIN CERTIFICATE-----")[0] + unknown.decode()
    with pytest.raises(EscrowError) as read:
        escrow.parse_payload(swapped, name=good.name, cluster="dev")
    assert str(read.value) == f"the certificate's key is not RSA: escrowed key {good.name}"


def test_a_value_holding_another_key_than_its_name_is_refused(pair: GeneratedKey, other: GeneratedKey) -> None:
    good = escrow.build_payload(pair.key, "dev")
    wrong = escrow.build_payload(other.key, "dev")
    with pytest.raises(EscrowError, match="not the key its name is for") as info:
        escrow.parse_payload(wrong.value, name=good.name, cluster="dev")
    assert "PRIVATE KEY" not in str(info.value)
    assert str(info.value) == (
        f"it holds key {other.key.fingerprint}, not the key its name is for: escrowed key {good.name}"
    )
    with pytest.raises(EscrowError, match="not the key its name is for"):
        escrow.verify_read_back(wrong.value, good)  # a vault returning another key than was written


def test_fingerprint_tag_must_match(pair: GeneratedKey, other: GeneratedKey) -> None:
    payload = escrow.build_payload(pair.key, "dev")
    with pytest.raises(EscrowError, match="fingerprint tag"):
        escrow.parse_payload(
            payload.value, name=payload.name, cluster="dev", tags={"fingerprint": other.key.fingerprint}
        )


@pytest.mark.parametrize("value", ["", "not pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_garbage_values_fail_in_one_line(pair: GeneratedKey, value: str) -> None:
    name = escrow.secret_name("dev", pair.key.fingerprint)
    with pytest.raises(EscrowError) as info:
        escrow.parse_payload(value, name=name, cluster="dev")
    assert "\n" not in str(info.value)


def test_two_keys_in_one_value_are_refused(pair: GeneratedKey, other: GeneratedKey) -> None:
    name = escrow.secret_name("dev", pair.key.fingerprint)
    value = pair.private_pem.decode() + other.private_pem.decode()
    with pytest.raises(EscrowError) as info:
        escrow.parse_payload(value, name=name, cluster="dev")
    assert str(info.value) == f"it holds 2 private keys, expected one: escrowed key {name}"


def test_wrong_cluster_is_refused(pair: GeneratedKey) -> None:
    payload = escrow.build_payload(pair.key, "dev")
    with pytest.raises(EscrowError) as info:
        escrow.parse_payload(payload.value, name=payload.name, cluster="prod")
    assert str(info.value) == f"not a sealkit escrow secret name for cluster prod: escrowed key {payload.name}"


def _tags(key: PrivateKey, for_cluster: str, **extra: str) -> dict[str, Any]:
    return {**escrow.build_payload(key, for_cluster).tags, **extra}


def test_listing_keeps_only_this_clusters_scheme_entries(pair: GeneratedKey, other: GeneratedKey) -> None:
    mine = escrow.secret_name("dev", pair.key.fingerprint)
    entry = escrow.entry_from_listing(mine, _tags(pair.key, "dev"), cluster="dev", version="v1")
    assert entry == escrow.EscrowEntry(mine, "dev", pair.key.fingerprint, pair.key.not_before, True, "v1")
    # "dev-eu"'s secrets start with "sealkit-dev-" as well: the name's cluster part must be exact.
    theirs = escrow.secret_name("dev-eu", other.key.fingerprint)
    assert escrow.entry_from_listing(theirs, _tags(other.key, "dev-eu"), cluster="dev") is None
    assert escrow.entry_from_listing(mine, None, cluster="dev") is None
    assert escrow.entry_from_listing(mine, _tags(pair.key, "dev", **{"sealkit-escrow": "2"}), cluster="dev") is None
    assert escrow.entry_from_listing(mine, _tags(pair.key, "dev", cluster="prod"), cluster="dev") is None
    # a fingerprint tag that does not give the name's key id
    assert (
        escrow.entry_from_listing(mine, _tags(pair.key, "dev", fingerprint=other.key.fingerprint), cluster="dev")
        is None
    )
    assert escrow.entry_from_listing("db-password", {"cluster": "dev"}, cluster="dev") is None


def test_missing_lists_held_keys_without_an_enabled_escrow(pair: GeneratedKey, other: GeneratedKey) -> None:
    entry = escrow.EscrowEntry("n", "dev", pair.key.fingerprint, None)
    disabled = escrow.EscrowEntry("m", "dev", other.key.fingerprint, None, enabled=False)
    held = [other.key.fingerprint, pair.key.fingerprint]
    assert escrow.missing(held, [entry, disabled]) == [other.key.fingerprint]
    assert escrow.missing(held, []) == held


def test_a_restore_uses_dated_copies_never_disabled_ones(pair: GeneratedKey) -> None:
    """Expired and not-yet-valid copies still hold their key: a restore uses them (a backup replaces them);
    a disabled copy was withdrawn by someone and is never used."""
    from sealkit.escrow.sync import restore_order

    fp = pair.key.fingerprint
    now = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    day = dt.timedelta(days=1)
    listed = {
        "fine": escrow.entry_from_listing(
            escrow.secret_name("dev", fp), _tags(pair.key, "dev"), cluster="dev", now=now
        ),
        "expired": escrow.entry_from_listing(
            escrow.secret_name("dev", fp), _tags(pair.key, "dev"), cluster="dev", expires_on=now - day, now=now
        ),
        "not yet valid": escrow.entry_from_listing(
            escrow.secret_name("dev", fp), _tags(pair.key, "dev"), cluster="dev", not_before=now + day, now=now
        ),
        "disabled": escrow.entry_from_listing(
            escrow.secret_name("dev", fp),
            _tags(pair.key, "dev"),
            cluster="dev",
            enabled=False,
            expires_on=now - day,
            now=now,
        ),
    }
    states = {label: (e.enabled, e.state, e.restorable) for label, e in listed.items() if e is not None}
    assert states == {
        "fine": (True, "", True),
        "expired": (False, "expired", True),
        "not yet valid": (False, "not yet valid", True),
        "disabled": (False, "disabled", False),
    }
    assert [e.state for e in restore_order(e for e in listed.values() if e is not None)] == [
        "",
        "expired",
        "not yet valid",
    ]


@given(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(9999, 1, 1), timezones=st.just(dt.UTC)))
def test_rfc3339_round_trips_to_the_second(when: dt.datetime) -> None:
    text = escrow.rfc3339(when)
    assert text.endswith("Z")
    assert escrow.parse_rfc3339(text) == when.replace(microsecond=0)


def test_a_restore_onto_a_secret_holding_another_key_names_that_secret_last(
    pair: GeneratedKey, other: GeneratedKey
) -> None:
    from sealkit.errors import SealkitError, ServiceError
    from sealkit.escrow.sync import restore_keys
    from sealkit.keysecrets import key_secret_manifest

    class Taken:  # every name is taken, by a Secret holding `other`
        def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
            return []

        def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
            return key_secret_manifest(other, namespace=namespace, prefix=name)

        def create_secret(self, namespace: str, body: Any) -> dict[str, Any]:
            raise ServiceError("already exists", status=409)

    with pytest.raises(SealkitError) as taken:
        restore_keys(Taken(), "kube-system", [(pair.key, "vault")], prefix="sealed-secrets-key")
    assert re.fullmatch(
        rf"it exists and holds another key; restore key {re.escape(pair.key.fingerprint)} by hand: "
        r"key Secret kube-system/sealed-secrets-key\S+",
        str(taken.value),
    ), str(taken.value)
