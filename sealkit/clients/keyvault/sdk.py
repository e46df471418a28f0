"""Key Vault SDK clients, built one way: no SDK retries, short timeouts, the challenge check as asked.

The secrets, keys and certificates clients for a vault URL and a credential (`credentials.py`). A later
wrap/unwrap client (azure-keyvault-keys `CryptographyClient`) belongs here too.
"""

from __future__ import annotations

from typing import Any

SECRET = "secret"  # noqa: S105 - an object kind
KEY = "key"
CERTIFICATE = "cert"


def client_options(timeout: float, *, verify_challenge_resource: bool = True) -> dict[str, Any]:
    """The keyword arguments every client gets (the SDK's own retries would stall CI and the controller)."""
    options: dict[str, Any] = {"retry_total": 0, "connection_timeout": timeout, "read_timeout": timeout}
    if not verify_challenge_resource:
        options["verify_challenge_resource"] = False  # GuardedCredential checks the resource instead
    return options


def make_client(kind: str, url: str, credential: Any, options: dict[str, Any]) -> Any:
    """A SecretClient, KeyClient or CertificateClient (`kind`: SECRET, KEY or CERTIFICATE)."""
    if kind == SECRET:
        from azure.keyvault.secrets import SecretClient

        return SecretClient(url, credential, **options)
    if kind == KEY:
        from azure.keyvault.keys import KeyClient

        return KeyClient(url, credential, **options)
    from azure.keyvault.certificates import CertificateClient

    return CertificateClient(url, credential, **options)
