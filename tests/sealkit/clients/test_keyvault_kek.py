"""`VaultKek` with the real azure-keyvault-keys SDK against the local Key Vault and Managed HSM."""

from __future__ import annotations

import builtins
import os
import re

import azure.core.exceptions
import pytest

from sealkit.clients.keyvault.kek import ROLE_HINT, VaultKek, VaultKekError, map_error
from sealkit.escrow.sync import Refusal
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.retry import RetryPolicy
from sealkit.wrapping.envelope import KekError, unwrap_private_key, wrap_private_key, wrap_verified
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.keyvault.api import VaultApi
from sealkit_testservers.keyvault.https import Request, Response

# The names of azure-core's exception classes (and Python's own): none may appear in an error line.
SDK_CLASS = re.compile(
    r"\b({})\b".format(
        "|".join(
            name
            for name, value in {**vars(azure.core.exceptions), **vars(builtins)}.items()
            if isinstance(value, type) and issubclass(value, BaseException)
        )
    )
)


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return generate_key_pair(bits=2048)


def kek_of(server: KeyVaultServer, vault: Vault, url: str, **kwargs: object) -> VaultKek:
    hsm = vault.managed_hsm if hasattr(vault, "managed_hsm") else False
    return VaultKek(
        url,
        server.credential(),
        timeout=2.0,
        verify_challenge_resource=not hsm,
        client_options={"connection_verify": str(server.ca_path)},
        **kwargs,  # type: ignore[arg-type]
    )


def test_rsa_kek_wraps_locally_and_unwraps_in_the_vault(
    keyvault_server: KeyVaultServer, keyvault: Vault, pair: GeneratedKey
) -> None:
    version = keyvault.add_key("kek", kty="RSA", size=2048)
    kek = kek_of(keyvault_server, keyvault, keyvault.key_id("kek"))  # versionless: the newest version
    assert kek.current_id() == keyvault.key_id("kek", version)
    wrapped = wrap_private_key(pair.key, kek)
    assert wrapped.kek_id == keyvault.key_id("kek", version) and wrapped.algorithm == "RSA-OAEP-256"
    assert keyvault.unwrap_locally("kek", wrapped.wrapped_data_key, version=version)  # a real RSA-OAEP-256 wrap
    opened = unwrap_private_key(wrapped, kek)
    assert opened.fingerprint == pair.key.fingerprint
    assert keyvault.count_key_operations("unwrapKey", "kek") == 1
    # a new version: new wraps use it, the old one keeps opening
    newer = keyvault.add_key("kek", kty="RSA", size=2048)
    assert kek.current_id() == keyvault.key_id("kek", newer)
    assert unwrap_private_key(wrapped, kek).fingerprint == pair.key.fingerprint
    assert wrap_verified(pair.key, kek).kek_id == keyvault.key_id("kek", newer)
    kek.close()
    # a URL with a version pins it: new wraps keep using it though a newer version exists
    pinned = kek_of(keyvault_server, keyvault, keyvault.key_id("kek", version))
    assert pinned.current_id() == keyvault.key_id("kek", version)
    assert wrap_verified(pair.key, pinned).kek_id == keyvault.key_id("kek", version)
    pinned.close()


def test_aes_kek_on_a_managed_hsm_wraps_on_the_hsm(
    keyvault_server: KeyVaultServer, keyvault_hsm: Vault, pair: GeneratedKey
) -> None:
    version = keyvault_hsm.add_key("kek", kty="oct-HSM", size=256)
    kek = kek_of(keyvault_server, keyvault_hsm, keyvault_hsm.key_id("kek"))
    wrapped = wrap_verified(pair.key, kek)
    assert wrapped.algorithm == "A256KW" and wrapped.kek_id == keyvault_hsm.key_id("kek", version)
    assert keyvault_hsm.count_key_operations("wrapKey", "kek") == 1
    assert keyvault_hsm.count_key_operations("unwrapKey", "kek") == 1
    assert len(keyvault_hsm.unwrap_locally("kek", wrapped.wrapped_data_key)) == 32
    kek.close()


def test_failures_are_one_line_with_a_reason(
    keyvault_server: KeyVaultServer, keyvault: Vault, pair: GeneratedKey
) -> None:
    keyvault.add_key("kek", kty="RSA", size=2048)
    kek = kek_of(keyvault_server, keyvault, keyvault.key_id("kek"))
    wrapped = wrap_private_key(pair.key, kek)
    at = f": Key Vault key {wrapped.kek_id}"  # every line: what is wrong, then the vault key as where
    keyvault.deny(keyvault_server.client.client_id, ["unwrapKey"])
    with pytest.raises(KekError) as denied:
        unwrap_private_key(wrapped, kek)
    assert denied.value.reason == "forbidden"
    assert str(denied.value) == f"unwrapKey refused (403 ForbiddenByRbac); {ROLE_HINT}{at}"
    keyvault.allow(keyvault_server.client.client_id)
    keyvault.disable_key("kek")
    with pytest.raises(KekError) as disabled:
        unwrap_private_key(wrapped, kek)
    assert disabled.value.reason == "disabled"
    assert str(disabled.value) == f"the key is disabled, so unwrapKey is refused (KeyDisabled){at}"
    with pytest.raises(KekError) as no_wrap:
        wrap_private_key(pair.key, kek)
    assert no_wrap.value.reason == "disabled"
    assert str(no_wrap.value) == f"the key is disabled; new keys cannot be wrapped with it{at}"
    keyvault.enable_key("kek")
    damaged = bytes(b ^ 1 for b in wrapped.wrapped_data_key)
    with pytest.raises(KekError) as bad:
        kek.unwrap(wrapped.kek_id, wrapped.algorithm, damaged)
    assert bad.value.reason == "invalid" and bad.value.permanent
    assert str(bad.value).startswith("unwrapKey failed (400 BadParameter): ") and str(bad.value).endswith(at)
    missing = kek_of(keyvault_server, keyvault, keyvault.key_id("nope"))
    with pytest.raises(KekError) as gone:
        missing.current_id()
    assert gone.value.reason == "not_found"
    assert str(gone.value) == f"not found (KeyNotFound): Key Vault key {keyvault.key_id('nope')}"
    keyvault.fail(500, "InternalServerError", "Something went wrong.", path="/keys/kek")
    with pytest.raises(KekError) as failed:
        unwrap_private_key(wrapped, kek)
    assert failed.value.reason == "other"
    assert str(failed.value) == f"unwrapKey failed (500 InternalServerError): Something went wrong.{at}"
    keyvault.stop()
    with pytest.raises(KekError) as down:
        unwrap_private_key(wrapped, kek)
    assert down.value.reason == "unreachable"
    assert str(down.value) == f"cannot reach the vault (connection refused){at}", "why, never the SDK's class"
    for error in (denied, disabled, no_wrap, bad, gone, failed, down):
        text = str(error.value)
        assert "\n" not in text and "PRIVATE KEY" not in text
        assert os.fsdecode(pair.private_pem) not in text
        assert not text.startswith("Key Vault key"), "what first, where last"
        assert not SDK_CLASS.search(text), "no exception class name"


def test_throttling_gives_up_in_one_line_with_the_key_last(
    keyvault_server: KeyVaultServer, keyvault: Vault, pair: GeneratedKey
) -> None:
    keyvault.add_key("kek", kty="RSA", size=2048)
    kek = kek_of(keyvault_server, keyvault, keyvault.key_id("kek"), retry=RetryPolicy(attempts=2, max_wait=1.0))
    wrapped = wrap_private_key(pair.key, kek)
    keyvault.throttle(times=5, retry_after=0.01, path="/keys/kek")
    with pytest.raises(KekError) as throttled:
        unwrap_private_key(wrapped, kek)
    assert throttled.value.reason == "throttled"
    assert str(throttled.value) == (
        f"throttled (429 Throttled); still throttled after 2 attempts, try again later: Key Vault key {wrapped.kek_id}"
    )
    kek.close()


def test_sdk_failures_without_an_answer_never_name_the_sdk_class() -> None:
    from azure.core.exceptions import AzureError, DecodeError

    for exc in (AzureError("the response ended early"), DecodeError("the body is not JSON")):
        error = map_error(exc, "unwrapKey", "https://kv.vault.azure.net/keys/kek/v1")
        assert str(error) == (f"unwrapKey failed: {exc.message}: Key Vault key https://kv.vault.azure.net/keys/kek/v1")
        assert not SDK_CLASS.search(str(error))


def test_a_key_that_cannot_wrap_is_named_last(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    ec = keyvault.add_key("ec-kek", kty="EC")
    with pytest.raises(KekError) as not_rsa:
        kek_of(keyvault_server, keyvault, keyvault.key_id("ec-kek")).current_id()
    assert not_rsa.value.reason == "invalid"
    assert str(not_rsa.value) == (
        f"an EC key cannot wrap keys (use RSA or oct-HSM): Key Vault key {keyvault.key_id('ec-kek', ec)}"
    )
    rsa = keyvault.add_key("sign-only", kty="RSA", size=2048, key_ops=["sign", "verify"])
    with pytest.raises(KekError) as no_ops:
        kek_of(keyvault_server, keyvault, keyvault.key_id("sign-only")).current_id()
    assert no_ops.value.reason == "forbidden"
    assert str(no_ops.value) == (
        "wrapKey and unwrapKey must be among the key's permitted operations (key_ops): "
        f"Key Vault key {keyvault.key_id('sign-only', rsa)}"
    )


def test_a_wrap_key_error_echoing_the_data_key_shows_none_of_it(
    keyvault_server: KeyVaultServer, pair: GeneratedKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Managed HSM's (or its proxy's) 400 echoing the wrapkey request put the data key, base64url, in the line."""
    sent: list[str] = []
    real = VaultApi.handle

    def echo(self: VaultApi, request: Request) -> Response:
        if not request.path.endswith("/wrapkey"):
            return real(self, request)
        sent.append(request.json()["value"])
        message = f"Invalid request {request.body.decode()} for key kek"
        return Response.json(400, {"error": {"code": "BadParameter", "message": message}})

    monkeypatch.setattr(VaultApi, "handle", echo)  # for vaults added from now on
    hsm = keyvault_server.add_vault("hsm", managed_hsm=True)
    hsm.add_key("kek", kty="oct-HSM", size=256)
    kek = kek_of(keyvault_server, hsm, hsm.key_id("kek"))
    with pytest.raises(KekError) as refused:
        wrap_private_key(pair.key, kek)
    (data_key,) = sent
    text = str(refused.value)
    assert "[redacted]" in text and "for key kek" in text, text
    assert not [data_key[i : i + 8] for i in range(len(data_key) - 7) if data_key[i : i + 8] in text], text
    kek.close()


def test_a_key_ops_refusal_and_a_missing_role_share_the_reason_but_not_the_refusal(
    keyvault_server: KeyVaultServer, keyvault: Vault, pair: GeneratedKey
) -> None:
    """unwrapKey not among the KEK's key_ops (403 KeyOperationForbidden) and a missing role (403 ForbiddenByRbac)
    are both reason `forbidden` (the metric label stays); `refusal` says who refused, from the vault's codes: the
    key, whoever asks, or this identity. check-recovery reads it, never the message's words."""
    keyvault.add_key("kek", kty="RSA", size=2048)
    kek = kek_of(keyvault_server, keyvault, keyvault.key_id("kek"))
    wrapped = wrap_private_key(pair.key, kek)
    keyvault.set_key_ops("kek", ["wrapKey"])
    with pytest.raises(VaultKekError) as key_ops:
        unwrap_private_key(wrapped, kek)
    assert (key_ops.value.reason, key_ops.value.refusal) == ("forbidden", Refusal.OBJECT)
    keyvault.set_key_ops("kek", ["wrapKey", "unwrapKey"])
    keyvault.deny(keyvault_server.client.client_id, ["unwrapKey"])
    with pytest.raises(VaultKekError) as denied:
        unwrap_private_key(wrapped, kek)
    assert (denied.value.reason, denied.value.refusal) == ("forbidden", Refusal.CALLER)
    keyvault.allow(keyvault_server.client.client_id)
    keyvault.disable_key("kek")
    with pytest.raises(VaultKekError) as disabled:
        unwrap_private_key(wrapped, kek)
    assert (disabled.value.reason, disabled.value.refusal) == ("disabled", Refusal.OBJECT)
