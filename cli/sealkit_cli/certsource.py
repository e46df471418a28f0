"""Where the sealing certificate comes from: a file, an http(s) URL, or the controller in the cluster."""

from __future__ import annotations

from sealkit.keys import SealingCertificate, load_certificate
from sealkit_cli import io
from sealkit_cli.cluster import ClusterOptions, ControllerProxy, fetch_url


def certificate_bytes(cert: str | None, options: ClusterOptions) -> tuple[bytes, str]:
    """PEM bytes and a name for messages; with no --cert, the newest cert from the controller."""
    if cert and cert.startswith(("http://", "https://")):
        return fetch_url(cert), cert
    if cert:
        return io.read_input(cert)
    proxy = ControllerProxy(options)
    source = f"controller {options.controller_namespace}/{options.controller_name}"
    return proxy.cert_pem(), source


def resolve_certificate(cert: str | None, options: ClusterOptions) -> SealingCertificate:
    data, source = certificate_bytes(cert, options)
    return load_certificate(data, source)
