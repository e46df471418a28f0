"""HashiCorp Vault through the Secrets Store CSI driver (provider `vault`, hashicorp/vault-csi-provider).

- `rules`: what the Vault provider rejects or silently misreads, on plain SecretProviderClass dicts
  (used by the spec loader's predicates, `csi generate` and `sealkit lint`).
- `spec`: the `hashicorpVault` sections of `sealkit-csi.yaml` (read by `sealkit.csi.spec`).
- `render`: the provider's SecretProviderClass for one application in one environment.
- `check`: what `csi verify` expects of each Vault path and how it judges what Vault answered;
  the answers come from the one Vault client, `sealkit.clients.vault`.
"""
