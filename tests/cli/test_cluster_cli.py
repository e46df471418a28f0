"""Cert fetch, verify and rotate over HTTP through the emulator's service proxy, as kubeseal reaches
the controller; the controller side is the real HTTP API (`sealkit_controller.httpapi`)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from click.testing import CliRunner, Result

from sealkit.documents import load_documents
from sealkit.keys import KeyRing, PrivateKey, certificate_not_before, load_private_keys
from sealkit.unsealing import unseal
from sealkit_cli import terminal
from sealkit_cli.main import cli
from sealkit_controller.serving.httpapi import make_app
from tests.support.fileserver import running
from tests.support.keys import StaticKeys


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None})


def ring_of(vectors: dict[str, Any], *indexes: int) -> KeyRing:
    keys = []
    for i in indexes:
        (key,) = load_private_keys(vectors["keys"][i]["private_pem"].encode())
        cert = vectors["keys"][i]["cert_pem"].encode()
        keys.append(PrivateKey(key.key, key.fingerprint, f"key{i}", certificate_not_before(cert), cert))
    return KeyRing(keys)


class ControllerHTTP:
    """The controller's HTTP API on its own thread and loop, on a free loopback port."""

    def __init__(self, ring: KeyRing, rate: float = 100.0, burst: int = 100) -> None:
        self.app = make_app(StaticKeys(ring), rate=rate, burst=burst)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(self.app)
        self.url = ""

    def __enter__(self) -> ControllerHTTP:
        self.thread.start()

        async def start() -> str:
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            return f"http://127.0.0.1:{port}"

        self.url = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def add_controller_service(kube: Any, url: str, name: str, namespace: str, app_label: str = "sealed-secrets") -> None:
    if namespace not in ("default", "kube-system"):
        kube.create_namespace(namespace)
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": app_label}},
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
        }
    )
    kube.register_service_backend(namespace, name, "http", url)


@pytest.fixture
def controller(kube: Any, vectors: dict[str, Any]) -> Iterator[ControllerHTTP]:
    with ControllerHTTP(ring_of(vectors, 0, 1)) as http:
        add_controller_service(kube, http.url, "sealed-secrets-controller", "kube-system")
        yield http


def test_cert_is_fetched_through_the_service_proxy(
    kube: Any, kubeconfig: Path, controller: ControllerHTTP, vectors: dict[str, Any]
) -> None:
    result = run("cert", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 0, result.output
    assert result.stdout == vectors["keys"][1]["cert_pem"], "the newest key's certificate"
    proxied = [
        r for r in kube.request_log if "/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem" in str(r)
    ]
    assert proxied, "went through the API server's service proxy"


def test_seal_without_cert_uses_the_cluster_and_the_context_namespace(
    kube: Any, tmp_path: Path, controller: ControllerHTTP, vectors: dict[str, Any]
) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kc", namespace="team-a")
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "pw"}}
    result = run("seal", "--kubeconfig", str(kubeconfig), input=yaml.safe_dump(secret))
    assert result.exit_code == 0, result.output
    sealed = yaml.safe_load(result.stdout)
    assert sealed["metadata"]["namespace"] == "team-a"
    assert unseal(sealed, ring_of(vectors, 1)).items == {"password": b"pw"}


def test_wrong_service_name_names_the_right_flags(kube: Any, kubeconfig: Path, vectors: dict[str, Any]) -> None:
    with ControllerHTTP(ring_of(vectors, 0)) as http:
        add_controller_service(kube, http.url, "sealkit", "sealkit-system", app_label="sealkit")
        result = run("cert", "--kubeconfig", str(kubeconfig))
        assert result.exit_code == 2
        assert "no controller Service kube-system/sealed-secrets-controller" in result.output
        assert "--controller-name sealkit --controller-namespace sealkit-system" in result.output
        fixed = run(
            "cert",
            "--kubeconfig",
            str(kubeconfig),
            "--controller-name",
            "sealkit",
            "--controller-namespace",
            "sealkit-system",
        )
        assert fixed.exit_code == 0 and fixed.stdout == vectors["keys"][0]["cert_pem"]


def test_no_controller_anywhere(kube: Any, kubeconfig: Path) -> None:
    result = run("cert", "--kubeconfig", str(kubeconfig))
    assert result.exit_code == 2
    assert "no Service labelled app.kubernetes.io/name=sealkit or sealed-secrets was found either" in result.output


def sealed_file(tmp_path: Path, key_files: list[tuple[Path, Path]], key: int, name: str) -> Path:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "apps"},
        "stringData": {"token": f"{name}-token"},
    }
    result = run("seal", "--cert", str(key_files[key][1]), input=yaml.safe_dump(secret))
    path = tmp_path / f"{name}.yaml"
    path.write_text("# keep me\n" + result.stdout)
    return path


def test_verify_through_the_controller(
    kube: Any, kubeconfig: Path, controller: ControllerHTTP, tmp_path: Path, key_files: list[tuple[Path, Path]]
) -> None:
    good = sealed_file(tmp_path, key_files, 0, "good")
    ok = run("verify", "--kubeconfig", str(kubeconfig), str(good))
    assert ok.exit_code == 0, ok.output
    foreign = sealed_file(tmp_path, key_files, 2, "foreign")  # the controller does not hold key 2
    bad = run("verify", "--kubeconfig", str(kubeconfig), str(tmp_path))
    assert bad.exit_code == 1
    assert "FAIL  does not open in the cluster (item 'token': sealed with a 2048-bit key" in bad.output
    assert f"): {foreign} document 1\n" in bad.output
    assert "2 SealedSecrets in 2 files: 1 open, 1 failed" in bad.output


def test_verify_honours_429_and_retry_after(
    kube: Any, kubeconfig: Path, controller: ControllerHTTP, tmp_path: Path, key_files: list[tuple[Path, Path]]
) -> None:
    path = sealed_file(tmp_path, key_files, 0, "limited")
    kube.fail("POST", r"/proxy/v1/verify", 429, times=3, retry_after=1)
    result = run("verify", "--kubeconfig", str(kubeconfig), "--rate", "50", str(path))
    assert result.exit_code == 0, result.output
    verifies = [r for r in kube.request_log if "/proxy/v1/verify" in str(r)]
    assert len(verifies) == 4


def test_controller_rate_limit_is_respected_end_to_end(
    kube: Any, kubeconfig: Path, tmp_path: Path, key_files: list[tuple[Path, Path]], vectors: dict[str, Any]
) -> None:
    with ControllerHTTP(ring_of(vectors, 0), rate=4, burst=1) as http:
        add_controller_service(kube, http.url, "sealed-secrets-controller", "kube-system")
        for i in range(4):
            sealed_file(tmp_path, key_files, 0, f"s{i}")
        result = run("verify", "--kubeconfig", str(kubeconfig), "--rate", "1000", str(tmp_path))
        assert result.exit_code == 0, result.output
        assert "4 SealedSecrets in 4 files: 4 open" in result.output


def test_reencrypt_through_the_controller(
    kube: Any,
    kubeconfig: Path,
    controller: ControllerHTTP,
    tmp_path: Path,
    key_files: list[tuple[Path, Path]],
    vectors: dict[str, Any],
) -> None:
    paths = [sealed_file(tmp_path, key_files, 0, n) for n in ("one", "two")]
    result = run("reencrypt", "--kubeconfig", str(kubeconfig), str(tmp_path))
    assert result.exit_code == 0, result.output
    for path in paths:
        text = path.read_text()
        assert text.startswith("# keep me\n")
        (doc,) = load_documents(text, str(path))
        items = unseal(doc.obj, ring_of(vectors, 1)).items  # the newest key alone opens it now
        assert items == {"token": f"{path.stem}-token".encode()}
        assert base64.b64decode(doc.obj["spec"]["encryptedData"]["token"])[:2] == b"\x02\x00"


def test_kubeseal_environment_variables_name_the_controller(
    kube: Any, kubeconfig: Path, vectors: dict[str, Any]
) -> None:
    with ControllerHTTP(ring_of(vectors, 0)) as http:
        add_controller_service(kube, http.url, "sealkit", "sealkit-system", app_label="sealkit")
        result = CliRunner().invoke(
            cli,
            ["cert", "--kubeconfig", str(kubeconfig)],
            env={"SEALED_SECRETS_CONTROLLER_NAME": "sealkit", "SEALED_SECRETS_CONTROLLER_NAMESPACE": "sealkit-system"},
        )
        assert result.exit_code == 0, result.output
        assert result.stdout == vectors["keys"][0]["cert_pem"]


def test_cert_from_an_http_url(
    controller: ControllerHTTP, vectors: dict[str, Any], key_files: list[tuple[Path, Path]]
) -> None:
    url = f"{controller.url}/v1/cert.pem"
    fingerprint = run("cert", "--cert", url, "--fingerprint")
    assert fingerprint.exit_code == 0, fingerprint.output
    assert fingerprint.stdout.startswith("SHA256:")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "u", "namespace": "n"},
        "stringData": {"a": "b"},
    }
    sealed = run("seal", "--cert", url, input=yaml.safe_dump(secret))
    assert sealed.exit_code == 0, sealed.output
    assert unseal(yaml.safe_load(sealed.stdout), ring_of(vectors, 1)).items == {"a": b"b"}
    missing = run("seal", "--cert", f"{controller.url}/nope.pem", input=yaml.safe_dump(secret))
    assert missing.exit_code == 2 and "HTTP 404" in missing.output


def test_controller_runs_say_how_long_they_will_take(
    kube: Any,
    kubeconfig: Path,
    controller: ControllerHTTP,
    tmp_path: Path,
    key_files: list[tuple[Path, Path]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(3):
        sealed_file(tmp_path, key_files, 0, f"t{i}")
    estimate = "3 SealedSecrets through the controller at up to 20/s: about 0s"
    result = run("verify", "--kubeconfig", str(kubeconfig), "--rate", "20", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert estimate not in result.stderr  # stderr is no terminal here: no estimate (tests/cli/test_output_habits.py)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(terminal, "on_terminal", lambda: True)
        shown = run("verify", "--kubeconfig", str(kubeconfig), "--rate", "20", str(tmp_path))
    assert shown.exit_code == 0, shown.output
    assert estimate in shown.stderr


@pytest.mark.parametrize("command", [["verify"], ["lint", "--online"]])
def test_verify_trusts_no_service_that_serves_no_certificate(
    command: list[str], kube: Any, kubeconfig: Path, tmp_path: Path, key_files: list[tuple[Path, Path]]
) -> None:
    """A mistyped --controller-name that names a web app answering 200 to everything made every SealedSecret
    'open' (200 is /v1/verify's yes): the Service must first serve a certificate at /v1/cert.pem."""
    import http.server

    class Anything(http.server.BaseHTTPRequestHandler):
        def _ok(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "17")
            self.end_headers()
            self.wfile.write(b"<html>ok</html>\r\n")

        do_GET = do_POST = _ok

        def log_message(self, *_: Any) -> None:
            pass

    with running(Anything) as url:
        add_controller_service(kube, url, "web", "shop", "web")
        foreign = sealed_file(tmp_path, key_files, 2, "foreign")
        result = run(*command, "--kubeconfig", str(kubeconfig), "--controller-name", "web", "--controller-namespace",
                     "shop", str(foreign))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "error: Service shop/web does not serve a certificate at /v1/cert.pem: not a sealing controller: " in (
        result.output
    )
    assert "open" not in result.output.replace("does not serve", "")
