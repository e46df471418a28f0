"""verify_sealed_secret's two modes: "opens only" (the controller's /v1/verify, answering anyone who posts a
copy of a SealedSecret: templates parsed and checked, never executed, nothing concluded from what a value holds)
and full (`read_values=True`, keys in hand: the whole unseal, templates run, content checked)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit import hybrid
from sealkit.errors import TemplateError, UnsealError
from sealkit.keys import KeyRing, PrivateKey, SealingCertificate, fingerprint, load_certificate
from sealkit.reseal import verify_sealed_secret
from sealkit.sealing import seal_secret
from sealkit.unsealing import InvalidTemplate

WHERE = "in.yaml document 1"
PROBE = '{{ if hasPrefix "p4" .password }}{{ else }}{{ fail "no" }}{{ end }}'


@pytest.fixture(scope="module")
def cert(small_key: rsa.RSAPrivateKey, certificate_factory: Any) -> SealingCertificate:
    return load_certificate(certificate_factory(small_key))


@pytest.fixture(scope="module")
def ring(small_key: rsa.RSAPrivateKey) -> KeyRing:
    return KeyRing([PrivateKey(small_key, fingerprint(small_key.public_key()), "test")])


def sealed(cert: SealingCertificate, value: str = "p4ss", **template_data: str) -> dict[str, Any]:
    source = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "team-a"},
        "stringData": {"password": value},
    }
    obj = seal_secret(source, cert)
    if template_data:
        obj["spec"]["template"]["data"] = template_data
    return obj


@pytest.fixture()
def never_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    import sealkit.gotemplate

    monkeypatch.setattr(sealkit.gotemplate, "render_template", lambda *a, **k: pytest.fail("template executed"))


@pytest.mark.parametrize("template", ['{{ fail "no" }}', PROBE])
def test_opens_only_never_executes_a_template(
    cert: SealingCertificate, ring: KeyRing, monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    obj = sealed(cert, "Xyz", probe=template)
    with pytest.raises(TemplateError, match=r"^template spec\.template\.data\[probe\] at 1:\d+: error calling"):
        verify_sealed_secret(obj, ring, where=WHERE, read_values=True)
    import sealkit.gotemplate

    monkeypatch.setattr(sealkit.gotemplate, "render_template", lambda *a, **k: pytest.fail("template executed"))
    verify_sealed_secret(obj, ring, where=WHERE)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
def test_opens_only_answers_the_same_whatever_a_value_holds(
    cert: SealingCertificate, ring: KeyRing, password: str
) -> None:
    # The answer must not depend on the value: with the template run, PROBE answered whether it starts with p4.
    verify_sealed_secret(sealed(cert, password, probe=PROBE), ring, where=WHERE)


@pytest.mark.parametrize("name", [".dockerconfigjson", ".dockercfg"])
def test_opens_only_reads_no_content_that_full_mode_checks(cert: SealingCertificate, ring: KeyRing, name: str) -> None:
    obj = sealed(cert, "not json")
    obj["spec"]["encryptedData"] = {name: obj["spec"]["encryptedData"]["password"]}
    obj["spec"]["template"]["type"] = f"kubernetes.io/{name[1:]}"
    verify_sealed_secret(obj, ring, where=WHERE)
    with pytest.raises(InvalidTemplate, match=rf"invalid: data\[{name}\]: is not a JSON object: {WHERE}$"):
        verify_sealed_secret(obj, ring, where=WHERE, read_values=True)


@pytest.mark.parametrize(
    ("template", "refusal"),
    [
        ("{{ if .password }}\n {{ .", r"at 2:6: unclosed action"),
        ('{{ env "HOME" }}', r"at 1:4: function env is not supported"),
    ],
)
def test_opens_only_refuses_a_template_that_does_not_parse_before_opening(
    cert: SealingCertificate, ring: KeyRing, monkeypatch: pytest.MonkeyPatch, template: str, refusal: str
) -> None:
    import sealkit.unsealing

    obj = sealed(cert, probe=template)
    monkeypatch.setattr(sealkit.unsealing, "open_value", lambda *a, **k: pytest.fail("opened before the check"))
    with pytest.raises(TemplateError, match=rf"^template spec\.template\.data\[probe\] {refusal}.*: {WHERE}$"):
        verify_sealed_secret(obj, ring, where=WHERE)


def test_opens_only_with_a_template_still_refuses_what_does_not_open_or_names_decide(
    cert: SealingCertificate, ring: KeyRing, never_rendered: None
) -> None:
    obj = sealed(cert, probe="{{ .password }}")
    verify_sealed_secret(obj, ring, where=WHERE)
    obj["metadata"]["name"] = "other"  # strict scope: the values no longer open
    with pytest.raises(UnsealError, match=r"^item .password.: sealed strict for team-a/db, but"):
        verify_sealed_secret(obj, ring, where=WHERE)
    obj = sealed(cert, probe="{{ .password }}")
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "not a label value!"}
    with pytest.raises(InvalidTemplate, match=r"^the Secret it describes is invalid: spec\.template\.metadata\.labels"):
        verify_sealed_secret(obj, ring, where=WHERE)


def test_opens_only_reads_nothing_from_a_spec_data_blob_with_a_template(
    small_key: rsa.RSAPrivateKey, ring: KeyRing, never_rendered: None
) -> None:
    blob = hybrid.encrypt(small_key.public_key(), b"not a JSON Secret", b"team-a/legacy")
    obj = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "legacy", "namespace": "team-a"},
        "spec": {"data": base64.b64encode(blob).decode(), "template": {"data": {"probe": "{{ .user }}"}}},
    }
    verify_sealed_secret(obj, ring, where=WHERE)
    with pytest.raises(UnsealError, match=r"spec\.data does not hold a JSON Secret"):
        verify_sealed_secret(obj, ring, where=WHERE, read_values=True)


def sealed_items(cert: SealingCertificate, secret_type: str, items: dict[str, str], **meta: Any) -> dict[str, Any]:
    source = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "team-a", **meta},
        "type": secret_type,
        "stringData": items,
    }
    return seal_secret(source, cert, check_data=False, allow_empty_data=True)


def refusal(obj: dict[str, Any], ring: KeyRing, *, read_values: bool) -> str | None:
    try:
        verify_sealed_secret(obj, ring, where=WHERE, read_values=read_values)
    except InvalidTemplate as exc:
        return str(exc)
    return None


def test_opens_only_with_a_template_refuses_a_key_the_type_needs(
    cert: SealingCertificate, ring: KeyRing, never_rendered: None
) -> None:
    # The Secret's keys are the items' and the template's: names alone. Opens only skipped the check when
    # there was a template, and /v1/verify said 200 to a kubernetes.io/tls Secret the controller refuses.
    obj = sealed_items(cert, "kubernetes.io/tls", {"crt": "c"})
    obj["spec"]["template"]["data"] = {"tls.crt": "{{ .crt }}"}
    expected = f"the Secret it describes is invalid: data: a kubernetes.io/tls Secret needs the key tls.key: {WHERE}"
    with pytest.raises(InvalidTemplate) as refused:
        verify_sealed_secret(obj, ring, where=WHERE)
    assert str(refused.value) == expected
    obj["spec"]["template"]["data"]["tls.key"] = "{{ .crt }}"  # from the template alone: the key is there
    verify_sealed_secret(obj, ring, where=WHERE)


def test_opens_only_with_a_template_refuses_a_service_account_token_without_its_annotation(
    cert: SealingCertificate, ring: KeyRing, never_rendered: None
) -> None:
    obj = sealed_items(cert, "kubernetes.io/service-account-token", {"token": "t"})
    obj["spec"]["template"]["data"] = {"ca.crt": "{{ .token }}"}
    with pytest.raises(InvalidTemplate, match=r"needs the kubernetes\.io/service-account\.name annotation"):
        verify_sealed_secret(obj, ring, where=WHERE)
    obj["spec"]["template"]["metadata"]["annotations"] = {"kubernetes.io/service-account.name": "api"}
    verify_sealed_secret(obj, ring, where=WHERE)


def test_opens_only_with_a_template_refuses_an_empty_ssh_key_no_template_replaces(
    cert: SealingCertificate, ring: KeyRing, never_rendered: None
) -> None:
    # An item's size is the ciphertext's; a template's output is known only by running it over the values.
    obj = sealed_items(cert, "kubernetes.io/ssh-auth", {"ssh-privatekey": "", "user": ""})
    obj["spec"]["template"]["data"] = {"known_hosts": "{{ .user }}"}
    with pytest.raises(InvalidTemplate, match=r"invalid: data\[ssh-privatekey\]: must not be empty: "):
        verify_sealed_secret(obj, ring, where=WHERE)
    obj["spec"]["template"]["data"] = {"ssh-privatekey": "{{ .user }}"}
    verify_sealed_secret(obj, ring, where=WHERE)


def test_opens_only_with_a_template_refuses_items_no_template_replaces_above_1_mib(
    small_key: rsa.RSAPrivateKey, ring: KeyRing, never_rendered: None
) -> None:
    big = base64.b64encode(hybrid.encrypt(small_key.public_key(), b"x" * 600_000, b"team-a/db")).decode()
    obj = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "db", "namespace": "team-a"},
        "spec": {"encryptedData": {"a": big, "b": big}, "template": {"data": {"c": "{{ .a }}"}}},
    }
    with pytest.raises(InvalidTemplate, match=r"invalid: data: is larger than the API server's 1 MiB limit"):
        verify_sealed_secret(obj, ring, where=WHERE)
    obj["spec"]["template"]["data"] = {"b": ""}  # its output replaces b: how large is known only by running it
    verify_sealed_secret(obj, ring, where=WHERE)


NAMED = ["tls.crt", "tls.key", "username", "password", "ssh-privatekey", ".dockercfg", ".dockerconfigjson", "x"]
TYPES = [
    "Opaque",
    "kubernetes.io/tls",
    "kubernetes.io/basic-auth",
    "kubernetes.io/ssh-auth",
    "kubernetes.io/dockercfg",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/service-account-token",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    secret_type=st.sampled_from(TYPES),
    items=st.sets(st.sampled_from(NAMED), min_size=1),
    templated=st.sets(st.sampled_from(NAMED), min_size=1),
    annotated=st.booleans(),
)
def test_opens_only_and_full_refuse_alike_what_names_decide(
    cert: SealingCertificate,
    ring: KeyRing,
    secret_type: str,
    items: set[str],
    templated: set[str],
    annotated: bool,
) -> None:
    # Values and template outputs that are JSON objects and not empty: the two modes can differ only in what
    # names decide, and must not.
    annotations = {"kubernetes.io/service-account.name": "api"} if annotated else {}
    obj = sealed_items(cert, secret_type, dict.fromkeys(items, "{}"), annotations=annotations)
    obj["spec"]["template"]["data"] = dict.fromkeys(templated, "{}")
    assert refusal(obj, ring, read_values=False) == refusal(obj, ring, read_values=True)
