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
