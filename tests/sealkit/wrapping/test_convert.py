"""`sealkit keys wrap`/`rewrap` in the core (`sealkit.wrapping.convert`) against Secrets in memory: each error is
one line, what is wrong first and the Secret last. The runs against a cluster are tests/cli/test_keys_wrap.py."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.errors import KeyMaterialError, SealkitError
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keysecrets import key_secret_manifest
from sealkit.wrapping.convert import rewrap_key_secrets, wrap_key_secrets
from sealkit.wrapping.envelope import wrap_private_key
from sealkit.wrapping.keysecret import wrapped_key_manifest, wrapped_secret_name
from sealkit.wrapping.names import WRAPPED_KEY_LABEL
from tests.sealkit.test_certificates import unknown_key_type
from tests.support.keys import LocalKek

NS = "kube-system"
PREFIX = "sealed-secrets-key"


class Secrets:
    """The Secret calls of `KeySecretsClient`, in memory; `read` may change what a get returns."""

    def __init__(self, *secrets: dict[str, Any]) -> None:
        self.by_name = {str(s["metadata"]["name"]): copy.deepcopy(s) for s in secrets}
        self.read: Callable[[str, dict[str, Any] | None], dict[str, Any] | None] = lambda name, found: found

    def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        return [s for s in self.by_name.values() if label_selector in (s["metadata"].get("labels") or {})]

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.read(name, copy.deepcopy(self.by_name.get(name)))

    def create_secret(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self.by_name[str(body["metadata"]["name"])] = copy.deepcopy(dict(body))
        return dict(body)

    def replace_secret(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self.by_name[name] = copy.deepcopy(dict(body))
        return dict(body)

    def delete_secret(self, namespace: str, name: str, uid: str | None = None) -> bool:
        return self.by_name.pop(name, None) is not None


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    return [generate_key_pair(bits=2048) for _ in range(2)]


def plaintext(pair: GeneratedKey, name: str) -> dict[str, Any]:
    secret = key_secret_manifest(pair, namespace=NS, prefix=PREFIX)
    secret["metadata"]["name"] = name
    return secret


def wrapped_secret(pair: GeneratedKey, kek: LocalKek) -> dict[str, Any]:
    return wrapped_key_manifest(wrap_private_key(pair.key, kek), namespace=NS, prefix=PREFIX)


def test_wrap_refuses_a_key_secret_without_its_certificate(pairs: list[GeneratedKey]) -> None:
    secret = plaintext(pairs[0], "k1")
    del secret["data"]["tls.crt"]
    with pytest.raises(KeyMaterialError) as caught:
        wrap_key_secrets(Secrets(secret), NS, LocalKek(), prefix=PREFIX)
    assert str(caught.value) == f"it has no tls.crt; a wrapped key keeps its certificate in clear: key Secret {NS}/k1"


def test_wrap_checks_what_it_reads_back(pairs: list[GeneratedKey]) -> None:
    kek = LocalKek()
    target = wrapped_secret_name(PREFIX, pairs[0].key.fingerprint)
    where = f"wrapped key Secret {NS}/{target}"
    lost = Secrets(plaintext(pairs[0], "k1"))
    lost.read = lambda name, found: None if name == target else found
    with pytest.raises(SealkitError) as missing:
        wrap_key_secrets(lost, NS, kek, prefix=PREFIX)
    assert str(missing.value) == f"written, but not found when read back: {where}"
    assert "k1" in lost.by_name, "the plaintext key Secret stays until its wrapped copy is proven"
    other = wrapped_secret(pairs[1], kek)
    swapped = Secrets(plaintext(pairs[0], "k1"))
    swapped.read = lambda name, found: copy.deepcopy(other) if name == target else found
    with pytest.raises(KeyMaterialError) as another:
        wrap_key_secrets(swapped, NS, kek, prefix=PREFIX)
    assert str(another.value) == (
        f"read back, it opens to {pairs[1].key.fingerprint}, not {pairs[0].key.fingerprint}: {where}"
    )
    assert "k1" in swapped.by_name


def test_rewrap_checks_the_secret_before_and_after_it_writes(pairs: list[GeneratedKey]) -> None:
    kek = LocalKek()
    secret = wrapped_secret(pairs[0], kek)
    name = str(secret["metadata"]["name"])
    where = f"wrapped key Secret {NS}/{name}"
    kek.versions["v2"], kek.current = kek.versions["v1"][::-1], "v2"
    changed = Secrets(secret)
    changed.read = lambda _, found: wrapped_secret(pairs[1], kek)  # replaced by another key meanwhile
    with pytest.raises(SealkitError) as moved:
        rewrap_key_secrets(changed, NS, kek)
    assert str(moved.value) == f"it changed while it was being rewrapped; run rewrap again: {where}"
    stale = Secrets(secret)
    stale.read = lambda _, found: copy.deepcopy(secret)  # the write did not take
    with pytest.raises(SealkitError) as unchanged:
        rewrap_key_secrets(stale, NS, kek)
    assert str(unchanged.value) == f"read back, it holds another envelope than was written: {where}"


@pytest.mark.parametrize("case", ["unknown-type", "another-key", "damaged"])
def test_wrap_refuses_a_key_secret_whose_certificate_is_not_its_keys(pairs: list[GeneratedKey], case: str) -> None:
    """The certificate stays in clear beside the wrapped key (served, dated by): it must be the key's, checked by
    the one check (`refuse_another_keys_certificate`) naming the Secret; nothing is written or deleted. A key type
    `cryptography` does not know raised UnsupportedAlgorithm: `sealkit keys wrap` ended in an internal error."""
    secret = plaintext(pairs[0], "k1")
    certificate = {
        "unknown-type": unknown_key_type(pairs[0].certificate_pem),
        "another-key": pairs[1].certificate_pem,
        "damaged": b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    }[case]
    secret["data"]["tls.crt"] = base64.b64encode(certificate).decode()
    secrets = Secrets(secret)
    with pytest.raises(KeyMaterialError) as caught:
        wrap_key_secrets(secrets, NS, LocalKek(), prefix=PREFIX)
    what = {
        "unknown-type": "tls.crt's key is not RSA",
        "another-key": "tls.crt is the certificate of another key, not of tls.key",
        "damaged": "tls.crt does not parse",
    }[case]
    assert str(caught.value) == f"{what}: key Secret {NS}/k1"
    assert list(secrets.by_name) == ["k1"], "nothing written, nothing deleted"


def test_rewrap_refuses_a_wrapped_key_secret_it_cannot_read_before_it_rewraps_any(pairs: list[GeneratedKey]) -> None:
    """A wrapped key Secret that does not read (a field damaged) was passed over with a log line and the run ended
    0: the operator then disables the old KEK version, the only one that opens its key once it is repaired. Now
    the run ends before anything is rewrapped, naming the Secret."""
    kek = LocalKek()
    good, broken = wrapped_secret(pairs[0], kek), wrapped_secret(pairs[1], kek)
    broken["data"]["scheme"] = base64.b64encode(b"sealkit-wrapped-key/9").decode()
    kek.versions["v2"], kek.current = kek.versions["v1"][::-1], "v2"
    secrets = Secrets(good, broken)
    with pytest.raises(KeyMaterialError) as caught:
        rewrap_key_secrets(secrets, NS, kek)
    where = f"wrapped key Secret {NS}/{broken['metadata']['name']}"
    assert str(caught.value) == f"scheme 'sealkit-wrapped-key/9' is not sealkit-wrapped-key/1: {where}"
    assert secrets.by_name[str(good["metadata"]["name"])] == good, "nothing rewrapped"
    assert kek.unwraps == 0


def test_wrap_keeps_a_retirement_made_since_an_interrupted_run(pairs: list[GeneratedKey]) -> None:
    """An interrupted run left an active wrapped copy; the operator then retired the plaintext key (label
    `compromised`). The rerun reused the active copy and deleted the retired plaintext Secret: the key was back in
    use without a word. Now the labels must agree before the plaintext Secret goes."""
    kek = LocalKek()
    retired = plaintext(pairs[0], "k1")
    retired["metadata"]["labels"][SEALING_KEY_LABEL] = "compromised"
    copy_of_it = wrapped_secret(pairs[0], kek)
    secrets = Secrets(retired, copy_of_it)
    with pytest.raises(KeyMaterialError) as caught:
        wrap_key_secrets(secrets, NS, kek, prefix=PREFIX)
    assert str(caught.value) == (
        f"it holds this key labelled {WRAPPED_KEY_LABEL}=active, but the key Secret it would replace is labelled "
        f"{SEALING_KEY_LABEL}=compromised: relabel one so they agree (nothing deleted): "
        f"wrapped key Secret {NS}/{copy_of_it['metadata']['name']}"
    )
    assert "k1" in secrets.by_name
    secrets.by_name[str(copy_of_it["metadata"]["name"])]["metadata"]["labels"][WRAPPED_KEY_LABEL] = "compromised"
    done = wrap_key_secrets(secrets, NS, kek, prefix=PREFIX)
    assert [d.action for d in done] == ["already wrapped"] and "k1" not in secrets.by_name
