"""The API server's rules for a Secret, as `seal`, lint and the controller share them; problems name the
field and the rule, never the content."""

from __future__ import annotations

from typing import Any

import pytest

from sealkit import validation as v

PLANTED = "Pl4nted-S3cret"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("db", True),
        ("db.team-a", True),
        ("a" * 253, True),
        ("a" * 254, False),
        ("DB", False),
        ("db_1", False),
        ("-db", False),
        ("db.", False),
        ("", False),
    ],
)
def test_names_are_dns_subdomains(value: str, ok: bool) -> None:
    assert (v.name_problems(value) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"), [("team-a", True), ("a" * 63, True), ("a" * 64, False), ("team.a", False), ("Team", False)]
)
def test_namespaces_are_dns_labels(value: str, ok: bool) -> None:
    assert (v.namespace_problems(value) == []) is ok


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("password", True),
        (".dockerconfigjson", True),
        ("tls.crt", True),
        ("a-b_c.D", True),
        ("k" * 253, True),
        ("k" * 254, False),
        (".", False),
        ("..", False),
        ("..data", False),
        ("bad/key", False),
        ("with space", False),
        ("", False),
    ],
)
def test_data_keys(key: str, ok: bool) -> None:
    assert v.is_data_key(key) is ok


@pytest.mark.parametrize(
    ("labels", "ok"),
    [
        ({"app": "db", "example.com/tier": "backend", "empty": ""}, True),
        ({"app": "my db"}, False),
        ({"app": "x" * 64}, False),
        ({"-app": "db"}, False),
        ({"Example.com/tier": "x"}, False),
        ({"a/b/c": "x"}, False),
        ({"app": 5}, False),
        ("app=db", False),
    ],
)
def test_labels(labels: Any, ok: bool) -> None:
    assert (v.labels_problems(labels) == []) is ok


def test_annotations_keys_are_checked_lower_case_and_the_total_is_capped() -> None:
    assert v.annotations_problems({"Example.com/Owner": "any value at all: spaces, slashes /"}) == []
    assert v.annotations_problems({"bad key": "x"})
    (problem,) = v.annotations_problems({"a": "x" * (256 * 1024)})
    assert "256 KiB" in str(problem)


def test_type_and_immutable_must_have_their_types() -> None:
    assert v.type_problems("kubernetes.io/tls") == [] and v.type_problems(None) == []
    assert v.immutable_problems(True) == [] and v.immutable_problems(None) == []
    assert str(v.type_problems({"password": PLANTED})[0]) == "type: is a mapping, not a string"
    assert str(v.immutable_problems("yes")[0]) == "immutable: is a string, not true or false"


def test_secret_data_size_and_type_keys() -> None:
    assert v.secret_data_problems({"a": b"x" * (1024 * 1024)}, None) == []
    (too_big,) = v.secret_data_problems({"a": b"x" * (1024 * 1024), "b": b"y"}, None)
    assert "1 MiB" in str(too_big)
    tls = v.secret_data_problems({"tls.crt": b"c"}, "kubernetes.io/tls")
    assert [str(p) for p in tls] == ["data: a kubernetes.io/tls Secret needs the key tls.key"]
    assert v.secret_data_problems({"password": b"p"}, "kubernetes.io/basic-auth") == []
    bad_json = v.secret_data_problems({".dockerconfigjson": PLANTED.encode()}, "kubernetes.io/dockerconfigjson")
    assert [str(p) for p in bad_json] == ["data[.dockerconfigjson]: is not a JSON object"]
    unread = {".dockerconfigjson": PLANTED.encode()}
    assert v.secret_data_problems(unread, "kubernetes.io/dockerconfigjson", read_values=False) == []
    (unnamed,) = v.secret_data_problems({"x": b"{}"}, "kubernetes.io/dockercfg", read_values=False)
    assert str(unnamed) == "data: a kubernetes.io/dockercfg Secret needs the key .dockercfg", "names still decide"
    token = v.secret_data_problems({}, "kubernetes.io/service-account-token", {})
    assert "kubernetes.io/service-account.name" in str(token[0])


def test_template_problems_cover_what_the_controller_copies() -> None:
    spec = {
        "encryptedData": {"good": "AgA=", f"{PLANTED} bad": "AgA="},
        "template": {
            "metadata": {"labels": {"app": f"{PLANTED} value"}, "annotations": {"ok/fine": "x"}},
            "type": {"kind": PLANTED},
            "immutable": "no",
            "data": {"..bad": "{{ .good }}"},
        },
    }
    problems = [str(p) for p in v.template_problems(spec)]
    assert problems == [
        "spec.template.metadata.labels[app]: is not a valid label value (" + v.LABEL_VALUE_RULE + ")",
        "spec.template.type: is a mapping, not a string",
        "spec.template.immutable: is a string, not true or false",
        "spec.encryptedData: the 2nd key is not a valid Secret key (" + v.DATA_KEY_RULE + ")",
        "spec.template.data: the 1st key is not a valid Secret key (" + v.DATA_KEY_RULE + ")",
    ]
    assert not any(PLANTED in p for p in problems)
    assert v.template_problems({"encryptedData": {"a": "x"}}) == []
