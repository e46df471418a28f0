"""`sealkit kubeseal` writes what kubeseal writes (no provenance annotations), and keeps a file's provenance true
when it re-encrypts one that sealkit stamped (its values are then sealed with the controller's newest key)."""

from __future__ import annotations

from typing import Any

import yaml

from sealkit import provenance
from sealkit.keys import load_certificate
from tests.support.cluster import Cluster
from tests.support.kubeseal import Shell


def annotations(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj["metadata"].get("annotations") or {})


def test_kubeseal_output_has_no_provenance(shell: Shell, cluster: Cluster) -> None:
    shell.path("cert.pem").write_bytes(cluster.keys[0].certificate_pem)
    shell.path("s.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "a", "namespace": "n"},
                "stringData": {"k": "v"},
            }
        )
    )
    sealed = yaml.safe_load(shell.run("kubeseal --cert cert.pem -o yaml <s.yaml").stdout)
    assert not any(k.startswith("sealkit.io/") for k in annotations(sealed))


def test_re_encrypt_keeps_provenance_true(shell: Shell, cluster: Cluster, controller: Any) -> None:
    shell.env["KUBECONFIG"] = str(cluster.kubeconfig)
    old_cert = load_certificate(cluster.keys[0].certificate_pem)
    stamped = provenance.stamp(cluster.seal("stamped", "default"), provenance.of_certificate(old_cert, "dev"))
    shell.path("stamped.yaml").write_text("# keep me\n" + yaml.safe_dump(stamped))
    shell.path("plain.yaml").write_text(yaml.safe_dump(cluster.seal("plain", "default")))
    cluster.add_key(1)  # a newer key: the controller re-encrypts with it
    newest = load_certificate(cluster.keys[1].certificate_pem).sha256
    shell.run("kubeseal --re-encrypt -f stamped.yaml")
    text = shell.path("stamped.yaml").read_text()
    assert text.startswith("# keep me\n")
    assert annotations(yaml.safe_load(text)) == {
        provenance.CERTIFICATE_ANNOTATION: newest,
        provenance.ENVIRONMENT_ANNOTATION: "dev",
    }
    out = yaml.safe_load(shell.run("kubeseal --re-encrypt -o yaml <stamped.yaml").stdout)
    assert annotations(out)[provenance.CERTIFICATE_ANNOTATION] == newest
    shell.run("kubeseal --re-encrypt -f plain.yaml")
    assert annotations(yaml.safe_load(shell.path("plain.yaml").read_text())) == {}, "kubeseal adds nothing"
