"""Where the sealing certificate comes from: a file, an http(s) URL, or the controller in the cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sealkit.certificates import SealingCertificate, load_certificate
from sealkit.errors import InputError, shown_url
from sealkit.reading import read_stream
from sealkit_cli import io

if TYPE_CHECKING:
    from sealkit.clients.kube.config import ClusterOptions


def certificate_bytes(cert: str | None, options: ClusterOptions | Callable[[], ClusterOptions]) -> tuple[bytes, str]:
    """PEM bytes and a name for messages: --cert as a file, an http(s) URL or (as kubeseal) a file:// URL;
    with no --cert, the newest cert from the controller (`options` may be a function building them)."""
    if cert and cert.startswith(("http://", "https://")):
        return fetch_url(cert), shown_url(cert)
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
    """GET an http(s) URL (for --cert URL), within the input size cap and a bounded timeout. A user and
    password in the URL are sent as basic authentication (as kubeseal's Go client sends them); messages
    show the URL without them and without its query (`shown_url`)."""
    import base64
    import urllib.error
    import urllib.parse
    import urllib.request

    from sealkit.clients.kube.api import Unreachable
    from sealkit.clients.transport import transport_cause

    where = shown_url(url)
    if not url.startswith(("http://", "https://")):
        raise InputError("not an http(s) URL", where=where)
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in range
        if not parts.hostname:
            raise ValueError(url)
        bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        request = urllib.request.Request(bare)  # noqa: S310 - the scheme is checked above
        if parts.username is not None or parts.password is not None:
            user = urllib.parse.unquote(parts.username or "")
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
    except ValueError:
        raise InputError("not a valid http(s) URL", where=where) from None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return read_stream(response, where)
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"cannot fetch the certificate (HTTP {exc.code})", where=where) from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(f"cannot fetch the certificate ({transport_cause(exc)})", where=where) from None
    except ValueError:  # http.client.InvalidURL and the like: the URL cannot be requested
        raise InputError("not a valid http(s) URL", where=where) from None
