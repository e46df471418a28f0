"""A local Azure Key Vault (data plane over HTTPS) with its own token endpoint and TLS CA.

The real azure-keyvault-* clients and azure-identity credentials talk to it unchanged; see
docs/testservers-keyvault.md. Start with `KeyVaultServer` (or the pytest fixtures in
`sealkit_testservers.keyvault.pytest_plugin`).
"""

from .api import RequestRecord
from .authority import Client, TokenRequestRecord
from .keys_api import KeyOperationRecord
from .material import PEM, PKCS12
from .server import KeyVaultServer
from .vault import Vault

__all__ = [
    "PEM",
    "PKCS12",
    "Client",
    "KeyOperationRecord",
    "KeyVaultServer",
    "RequestRecord",
    "TokenRequestRecord",
    "Vault",
]
