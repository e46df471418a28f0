"""Token endpoints as the credentials `credentials.make_credential` builds read them, with the real azure-identity
against the local Key Vault's token endpoint (and a managed identity endpoint on it) answering as a hostile or
broken endpoint, or a proxy before it, would: every answer is read bounded (size after decompression, time as a
whole, status line and headers included), one line when it is not, never the library's words."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sealkit.clients.keyvault.credentials import MAX_TOKEN_ANSWER_BYTES, AuthOptions, make_credential
from sealkit_testservers.keyvault import KeyVaultServer
from sealkit_testservers.keyvault import https as kv_https
from sealkit_testservers.keyvault.https import Response

SCOPE = "https://vault.azure.net/.default"
PACE = 0.05  # seconds between trickled bytes: the hostile pace (200 bytes: 10 s), not a synchronisation
Attack = Callable[[kv_https._RequestHandler, bytes], None]


def _trickle(handler: kv_https._RequestHandler, first: bytes, byte: bytes, rest: bytes) -> None:
    handler.wfile.write(first)
    for _ in range(200):
        handler.wfile.flush()
        time.sleep(PACE)
        try:
            handler.wfile.write(byte)
        except OSError:  # the client hung up: what the bound is for
            return
    handler.wfile.write(rest)


def bomb(handler: kv_https._RequestHandler, body: bytes) -> None:
    """A valid token answer padded past the cap with white space, gzip-compressed (a few KiB on the wire)."""
    padded = gzip.compress(body[:-1] + b" " * MAX_TOKEN_ANSWER_BYTES + b"}")
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {len(padded)}"
    )
    handler.wfile.write(f"{head}\r\n\r\n".encode() + padded)


def trickled_headers(handler: kv_https._RequestHandler, body: bytes) -> None:
    """The status line, then a header a byte at a time (each read well within the read timeout), then the answer."""
    rest = f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    _trickle(handler, b"HTTP/1.1 200 OK\r\nX-Padding: ", b"a", rest)


def trickled_body(handler: kv_https._RequestHandler, body: bytes) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body) + 200}\r\n\r\n"
    _trickle(handler, head.encode() + body[:-1], b" ", b"}")


def hostile(monkeypatch: pytest.MonkeyPatch, attack: Attack) -> None:
    """Token answers (Entra's token endpoint, the managed identity endpoint `/msi/token`) sent by `attack`."""
    send = kv_https._RequestHandler._send

    def _send(self: kv_https._RequestHandler, response: Response) -> None:
        if self.path.startswith("/msi/token"):
            token = {"access_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "expires_on": str(int(time.time()) + 3600)}
            attack(self, json.dumps({**token, "resource": "https://vault.azure.net", "token_type": "Bearer"}).encode())
        elif "/oauth2/v2.0/token" in self.path and response.status == 200:
            attack(self, response.body)
        else:
            send(self, response)

    monkeypatch.setattr(kv_https._RequestHandler, "_send", _send)


MODES = ["workload-identity", "service-principal", "managed-identity", "default"]


def credential_for(mode: str, server: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> object:
    if mode == "service-principal":
        monkeypatch.setenv("AZURE_CLIENT_SECRET", str(server.client.secret))
    if mode == "managed-identity":  # App Service's managed identity endpoint, here on the token listener
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"{server.authority_host}/msi/token")
        monkeypatch.setenv("IDENTITY_HEADER", "not-a-secret")
        monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE")
    return make_credential(AuthOptions(mode=mode, timeout=0.5, disable_instance_discovery=True))


def refused(credential: object) -> str:
    from sealkit.clients.keyvault.credentials import credential_failed

    with pytest.raises(credential_failed()) as info:
        credential.get_token(SCOPE)  # type: ignore[attr-defined]
    message = str(info.value)
    assert "\n" not in message and "eyJ" not in message and "Pool(" not in message and "Error" not in message
    return message


@pytest.mark.parametrize("mode", MODES)
def test_each_credential_gets_a_token_through_the_bounded_transport(
    keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    hostile(
        monkeypatch,
        lambda handler, body: handler.wfile.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        ),
    )
    credential = credential_for(mode, keyvault_server, monkeypatch)
    assert credential.get_token(SCOPE).token  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", MODES)
def test_a_token_answer_over_the_cap_after_decompression_is_refused(
    keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """azure-identity read token answers whole, decompressed: a valid token padded to any size was taken."""
    hostile(monkeypatch, bomb)
    message = refused(credential_for(mode, keyvault_server, monkeypatch))
    assert message == "the credential could not get a token: the token endpoint's answer is larger than 1 MiB"


@pytest.mark.parametrize("attack", [trickled_headers, trickled_body])
@pytest.mark.parametrize("mode", MODES)
def test_a_trickling_token_answer_is_bounded_as_a_whole(
    keyvault_server: KeyVaultServer,
    keyvault_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    attack: Attack,
) -> None:
    """The read timeout is per socket read: a token endpoint sending a byte every 0.05 s (of its headers or its
    body) held the token request, and the command, open as long as it liked; here for 10 s, then it answers in
    full, which the credential took before."""
    hostile(monkeypatch, attack)
    assert refused(credential_for(mode, keyvault_server, monkeypatch)) == (
        "cannot reach the token endpoint: no answer in time"
    )


def test_a_failing_member_of_the_default_chain_is_named_not_no_credential(
    keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """DefaultAzureCredential stops at a member that fails (rather than being unavailable) and keeps only the
    members' messages: a refused federated token, or a token endpoint that cannot be read, read as "no Azure
    credential found ... set AZURE_TENANT_ID ...", pointing away from the endpoint or the token at fault."""
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJub25lIn0.e30.not-the-registered-one", encoding="utf-8")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token))
    message = refused(credential_for("default", keyvault_server, monkeypatch))
    assert message.startswith("the credential could not get a token: WorkloadIdentityCredential: "), message
    assert "AADSTS700213" in message and "not-the-registered-one" not in message
