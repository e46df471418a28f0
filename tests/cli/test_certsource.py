"""`sealkit_cli.certsource`: a certificate from an http(s) URL, and why not, in words; which certificate of a
file holding several is the sealing one."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.certificates import fingerprint
from sealkit.clients.kube.api import Unreachable
from sealkit.errors import InputError
from sealkit.keygen import build_certificate
from sealkit_cli.certsource import fetch_url
from sealkit_cli.main import cli
from tests.support.fileserver import running, serving

EXAMPLE_CERT = Path(__file__).resolve().parents[2] / "examples/gitops/clusters/example-cluster-cert.pem"


@pytest.fixture
def cert_server() -> Iterator[str]:
    with serving("/v1/cert.pem", EXAMPLE_CERT.read_bytes()) as url:
        yield url


def test_the_certificate_from_a_url(cert_server: str) -> None:
    assert fetch_url(f"{cert_server}/v1/cert.pem") == EXAMPLE_CERT.read_bytes()


def test_an_http_error_is_its_status(cert_server: str) -> None:
    with pytest.raises(Unreachable) as caught:
        fetch_url(f"{cert_server}/missing.pem")
    assert str(caught.value) == f"cannot fetch the certificate (HTTP 404): {cert_server}/missing.pem"


def test_a_refused_connection_is_said_in_words() -> None:
    with socket.socket() as probe:  # a port nothing listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/cert.pem"
        with pytest.raises(Unreachable) as caught:
            fetch_url(url)
    assert str(caught.value) == f"cannot fetch the certificate (connection refused): {url}"
    assert "Errno" not in str(caught.value)


def test_only_http_urls() -> None:
    with pytest.raises(InputError, match="not an http"):
        fetch_url("ftp://example.invalid/cert.pem")


def test_a_url_with_credentials_sends_them_and_never_shows_them() -> None:
    """kubeseal's Go client sends a URL's user and password as basic authentication; messages show the URL
    with `***` for them and for its query (a SAS token or API key travels there): it was the whole URL, and a
    password holding letters read as a port that is not a number ('internal error')."""
    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(403)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    with running(Handler) as url, pytest.raises(Unreachable) as caught:
        port = url.rpartition(":")[2]
        fetch_url(f"http://ci%40example:Pl4nted-Pw@127.0.0.1:{port}/cert.pem?sig=Pl4nted-Sig")
    assert seen == ["Basic Y2lAZXhhbXBsZTpQbDRudGVkLVB3"]  # ci@example:Pl4nted-Pw
    assert str(caught.value) == f"cannot fetch the certificate (HTTP 403): http://***@127.0.0.1:{port}/cert.pem?***"
    for url in ("https://u:Pl4nted@127.0.0.1:99999/c.pem", "http://u:Pl4nted@127.0.0.1:port/c.pem", "http://[::1"):
        with pytest.raises(InputError) as refused:
            fetch_url(url)
        assert "Pl4nted" not in str(refused.value) and str(refused.value).startswith("not a valid http(s) URL: ")


@contextlib.contextmanager
def _recording(host: str, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> Iterator[tuple[str, list[Any]]]:
    """A server on `host` answering `routes` (path -> status, headers, body) and recording (path, Authorization)."""
    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            status, headers, body = routes.get(self.path, (404, {}, b""))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    with running(Handler, host) as url:
        yield url, seen


def test_credentials_follow_a_redirect_only_to_the_same_host() -> None:
    """Go's client sends a URL's credentials after a redirect only to the same host; urllib forwarded the
    Authorization header to wherever a redirect pointed (a certificate host could hand them to any other)."""
    cert = EXAMPLE_CERT.read_bytes()
    with _recording("127.0.0.2", {"/cert.pem": (200, {}, cert)}) as (other, other_seen):
        routes = {
            "/here": (302, {"Location": "/cert.pem"}, b""),
            "/cert.pem": (200, {}, cert),
            "/away": (302, {"Location": f"{other}/cert.pem"}, b""),
        }
        with _recording("127.0.0.1", routes) as (home, home_seen):
            authority = home.removeprefix("http://")
            assert fetch_url(f"http://u:Pl4nted@{authority}/here") == cert
            assert fetch_url(f"http://u:Pl4nted@{authority}/away") == cert
    basic = "Basic dTpQbDRudGVk"  # u:Pl4nted
    assert home_seen == [("/here", basic), ("/cert.pem", basic), ("/away", basic)]
    assert other_seen == [("/cert.pem", None)], "never sent to another host"


@pytest.mark.parametrize(
    ("start", "target", "why"),
    [
        ("https://certs.example.test/c.pem", "http://certs.example.test/c.pem", "redirected from https to http"),
        ("http://certs.example.test/c.pem", "ftp://certs.example.test/c.pem", "redirected to a URL that is not http"),
        ("https://certs.example.test/c.pem", "file:///etc/passwd", "redirected to a URL that is not http"),
    ],
)
def test_redirects_stay_on_http_and_never_step_down_from_tls(start: str, target: str, why: str) -> None:
    """A certificate fetched in clear text (or over FTP, which urllib follows) can be anyone's: the secrets
    sealed for it would open for whoever answered."""
    import urllib.request

    from sealkit_cli.certsource import _origin, _redirects

    handler = _redirects("where", _origin(start), None)
    with pytest.raises(Unreachable, match=f"^cannot fetch the certificate \\({why}.*\\): where$"):
        handler.redirect_request(urllib.request.Request(start), None, 302, "Found", {}, target)


def chain(key: rsa.RSAPrivateKey, *, ca_first: bool, sealing_key: rsa.RSAPrivateKey | None = None) -> bytes:
    """A CA (`key`) and a sealing certificate it issued (of another key): in chain order (the sealing
    certificate first), or the CA first."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    end = start + dt.timedelta(days=30)
    ca = build_certificate(key, subject="example CA", not_before=start, not_after=end)
    sealing = (sealing_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)).public_key()
    leaf = build_certificate(
        key, subject="sealed-secret", not_before=start, not_after=end, public_key=sealing, issuer=ca.subject
    )
    pems = [c.public_bytes(serialization.Encoding.PEM) for c in (ca, leaf)]
    return b"".join(pems if ca_first else pems[::-1])


@pytest.mark.parametrize("command", [["cert", "--fingerprint"], ["seal", "--raw", "--scope", "cluster-wide"]])
def test_a_file_whose_first_certificate_is_a_ca_is_refused(
    tmp_path: Path, small_key: rsa.RSAPrivateKey, command: list[str]
) -> None:
    """A CA listed before the sealing certificate it issued (`cat ca.pem cert.pem`): the first certificate was
    taken, as kubeseal takes it, and sealing used the CA's key, which no controller holds: nothing sealed
    would ever open. The first certificate of a file is still the sealing one (kubeseal's rule), but one that
    issued another certificate of the file is refused."""
    path = tmp_path / "cert.pem"
    path.write_bytes(chain(small_key, ca_first=True))
    result = CliRunner().invoke(cli, [*command, "--cert", str(path)], input="s3cret", env={"KUBECONFIG": None})
    assert result.exit_code == 2, result.output
    why = "the first certificate issued another certificate of the file (a CA), it is not a sealing certificate"
    assert result.output == f"error: {why}: put the sealing certificate first, or alone in the file: {path}\n"


def test_a_chain_in_order_seals_with_its_first_certificate(tmp_path: Path, small_key: rsa.RSAPrivateKey) -> None:
    """The sealing certificate, then the CA that issued it: the sealing certificate is used (as kubeseal)."""
    sealing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "cert.pem"
    path.write_bytes(chain(small_key, ca_first=False, sealing_key=sealing_key))
    result = CliRunner().invoke(cli, ["cert", "--fingerprint", "--cert", str(path)], env={"KUBECONFIG": None})
    assert result.exit_code == 0, result.output
    assert result.output == fingerprint(sealing_key.public_key()) + "\n"


def test_renewed_self_signed_certificates_in_one_file_are_no_chain(vectors: dict[str, Any]) -> None:
    """Bitnami's certificates are self-signed and say CA:TRUE, all with one name: a file of several (the
    current one, then older ones) is no CA-first chain; the first is the sealing certificate."""
    from sealkit.certificates import load_certificate

    bundle = "".join(k["cert_pem"] for k in vectors["keys"]).encode()
    first = load_certificate(vectors["keys"][0]["cert_pem"].encode())
    assert load_certificate(bundle, "bundle").sha256 == first.sha256


def unknown_key_type() -> bytes:
    """The example certificate with its key's algorithm renamed to one `cryptography` does not know."""
    import base64

    from cryptography import x509

    der = x509.load_pem_x509_certificate(EXAMPLE_CERT.read_bytes()).public_bytes(serialization.Encoding.DER)
    rsa_encryption = bytes.fromhex("06092A864886F70D010101")  # OID 1.2.840.113549.1.1.1, once: in the key
    assert der.count(rsa_encryption) == 1
    unknown = der.replace(rsa_encryption, bytes.fromhex("06092A864886F70D010109"))
    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(unknown) + b"-----END CERTIFICATE-----\n"


def test_a_key_of_an_unknown_type_is_said_in_one_line(tmp_path: Path) -> None:
    """A certificate whose key algorithm `cryptography` does not know raised UnsupportedAlgorithm (no
    ValueError): 'internal error', for `seal --cert`, `sealkit cert` and a committed environment file. After a
    sealing certificate, such a certificate is just another in the file."""
    path = tmp_path / "cert.pem"
    path.write_bytes(unknown_key_type())
    result = CliRunner().invoke(cli, ["cert", "--fingerprint", "--cert", str(path)], env={"KUBECONFIG": None})
    assert (result.exit_code, result.output) == (
        2,
        f"error: the certificate's key is not RSA (Sealed Secrets uses RSA): {path}\n",
    )
    path.write_bytes(EXAMPLE_CERT.read_bytes() + unknown_key_type())
    result = CliRunner().invoke(cli, ["cert", "--fingerprint", "--cert", str(path)], env={"KUBECONFIG": None})
    assert result.exit_code == 0 and result.output.startswith("SHA256:"), result.output


def test_text_before_the_pem_is_skipped_as_kubeseal_skips_it(tmp_path: Path) -> None:
    """openssl's "Bag Attributes" before the certificate: kubeseal (Go's PEM decoder) reads the file; sealkit
    took it for DER and refused it ('not a PEM or DER certificate')."""
    path = tmp_path / "cert.pem"
    path.write_bytes(b"Bag Attributes\n    friendlyName: sealed-secrets\n" + EXAMPLE_CERT.read_bytes())
    result = CliRunner().invoke(cli, ["cert", "--fingerprint", "--cert", str(path)], env={"KUBECONFIG": None})
    expected = CliRunner().invoke(cli, ["cert", "--fingerprint", "--cert", str(EXAMPLE_CERT)], env={"KUBECONFIG": None})
    assert result.exit_code == 0 and result.output == expected.output, result.output
