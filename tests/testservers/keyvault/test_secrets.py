"""Secrets through the real sync SecretClient: get, versions, paging, set, update, delete."""

from __future__ import annotations

import datetime as dt

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from sealkit_testservers.keyvault import Vault

UTC = dt.UTC


def test_get_latest_and_pinned_version(keyvault: Vault) -> None:
    v1 = keyvault.add_secret("db-password", "first")
    v2 = keyvault.add_secret("db-password", "second", content_type="text/plain", tags={"team": "a"})
    client = keyvault.client()

    latest = client.get_secret("db-password")
    assert latest.value == "second"
    assert latest.properties.version == v2
    assert latest.id == f"{keyvault.url}/secrets/db-password/{v2}"
    assert latest.properties.vault_url == keyvault.url
    assert latest.properties.content_type == "text/plain"
    assert latest.properties.tags == {"team": "a"}
    assert latest.properties.enabled is True
    assert latest.properties.recovery_level == "Recoverable+Purgeable"

    pinned = client.get_secret("db-password", v1)
    assert pinned.value == "first"
    assert pinned.properties.version == v1
    assert pinned.properties.content_type is None

    # the SDK asks for /secrets/<name>/ (empty version) and /secrets/<name>/<version>
    paths = [r.path for r in keyvault.requests if r.status == 200]
    assert paths == ["/secrets/db-password/", f"/secrets/db-password/{v1}"]
    assert {r.api_version for r in keyvault.requests} == {"2026-04-01"}


def test_attributes_round_trip_including_expired_and_not_yet_valid(keyvault: Vault) -> None:
    past = dt.datetime(2020, 1, 1, tzinfo=UTC)
    future = dt.datetime(2099, 1, 1, tzinfo=UTC)
    keyvault.add_secret("expired", "x", exp=past)
    keyvault.add_secret("not-yet", "y", nbf=future)
    client = keyvault.client()

    expired = client.get_secret("expired")  # the service serves it; callers check exp themselves
    assert expired.value == "x"
    assert expired.properties.expires_on == past
    assert expired.properties.not_before is None

    not_yet = client.get_secret("not-yet")
    assert not_yet.properties.not_before == future
    assert not_yet.properties.expires_on is None
    assert not_yet.properties.created_on is not None
    assert abs((not_yet.properties.created_on - dt.datetime.now(UTC)).total_seconds()) < 60


def test_list_pages_follow_next_link(keyvault: Vault) -> None:
    names = [f"s{i:02d}" for i in range(12)]
    for name in names:
        keyvault.add_secret(name, "v", tags={"n": name})
    keyvault.add_secret("s00", "v2")  # a second version still lists once
    client = keyvault.client()

    listed = list(client.list_properties_of_secrets(max_page_size=5))
    assert [p.name for p in listed] == names
    assert listed[0].tags is None  # the newest version's tags
    assert listed[1].tags == {"n": "s01"}
    assert all(p.version is None for p in listed)  # list ids carry no version

    pages = [r for r in keyvault.requests if r.path == "/secrets" and r.status == 200]
    assert len(pages) == 3
    assert "$skiptoken" not in pages[0].query
    assert all("$skiptoken" in p.query and p.query["maxresults"] == "5" for p in pages[1:])


def test_default_page_size_is_25(keyvault: Vault) -> None:
    for i in range(26):
        keyvault.add_secret(f"n{i:02d}", "v")
    assert len(list(keyvault.client().list_properties_of_secrets())) == 26
    assert len([r for r in keyvault.requests if r.path == "/secrets" and r.status == 200]) == 2


def test_list_versions(keyvault: Vault) -> None:
    versions = [keyvault.add_secret("rotating", f"v{i}") for i in range(4)]
    keyvault.disable("rotating", versions[1])
    client = keyvault.client()
    listed = list(client.list_properties_of_secret_versions("rotating", max_page_size=3))
    assert [p.version for p in listed] == versions
    assert [p.enabled for p in listed] == [True, False, True, True]
    assert list(client.list_properties_of_secret_versions("nothing-here")) == []


def test_set_secret_with_properties_and_read_back(keyvault: Vault) -> None:
    client = keyvault.client()
    exp = dt.datetime(2030, 5, 1, tzinfo=UTC)
    created = client.set_secret(
        "escrow-key", "PEM DATA", content_type="application/x-pem-file", tags={"sealkit": "escrow"}, expires_on=exp
    )
    assert created.value == "PEM DATA"
    assert created.properties.tags == {"sealkit": "escrow"}
    assert created.properties.expires_on == exp

    stored = keyvault.secret("escrow-key")
    assert stored is not None
    assert stored.value == "PEM DATA"
    assert stored.version == created.properties.version

    again = client.set_secret("escrow-key", "PEM DATA 2")
    assert again.properties.version != created.properties.version
    assert keyvault.versions("escrow-key") == [created.properties.version, again.properties.version]
    # the PUT was first sent without its body (challenge), then with it
    puts = [r.status for r in keyvault.requests if r.method == "PUT"]
    assert puts == [401, 200, 200]


def test_update_properties_disables_and_retags(keyvault: Vault) -> None:
    version = keyvault.add_secret("flag", "on")
    client = keyvault.client(retry_total=0)
    updated = client.update_secret_properties("flag", version, enabled=False, tags={"state": "off"})
    assert updated.enabled is False
    assert updated.tags == {"state": "off"}
    with pytest.raises(HttpResponseError) as info:
        client.get_secret("flag")
    assert info.value.status_code == 403


def test_delete_then_recover_then_purge(keyvault: Vault) -> None:
    keyvault.add_secret("temp", "x")
    client = keyvault.client(retry_total=0)

    poller = client.begin_delete_secret("temp")
    deleted = poller.result()
    poller.wait()
    assert deleted.name == "temp"
    assert deleted.recovery_id == f"{keyvault.url}/deletedsecrets/temp"
    assert deleted.deleted_date is not None
    assert deleted.scheduled_purge_date is not None
    assert keyvault.names() == []
    assert [d.name for d in client.list_deleted_secrets()] == ["temp"]

    # a soft-deleted name cannot be reused
    with pytest.raises(ResourceExistsError) as info:
        client.set_secret("temp", "y")
    assert info.value.status_code == 409

    recovered = client.begin_recover_deleted_secret("temp").result()
    assert recovered.name == "temp"
    assert client.get_secret("temp").value == "x"

    client.begin_delete_secret("temp").wait()
    client.purge_deleted_secret("temp")
    assert list(client.list_deleted_secrets()) == []
    assert client.set_secret("temp", "fresh").value == "fresh"


def test_secret_values_are_never_logged(keyvault: Vault) -> None:
    client = keyvault.client()
    client.set_secret("token", "VERY-SECRET-VALUE")
    client.get_secret("token")
    assert "VERY-SECRET-VALUE" not in repr(keyvault.requests)
