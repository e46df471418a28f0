"""The Key Vault reader of `csi verify` / `discover`, with the real SDK and credential against the local Key Vault:
each way a read can fail is one line (an object-level answer, or an error about the vault), never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealkit.clients.keyvault.credentials import AuthOptions, make_credential
from sealkit.clients.keyvault.reader import VaultReader
from sealkit.clients.keyvault.sdk import SECRET
from sealkit.csi.vaultcheck import Absent, Lookup, Observed
from sealkit.vault.errors import VaultAccessError
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.keyvault.api import VaultApi
from sealkit_testservers.keyvault.https import Request, Response

NAME = "kv-main"


@pytest.fixture
def reader(keyvault_server: KeyVaultServer, keyvault_env: dict[str, str]) -> Iterator[tuple[VaultReader, Vault]]:
    vault = keyvault_server.add_vault(NAME)
    vault.add_secret("db", "plaintext-never-shown")
    options = AuthOptions(mode="workload-identity", timeout=2.0)
    reader = VaultReader({NAME: vault.url}, {NAME: make_credential(options)}, options)
    try:
        yield reader, vault
    finally:
        reader.close()


def read(reader: VaultReader, name: str = "db") -> object:
    return reader.fetch(Lookup(NAME, SECRET, name, ""))


def refused(call: object) -> str:
    with pytest.raises(VaultAccessError) as info:
        call()  # type: ignore[operator]
    message = str(info.value)
    assert "\n" not in message and "plaintext-never-shown" not in message and "Traceback" not in message
    return message


def test_a_readable_secret_is_observed_and_a_missing_one_absent(reader: tuple[VaultReader, Vault]) -> None:
    client, _ = reader
    observed = read(client)
    assert isinstance(observed, Observed) and observed.enabled and observed.version
    assert read(client, "nothing-here") == Absent("SecretNotFound")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "Unauthorized", "401: the vault refused the token"),
        (409, "Conflict", "409 Conflict: "),
        (500, "InternalServerError", "500 InternalServerError: "),
    ],
)
def test_an_error_about_the_vault_is_one_line(
    reader: tuple[VaultReader, Vault], status: int, code: str, expected: str
) -> None:
    client, vault = reader
    assert isinstance(read(client), Observed)  # a token first: the failure below is the vault's answer
    vault.fail(status, code, times=None, path="/secrets/db")
    assert refused(lambda: read(client)).startswith(expected)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (500, "InternalServerError", "500 InternalServerError: "),
        (404, "NotFound", "listing failed: "),  # an object-level answer to a listing is still a failed listing
    ],
)
def test_listing_that_fails_is_one_line(
    reader: tuple[VaultReader, Vault], status: int, code: str, expected: str
) -> None:
    client, vault = reader
    assert [item.name for item in client.list_vault(NAME)] == ["db"]
    vault.fail(status, code, times=None, path="/keys")
    assert refused(lambda: client.list_vault(NAME)).startswith(expected)


def test_a_listing_that_loops_ends(
    keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`csi discover`'s listing followed a `nextLink` back to its first page for ever (escrow's already ended).
    The vault here stops looping after 50 pages, so the listing without the check ends too (and fails)."""
    real = VaultApi.handle

    def handle(self: VaultApi, request: Request) -> Response:
        response = real(self, request)
        if request.path != "/secrets" or response.status != 200 or len(self.vault.requests) > 100:
            return response
        body = json.loads(response.body)
        body["nextLink"] = f"{self.vault.url}/secrets?api-version={request.param('api-version')}"
        return Response.json(200, body)

    monkeypatch.setattr(VaultApi, "handle", handle)  # before the vault is made: it binds its handler
    vault = keyvault_server.add_vault(NAME)
    options = AuthOptions(mode="workload-identity", timeout=2.0)
    client = VaultReader({NAME: vault.url}, {NAME: make_credential(options)}, options)
    try:
        assert refused(lambda: client.list_vault(NAME)) == "the vault's listing loops (a nextLink it gave before)"
    finally:
        client.close()
    assert len([r for r in vault.requests if r.path == "/secrets" and r.status == 200]) == 2


def test_a_token_file_gone_after_the_credential_was_built_is_one_line(
    keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """azure-identity reads the federated token file at token time: one removed (or replaced by a directory)
    since the credential was built raised FileNotFoundError through the SDK (an internal error in csi verify)."""
    token = tmp_path / "token"
    token.write_bytes(Path(keyvault_env["AZURE_FEDERATED_TOKEN_FILE"]).read_bytes())
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token))
    vault = keyvault_server.add_vault(NAME)
    vault.add_secret("db", "plaintext-never-shown")
    options = AuthOptions(mode="workload-identity", timeout=2.0)
    reader = VaultReader({NAME: vault.url}, {NAME: make_credential(options)}, options)
    token.unlink()
    try:
        assert refused(lambda: read(reader)) == (
            "cannot read the federated token file (no such file or directory): "
            "environment variable AZURE_FEDERATED_TOKEN_FILE"
        )
        token.mkdir()
        assert refused(lambda: read(reader)) == (
            "the federated token file is a directory: environment variable AZURE_FEDERATED_TOKEN_FILE"
        )
    finally:
        reader.close()


def test_a_value_error_from_the_sdk_is_one_line() -> None:
    """`map_error` re-raised a ValueError (a setting the SDK refuses at first use): a traceback in csi verify."""
    from sealkit.clients.keyvault.reader import map_error
    from sealkit.vault.errors import CredentialError

    with pytest.raises(CredentialError) as info:
        map_error(ValueError("client_id should not be set for cloud shell managed identity.\nmore"), "secret")
    assert str(info.value) == "client_id should not be set for cloud shell managed identity."
