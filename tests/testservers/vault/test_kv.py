"""KV v1 and v2 reads, lists and metadata through the real hvac client; 404s and the v2 path rule."""

from __future__ import annotations

import hvac
import pytest
import requests
from hvac import exceptions

from sealkit_testservers.vault import VaultServer


def test_kv2_reads_latest_versioned_and_metadata(vault_server: VaultServer) -> None:
    assert vault_server.put_secret("secret", "app/db", {"password": "one"}) == 1
    assert vault_server.put_secret("secret", "app/db", {"password": "two", "user": "app"}) == 2
    client = vault_server.client()
    kv = client.secrets.kv.v2
    latest = kv.read_secret_version("app/db", raise_on_deleted_version=True)
    assert latest["data"]["data"] == {"password": "two", "user": "app"}
    assert latest["data"]["metadata"]["version"] == 2
    assert latest["data"]["metadata"]["deletion_time"] == ""
    assert latest["lease_duration"] == 0
    assert kv.read_secret_version("app/db", version=1, raise_on_deleted_version=True)["data"]["data"] == {
        "password": "one"
    }
    meta = kv.read_secret_metadata("app/db")["data"]
    assert meta["current_version"] == 2
    assert sorted(meta["versions"]) == ["1", "2"]
    vault_server.put_secret("secret", "app/cache/redis", {"url": "x"})
    assert kv.list_secrets("app")["data"]["keys"] == ["cache/", "db"]
    assert kv.list_secrets("")["data"]["keys"] == ["app/"]


def test_kv1_reads_and_lists(vault_server: VaultServer) -> None:
    vault_server.put_secret("legacy", "team/api", {"token": "t"}, kv_version=1)
    client = vault_server.client()
    answer = client.secrets.kv.v1.read_secret("team/api", mount_point="legacy")
    assert answer["data"] == {"token": "t"}
    assert answer["lease_duration"] == 2764800
    assert client.secrets.kv.v1.list_secrets("team", mount_point="legacy")["data"]["keys"] == ["api"]
    with pytest.raises(ValueError, match="KV v1"):
        vault_server.put_secret("legacy", "x", {}, kv_version=2)


def test_missing_paths_and_versions_are_404(vault_server: VaultServer) -> None:
    vault_server.put_secret("secret", "app/db", {"password": "p"})
    client = vault_server.client()
    with pytest.raises(exceptions.InvalidPath) as missing:
        client.secrets.kv.v2.read_secret_version("app/nope", raise_on_deleted_version=True)
    assert missing.value.errors == []
    with pytest.raises(exceptions.InvalidPath):
        client.secrets.kv.v2.read_secret_version("app/db", version=7, raise_on_deleted_version=True)
    vault_server.put_secret("secret", "app/db", {"password": "q"})
    vault_server.delete_secret("secret", "app/db")  # soft-delete version 2
    with pytest.raises(exceptions.InvalidPath):
        client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)
    deleted = client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=False)
    assert deleted["data"]["data"] is None
    assert deleted["data"]["metadata"]["deletion_time"] != ""


def test_kv2_path_without_data_segment_is_404_with_vaults_warning(vault_server: VaultServer) -> None:
    """The CSI provider reads raw paths; a KV v2 path must contain `data/`."""
    vault_server.put_secret("secret", "app/db", {"password": "p"})
    headers = {"X-Vault-Token": vault_server.root_token}
    wrong = requests.get(
        f"{vault_server.url}/v1/secret/app/db", headers=headers, verify=vault_server.ca_path, timeout=5
    )
    assert wrong.status_code == 404
    assert wrong.json()["errors"] == []
    assert wrong.json()["warnings"][0].startswith("Invalid path for a versioned K/V secrets engine.")
    doubled = requests.get(
        f"{vault_server.url}/v1/secret/data/data/app/db", headers=headers, verify=vault_server.ca_path, timeout=5
    )
    assert doubled.status_code == 404
    right = requests.get(
        f"{vault_server.url}/v1/secret/data/app/db", headers=headers, verify=vault_server.ca_path, timeout=5
    )
    assert right.json()["data"]["data"] == {"password": "p"}


def test_mount_discovery(vault_server: VaultServer) -> None:
    vault_server.add_mount("legacy", kv_version=1)
    client = vault_server.client()
    mounts = client.sys.list_mounted_secrets_engines()["data"]
    assert mounts["secret/"]["options"] == {"version": "2"}
    assert mounts["legacy/"]["type"] == "kv"
    ui = client.adapter.get("/v1/sys/internal/ui/mounts/secret/app/db")
    assert ui["data"]["path"] == "secret/"
    assert ui["data"]["options"]["version"] == "2"


def test_plain_http_and_tls_with_the_ca(vault_server: VaultServer) -> None:
    vault_server.put_secret("secret", "s", {"k": "v"})
    assert vault_server.client(tls=False).secrets.kv.v2.read_secret_version("s", raise_on_deleted_version=True)["data"][
        "data"
    ] == {"k": "v"}
    assert vault_server.client().secrets.kv.v2.read_secret_version("s", raise_on_deleted_version=True)["data"][
        "data"
    ] == {"k": "v"}
    untrusted = hvac.Client(url=vault_server.url, token=vault_server.root_token)  # system CAs only
    with pytest.raises(requests.exceptions.SSLError):
        untrusted.secrets.kv.v2.read_secret_version("s", raise_on_deleted_version=True)


def test_percent_escapes_in_the_path_are_decoded_as_vault_does(vault_server: VaultServer) -> None:
    # Vault routes Go's decoded URL path: /v1/secret/data/app%2Fdb is secret/data/app/db, and %25 is a literal '%'.
    vault_server.put_secret("secret", "app/db", {"password": "one"})
    vault_server.put_secret("secret", "app%2fdb", {"password": "literal"})
    client = vault_server.client()
    assert client.adapter.get("/v1/secret/data/app%2Fdb")["data"]["data"] == {"password": "one"}
    assert client.adapter.get("/v1/secret/data/app%252fdb")["data"]["data"] == {"password": "literal"}
