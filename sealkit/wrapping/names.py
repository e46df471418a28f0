"""The names of sealkit's wrapped key Secrets: type, labels, annotations and data fields.

A module of constants only (no imports), so that `sealkit.keys` can recognise a wrapped key Secret in a
key file without importing the envelope code. Why a distinct type and label (docs/wrapped-keys.md):
Bitnami's controller lists key Secrets by `sealedsecrets.bitnami.com/sealed-secrets-key=active` and
dereferences the parsed certificate even when `tls.key` fails to parse (a crash), and
`kubeseal --recovery-unseal` requires `tls.key`; a wrapped key Secret carries neither that label nor a
`tls.key`, so both pass it by (kubeseal refuses it with "secret must contain a 'tls.data' key").
"""

from __future__ import annotations

WRAPPED_KEY_TYPE = "sealkit.io/wrapped-sealing-key"
WRAPPED_KEY_LABEL = "sealkit.io/wrapped-sealing-key"
WRAPPED_KEY_ACTIVE = "active"
WRAPPED_SELECTOR = f"{WRAPPED_KEY_LABEL}={WRAPPED_KEY_ACTIVE}"
ANY_WRAPPED_SELECTOR = WRAPPED_KEY_LABEL  # every wrapped key Secret, whatever its label's value

# Annotations: the plaintext key Secret a wrapped one replaced, and that Secret's creation time (the key's
# age with --key-order-priority=SecretCreationTimestamp must not restart when it is wrapped).
WRAPPED_FROM_ANNOTATION = "sealkit.io/wrapped-from"
ORIGINAL_CREATION_ANNOTATION = "sealkit.io/original-creation-timestamp"

# Data fields (all base64 in the Secret, as any Secret data).
CERTIFICATE = "tls.crt"  # the certificate, PEM, in clear: fingerprint and dates without the vault
CIPHERTEXT = "sealing-key.enc"  # 12-byte nonce || AES-256-GCM(data key, PKCS#8 DER private key) || tag
WRAPPED_DATA_KEY = "data-key.wrapped"  # the 32-byte data key wrapped by the KEK (the vault's wrapKey)
KEK_ID = "kek.id"  # the KEK's full versioned id: https://<vault>/keys/<name>/<version>
KEK_ALGORITHM = "kek.alg"  # RSA-OAEP-256 (RSA KEK) or A256KW (Managed HSM AES KEK)
SCHEME = "scheme"  # SCHEME_VERSION
SCHEME_VERSION = "sealkit-wrapped-key/1"
FIELDS = (CERTIFICATE, CIPHERTEXT, WRAPPED_DATA_KEY, KEK_ID, KEK_ALGORITHM, SCHEME)
