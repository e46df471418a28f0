"""`sealkit dev up --workdir`: the key Secret kept in a working directory is used again only when the local
controller takes it as its key; anything else is one error naming the file (cli/sealkit_cli/devdir.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.errors import SealkitError
from sealkit.keygen import generate_key_pair
from sealkit.keysecrets import key_secret_manifest
from sealkit_cli.devdir import KEY, DevDir


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return key_secret_manifest(generate_key_pair(bits=2048), namespace="kube-system", prefix="sealed-secrets-key")


def kept(tmp_path: Path, text: str) -> DevDir:
    (tmp_path / KEY).write_text(text)
    return DevDir(tmp_path, keep=True)


def never() -> Any:
    raise AssertionError("a kept key must not be replaced by a new one")


def test_a_kept_key_secret_is_used_again(tmp_path: Path, manifest: dict[str, Any]) -> None:
    assert kept(tmp_path, yaml.safe_dump(manifest)).key_secret(never) == manifest


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda m: m["metadata"].pop("labels"), "not a key secret the local controller uses"),
        (
            lambda m: m["metadata"]["labels"].update({"sealedsecrets.bitnami.com/sealed-secrets-key": "compromised"}),
            "not a key secret the local controller uses",
        ),
        (lambda m: m["metadata"].update({"namespace": "default"}), "not a key secret the local controller uses"),
        (lambda m: m.update({"kind": "ConfigMap"}), "not a key secret (one v1 secret expected)"),
    ],
    ids=["no-label", "inactive-label", "other-namespace", "not-a-secret"],
)
def test_a_key_secret_the_controller_would_not_use_is_refused(
    tmp_path: Path, manifest: dict[str, Any], change: Any, what: str
) -> None:
    # Before, it was used as it was: the controller made a key of its own while cert.pem named this one, so
    # everything sealed with $SEALKIT_DEV_CERT could not be opened in the local cluster.
    changed = yaml.safe_load(yaml.safe_dump(manifest))
    change(changed)
    with pytest.raises(SealkitError) as caught:
        kept(tmp_path, yaml.safe_dump(changed)).key_secret(never)
    assert str(caught.value).lower().startswith(what) and str(caught.value.where) == str(tmp_path / KEY)


@pytest.mark.parametrize(
    "text",
    [
        "garbage: [\n",  # did not parse: a traceback in dev.log and 'the local cluster did not start'
        "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
        "---\nkind: Secret\n---\nkind: Secret\n",
    ],
    ids=["not-yaml", "alias-bomb", "two-documents"],
)
def test_a_kept_file_that_is_not_one_readable_document_is_one_error_naming_it(tmp_path: Path, text: str) -> None:
    with pytest.raises(SealkitError) as caught:
        kept(tmp_path, text).key_secret(never)
    assert str(tmp_path / KEY) in str(caught.value.where) and "\n" not in caught.value.what
