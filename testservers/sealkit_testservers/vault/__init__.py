"""A local HashiCorp Vault (KV v1/v2, token and Kubernetes auth, ACL policies, seal, namespaces).

The real `hvac` client talks to it unchanged over HTTP or HTTPS (own CA); see
docs/testservers-vault.md. Start with `VaultServer` (or the `vault_server` pytest fixture in
`sealkit_testservers.vault.pytest_plugin`).
"""

from .api import RequestRecord
from .kubeauth import service_account_jwt
from .server import VaultServer

__all__ = ["RequestRecord", "VaultServer", "service_account_jwt"]
