"""The HTTP API (:8080) as a broken or hostile client meets it, served by `make_app` alone (no cluster)."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest import mock

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from sealkit.keygen import GeneratedKey
from sealkit.keys import KeyRing, load_certificate
from sealkit.sealing import seal_secret
from sealkit_controller.serving import httpapi
from sealkit_controller.serving.httpapi import MAX_HOPS, RsaWork, client_of, make_app, parse_trusted_proxies
from sealkit_controller.serving.metrics import Metrics

PLANTED = "Pl4nted-S3cret"


class Keys:
    def __init__(self, key: GeneratedKey) -> None:
        self.key = key

    def keyring(self) -> KeyRing:
        return KeyRing([self.key.key])

    def newest_certificate_pem(self) -> bytes | None:
        return self.key.certificate_pem


def sealed(key: GeneratedKey, **data: str) -> dict[str, Any]:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}}
    return seal_secret({**secret, "stringData": data or {"a": "b"}}, load_certificate(key.certificate_pem))


Serve = Callable[..., "asyncio.Future[TestClient[web.Request, web.Application]]"]


@pytest.fixture()
async def serve(cluster_keys: list[GeneratedKey]) -> AsyncIterator[Callable[..., Any]]:
    """make_app(Keys(key 0), rate 0, **options) behind a test server; its client."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(**options: Any) -> TestClient[web.Request, web.Application]:
        app = make_app(Keys(cluster_keys[0]), **{"rate": 0.0, **options})
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def raw(client: TestClient[web.Request, web.Application], data: bytes) -> tuple[int, bytes]:
    """Send bytes on a fresh connection; the status and body of the answer (read until closed, 5 s at most)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(data)
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


BROKEN_BODIES = {
    "gzip that is not gzip": b"Content-Encoding: gzip\r\nContent-Length: 14\r\n\r\n" + PLANTED.encode(),
    "deflate that is not deflate": b"Content-Encoding: deflate\r\nContent-Length: 14\r\n\r\n" + PLANTED.encode(),
}


@pytest.mark.parametrize("case", sorted(BROKEN_BODIES))
@pytest.mark.parametrize("path", ["/v1/verify", "/v1/rotate"])
async def test_a_body_that_cannot_be_read_is_a_400(
    serve: Callable[..., Any], caplog: pytest.LogCaptureFixture, case: str, path: str
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await serve()
    request = f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + BROKEN_BODIES[case]
    status, body = await raw(client, request)
    assert (status, body) == (
        400,
        b"cannot be read (a broken gzip/deflate encoding or chunked framing, or the connection ended): request body\n",
    ), "was a 500 'Server got itself in trouble' and an error with aiohttp's traceback"
    assert not [r for r in caplog.records if PLANTED in r.getMessage()]


async def test_gzip_is_capped_after_decoding(serve: Callable[..., Any]) -> None:
    client = await serve()
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))  # 64 KiB on the wire
    answer = await client.post("/v1/verify", data=bomb, headers={"Content-Encoding": "gzip"})
    assert (answer.status, await answer.text()) == (413, "request body larger than 2 MiB: request body\n")


async def test_an_unexpected_error_is_a_500_in_words(
    serve: Callable[..., Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, cluster_keys: Any
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"a bug holding {PLANTED}")

    monkeypatch.setattr(httpapi, "verify_sealed_secret", broken)
    caplog.set_level(logging.DEBUG)
    metrics = Metrics()
    client = await serve(metrics=metrics)
    answer = await client.post("/v1/verify", data=json.dumps(sealed(cluster_keys[0])))
    assert (answer.status, await answer.text()) == (500, "internal error\n")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("answering POST /v1/verify failed: an unexpected error (a bug) at ")
    assert warnings[0].endswith(" in broken")
    assert not [r for r in caplog.records if r.exc_info or PLANTED in r.getMessage() or "Runtime" in r.getMessage()]
    assert metrics.http_requests.labels("/v1/verify", "500", "post")._value.get() == 1


@pytest.mark.parametrize("method", ["PROPFIND", "MKCOL", "PURGE", "SEARCH"])
async def test_methods_outside_http_s_usual_ones_share_one_label(serve: Callable[..., Any], method: str) -> None:
    metrics = Metrics()
    client = await serve(metrics=metrics)
    answer = await client.request(method, "/v1/verify")
    assert answer.status == 405
    exposition = metrics.exposition().decode()
    assert method.lower() not in exposition
    assert 'sealed_secrets_controller_http_requests_total{code="405",method="other",path="other"} 1.0' in exposition


async def test_rsa_work_is_bounded(
    serve: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, cluster_keys: list[GeneratedKey]
) -> None:
    # Each 2 MiB SealedSecret is seconds of RSA; requests went to the default thread pool without bound
    # (a queue as long as the callers are many: with trusted proxies, each address has its own rate limit).
    entered, go = threading.Semaphore(0), threading.Event()

    def slow(obj: Any, ring: KeyRing, *, where: str) -> None:
        entered.release()
        assert go.wait(10)

    monkeypatch.setattr(httpapi, "verify_sealed_secret", slow)
    client = await serve(rsa_work=RsaWork(workers=2, admitted=2))
    body = json.dumps(sealed(cluster_keys[0]))
    running = [asyncio.create_task(client.post("/v1/verify", data=body)) for _ in range(2)]
    for _ in running:
        assert await asyncio.to_thread(entered.acquire, timeout=5)
    busy = await client.post("/v1/verify", data=body)
    assert (busy.status, await busy.text(), busy.headers["Retry-After"]) == (
        429,
        "busy: too many verify/rotate requests at once\n",
        "1",
    )
    go.set()
    assert [answer.status for answer in await asyncio.gather(*running)] == [200, 200]
    assert (await client.post("/v1/verify", data=body)).status == 200, "slots are free once the work has ended"


async def test_the_work_of_a_timed_out_answer_stops(
    serve: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, cluster_keys: list[GeneratedKey]
) -> None:
    # The write timeout answered 503 while the thread went on with every value (a thread is not cancelled).
    go, done = threading.Event(), threading.Event()
    outcome: list[str] = []

    def opens_values(obj: Any, ring: KeyRing, *, where: str) -> None:
        try:
            assert go.wait(10)
            ring.try_order()  # what opening the next value asks the ring first
            outcome.append("went on")
        except BaseException:
            outcome.append("stopped")
            raise
        finally:
            done.set()

    monkeypatch.setattr(httpapi, "verify_sealed_secret", opens_values)
    client = await serve(write_timeout=0.5, rsa_work=RsaWork(workers=1, admitted=1))
    body = json.dumps(sealed(cluster_keys[0]))
    timed_out = await client.post("/v1/verify", data=body)
    assert timed_out.status == 503
    held = await client.post("/v1/verify", data=body)
    assert held.status == 429, "the slot is held while the work runs, not only while its answer waits"
    go.set()
    assert await asyncio.to_thread(done.wait, 5)
    assert outcome == ["stopped"]


def request_from(peer: str, *forwarded: str) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (peer, 1234) if name == "peername" else default
    headers = CIMultiDict(("X-Forwarded-For", value) for value in forwarded)
    return make_mocked_request("POST", "/v1/verify", headers=headers, transport=transport)


TRUSTED = parse_trusted_proxies(["10.0.0.0/8", "fd00::/8"])


def test_one_client_one_bucket_however_its_address_is_written() -> None:
    # An IPv4 peer on a dual-stack socket (::ffff:10.0.0.1) was not matched against 10.0.0.0/8, and the same
    # address written mapped or with a zone counted as another client.
    assert client_of(request_from("::ffff:10.1.2.3", "192.0.2.7"), TRUSTED) == "192.0.2.7"
    assert client_of(request_from("10.1.2.3", "::ffff:192.0.2.7"), TRUSTED) == "192.0.2.7"
    assert client_of(request_from("10.1.2.3", "fe80::1%eth0"), TRUSTED) == "fe80::1"
    assert client_of(request_from("10.1.2.3", "fe80::1%eth1"), TRUSTED) == "fe80::1"
    assert client_of(request_from("::ffff:192.0.2.9", "1.2.3.4"), TRUSTED) == "192.0.2.9", "untrusted peer"
    assert client_of(request_from("10.1.2.3", "[2001:db8::1]"), TRUSTED) == "2001:db8::1"


def test_a_huge_forwarded_list_is_not_split_whole() -> None:
    # 128 headers of 8 KiB of trusted hops (what the parser lets through): only the last MAX_HOPS are looked at.
    header = ",".join(["10.0.0.1"] * 900)
    many = request_from("10.9.9.9", *([header] * 128))
    with mock.patch.object(httpapi.ipaddress, "ip_address", wraps=ipaddress.ip_address) as parsed:
        assert client_of(many, TRUSTED) == "10.9.9.9", "only trusted hops: the peer"
    assert parsed.call_count <= MAX_HOPS + 1
    assert client_of(request_from("10.9.9.9", header, "192.0.2.1, 10.0.0.2"), TRUSTED) == "192.0.2.1"


def reference(peer: str, forwarded: list[str]) -> str:
    """The rule as the docs state it, over the last MAX_HOPS entries: the right-most untrusted one."""
    hops = [hop for header in forwarded for hop in header.split(",")][-MAX_HOPS:]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop.strip())
        except ValueError:
            return peer
        if not any(address in network for network in TRUSTED):
            return str(address)
    return peer


hop = st.one_of(
    st.ip_addresses(v=4, network="10.0.0.0/8").map(str),
    st.ip_addresses(v=4, network="192.0.2.0/24").map(str),
    st.ip_addresses(v=6, network="2001:db8::/120").map(str),
    st.sampled_from(["", "junk", " 192.0.2.1 ", "unknown"]),
)


@settings(max_examples=300)
@given(st.lists(st.lists(hop, min_size=1, max_size=40).map(",".join), max_size=4))
def test_the_client_is_the_right_most_untrusted_hop(forwarded: list[str]) -> None:
    assert client_of(request_from("10.0.0.1", *forwarded), TRUSTED) == reference("10.0.0.1", forwarded)
    assert client_of(request_from("192.0.2.200", *forwarded), TRUSTED) == "192.0.2.200"


def probing(key: GeneratedKey, template: str) -> dict[str, Any]:
    """A SealedSecret as copied from a config repo, with a template of the caller's over its value."""
    obj = sealed(key, password=PLANTED)
    obj["spec"]["template"]["data"] = {"probe": template}
    return obj


@pytest.mark.parametrize("guess", [PLANTED[:3], "Xyz"])
async def test_verify_answers_nothing_about_the_values_a_template_could_ask(
    serve: Callable[..., Any], cluster_keys: list[GeneratedKey], guess: str
) -> None:
    # verify rendered the posted template over the opened values: 200 when the guess was right, 400 'error
    # calling fail' when not, so anyone reaching :8080 read any SealedSecret's values a character at a time.
    client = await serve()
    template = '{{ if hasPrefix "' + guess + '" .password }}{{ else }}{{ fail "no" }}{{ end }}'
    answer = await client.post("/v1/verify", data=json.dumps(probing(cluster_keys[0], template)))
    assert (answer.status, await answer.text()) == (200, "ok\n")


async def test_verify_refuses_a_template_the_controller_cannot_parse(
    serve: Callable[..., Any], cluster_keys: list[GeneratedKey]
) -> None:
    client = await serve()
    unclosed = await client.post("/v1/verify", data=json.dumps(probing(cluster_keys[0], "{{ if .password }}\n {{ .")))
    assert unclosed.status == 409
    assert await unclosed.text() == "template spec.template.data[probe] at 2:6: unclosed action\n"
    refused = probing(cluster_keys[0], '{{ env "HOME" }}')
    answer = await client.post("/v1/verify", data=json.dumps(refused))
    assert answer.status == 409
    assert (await answer.text()).startswith("template spec.template.data[probe] at 1:4: function env is not supported")
    foreign = probing(cluster_keys[1], "{{ .password }}")
    answer = await client.post("/v1/verify", data=json.dumps(foreign))
    assert answer.status == 409 and "no key could decrypt it" in await answer.text(), "its values must still open"


def renamed(key: GeneratedKey, value: str, name: str, secret_type: str) -> dict[str, Any]:
    """A copied SealedSecret whose item is posted under another name and type: strict scope's label is the
    name and namespace, not the item's, so the value still opens."""
    obj = sealed(key, password=value)
    obj["spec"]["encryptedData"] = {name: obj["spec"]["encryptedData"]["password"]}
    obj["spec"]["template"]["type"] = secret_type
    return obj


DOCKER_TYPES = {".dockerconfigjson": "kubernetes.io/dockerconfigjson", ".dockercfg": "kubernetes.io/dockercfg"}


@pytest.mark.parametrize("name", sorted(DOCKER_TYPES))
@pytest.mark.parametrize("value", ['{"auths": {}}', PLANTED])
async def test_verify_answers_nothing_about_whether_a_value_is_json(
    serve: Callable[..., Any], cluster_keys: list[GeneratedKey], name: str, value: str
) -> None:
    # A value renamed .dockerconfigjson under that type answered 409 'data[.dockerconfigjson]: is not a JSON
    # object' or 200: one bit about any value of any SealedSecret copied from a config repo.
    client = await serve()
    answer = await client.post("/v1/verify", data=json.dumps(renamed(cluster_keys[0], value, name, DOCKER_TYPES[name])))
    assert (answer.status, await answer.text()) == (200, "ok\n")


@pytest.mark.parametrize("value", ['{"data": {"user": "dQ=="}}', '{"stringData": {"user": 5}}', PLANTED])
async def test_verify_answers_nothing_about_a_value_posted_as_spec_data(
    serve: Callable[..., Any], cluster_keys: list[GeneratedKey], value: str
) -> None:
    # The deprecated spec.data is opened with the scope's label too: a value posted as spec.data answered
    # 409 'spec.data does not hold a JSON Secret', or named the keys of the JSON it holds
    # ('stringData[user]: is a number'), or 200.
    client = await serve()
    obj = sealed(cluster_keys[0], password=value)
    obj["spec"]["data"] = obj["spec"].pop("encryptedData")["password"]
    answer = await client.post("/v1/verify", data=json.dumps(obj))
    assert (answer.status, await answer.text()) == (200, "ok\n")
    obj["spec"]["template"]["data"] = {"probe": "{{ .user }}"}  # verify's other way, without executing it
    answer = await client.post("/v1/verify", data=json.dumps(obj))
    assert (answer.status, await answer.text()) == (200, "ok\n")


async def test_verify_still_refuses_what_names_and_types_decide(
    serve: Callable[..., Any], cluster_keys: list[GeneratedKey]
) -> None:
    client = await serve()
    missing = renamed(cluster_keys[0], '{"auths": {}}', "config.json", "kubernetes.io/dockerconfigjson")
    answer = await client.post("/v1/verify", data=json.dumps(missing))
    assert answer.status == 409
    assert await answer.text() == (
        "the Secret it describes is invalid: data: a kubernetes.io/dockerconfigjson Secret needs the key "
        ".dockerconfigjson\n"
    )


async def test_verify_with_a_template_refuses_a_key_the_type_needs(
    serve: Callable[..., Any], cluster_keys: list[GeneratedKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a spec.template.data, verify skipped the keys the type needs: a kubernetes.io/tls SealedSecret
    # without tls.key in its items or its template got 200, and the controller then refused to write it. The
    # Secret's keys are the items' and the template's names: decided without running the template.
    import sealkit.gotemplate

    monkeypatch.setattr(sealkit.gotemplate, "render_template", lambda *a, **k: pytest.fail("template executed"))
    client = await serve()
    obj = sealed(cluster_keys[0], crt=PLANTED)
    obj["spec"]["template"]["type"] = "kubernetes.io/tls"
    obj["spec"]["template"]["data"] = {"tls.crt": "{{ .crt }}"}
    answer = await client.post("/v1/verify", data=json.dumps(obj))
    assert (answer.status, await answer.text()) == (
        409,
        "the Secret it describes is invalid: data: a kubernetes.io/tls Secret needs the key tls.key\n",
    )
    obj["spec"]["template"]["data"]["tls.key"] = "{{ .crt }}"
    answer = await client.post("/v1/verify", data=json.dumps(obj))
    assert (answer.status, await answer.text()) == (200, "ok\n")


NOT_JSON = {
    "x: !!binary UGw0bnRlZC1TM2NyZXQ=": "a !!binary value is not a JSON value: request body at .status.x",
    "x: [a, !!set {b}]": "a !!set is not a JSON value: request body at .status.x[1]",
    "x: .nan": "not a finite number (JSON has no NaN or infinity): request body at .status.x",
    "x: 2020-01-01T00:00:00Z": "a YAML timestamp is not a JSON value (quote it): request body at .status.x",
    "2020-01-01: x": "mapping key 1 is not a string (quote it): request body at .status",
    "Pl4nted-S3cret value: 2020-01-01": "a YAML date is not a JSON value (quote it): request body at .status.[key 1]",
}


@pytest.mark.parametrize("status", sorted(NOT_JSON))
async def test_rotate_refuses_what_json_cannot_answer_back(
    serve: Callable[..., Any], cluster_keys: list[GeneratedKey], status: str
) -> None:
    # Answered back with str(): a Python repr ("b'...'", "{'b'}"), bare NaN (kubeseal cannot read the answer),
    # a timestamp rewritten, or a 500 'internal error' and a warning about a bug for a key that is not a string.
    client = await serve()
    body = yaml.safe_dump(sealed(cluster_keys[0])) + "status: {" + status + "}\n"
    answer = await client.post("/v1/rotate", data=body)
    assert (answer.status, await answer.text()) == (400, NOT_JSON[status] + "\n")


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.binary(max_size=5),
    st.datetimes(),
    st.dates(),
    st.frozensets(st.integers(), max_size=2).map(set),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(values)
def test_rotate_answers_json_or_refuses(cluster_keys: list[GeneratedKey], value: Any) -> None:
    obj = {**sealed(cluster_keys[0]), "status": value}
    ring = KeyRing([cluster_keys[0].key])
    try:
        rotated = httpapi._rotate(obj, ring)
    except httpapi.InputError as exc:
        assert str(exc).count("\n") == 0 and "'" not in str(exc)
        return
    text = json.dumps(rotated, allow_nan=False)
    assert json.loads(text)["status"] == value
