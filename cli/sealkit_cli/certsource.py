"""Where the sealing certificate comes from: a file, an http(s) URL, or the controller in the cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sealkit.certificates import SealingCertificate, load_certificate
from sealkit.errors import InputError
from sealkit.reading import read_stream
from sealkit_cli import io

if TYPE_CHECKING:
    from sealkit.clients.kube.config import ClusterOptions


def certificate_bytes(cert: str | None, options: ClusterOptions | Callable[[], ClusterOptions]) -> tuple[bytes, str]:
    """PEM bytes and a name for messages: --cert as a file, an http(s) URL or (as kubeseal) a file:// URL;
    with no --cert, the newest cert from the controller (`options` may be a function building them)."""
    if cert and cert.startswith(("http://", "https://")):
        return fetch_url(cert), cert
    if cert and cert.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return io.read_input(unquote(urlparse(cert).path) or cert)
    if cert:
        return io.read_input(cert)
    from sealkit.clients.kube.proxy import ControllerProxy

    if callable(options):
        options = options()
    proxy = ControllerProxy(options)
    source = f"controller {options.controller_namespace}/{options.controller_name}"
    return proxy.cert_pem(), source


def resolve_certificate(cert: str | None, options: ClusterOptions | Callable[[], ClusterOptions]) -> SealingCertificate:
    data, source = certificate_bytes(cert, options)
    return load_certificate(data, source)


def fetch_url(url: str, *, timeout: float = 8.0) -> bytes:
    """GET an http(s) URL (for --cert URL), within the input size cap and a bounded timeout."""
    import urllib.error
    import urllib.request

    from sealkit.clients.kube.api import Unreachable
    from sealkit.clients.transport import transport_cause

    if not url.startswith(("http://", "https://")):
        raise InputError("not an http(s) URL", where=url)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return read_stream(response, url)
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"cannot fetch the certificate (HTTP {exc.code})", where=url) from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(f"cannot fetch the certificate ({transport_cause(exc)})", where=url) from None
