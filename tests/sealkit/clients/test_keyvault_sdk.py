"""The Key Vault SDK clients as `sdk.py` builds them, against the local Key Vault answering as a hostile or broken
vault would: every answer is read bounded (size after decompression, time as a whole), one line when it is not."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Iterator

import pytest

from sealkit.clients.keyvault.credentials import AuthOptions, make_credential
from sealkit.clients.keyvault.reader import VaultReader
from sealkit.clients.keyvault.sdk import MAX_ANSWER_BYTES, SECRET
from sealkit.csi.vaultcheck import Lookup
from sealkit.vault.errors import VaultAccessError
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.keyvault import https as kv_https
from sealkit_testservers.keyvault.api import VaultApi
from sealkit_testservers.keyvault.https import Request, Response

NAME = "kv-main"
Rewrite = Callable[[Request, Response], Response]


@pytest.fixture
def rewritten(
    keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[list[Rewrite], VaultReader, Vault]]:
    """A reader of a vault whose answers to reads of secret `db` pass through the rewrites put in the list."""
    rewrites: list[Rewrite] = []
    real = VaultApi.handle

    def handle(self: VaultApi, request: Request) -> Response:
        response = real(self, request)
        if request.path.startswith("/secrets/db") and response.status == 200:
            for rewrite in rewrites:
                response = rewrite(request, response)
        return response

    monkeypatch.setattr(VaultApi, "handle", handle)  # before the vault is made: it binds its handler
    vault = keyvault_server.add_vault(NAME)
    vault.add_secret("db", "plaintext-never-shown")
    options = AuthOptions(mode="workload-identity", timeout=0.5)
    reader = VaultReader({NAME: vault.url}, {NAME: make_credential(options)}, options)
    try:
        yield rewrites, reader, vault
    finally:
        reader.close()


def refused(reader: VaultReader) -> str:
    with pytest.raises(VaultAccessError) as info:
        reader.fetch(Lookup(NAME, SECRET, "db", ""))
    message = str(info.value)
    assert "\n" not in message and "plaintext-never-shown" not in message
    return message


def test_an_answer_over_the_cap_after_decompression_is_refused(
    rewritten: tuple[list[Rewrite], VaultReader, Vault],
) -> None:
    """The SDK read whole bodies, decompressed: 300 KB of gzip took 1.6 GB of memory."""
    rewrites, reader, _ = rewritten

    def bomb(request: Request, response: Response) -> Response:
        body = json.dumps({**json.loads(response.body), "value": "0" * MAX_ANSWER_BYTES}).encode()
        return Response(200, gzip.compress(body), {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    rewrites.append(bomb)
    assert refused(reader) == "the vault's answer is larger than 4 MiB"


def test_a_trickling_answer_is_bounded_as_a_whole(
    rewritten: tuple[list[Rewrite], VaultReader, Vault], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read timeout is per socket read: a vault sending a byte every 0.05 s held the call open as long as it
    liked. Here it trickles 200 padding bytes (10 s) and then answers in full, which the reader took before."""
    _, reader, _ = rewritten
    send = kv_https._RequestHandler._send

    def trickle(self: kv_https._RequestHandler, response: Response) -> None:
        if not (self.path.startswith("/secrets/db") and response.status == 200):
            send(self, response)
            return
        padding = 200
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(response.body) + padding}"
        self.wfile.write(f"{head}\r\n\r\n".encode() + response.body[:-1])
        for _ in range(padding):
            self.wfile.flush()
            time.sleep(0.05)  # the hostile pace, not a synchronisation
            try:
                self.wfile.write(b" ")
            except OSError:  # the client hung up: what the bound is for
                return
        self.wfile.write(b"}")

    monkeypatch.setattr(kv_https._RequestHandler, "_send", trickle)
    assert refused(reader) == "cannot reach the vault (no answer in time)"


def test_trickled_headers_are_bounded_with_the_answer(
    rewritten: tuple[list[Rewrite], VaultReader, Vault], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status line, then a header a byte every 0.05 s (10 s), then the whole answer: each read came within the
    read timeout and the body's bound starts after the headers, so the reader waited for it and took it."""
    _, reader, _ = rewritten
    send = kv_https._RequestHandler._send

    def trickle(self: kv_https._RequestHandler, response: Response) -> None:
        if not (self.path.startswith("/secrets/db") and response.status == 200):
            send(self, response)
            return
        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
        for _ in range(200):
            self.wfile.flush()
            time.sleep(0.05)  # the hostile pace, not a synchronisation
            try:
                self.wfile.write(b"a")
            except OSError:  # the client hung up: what the bound is for
                return
        head = f"\r\nContent-Type: application/json\r\nContent-Length: {len(response.body)}\r\n\r\n"
        self.wfile.write(head.encode() + response.body)

    monkeypatch.setattr(kv_https._RequestHandler, "_send", trickle)
    assert refused(reader) == "cannot reach the vault (no answer in time)"


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"enabled": "false"}, "attributes.enabled is not true or false"),  # was read as enabled
        ({"enabled": True, "exp": "never"}, "attributes.exp is not a time"),  # came through as a string
        ("x", "attributes are not a JSON object"),  # a traceback
    ],
)
def test_an_answer_of_the_wrong_shape_is_refused(
    rewritten: tuple[list[Rewrite], VaultReader, Vault], attributes: object, expected: str
) -> None:
    rewrites, reader, _ = rewritten
    rewrites.append(
        lambda request, response: Response.json(200, {**json.loads(response.body), "attributes": attributes})
    )
    assert refused(reader) == f"the vault's answer is not what Key Vault sends ({expected})"


def test_a_token_echoed_in_an_error_is_not_shown(rewritten: tuple[list[Rewrite], VaultReader, Vault]) -> None:
    """A vault (or a proxy before it) echoing the Authorization header in its error message had the bearer token
    printed in the one-line error (the service's message is part of it)."""
    rewrites, reader, _ = rewritten

    def echo(request: Request, response: Response) -> Response:
        message = f"Caller was not authorized. Request: {request.header('authorization')}"
        return Response.json(403, {"error": {"code": "Forbidden", "message": message}})

    rewrites.append(echo)
    assert refused(reader) == (
        "403 Forbidden: this identity may not read secrets here (needs e.g. the Key Vault Secrets User role or a "
        "get access policy): Caller was not authorized. Request: [redacted]"
    )
