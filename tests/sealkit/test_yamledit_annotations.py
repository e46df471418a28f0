"""`set_annotations`: provenance into a SealedSecret's own metadata, in place, in every layout people use."""

from __future__ import annotations

import json

import pytest
import yaml

from sealkit.errors import InputError
from sealkit.yamledit import compose, locate, set_annotations

SHA = "0" * 63 + "1"  # all digits but one: must stay a string for every YAML reader
NEW = {"sealkit.io/certificate-sha256": SHA, "sealkit.io/environment": "prod"}
HEAD = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"
TAIL = "spec:\n  encryptedData:\n    a: AgA=\n"


@pytest.mark.parametrize(
    "metadata",
    [
        "metadata:\n  name: x\n  namespace: y\n  # a comment that stays\n",
        "metadata:\n    name: x\n    labels:\n        app: y\n",
        "metadata:\n  name: x\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: 'true'  # kept\n",
        "metadata:\n  name: x\n  annotations:\n    sealkit.io/certificate-sha256: old  # replaced\n",
        "metadata:\n  name: x\n  annotations: {}\n",
        "metadata:\n  name: x\n  annotations:\n",
        "metadata: {name: x, annotations: {a: b}}\n",
        "metadata: {name: x}\n",
    ],
)
def test_layouts(metadata: str) -> None:
    text = HEAD + metadata + TAIL
    out = set_annotations(text, 1, NEW, "f")
    loaded = yaml.safe_load(out)
    assert {k: loaded["metadata"]["annotations"][k] for k in NEW} == NEW
    assert loaded["spec"] == yaml.safe_load(text)["spec"]
    after = out.splitlines()
    removed = [line for line in text.splitlines() if line not in after]
    assert all(
        "sealkit.io/" in line or line.strip().startswith("annotations:") or line.startswith("metadata: {")
        for line in removed
    ), removed
    for comment in ("# a comment that stays", "# kept", "# replaced"):
        assert (comment in out) == (comment in text)


def test_json_files_stay_json() -> None:
    text = json.dumps(
        {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "x"}}, indent=2
    )
    assert json.loads(set_annotations(text, 1, NEW, "f"))["metadata"]["annotations"] == NEW


def test_second_document_and_refusals() -> None:
    text = "kind: ConfigMap\nmetadata: {name: c}\n---\n" + HEAD + "metadata:\n  name: x\n" + TAIL
    out = set_annotations(text, 2, NEW, "f")
    first, second = list(yaml.safe_load_all(out))
    assert "annotations" not in first["metadata"] and second["metadata"]["annotations"] == NEW
    with pytest.raises(InputError):
        set_annotations(HEAD + "metadata: 3\n", 1, NEW, "f")


@pytest.mark.parametrize(
    ("text", "index", "what"),
    [
        (HEAD + "metadata: {name: x}\n", 2, "no such document"),
        (HEAD + "metadata: 3\n", 1, "no metadata mapping to annotate"),
        (HEAD + "metadata: {name: x, annotations: [a]}\n", 1, "metadata.annotations is not a mapping"),
    ],
)
def test_refusals_name_the_file_and_document_as_where(text: str, index: int, what: str) -> None:
    with pytest.raises(InputError) as caught:
        set_annotations(text, index, NEW, "sealed.yaml")
    assert (caught.value.what, caught.value.where) == (what, f"sealed.yaml document {index}")


def test_fast_composer_gives_the_same_positions_as_the_pure_one() -> None:
    text = HEAD + "metadata:\n  name: x  # c\n" + TAIL
    assert [d and d.values for d in locate(text, "f")] == [d and d.values for d in locate(text + "# é\n", "f")]
    assert compose(text, "f")[0].end_mark.index == len(text)


@pytest.mark.parametrize("before", ["null\n", "~\n", "", "# only a comment\n"])
def test_documents_count_as_load_documents_counts_them(before: str) -> None:
    """A document that reads as nothing is skipped by `load_documents`: the SealedSecret after it is document 1
    there, and must be document 1 here too."""
    from sealkit.reading import load_documents

    text = "---\n" + before + "---\n" + HEAD + "metadata: {name: x}\n" + TAIL
    (doc,) = load_documents(text, "f")
    assert doc.index == 1 and [d.index for d in locate(text, "f") if d is not None] == [1]
    out = set_annotations(text, doc.index, NEW, "f")
    (loaded,) = [d.obj for d in load_documents(out, "f")]
    assert {k: loaded["metadata"]["annotations"][k] for k in NEW} == NEW and out.startswith("---\n" + before)
