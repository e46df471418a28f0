"""azure-identity's real credentials against the local token endpoint, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError

from sealkit_testservers.keyvault import KeyVaultServer, Vault


def test_client_secret_credential(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    from azure.identity import ClientSecretCredential

    keyvault.add_secret("s", "v")
    client = keyvault_server.client
    credential = ClientSecretCredential(
        client.tenant_id,
        client.client_id,
        client.secret or "",
        authority=keyvault_server.authority_host,
        connection_verify=str(keyvault_server.ca_path),
        disable_instance_discovery=True,  # MSAL would otherwise ask login.microsoftonline.com
    )
    with credential:
        assert keyvault.client(credential=credential).get_secret("s").value == "v"
    [record] = keyvault_server.token_requests
    assert record.grant == "secret"
    assert record.scope == f"https://0.0.1:{keyvault.port}/.default"
    assert record.client_id == client.client_id
    assert client.secret is not None
    assert client.secret not in repr(keyvault_server.token_requests)


def test_workload_identity_credential_reads_the_token_file(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    from azure.identity import WorkloadIdentityCredential

    keyvault.add_secret("s", "v")
    client = keyvault_server.client
    credential = WorkloadIdentityCredential(
        tenant_id=client.tenant_id,
        client_id=client.client_id,
        token_file_path=str(keyvault_server.federated_token_file),
        authority=keyvault_server.authority_host,
        connection_verify=str(keyvault_server.ca_path),
    )
    assert keyvault.client(credential=credential).get_secret("s").value == "v"
    assert [r.grant for r in keyvault_server.token_requests] == ["assertion"]


def test_wrong_federated_token_is_refused(keyvault_server: KeyVaultServer, tmp_path: Path) -> None:
    from azure.identity import WorkloadIdentityCredential

    token_file = tmp_path / "token"
    token_file.write_text("not-the-registered-token")
    credential = WorkloadIdentityCredential(
        tenant_id=keyvault_server.tenant_id,
        client_id=keyvault_server.client.client_id,
        token_file_path=str(token_file),
        authority=keyvault_server.authority_host,
        connection_verify=str(keyvault_server.ca_path),
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700213"):
        credential.get_token("https://vault.azure.net/.default")


def test_wrong_secret_and_unknown_client_are_refused(keyvault_server: KeyVaultServer) -> None:
    from azure.identity import ClientSecretCredential

    common = {
        "authority": keyvault_server.authority_host,
        "connection_verify": str(keyvault_server.ca_path),
        "disable_instance_discovery": True,
    }
    tenant, client_id = keyvault_server.tenant_id, keyvault_server.client.client_id
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        ClientSecretCredential(tenant, client_id, "wrong", **common).get_token("https://vault.azure.net/.default")
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        ClientSecretCredential(tenant, "no-such-app", "x", **common).get_token("https://vault.azure.net/.default")
    with pytest.raises(ClientAuthenticationError):
        ClientSecretCredential("other-tenant", client_id, "x", **common).get_token("https://vault.azure.net/.default")
    assert [r.status for r in keyvault_server.token_requests] == [401, 400]  # unknown tenant fails discovery


def test_default_azure_credential_from_workload_env(keyvault: Vault, keyvault_env: dict[str, str]) -> None:
    """What a pod with workload identity sees: env vars only, no code options."""
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    keyvault.add_secret("s", "v")
    assert set(keyvault_env) >= {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"}
    client = SecretClient(keyvault.url, DefaultAzureCredential())  # CA from REQUESTS_CA_BUNDLE
    assert client.get_secret("s").value == "v"


def test_default_azure_credential_from_client_secret_env(
    keyvault_server: KeyVaultServer, keyvault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    for name, value in keyvault_server.env(secret=True).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE")
    keyvault.add_secret("s", "v")
    credential = DefaultAzureCredential(disable_instance_discovery=True)
    assert SecretClient(keyvault.url, credential).get_secret("s").value == "v"
    assert [r.grant for r in keyvault_server.token_requests] == ["secret"]


def test_tokens_are_reused_per_client(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    keyvault.add_secret("s", "v")
    client = keyvault.client()
    for _ in range(5):
        client.get_secret("s")
    assert len(keyvault_server.token_requests) == 1
    assert [r.status for r in keyvault.requests].count(401) == 1


def test_openid_configuration_points_at_the_local_token_endpoint(keyvault_server: KeyVaultServer) -> None:
    import json
    import urllib.request

    url = f"{keyvault_server.authority_host}/{keyvault_server.tenant_id}/v2.0/.well-known/openid-configuration"
    context = keyvault_server.tls.client_context()
    with urllib.request.urlopen(url, context=context) as response:
        config = json.load(response)
    assert config["token_endpoint"] == (
        f"{keyvault_server.authority_host}/{keyvault_server.tenant_id}/oauth2/v2.0/token"
    )
