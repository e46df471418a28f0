"""Azure Key Vault through the Secrets Store CSI driver: one spec in, reviewable manifests out.

- `spec.load_spec`: read and validate `sealkit-csi.yaml` (and the app bases it names).
- `generate.plan` / `write` / `check`: one kustomize overlay per environment, or a diff.
- `credentials.seal_credentials`: service-principal credentials sealed into the overlay.
- `rules`: what the driver and provider reject, on plain SecretProviderClass/workload dicts
  (reusable for checks of hand-written manifests).
"""
