"""Key Secrets with odd content as the running controller meets them: what is served, what is made, and
that it never spins."""

from __future__ import annotations

import base64
import urllib.request

from sealkit.keysecrets import key_secret_manifest
from tests.support.cluster import CONTROLLER_NS, Cluster


def test_only_the_certificate_of_tls_crt_is_served_never_what_else_it_holds(cluster: Cluster) -> None:
    """/v1/cert.pem answers anyone who reaches the controller: a private key pasted into tls.crt after the
    certificate (a combined PEM), or a chain, must not go out with it. Bitnami serves the first certificate."""
    own = cluster.keys[0]
    manifest = key_secret_manifest(own, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    manifest["metadata"]["name"] = "sealed-secrets-keycombined"
    combined = own.certificate_pem + own.private_pem + cluster.keys[1].certificate_pem
    manifest["data"]["tls.crt"] = base64.b64encode(combined).decode()
    cluster.create(manifest)
    with cluster.start() as running, urllib.request.urlopen(f"{running.api_url}/v1/cert.pem") as response:
        served = response.read()
    assert served == own.certificate_pem
