"""Planning `seal --env`: new files render exactly as the generic emitter would write the stamped object."""

from __future__ import annotations

from typing import Any

import pytest

from sealkit import provenance
from sealkit.csi.yamlio import dump_document
from sealkit.documents import Document
from sealkit.envs.sealplan import prepare, render_new
from sealkit.keys import load_certificate
from sealkit.scope import Scope
from sealkit.sealing import seal_secret


@pytest.mark.parametrize(
    "secret",
    [
        {"metadata": {"name": "db", "namespace": "shop"}, "stringData": {"password": "x", ".dockerconfigjson": "y"}},
        {
            "metadata": {
                "name": "api",
                "namespace": "shop",
                "labels": {"app": "true"},
                "annotations": {"sealedsecrets.bitnami.com/namespace-wide": "true", "team": "a: b"},
            },
            "type": "kubernetes.io/tls",
            "immutable": True,
            "data": {"tls.crt": "YQ==", "tls.key": "Yg=="},
        },
        {"metadata": {"name": "empty", "namespace": "shop"}},
    ],
)
def test_new_files_render_as_the_emitter_does(secret: dict[str, Any], vectors: dict[str, Any]) -> None:
    cert = load_certificate(vectors["keys"][0]["cert_pem"].encode())
    obj = {"apiVersion": "v1", "kind": "Secret", **secret}
    (prepared,) = prepare([Document(obj, "input", 1)], allow_empty_data=True)
    stamp = provenance.of_certificate(cert, "prod")
    sealed = seal_secret(obj, cert, scope=prepared.scope, allow_empty_data=True)
    expected = dump_document(provenance.stamp(sealed, stamp))
    assert render_new(prepared, cert, stamp, sealed["spec"]["encryptedData"]) == expected
    assert prepared.scope in (Scope.STRICT, Scope.NAMESPACE_WIDE)


def test_a_reseal_in_place_is_not_parsed_twice_and_other_edits_are_read_back(
    vectors: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Sealing again what sealkit wrote swaps base64 for base64 (reads back by construction: the read-back would
    cost a second parse of every file, a sixth of `seal --all-envs` in place); a file whose values are
    written otherwise (a block scalar here) is still read back before it is written."""
    from sealkit.envs import sealplan

    cert = load_certificate(vectors["keys"][0]["cert_pem"].encode())
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}}
    (prepared,) = prepare([Document({**obj, "stringData": {"a": "x"}}, "input", 1)], allow_empty_data=True)
    stamp = provenance.of_certificate(cert, "prod")
    sealed = seal_secret({**obj, "stringData": {"a": "x"}}, cert, scope=prepared.scope)
    text = render_new(prepared, cert, stamp, sealed["spec"]["encryptedData"])
    checked: list[str] = []
    real = sealplan.check_edit

    def counting(expected: list[Any], new: str, source: str, index: int) -> str:
        checked.append(source)
        return real(expected, new, source, index)

    monkeypatch.setattr(sealplan, "check_edit", counting)
    path = tmp_path / "shop.db.sealedsecret.yaml"
    again = sealplan.merge_into_text(text, path, {"a": b"y"}, cert, "prod")
    assert checked == [] and again != text
    assert sealplan.merge_into_text(again, path, {"b": b"z"}, cert, "prod") and checked == [str(path)]  # added
    value = sealed["spec"]["encryptedData"]["a"]
    block = text.replace(f"a: {value}", f"a: |\n      {value}")
    assert block != text
    sealplan.merge_into_text(block, path, {"a": b"y"}, cert, "prod")
    assert checked == [str(path), str(path)]


def test_seal_env_refuses_a_scope_annotation_that_is_not_true_or_false() -> None:
    from sealkit.errors import InputError

    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "shop",
            "annotations": {"sealedsecrets.bitnami.com/cluster-wide": "True"},
        },
        "stringData": {"a": "x"},
    }
    with pytest.raises(InputError) as caught:
        prepare([Document(obj, "input", 1)])
    assert str(caught.value) == (
        'annotation sealedsecrets.bitnami.com/cluster-wide must be "true" or "false" (the controller reads anything '
        "else as false): input document 1"
    )
