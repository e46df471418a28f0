"""Sealing keys that never rest in plaintext: envelope encryption under a key-encryption key (KEK) in Key Vault.

Where it sits: the core. A sealing private key is encrypted (AES-256-GCM) with a random data key, and the
data key is wrapped by a KEK that never leaves Azure Key Vault or Managed HSM; the result is stored in a
wrapped key Secret (or an escrowed copy) beside the certificate in clear. The modules:

- `names`: the wrapped key Secret's type, label and data fields (no imports, so `sealkit.keys` can read them);
- `kekid`: KEK ids (Key Vault / Managed HSM key URLs) and the wrap algorithms;
- `envelope`: the encryption itself (`WrappedKey`, wrap, unwrap, the JSON form escrow keeps);
- `keysecret`: wrapped key Secrets in a cluster (manifests, parsing, listing);
- `material`: key files that hold plaintext and wrapped keys side by side (`sealkit unseal`, restores);
- `convert`: `sealkit keys wrap` and `rewrap` over the key Secrets of a namespace.

The vault calls are the Key Vault client's (`sealkit.clients.keyvault.kek`), given to this code as a
`KeyWrapper`; see docs/wrapped-keys.md for the design and the threat model.
"""
