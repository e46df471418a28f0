"""`sealkit lint`: a repo guard for GitOps config repos.

Generic secret scanners do not understand SealedSecrets, SecretProviderClasses, SOPS or kustomize;
these rules do. The pieces, each with one job:

- `discovery`: which files a run reads (git-tracked and staged, or walked); `loader`: the one file
  read (size cap) and bounded YAML/JSON reading with line numbers.
- `catalog`: every rule's id, default severity and fix; `model`: findings and severities.
- `keymaterial`: private keys in any file; `secrets`, `sealed`, `spc`/`csi`, `refs`, `literals`,
  `dotenv`, `sops`, `generators`: the rules, on plain manifest dicts, `.env` lines and SOPS files.
- `kustomize`: what a kustomization carries inline or names; `kustomize_paths`: every path it names
  found, or reported (not there, outside the repo, remote, a cycle).
- `config`: `.sealkit-lint.yaml` (rule severities, path ignores, Secrets made outside the repo).
- `scanner`: files in, sorted findings out; `output`: text, JSON and SARIF 2.1.0.
"""
