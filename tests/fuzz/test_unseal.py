"""Fuzzing `unseal`: SealedSecrets with mutated fields open or fail with one line that never holds the
sealed plaintext (opening it is unseal's job only when everything checks out)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from sealkit.errors import SealkitError
from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.sealing import seal_secret
from sealkit.unsealing import unseal
from sealkit_cli.main import cli
from tests.support.fuzzing import FUZZ, INPUTS, PLANTED, leaks

# What a broken or hand-edited SealedSecret may hold where it should not (never the sealed plaintext:
# a value planted in a public field would be public by design).
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from([{"a": "b"}, ["x"], "{{ .password }}", "{{ .nope }}", "!!!", "AgA=", "bad key", "x" * 300]),
)
PATHS = [
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "annotations"),
    ("spec",),
    ("spec", "encryptedData"),
    ("spec", "encryptedData", "password"),
    ("spec", "data"),
    ("spec", "template"),
    ("spec", "template", "type"),
    ("spec", "template", "immutable"),
    ("spec", "template", "metadata"),
    ("spec", "template", "metadata", "labels"),
    ("spec", "template", "data"),
    ("spec", "template", "data", "password"),
    ("kind",),
    ("apiVersion",),
]


@pytest.fixture(scope="module")
def material(key_files: list[Any]) -> tuple[dict[str, Any], KeyRing, str]:
    key_path, cert_path = key_files[2]
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "team-a"},
        "stringData": {"password": PLANTED, "user": "admin"},
    }
    sealed = seal_secret(secret, load_certificate(cert_path.read_bytes()))
    return sealed, KeyRing(load_private_keys(key_path.read_bytes())), str(key_path)


def put(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target: Any = obj
    for part in path[:-1]:
        if not isinstance(target, dict):
            return
        target = target.setdefault(part, {})
    if isinstance(target, dict):
        target[path[-1]] = value


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), ODD_VALUES), max_size=3))
def test_unseal_errors_never_hold_the_plaintext(
    material: tuple[dict[str, Any], KeyRing, str], changes: list[tuple[tuple[str, ...], Any]]
) -> None:
    sealed, ring, _ = material
    obj = copy.deepcopy(sealed)
    for path, value in changes:
        put(obj, path, value)
    try:
        unseal(obj, ring, where="fuzz.yaml document 1")
    except SealkitError as exc:
        assert not leaks(str(exc)), str(exc)


@FUZZ
@given(INPUTS)
def test_unseal_command_never_crashes(material: tuple[dict[str, Any], KeyRing, str], data: bytes) -> None:
    _, _, key_path = material
    result = CliRunner().invoke(cli, ["unseal", "--private-key", key_path], input=data)
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert not leaks(result.output) and len(result.stderr.splitlines()) == 1, result.output


def test_a_valid_document_still_opens(material: tuple[dict[str, Any], KeyRing, str]) -> None:
    sealed, _, key_path = material
    result = CliRunner().invoke(cli, ["unseal", "--private-key", key_path], input=yaml.safe_dump(sealed))
    assert result.exit_code == 0 and leaks(result.stdout), "opening is unseal's job"
