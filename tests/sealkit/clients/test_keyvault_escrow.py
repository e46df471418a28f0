"""The Key Vault adapter for escrowed keys, with the real SDK against the local Key Vault: one line per failure."""

from __future__ import annotations

import pytest

from sealkit.clients.keyvault.escrow import EscrowVault
from sealkit.escrow import scheme as escrow
from sealkit.escrow.sync import EscrowVaultError, Refusal, about_the_copy
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.retry import RetryPolicy
from sealkit_testservers.keyvault import KeyVaultServer, Vault


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return generate_key_pair(bits=2048)


@pytest.fixture
def store(keyvault_server: KeyVaultServer, keyvault: Vault, keyvault_env: dict[str, str]) -> EscrowVault:
    return EscrowVault(
        keyvault.url, keyvault_server.credential("workload"), timeout=2.0, retry=RetryPolicy(attempts=3, max_wait=1.0)
    )


def failure(fn: object, *args: object) -> EscrowVaultError:
    with pytest.raises(EscrowVaultError) as info:
        fn(*args)  # type: ignore[operator]
    assert "\n" not in str(info.value) and "PRIVATE KEY" not in str(info.value)
    return info.value


def test_store_list_fetch(store: EscrowVault, keyvault: Vault, pair: GeneratedKey) -> None:
    entry = store.store(pair.key, "dev")
    assert entry.name == escrow.secret_name("dev", pair.key.fingerprint) and entry.version
    assert store.entries("dev") == [
        escrow.EscrowEntry(
            entry.name, "dev", pair.key.fingerprint, pair.key.not_before.replace(microsecond=0), True, ""
        )
    ]
    assert store.entries("prod") == []
    assert store.fetch(store.entries("dev")[0]).fingerprint == pair.key.fingerprint


def test_throttling_is_retried_within_the_budget(store: EscrowVault, keyvault: Vault, pair: GeneratedKey) -> None:
    keyvault.throttle(times=2, retry_after=0.05)
    store.store(pair.key, "dev")
    keyvault.throttle(times=None, retry_after=0.05)
    error = failure(store.entries, "dev")
    assert error.reason == "throttled"
    assert str(error) == (  # what is wrong, then the vault last (never mid-line)
        f"throttled (429 Throttled); still throttled after 3 attempts, try again later: Key Vault {store.url}"
    )
    keyvault.clear_faults()
    keyvault.throttle(times=None, retry_after=5)
    error = failure(store.entries, "dev")
    assert error.reason == "throttled"
    assert str(error) == (
        f"throttled (429 Throttled); Retry-After 5 s is longer than the 1 s sealkit waits: Key Vault {store.url}"
    )


def test_soft_deleted_name_is_a_conflict_with_a_way_out(
    store: EscrowVault, keyvault: Vault, pair: GeneratedKey
) -> None:
    entry = store.store(pair.key, "dev")
    keyvault.delete(entry.name)
    error = failure(store.store, pair.key, "dev")
    assert error.reason == "conflict" and "recover" in str(error) and "purge" in str(error)


def test_disabled_copy_is_listed_as_disabled_and_not_fetched(
    store: EscrowVault, keyvault: Vault, pair: GeneratedKey
) -> None:
    entry = store.store(pair.key, "dev")
    keyvault.disable(entry.name)
    (listed,) = store.entries("dev")
    assert not listed.enabled
    error = failure(store.fetch, listed)
    assert error.reason == "forbidden" and "disabled" in str(error)


def test_foreign_content_type_is_not_an_escrow_entry(store: EscrowVault, keyvault: Vault, pair: GeneratedKey) -> None:
    payload = escrow.build_payload(pair.key, "dev")
    keyvault.add_secret(payload.name, payload.value, content_type="text/plain", tags=dict(payload.tags))
    assert store.entries("dev") == []


def test_wrong_credential_and_denied_identity(
    keyvault_server: KeyVaultServer, keyvault: Vault, keyvault_env: dict[str, str], pair: GeneratedKey
) -> None:
    from azure.identity import ClientSecretCredential

    wrong = ClientSecretCredential(
        keyvault_server.tenant_id,
        keyvault_server.client.client_id,
        "wrong-secret",
        authority=keyvault_server.authority_host,
        disable_instance_discovery=True,
        connection_verify=str(keyvault_server.ca_path),
    )
    bad = EscrowVault(keyvault.url, wrong, timeout=2.0)
    error = failure(bad.entries, "dev")
    assert error.reason == "credential"
    keyvault.deny(keyvault_server.client.client_id)
    good = EscrowVault(keyvault.url, keyvault_server.credential("workload"), timeout=2.0)
    error = failure(good.store, pair.key, "dev")
    assert error.reason == "forbidden" and "may not store secrets" in str(error) and "Secrets Officer" in str(error)


def test_a_denied_reader_is_told_the_least_role_that_reads(
    keyvault_server: KeyVaultServer, keyvault: Vault, keyvault_env: dict[str, str], pair: GeneratedKey
) -> None:
    # list and get (keys list, restore, check-recovery) need Key Vault Secrets User, as
    # docs/disaster-recovery.md's Access table says: the error must not ask a reader for Secrets Officer.
    store = EscrowVault(keyvault.url, keyvault_server.credential("workload"), timeout=2.0)
    store.store(pair.key, "dev")
    (entry,) = store.entries("dev")
    keyvault.deny(keyvault_server.client.client_id)
    for error in (failure(store.entries, "dev"), failure(store.fetch, entry)):
        assert error.reason == "forbidden" and "give it the Key Vault Secrets User role" in str(error)
        assert "get and list secret permissions" in str(error)


def test_tampered_value_is_refused_on_fetch(store: EscrowVault, keyvault: Vault, pair: GeneratedKey) -> None:
    other = generate_key_pair(bits=2048)
    payload = escrow.build_payload(pair.key, "dev")
    keyvault.add_secret(
        payload.name,
        escrow.build_payload(other.key, "dev").value,
        content_type=payload.content_type,
        tags=dict(payload.tags),
    )
    (listed,) = store.entries("dev")
    error = failure(store.fetch, listed)
    assert error.reason == "invalid"
    assert str(error) == (
        f"it holds key {other.key.fingerprint}, not the key its name is for: escrowed key {listed.name}"
    )


def test_a_disabled_copy_and_a_missing_role_share_the_reason_but_not_the_refusal(
    keyvault_server: KeyVaultServer, keyvault: Vault, keyvault_env: dict[str, str], pair: GeneratedKey
) -> None:
    """Both are 403, reason `forbidden` (the metric label stays); `refusal` says who refused, from the vault's codes:
    the disabled secret refuses whoever asks, a missing role refuses this identity. Readers (check-recovery, backup,
    restore) read this field, never the message's words."""
    store = EscrowVault(keyvault.url, keyvault_server.credential("workload"), timeout=2.0)
    entry = store.store(pair.key, "dev")
    keyvault.disable(entry.name)
    (listed,) = store.entries("dev")
    disabled = failure(store.fetch, listed)
    assert (disabled.reason, disabled.refusal) == ("forbidden", Refusal.OBJECT)
    assert about_the_copy(disabled)
    keyvault.enable(entry.name)
    keyvault.deny(keyvault_server.client.client_id, ["secrets/get"])
    denied = failure(store.fetch, listed)
    assert (denied.reason, denied.refusal) == ("forbidden", Refusal.CALLER)
    assert not about_the_copy(denied)
    keyvault.allow(keyvault_server.client.client_id)
    keyvault.delete(entry.name)
    gone = failure(store.fetch, listed)
    assert (gone.reason, gone.refusal) == ("not_found", None) and about_the_copy(gone)
