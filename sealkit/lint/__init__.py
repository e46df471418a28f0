"""`sealkit lint`: a repo guard for GitOps config repos.

Generic secret scanners do not understand SealedSecrets, SecretProviderClasses or kustomize;
these rules do. The pieces, each with one job:

- `loader`: bounded YAML reading with line numbers (bombs, binaries, huge files become findings).
- `catalog`: every rule's id, default severity and fix; `model`: findings and severities.
- `secrets`, `sealed`, `csi`, `refs`, `literals`: the rules, on plain manifest dicts.
- `config`: `.sealkit-lint.yaml` (rule severities, path ignores, Secrets made outside the repo).
- `scanner`: files in, sorted findings out; `output`: text, JSON and SARIF 2.1.0.
"""
