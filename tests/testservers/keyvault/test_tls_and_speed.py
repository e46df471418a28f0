"""The generated TLS material, and the server's speed rules (one write per response, big backlog)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509

from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.keyvault.tls import make_tls_files


def test_ca_and_leaf_have_the_expected_names(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_path.read_bytes())
    leaf = x509.load_pem_x509_certificate(files.cert_path.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    leaf.verify_directly_issued_by(ca)
    assert files.key_path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1"])
def test_strict_client_verifies_the_server(keyvault: Vault, hostname: str) -> None:
    context = ssl.create_default_context(cafile=str(keyvault.ca_path))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with (
        socket.create_connection(("127.0.0.1", keyvault.port)) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_untrusted_client_is_refused(keyvault: Vault) -> None:
    context = ssl.create_default_context()  # system CAs only
    with (
        socket.create_connection(("127.0.0.1", keyvault.port)) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(raw, server_hostname="localhost")


def test_each_response_is_one_write(keyvault: Vault) -> None:
    """Headers and body in one write (one TLS record): no ~40 ms delayed-ACK stall per request, which a
    response written as head then body meets on a kept-alive connection. The first read holds it all."""
    context = keyvault.config.tls_context_client()
    with (
        socket.create_connection(("127.0.0.1", keyvault.port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        for _ in range(5):
            tls.sendall(b"GET /secrets HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first = tls.recv(65536)
            head, _, body = first.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 401 ")
            (length,) = [
                line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            ]
            assert int(length) > 0 and len(body) == int(length)


def test_many_concurrent_sdk_clients(keyvault: Vault) -> None:
    keyvault.add_secret("s", "v")
    clients = [keyvault.client() for _ in range(4)]
    barrier = threading.Barrier(24)

    def read(i: int) -> str | None:
        barrier.wait()
        value: str | None = clients[i % 4].get_secret("s").value
        return value

    with ThreadPoolExecutor(24) as pool:  # all 24 in flight at once (the barrier), none refused or stalled
        assert list(pool.map(read, range(24))) == ["v"] * 24


def test_several_vaults_are_independent(keyvault_server: KeyVaultServer) -> None:
    first = keyvault_server.add_vault("first")
    second = keyvault_server.add_vault("second")
    assert first.port != second.port
    first.add_secret("s", "one")
    second.add_secret("s", "two")
    assert first.client().get_secret("s").value == "one"
    assert second.client().get_secret("s").value == "two"
    second.stop()
    assert first.client().get_secret("s").value == "one"
    with pytest.raises(ValueError, match="exists already"):
        keyvault_server.add_vault("first")


def test_stop_forgets_the_sdk_challenge_for_a_reused_port(keyvault_server: KeyVaultServer, tmp_path: Path) -> None:
    """A vault on a reused port with another resource must not trip over a cached challenge."""
    from azure.keyvault.secrets._shared import http_challenge_cache

    with KeyVaultServer(tmp_path / "fixed", challenge_resource="https://vault.azure.net") as fixed:
        vault = fixed.add_vault()
        vault.add_secret("s", "v")
        vault.client(verify_challenge_resource=False).get_secret("s")
        port = vault.port
        assert http_challenge_cache.get_challenge_for_url(vault.url) is not None
    assert http_challenge_cache.get_challenge_for_url(f"https://127.0.0.1:{port}") is None
    reused = keyvault_server.add_vault("reused", port=port)
    reused.add_secret("s", "v2")
    assert reused.client(retry_total=0).get_secret("s").value == "v2"
