"""Where the sealing certificate comes from: a file, an http(s) URL, or the controller in the cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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


def _origin(url: str) -> tuple[str, str, int | None]:
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _redirects(where: str, origin: tuple[str, str, int | None], authorization: str | None) -> Any:
    """A redirect handler that follows http(s) redirects as Go's client does, but never to another scheme
    than http(s), never from https down to http (a certificate fetched in clear text can be anyone's), and
    sends the URL's credentials only back to the same scheme, host and port (Go drops them on a host change;
    urllib forwarded every header to wherever it was sent)."""
    import urllib.request

    from sealkit.clients.kube.api import Unreachable

    class Redirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            scheme = _origin(newurl)[0]
            if scheme not in ("http", "https"):
                raise Unreachable("cannot fetch the certificate (redirected to a URL that is not http(s))", where=where)
            if origin[0] == "https" and scheme == "http":
                raise Unreachable("cannot fetch the certificate (redirected from https to http)", where=where)
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            if new is not None and authorization is not None and _origin(newurl) == origin:
                new.add_unredirected_header("Authorization", authorization)
            return new

    return Redirects()


def fetch_url(url: str, *, timeout: float = 8.0) -> bytes:
    """GET an http(s) URL (for --cert URL), within the input size cap and a bounded timeout. A user and
    password in the URL are sent as basic authentication (as kubeseal's Go client sends them), to that
    host only; messages show the URL without them and without its query (`shown_url`). Redirects are
    followed within http(s), never from https to http."""
    import base64
    import urllib.error
    import urllib.parse
    import urllib.request

    from sealkit.clients.kube.api import Unreachable
    from sealkit.clients.transport import transport_cause

    where = shown_url(url)
    if not url.startswith(("http://", "https://")):
        raise InputError("not an http(s) URL", where=where)
    authorization = None
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
            authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            request.add_unredirected_header("Authorization", authorization)
        opener = urllib.request.build_opener(_redirects(where, _origin(bare), authorization))
    except ValueError:
        raise InputError("not a valid http(s) URL", where=where) from None
    try:
        with opener.open(request, timeout=timeout) as response:
            return read_stream(response, where)
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"cannot fetch the certificate (HTTP {exc.code})", where=where) from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(f"cannot fetch the certificate ({transport_cause(exc)})", where=where) from None
    except ValueError:  # http.client.InvalidURL and the like: the URL cannot be requested
        raise InputError("not a valid http(s) URL", where=where) from None
