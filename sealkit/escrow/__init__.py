"""Sealing keys kept outside the cluster (key escrow): the scheme (`scheme`) and the operations (`sync`).

The scheme says how one key is stored as one vault secret (name, value, tags) and how it is checked
when read back; the operations say what is backed up and what is restored. The vault I/O itself is the
Key Vault client's (`sealkit.clients.keyvault.escrow`); the controller and `sealkit keys` both use these.
"""
