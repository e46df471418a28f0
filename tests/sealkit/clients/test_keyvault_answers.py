"""`answers.problem`: the shape of a Key Vault answer, checked before the SDK reads it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.clients.keyvault.answers import problem

VAULT = "https://kv.vault.azure.net"
SECRET_ID = f"{VAULT}/secrets/db/0123456789abcdef0123456789abcdef"
GOOD_SECRET = {"value": "s", "id": SECRET_ID, "attributes": {"enabled": True, "exp": 1900000000}, "tags": {"a": "b"}}
GOOD_LISTING = {"value": [{"id": f"{VAULT}/secrets/db", "attributes": {"enabled": False}}], "nextLink": None}


def test_what_key_vault_sends_passes() -> None:
    assert problem("GET", f"{VAULT}/secrets/db/", GOOD_SECRET) is None
    assert problem("GET", f"{VAULT}/secrets/DB/0123456789abcdef0123456789abcdef", GOOD_SECRET) is None
    assert problem("GET", f"{VAULT}/secrets", GOOD_LISTING) is None
    assert problem("GET", f"{VAULT}/secrets/db/versions", {"value": [], "nextLink": f"{VAULT}/x"}) is None
    assert problem("POST", f"{VAULT}/keys/k/1/unwrapkey", {"kid": f"{VAULT}/keys/k/1", "value": "AAEC-_"}) is None


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/secrets", None, "it is not a JSON object"),
        ("GET", "/secrets", {"value": 5}, "its listing has no list of items"),
        ("GET", "/secrets", {"value": ["a"]}, "an item of its listing is not a JSON object"),
        ("GET", "/secrets", {"value": [{"id": "5"}]}, "an item of its listing has no id"),
        ("GET", "/secrets", {"value": [], "nextLink": 5}, "its nextLink is not a URL"),
        (
            "GET",
            "/keys",
            {"value": [{"kid": f"{VAULT}/keys/k", "tags": [1]}]},
            "an item's tags are not a map of strings",
        ),
        (
            "GET",
            "/secrets/db/",
            {**GOOD_SECRET, "attributes": {"enabled": "false"}},
            "attributes.enabled is not true or false",
        ),
        ("GET", "/secrets/db/", {**GOOD_SECRET, "attributes": {"exp": "never"}}, "attributes.exp is not a time"),
        ("GET", "/secrets/db/", {**GOOD_SECRET, "attributes": {"nbf": 10**20}}, "attributes.nbf is not a time"),
        ("GET", "/secrets/db/", {**GOOD_SECRET, "attributes": "x"}, "attributes are not a JSON object"),
        ("GET", "/secrets/db/", {"value": "s"}, "it names no object id"),
        ("GET", "/secrets/other/", GOOD_SECRET, "it is for another object or version than the one asked for"),
        ("GET", "/secrets/db/ffff", GOOD_SECRET, "it is for another object or version than the one asked for"),
        (
            "GET",
            "/keys/k/",
            {"key": {"kid": f"{VAULT}/keys/k/1", "key_ops": "wrapKey"}},
            "key.key_ops is not a list of strings",
        ),
        ("POST", "/keys/k/1/unwrapkey", {"kid": "x", "value": "!!!"}, "its value is not base64url"),
        ("POST", "/keys/k/1/wrapkey", {"value": 5}, "its value is not base64url"),
    ],
)
def test_answers_the_sdk_would_crash_on_or_misread(method: str, path: str, body: Any, expected: str) -> None:
    assert problem(method, f"{VAULT}{path}", body) == expected


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(["id", "kid", "value", "attributes", "tags", "key", "nextLink", "contentType", "managed"])


@given(
    method=st.sampled_from(["GET", "PUT", "POST", "PATCH"]),
    path=st.sampled_from(["/secrets", "/secrets/db/", "/secrets/db/1", "/keys/k/versions", "/keys/k/1/wrapkey", "/x"]),
    body=JSON | st.dictionaries(FIELDS, JSON, max_size=6),
)
def test_any_json_gets_an_answer_never_an_exception(method: str, path: str, body: Any) -> None:
    found = problem(method, f"{VAULT}{path}", body)
    assert found is None or (isinstance(found, str) and "\n" not in found)
