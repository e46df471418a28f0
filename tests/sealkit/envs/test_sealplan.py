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
