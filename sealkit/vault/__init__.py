"""The Key Vault vocabulary, without the SDK: where a vault is (URLs per cloud, overrides), what its
errors say (codes, messages, Retry-After read duck-typed), and the errors sealkit raises about a vault.

Used by `sealkit csi`, key escrow (`sealkit.escrow`) and the Key Vault client (`sealkit.clients.keyvault`),
which is the only place the Azure SDK itself is imported.
"""
