"""The HashiCorp Vault client with the real hvac against a hostile server at Vault's address: bodies that are not
JSON or of the wrong shape, redirects, odd statuses, huge and slow answers, tokens echoed back. Each ends in
one line (a failed reference or a Vault that cannot be read), never a pass, a traceback, a repr or a token."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.clients.vault import errors as vault_errors
from sealkit.clients.vault.auth import VaultAuth
from sealkit.clients.vault.reader import MAX_ANSWER_BYTES, VaultReader
from sealkit.csi.hashicorp import check
from sealkit.csi.hashicorp.check import Login, Lookup, Target
from sealkit.vault.errors import VaultAccessError

TOKEN = "hvs.CAESIJtokenNeverShown0123456789"
READ = "reading secret/data/app/db"
NOT_JSON = "an answer that is not Vault's JSON"
JSON = "application/json"
Answer = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Hostile

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._any()

    def do_POST(self) -> None:
        self._any()

    def _any(self) -> None:
        self.server.seen.append((self.path, self.headers.get("X-Vault-Token")))
        if self.path == "/v1/auth/token/lookup-self":
            self.server.lookup(self)
        elif self.path.startswith("/v1/sys/internal/ui/mounts/"):
            self.server.mounts(self)
        else:
            self.server.read(self)

    def answer(self, status: int, body: object, content_type: str = "application/json", **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # a client that hung up
            self.wfile.write(raw)


class Hostile(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str | None]] = []
        self.lookup: Answer = lambda h: h.answer(200, {"data": {"policies": ["default"]}})
        self.read: Answer = lambda h: h.answer(200, {"data": {"data": {"password": "x"}}})
        self.mounts: Answer = lambda h: h.answer(200, {"data": {"type": "kv", "options": {"version": "2"}}})
        self.release = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up on a slow or huge answer is the point of those tests

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    server = Hostile()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def verify(server: Hostile, *, key: str = "password", timeout: float = 5.0) -> tuple[list[check.Result], list[str]]:
    """`csi verify`'s HashiCorp half for one KV v2 reference read from `server`: results and error lines."""
    reader = VaultReader(VaultAuth(timeout=timeout))
    target = Target(server.url)
    lookup = Lookup(target, Login("kubernetes", "app"), "secret/data/app/db", "secret")
    ref = check.Reference("dev", "app", 0, lookup, "db", 2, key, None)
    try:
        report = check.run([ref], reader.fetch)
    finally:
        reader.close()
    assert not report.ok
    lines = [r.problem for r in report.results] + check.error_lines(report)
    for line in lines:
        assert TOKEN not in line and "\n" not in line and "\x1b" not in line
        assert "Error" not in line and "Traceback" not in line and "object at 0x" not in line
    return list(report.results), check.error_lines(report)


def vault_error(server: Hostile, **kwargs: Any) -> str:
    results, errors = verify(server, **kwargs)
    assert [r.status for r in results] == [check.Status.NOT_CHECKED]
    assert len(errors) == 1 and errors[0].endswith(f": vault {server.url}")
    return errors[0].removesuffix(f": vault {server.url}")


def failed(server: Hostile, **kwargs: Any) -> str:
    results, errors = verify(server, **kwargs)
    assert errors == [] and [r.status for r in results] == [check.Status.FAILED]
    return results[0].problem


# --- bodies that are not Vault's JSON, or of the wrong shape --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>portal</body></html>", "text/html"),
        (b"[1, 2]", "application/json"),
        (b'"a string"', "application/json"),
        (b'{"data": {"data": {"password": NaN}}}', "application/json"),  # Go's decoder refuses NaN
        (b"[" * 100_000, "application/json"),  # nesting deep enough to exhaust Python's recursion
        (b"\xff\xfe{}", "application/json"),
    ],
)
def test_a_200_that_is_not_a_json_object_stops_that_vault(hostile: Hostile, body: bytes, content_type: str) -> None:
    hostile.read = lambda h: h.answer(200, body, content_type)
    assert vault_error(hostile) == "reading secret/data/app/db: an answer that is not Vault's JSON (200)"


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (200, {"data": None}, "no data"),
        (200, {"warnings": ["no data here"]}, "no data"),
        (200, {"data": ["password"]}, "data that is not a map"),
        (200, {"data": "password"}, "data that is not a map"),
        (204, b"", "no data"),
    ],
)
def test_an_answer_without_a_secret_fails_the_reference(hostile: Hostile, status: int, body: object, why: str) -> None:
    # Before: "path not found: ... (404)" for a path Vault answered (the provider: "empty response").
    hostile.read = lambda h: h.answer(status, body)
    assert failed(hostile) == f"Vault answered secret/data/app/db with {why}: the provider fails the mount"


def test_wrong_shapes_inside_data_are_read_as_the_provider_reads_them(hostile: Hostile) -> None:
    # keyFromData: data.data when it is a map, else data itself (a KV v1 secret, or data.data null)
    hostile.read = lambda h: h.answer(200, {"data": {"data": ["password"], "metadata": {"version": "1"}}})
    assert failed(hostile) == "no key 'password' at secret/data/app/db (keys: data, metadata)"
    hostile.read = lambda h: h.answer(200, {"data": {"data": {"password": "x"}}, "warnings": "not a list"})
    results, errors = verify_ok(hostile)
    assert errors == [] and [r.status for r in results] == [check.Status.OK]


def verify_ok(server: Hostile) -> tuple[list[check.Result], list[str]]:
    reader = VaultReader(VaultAuth(timeout=5.0))
    lookup = Lookup(Target(server.url), Login("kubernetes", "app"), "secret/data/app/db", "secret")
    try:
        report = check.run([check.Reference("dev", "app", 0, lookup, "db", 2, "password", None)], reader.fetch)
    finally:
        reader.close()
    return list(report.results), check.error_lines(report)


def test_key_names_from_vault_are_escaped_and_bounded(hostile: Hostile) -> None:
    keys = {"a\x1b[2Jb": 1, "line\nbreak": 2, "k" * 300: 3} | {f"z{i:04}": i for i in range(5000)}
    hostile.read = lambda h: h.answer(200, {"data": {"data": keys}})
    problem = failed(hostile)
    assert problem.startswith("no key 'password' at secret/data/app/db (keys: ")
    assert "'a\\x1b[2Jb'" in problem and "'line\\nbreak'" in problem and "'" + "k" * 64 + "'..." in problem
    assert problem.endswith(" and 4983 more)") and len(problem) < 600


@pytest.mark.parametrize(
    "mounts",
    [
        {"data": {"type": "kv", "options": ["version", "2"]}},
        {"data": {"type": "kv", "options": "2"}},
        {"data": {"type": "kv", "options": {"version": "22"}}},
        {"data": ["kv"]},
        [1],
    ],
)
def test_an_odd_mount_answer_after_a_404_explains_nothing(hostile: Hostile, mounts: object) -> None:
    # Before: an AttributeError out of the worker thread (a traceback) for options that are not a map.
    hostile.read = lambda h: h.answer(404, {"errors": []})
    hostile.mounts = lambda h: h.answer(200, mounts)
    assert failed(hostile) == "path not found: secret/data/app/db (404)"


def test_the_hex_check_is_go_s(hostile: Hostile) -> None:
    # Python's bytes.fromhex skips spaces; Go's hex.DecodeString (the provider) refuses them.
    hostile.read = lambda h: h.answer(200, {"data": {"data": {"password": "ca fe"}}})
    reader = VaultReader(VaultAuth(timeout=5.0))
    lookup = Lookup(Target(hostile.url), Login("kubernetes", "app"), "secret/data/app/db", "secret")
    ref = check.Reference("dev", "app", 0, lookup, "db", 2, "password", "hex")
    try:
        report = check.run([ref], reader.fetch)
    finally:
        reader.close()
    assert [r.problem for r in report.results] == ["the value of 'password' is not hex: the provider refuses the mount"]


# --- statuses, redirects and echoed tokens -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_carries_no_token_away(hostile: Hostile, status: int) -> None:
    other = Hostile()
    thread = threading.Thread(target=other.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        hostile.read = lambda h: h.answer(status, b"", "text/plain", Location=f"{other.url}/v1/secret/data/app/db")
        assert vault_error(hostile) == (
            f"Vault answered {status}, a redirect, which is not followed (a standby node or a proxy sends them; "
            "give the active node's address, e.g. with --vault-address)"
        )
    finally:
        other.shutdown()
        other.server_close()
        thread.join()
    assert other.seen == []


def test_a_redirected_token_check_is_not_a_valid_token(hostile: Hostile) -> None:
    # Before: a 3xx to lookup-self was taken as a valid token (hvac raises only from 400 on).
    hostile.lookup = lambda h: h.answer(307, b"", "text/plain", Location="http://127.0.0.2:1/v1/x")
    assert vault_error(hostile).startswith("Vault answered 307, a redirect, which is not followed")
    assert [path for path, _ in hostile.seen] == ["/v1/auth/token/lookup-self"]


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        ((200, b"<html>", "text/html"), "the token failed: an answer that is not Vault's JSON (200)"),
        ((403, {"errors": [f"token {TOKEN} is revoked"]}, JSON), "the token was refused (403 token *** is revoked)"),
        ((401, b"", "text/plain"), "the token failed (401 no error text)"),
    ],
)  # fmt: skip
def test_odd_token_checks(hostile: Hostile, answer: tuple[int, object, str], line: str) -> None:
    hostile.lookup = lambda h: h.answer(*answer)
    assert vault_error(hostile) == line


@pytest.mark.parametrize(
    ("status", "body", "content_type", "line"),
    [
        (500, b"", "text/plain", f"{READ} failed (500 no error text)"),
        (405, b"", "text/plain", f"{READ} failed (405 no error text)"),
        (418, {"errors": {"a": 1}}, JSON, f"{READ} failed (418 no error text)"),
        (400, {"errors": [{"a": 1}, 2]}, JSON, f"{READ} failed (400 no error text)"),
        (400, {"errors": [f"bad token {TOKEN}"]}, JSON, f"{READ} failed (400 bad token ***)"),
        (400, {"errors": ["jwt eyJhbGciOi.eyJzdWIi.c2ln was bad"]}, JSON, f"{READ} failed (400 jwt *** was bad)"),
        (400, {"errors": ["\x1b[31mred\x1b[0m\nsecond"]}, JSON, f"{READ} failed (400 [31mred [0m second)"),
        (500, f"<pre>\nX-Vault-Token: {TOKEN}".encode(), "text/html", f"{READ}: {NOT_JSON} (500)"),
        (502, f"bad gateway for {TOKEN}".encode(), "text/plain", "an answer that is not Vault's JSON (502)"),
        (503, {"errors": ["Vault is sealed"]}, JSON, "Vault is sealed (503): unseal it"),
    ],
)  # fmt: skip
def test_odd_statuses_and_bodies_are_one_line_without_the_token(
    hostile: Hostile, status: int, body: object, content_type: str, line: str
) -> None:
    # Before: an empty 500 said "(500 InternalServerError)" (a class name), a 405 "failed: None", an errors list
    # of maps a Python TypeError's words, and an error text or a proxy page echoing the token showed it.
    hostile.read = lambda h: h.answer(status, body, content_type)
    assert vault_error(hostile) == line


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.none(), st.recursive(st.text() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)))
)
def test_vault_words_never_show_a_token_or_a_control_character(errors: object) -> None:
    for body in ({"errors": errors}, {"errors": [errors, TOKEN, f"x{TOKEN}y"]}, None):
        text = vault_errors.vault_text(body, (TOKEN,))
        assert TOKEN not in text and "\n" not in text and len(text) <= 240
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


# --- huge and slow answers ---------------------------------------------------------------------------------------


def test_a_huge_answer_is_not_read_whole(hostile: Hostile) -> None:
    sent: list[int] = []

    def huge(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.end_headers()  # no length: the body runs until the connection closes
        h.close_connection = True
        chunk = b" " * 65536
        try:
            h.wfile.write(b'{"data": {"data": {"password": "')
            for _ in range(20 * MAX_ANSWER_BYTES // len(chunk)):
                h.wfile.write(chunk)
                sent.append(len(chunk))
        except OSError:
            pass

    hostile.read = huge
    assert vault_error(hostile) == "Vault's answer is larger than 4 MiB"
    assert sum(sent) < 20 * MAX_ANSWER_BYTES  # the client hung up


def test_a_compressed_answer_is_bounded_after_decompression(hostile: Hostile) -> None:
    import gzip

    bomb = gzip.compress(b'{"data": {"data": {"password": "' + b"a" * (MAX_ANSWER_BYTES * 2) + b'"}}}')
    assert len(bomb) < MAX_ANSWER_BYTES // 100
    hostile.read = lambda h: h.answer(200, bomb, "application/json", **{"Content-Encoding": "gzip"})
    assert vault_error(hostile) == "Vault's answer is larger than 4 MiB"


def test_an_answer_that_never_comes_times_out(hostile: Hostile) -> None:
    hostile.read = lambda h: hostile.release.wait()
    assert vault_error(hostile, timeout=0.3) == "cannot reach Vault (no answer in time)"


def test_an_answer_trickled_slower_than_the_timeout_as_a_whole_times_out(hostile: Hostile) -> None:
    # Each piece comes well within the timeout, so only a bound on the whole answer ends the read.
    # Before: read to its end (a server could hold verify for ever); this one is a valid secret.
    body = json.dumps({"data": {"data": {"password": "x"}}}).encode() + b" " * 40

    def trickle(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        try:
            for i in range(0, len(body), 2):
                h.wfile.write(body[i : i + 2])
                h.wfile.flush()
                if hostile.release.wait(0.05):
                    return
        except OSError:
            pass

    hostile.read = trickle
    assert vault_error(hostile, timeout=0.5) == "cannot reach Vault (no answer in time)"


def test_headers_trickled_slower_than_the_timeout_as_a_whole_time_out(hostile: Hostile) -> None:
    # The status line, then a header a byte at a time, each well within the timeout: requests' timeout is per
    # socket read, and the body's bound starts after the headers. Before: read to its end, then taken.
    body = json.dumps({"data": {"data": {"password": "x"}}}).encode()

    def trickle(h: Handler) -> None:
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
            for _ in range(40):
                h.wfile.flush()
                if hostile.release.wait(0.05):
                    return
                h.wfile.write(b"a")
            h.wfile.write(f"\r\nContent-Type: {JSON}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        except OSError:
            pass

    hostile.read = trickle
    assert vault_error(hostile, timeout=0.5) == "cannot reach Vault (no answer in time)"


def test_a_read_sends_the_token_only_to_vault_s_address(hostile: Hostile) -> None:
    verify_ok(hostile)
    assert {path for path, token in hostile.seen} == {"/v1/auth/token/lookup-self", "/v1/secret/data/app/db"}
    assert {token for _, token in hostile.seen} == {TOKEN}


def test_vault_access_errors_are_one_line(hostile: Hostile) -> None:
    hostile.read = lambda h: h.answer(200, b"not json", "text/plain")
    reader = VaultReader(VaultAuth(timeout=5.0))
    with pytest.raises(VaultAccessError) as caught:
        reader.fetch(Lookup(Target(hostile.url), Login("kubernetes", "app"), "secret/data/app/db", "secret"))
    reader.close()
    assert str(caught.value) == "reading secret/data/app/db: an answer that is not Vault's JSON (200)"
