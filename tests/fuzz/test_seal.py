"""Fuzzing `seal`: malformed Secrets (parsed or mutated text) end in a SealedSecret or one error line; the
planted plaintext is never in either, and nothing but sealkit's own errors is raised."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from sealkit.errors import SealkitError
from sealkit.keys import SealingCertificate, load_certificate
from sealkit.sealing import seal_secret
from sealkit_cli.main import cli
from tests.support.fuzzing import (
    FUZZ,
    INPUTS,
    PLANTED,
    SEEDS,
    copied_fields,
    copied_in_clear,
    leaks,
    leaks_beyond,
    secrets,
)

# The planted value as a data key (public: it names an encryptedData item in clear) beside a bad value, and
# as a bad value (secret: never in an error).
KEY_NAMED = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "data": {PLANTED: "!!"}}
VALUE_BAD = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "data": {"k": PLANTED + "!"}}


@pytest.fixture(scope="module")
def cert(key_files: list[Any]) -> SealingCertificate:
    return load_certificate(key_files[2][1].read_bytes())  # the 2048-bit key: fast


@pytest.fixture(scope="module")
def cert_path(key_files: list[Any]) -> str:
    return str(key_files[2][1])


@FUZZ
@given(secrets)
@example(KEY_NAMED)
@example(VALUE_BAD)
def test_seal_secret_refuses_or_copies_only_checked_fields(cert: SealingCertificate, obj: dict[str, Any]) -> None:
    try:
        sealed = seal_secret(obj, cert, where="fuzz.yaml document 1")
    except SealkitError as exc:
        assert not leaks_beyond(str(exc), copied_in_clear(obj)), str(exc)
        return
    text = json.dumps(sealed)
    assert not leaks(text) or leaks(copied_in_clear(obj)), text
    template = sealed["spec"]["template"]
    assert isinstance(template["type"], str)
    assert isinstance(template.get("immutable", False), bool)


@FUZZ
@given(st.one_of(INPUTS, secrets.map(lambda o: yaml.safe_dump(o).encode())))
@example(SEEDS["wrong-types.yaml"])
@example(SEEDS["secrets-stream.yaml"])
@example(yaml.safe_dump(KEY_NAMED).encode())
@example(yaml.safe_dump(VALUE_BAD).encode())
def test_seal_command_never_crashes_or_leaks(cert_path: str, data: bytes) -> None:
    result = CliRunner().invoke(
        cli, ["seal", "--cert", cert_path, "-n", "team-a"], input=data, env={"KUBECONFIG": "/nonexistent"}
    )
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: ") and not leaks_beyond(line, copied_fields(data)), line
    elif leaks(result.stdout):
        # A mutation may have moved the value into metadata, which is copied in clear by design: only a
        # string the input holds in a copied field (name, namespace, labels, annotations, type) may show.
        assert leaks(copied_fields(data)), result.stdout
