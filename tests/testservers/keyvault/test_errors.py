"""Errors as the service sends them, seen through the real SDK: 401, 400, 403, 404, 409, 429, down."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.core.pipeline.transport import HttpTransport

from sealkit_testservers.keyvault import KeyVaultServer, Vault


def _raw_get(vault: Vault, path: str, token: str | None = None) -> tuple[int, dict[str, str], dict[str, object]]:
    """A plain HTTPS request with the stdlib, to see the wire answer the SDK interprets."""
    connection = http.client.HTTPSConnection("127.0.0.1", vault.port, context=vault.config.tls_context_client())
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, dict(response.getheaders()), body


def test_unauthenticated_request_gets_the_bearer_challenge(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    status, headers, body = _raw_get(keyvault, "/secrets/x/?api-version=2026-04-01")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'authorization="{keyvault_server.authority_host}/{keyvault_server.tenant_id}"' in challenge
    assert f'resource="https://0.0.1:{keyvault.port}"' in challenge
    assert body == {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}


def test_forged_token_is_challenged_and_the_sdk_gives_up(keyvault: Vault) -> None:
    status, headers, _ = _raw_get(keyvault, "/secrets?api-version=2026-04-01", token="a.b.c")
    assert status == 401
    assert "WWW-Authenticate" in headers


def test_token_from_another_server_is_refused(keyvault: Vault, tmp_path: Path) -> None:
    with KeyVaultServer(tmp_path / "other") as other:
        foreign = other.credential("secret")
        client = keyvault.client(credential=foreign, retry_total=0)
        with pytest.raises(ClientAuthenticationError):
            client.get_secret("x")


def test_localhost_url_needs_verify_challenge_resource_false(keyvault: Vault) -> None:
    """A dotless host cannot satisfy the SDK's resource check, exactly as with the real service."""
    from azure.keyvault.secrets import SecretClient

    keyvault.add_secret("x", "1")
    credential = keyvault.config.default_credential(False)
    url = keyvault.url.replace("127.0.0.1", "localhost")
    strict = SecretClient(url, credential, connection_verify=str(keyvault.ca_path), retry_total=0)
    with pytest.raises(ValueError, match="verify_challenge_resource"):
        strict.get_secret("x")
    relaxed = SecretClient(
        url, credential, connection_verify=str(keyvault.ca_path), retry_total=0, verify_challenge_resource=False
    )
    assert relaxed.get_secret("x").value == "1"


def test_fixed_challenge_resource_behaves_like_a_foreign_vault(tmp_path: Path) -> None:
    """With the service's own resource name, the SDK's domain check fails for a local URL."""
    from azure.keyvault.secrets import SecretClient

    with KeyVaultServer(tmp_path / "kv", challenge_resource="https://vault.azure.net") as server:
        vault = server.add_vault()
        vault.add_secret("x", "1")
        credential = server.credential("secret")
        options: dict[str, Any] = {"connection_verify": str(server.ca_path), "retry_total": 0}
        with pytest.raises(ValueError, match="does not match the requested domain"):
            SecretClient(vault.url, credential, **options).get_secret("x")
        relaxed = SecretClient(vault.url, credential, verify_challenge_resource=False, **options)
        assert relaxed.get_secret("x").value == "1"
        assert server.token_requests[-1].scope == "https://vault.azure.net/.default"


def test_missing_secret_is_404_secret_not_found(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    client = keyvault.client(**no_retry)
    with pytest.raises(ResourceNotFoundError) as info:
        client.get_secret("nope")
    assert info.value.error is not None
    assert info.value.error.code == "SecretNotFound"
    assert "nope" in (info.value.error.message or "")

    keyvault.add_secret("there", "x")
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("there", "0" * 32)


def test_disabled_secret_is_403_with_secret_disabled(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_secret("off", "x", enabled=False)
    client = keyvault.client(**no_retry)
    with pytest.raises(HttpResponseError) as info:
        client.get_secret("off")
    assert info.value.status_code == 403
    assert info.value.error is not None
    assert info.value.error.code == "Forbidden"
    assert info.value.error.innererror == {"code": "SecretDisabled"}
    # listing still shows it, disabled
    [props] = list(client.list_properties_of_secrets())
    assert props.enabled is False


def test_versionless_get_does_not_fall_back_when_newest_is_disabled(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    good = keyvault.add_secret("s", "good")
    keyvault.add_secret("s", "bad")
    keyvault.disable("s")
    client = keyvault.client(**no_retry)
    with pytest.raises(HttpResponseError) as info:
        client.get_secret("s")
    assert info.value.status_code == 403
    assert client.get_secret("s", good).value == "good"


def test_bad_name_is_400_bad_parameter(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    client = keyvault.client(**no_retry)
    with pytest.raises(HttpResponseError) as info:
        client.get_secret("bad_name")
    assert info.value.status_code == 400
    assert info.value.error is not None
    assert info.value.error.code == "BadParameter"
    with pytest.raises(HttpResponseError) as info:
        client.set_secret("x" * 128, "v")
    assert info.value.status_code == 400


def test_unknown_api_version_is_400(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    client = keyvault.client(api_version="7.4", **no_retry)
    keyvault.add_secret("s", "v")
    assert client.get_secret("s").value == "v"  # a real older version is fine
    status, _, body = _raw_get(keyvault, "/secrets?api-version=1999-01-01", token=_token(keyvault))
    assert status == 400
    assert body["error"]["code"] == "BadParameter"  # type: ignore[index]


def _token(vault: Vault) -> str:
    credential = vault.config.default_credential(False)
    return str(credential.get_token(f"https://0.0.1:{vault.port}/.default").token)


def test_throttling_is_retried_after_retry_after(
    keyvault: Vault, fast_retry: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []  # the SDK's retry policy waits through its transport: recorded, not slept
    monkeypatch.setattr(HttpTransport, "sleep", lambda self, duration: waits.append(duration))
    keyvault.add_secret("s", "v")
    keyvault.throttle(times=2, retry_after=0.05)
    client = keyvault.client(**fast_retry)
    assert client.get_secret("s").value == "v"
    statuses = [r.status for r in keyvault.requests]
    assert statuses == [401, 429, 429, 200]
    assert waits == [0.05, 0.05]  # the two Retry-After waits of 50 ms were honoured


def test_throttling_beyond_retries_raises_429_with_retry_after(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_secret("s", "v")
    keyvault.throttle(times=1, retry_after=3)
    client = keyvault.client(**no_retry)
    with pytest.raises(HttpResponseError) as info:
        client.get_secret("s")
    assert info.value.status_code == 429
    assert info.value.response is not None
    assert info.value.response.headers["Retry-After"] == "3"  # type: ignore[attr-defined]
    assert info.value.error is not None
    assert info.value.error.code == "Throttled"
    assert client.get_secret("s").value == "v"  # the rule is used up


def test_throttle_can_target_one_path(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_secret("a", "1")
    keyvault.add_secret("b", "2")
    keyvault.throttle(times=5, path="/secrets/b")
    client = keyvault.client(**no_retry)
    assert client.get_secret("a").value == "1"
    with pytest.raises(HttpResponseError):
        client.get_secret("b")


def test_denied_principal_gets_403_others_do_not(
    keyvault_server: KeyVaultServer, keyvault: Vault, no_retry: dict[str, Any]
) -> None:
    keyvault.add_secret("s", "v")
    reader = keyvault_server.add_client(secret="reader-secret")
    intruder = keyvault_server.add_client(secret="intruder-secret")
    keyvault.deny(intruder.client_id)
    ok = keyvault.client(credential=keyvault_server.credential("secret", client=reader), **no_retry)
    denied = keyvault.client(credential=keyvault_server.credential("secret", client=intruder), **no_retry)
    assert ok.get_secret("s").value == "v"
    with pytest.raises(HttpResponseError) as info:
        denied.get_secret("s")
    assert info.value.status_code == 403
    assert info.value.error is not None
    assert info.value.error.innererror == {"code": "ForbiddenByRbac"}
    assert [r.client_id for r in keyvault.requests if r.status == 403] == [intruder.client_id]

    keyvault.allow(intruder.client_id)
    assert denied.get_secret("s").value == "v"
    keyvault.deny()  # everyone
    with pytest.raises(HttpResponseError):
        ok.get_secret("s")


def test_injected_server_error(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_secret("s", "v")
    keyvault.fail(503, "ServiceUnavailable", times=None, method="GET")
    client = keyvault.client(**no_retry)
    with pytest.raises(HttpResponseError) as info:
        client.get_secret("s")
    assert info.value.status_code == 503
    keyvault.clear_faults()
    assert client.get_secret("s").value == "v"


def test_stopped_vault_is_unreachable_and_can_restart(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_secret("s", "v")
    client = keyvault.client(**no_retry)
    assert client.get_secret("s").value == "v"  # a kept-alive connection now exists
    keyvault.stop()
    assert not keyvault.running
    with pytest.raises(ServiceRequestError):  # refused at once, not a stale kept-alive connection's read timeout
        client.get_secret("s")
    keyvault.start()
    assert client.get_secret("s").value == "v"


def test_unsupported_operation_is_501(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_key("k")
    client = keyvault.client("key", **no_retry)
    with pytest.raises(HttpResponseError) as info:
        client.backup_key("k")
    assert info.value.status_code == 501
