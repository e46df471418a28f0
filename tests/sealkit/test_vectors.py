"""The Go-made vectors: every `ok` case opens byte for byte, every `fail` case is refused."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sealkit.errors import UnsealError
from sealkit.keys import KeyRing, load_private_keys
from sealkit.unsealing import unseal

VECTORS_CASES = 63


_RINGS: dict[int, KeyRing] = {}


def keyring_of(vectors: dict[str, Any]) -> KeyRing:
    """All three vector keys; loading validates each RSA key (~0.3 s), so it is done once."""
    if id(vectors) not in _RINGS:
        _RINGS[id(vectors)] = KeyRing(
            key for k in vectors["keys"] for key in load_private_keys(k["private_pem"].encode())
        )
    return _RINGS[id(vectors)]


def test_vector_file_is_complete(vectors: dict[str, Any]) -> None:
    assert len(vectors["cases"]) == VECTORS_CASES
    assert {c["expect"] for c in vectors["cases"]} == {"ok", "fail"}


def test_every_case_behaves_as_expected_through_the_core_api(vectors: dict[str, Any], vector_document: Any) -> None:
    ring = keyring_of(vectors)
    for case in vectors["cases"]:
        obj = vector_document(case)
        if case["expect"] == "ok":
            secret = unseal(obj, ring, where=case["id"]).secret
            got = base64.b64decode(secret["data"][case["item"]])
            assert got == base64.b64decode(case["plaintext_b64"]), case["id"]
        else:
            with pytest.raises(UnsealError) as info:
                unseal(obj, ring, where=case["id"])
            message = str(info.value)
            assert case["id"] in message and case["item"] in message
            assert "\n" not in message


def test_each_ok_case_opens_with_only_its_own_key(vectors: dict[str, Any], vector_document: Any) -> None:
    rings = [KeyRing(load_private_keys(k["private_pem"].encode())) for k in vectors["keys"]]
    for case in vectors["cases"]:
        if case["expect"] != "ok":
            continue
        ring = rings[case["key_index"]]
        secret = unseal(vector_document(case), ring).secret
        assert base64.b64decode(secret["data"][case["item"]]) == base64.b64decode(case["plaintext_b64"])


@pytest.mark.parametrize(
    ("case_id", "expected"),
    [
        ("c055", "not sealed for team-b/db-creds"),
        ("c056", "not sealed for team-a/other"),
        ("c060", "changed after sealing"),
        ("c062", "truncated"),
        ("c063", "shorter than its 2-byte length prefix"),
    ],
)
def test_fail_cases_say_why(vectors: dict[str, Any], vector_document: Any, case_id: str, expected: str) -> None:
    case = next(c for c in vectors["cases"] if c["id"] == case_id)
    with pytest.raises(UnsealError, match=expected):
        unseal(vector_document(case), keyring_of(vectors))
