"""Errors about a vault (Azure Key Vault or HashiCorp Vault) as a whole: it cannot be read (access, network,
sealed), it throttles, or no credential works.

One line per vault, instead of one identical failure per object. Raised by the Key Vault client
(`sealkit.clients.keyvault`) and the HashiCorp Vault client (`sealkit.clients.vault`), caught by
`sealkit.csi.vaultreads` (for `csi verify`'s Key Vault and HashiCorp Vault checks) and the escrow code.
"""

from __future__ import annotations

from sealkit import retry
from sealkit.errors import SealkitError


class VaultAccessError(SealkitError):
    """The vault as a whole cannot be checked (credential, network, permission, throttling)."""


class Throttled(VaultAccessError, retry.Throttled):
    """429 (or 503) from the vault; `retry_after` is the server's hint in seconds, if any."""


class CredentialError(VaultAccessError):
    """No usable credential: no vault can be read, so everything stops at the first one."""
