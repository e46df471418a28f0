"""Test support for wrapped keys: a KEK in the local Key Vault, wrapped key Secrets, and the leak check.

`Kek` bundles a local vault, the KEK's name and a real `VaultKek` (azure-keyvault-keys) with the server's
credential. `plaintext_forms` lists every form a private key could leak in (PEM PKCS#1/PKCS#8, their base64,
DER base64, and 64-character slices of those); `assert_no_leak` fails naming the output a key appeared in.
Keys the controller generated are recovered for the check by unwrapping their Secrets with the vault's
local unwrap (`Vault.unwrap_locally`, which makes no request and is not counted).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization

from sealkit.clients.keyvault.kek import VaultKek
from sealkit.keys import PrivateKey
from sealkit.wrapping.envelope import open_with_data_key, wrap_private_key
from sealkit.wrapping.keysecret import wrapped_from_secret, wrapped_key_manifest
from sealkit.wrapping.names import WRAPPED_KEY_LABEL
from sealkit_testservers.keyvault import KeyVaultServer, Vault


@dataclass
class Kek:
    server: KeyVaultServer
    vault: Vault
    name: str = "kek"

    @property
    def url(self) -> str:
        return self.vault.key_id(self.name)

    def client(self, url: str | None = None) -> VaultKek:
        return VaultKek(
            url or self.url,
            self.server.credential(),
            timeout=2.0,
            verify_challenge_resource=not self.vault.managed_hsm,
            client_options={"connection_verify": str(self.server.ca_path)},
        )

    def controller_settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings for `Cluster.start`: the KEK, its credential, events on the controller's Deployment."""
        settings: dict[str, Any] = {
            "kek_url": self.url,
            "kek_timeout": 2.0,
            "kek_credential": self.server.credential("workload"),
            "deployment_name": "sealed-secrets-controller",
        }
        if self.vault.managed_hsm:
            settings["kek_accept_challenge_resources"] = ("https://managedhsm.azure.net",)
        return {**settings, **overrides}

    def unwraps(self) -> int:
        return self.vault.count_key_operations("unwrapKey", self.name)

    def open_locally(self, secret: Mapping[str, Any]) -> PrivateKey:
        """The key of a wrapped key Secret, opened without a request (for the leak check)."""
        wrapped = wrapped_from_secret(secret)
        version = wrapped.kek_id.rsplit("/", 1)[-1]
        data_key = self.vault.unwrap_locally(self.name, wrapped.wrapped_data_key, version=version)
        return open_with_data_key(wrapped, data_key)


def wrapped_manifest(kek: Kek, key: PrivateKey, namespace: str, prefix: str = "sealed-secrets-key") -> dict[str, Any]:
    client = kek.client()
    try:
        return wrapped_key_manifest(wrap_private_key(key, client), namespace=namespace, prefix=prefix)
    finally:
        client.close()


def wrapped_secrets(secrets: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [s for s in secrets if WRAPPED_KEY_LABEL in ((s.get("metadata") or {}).get("labels") or {})]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plaintext_forms(key: PrivateKey) -> list[str]:
    """Every form of `key`'s private half worth grepping for (whole, and 64-character slices)."""
    none = serialization.NoEncryption()
    pkcs1_pem = key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, none)
    pkcs8_pem = key.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, none)
    pkcs1_der = key.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, none)
    pkcs8_der = key.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, none)
    whole = [
        pkcs1_pem.decode(),
        pkcs8_pem.decode(),
        _b64(pkcs1_pem),
        _b64(pkcs8_pem),
        _b64(pkcs1_der),
        _b64(pkcs8_der),
        pkcs1_der.hex(),
    ]
    slices = [form[len(form) // 2 : len(form) // 2 + 64] for form in whole]
    body_lines = [line for pem in (pkcs1_pem, pkcs8_pem) for line in pem.decode().splitlines()[2:4]]
    return whole + slices + body_lines


def assert_no_leak(outputs: Mapping[str, str], keys: Iterable[PrivateKey]) -> None:
    """No form of any of `keys` in any output (named in the failure, never printed)."""
    for key in keys:
        forms = plaintext_forms(key)
        for where, text in outputs.items():
            found = [i for i, form in enumerate(forms) if form in text]
            assert not found, f"key {key.fingerprint} leaked into {where} (forms {found})"


def http_text(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return f"{response.status} {response.read().decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read().decode(errors='replace')}"


def cluster_outputs(kube: Any, *, skip_secrets: Iterable[str] = ()) -> dict[str, str]:
    """Every Secret, Event and SealedSecret in the emulator, as text (`skip_secrets`: ns/name left out)."""
    skip = set(skip_secrets)
    out: dict[str, str] = {}
    for secret in kube.list("v1", "Secret"):
        meta = secret["metadata"]
        ident = f"{meta.get('namespace')}/{meta['name']}"
        if ident not in skip:
            out[f"Secret {ident}"] = json.dumps(secret)
    out["events"] = json.dumps(kube.list("v1", "Event"))
    out["sealedsecrets"] = json.dumps(kube.list("bitnami.com/v1alpha1", "SealedSecret"))
    return out


def vault_outputs(vault: Vault) -> dict[str, str]:
    """Every secret value in a vault (escrowed copies), read with its own client."""
    client = vault.client()
    out = {}
    for name in vault.names():
        for version in vault.versions(name, "secret"):
            out[f"vault secret {name}/{version}"] = str(client.get_secret(name, version).value)
    return out
