"""`sealkit lint` over a generated config repo of 10,000 files.

The repo mixes what config repos hold: Deployments with env and CSI volumes, SealedSecrets
(4096-bit framing), ConfigMaps, SecretProviderClasses, Services and kustomizations, in 100 app
directories. It is generated clean, so the run also proves the rules stay quiet on good input.

Two runs: the YAML-only repo (like for like with lint before issue #17, which read YAML only:
BASELINE_FILES_PER_S, measured on the 2-core machine under the heavy lock), and a mixed repo
where one file in ten is JSON, .env, Markdown or binary (every file is now read). Target: within
2x of the baseline, i.e. at least half its files/s.

Run: .venv/bin/python benchmarks/bench_lint.py [FILES]
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from sealkit_cli.main import cli

FILES = 10_000
PER_APP = 100
BASELINE_FILES_PER_S = 5_000  # lint before #17 (YAML files only), best of 3 runs on 10,000 files
TARGET_FILES_PER_S = BASELINE_FILES_PER_S / 2

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: app
          image: ghcr.io/example/{name}:1.0.0
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {name}-db
                  key: password
          volumeMounts:
            - name: secrets-store-inline
              mountPath: /mnt/secrets
              readOnly: true
      volumes:
        - name: secrets-store-inline
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: {name}
"""

SEALED = """\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: {name}-db
  namespace: {namespace}
spec:
  encryptedData:
    password: {blob}
    username: {blob}
  template:
    metadata:
      name: {name}-db
      namespace: {namespace}
    type: Opaque
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  LOG_FORMAT: json
  FEATURE_FLAGS: "a,b,c"
  API_TIMEOUT: "30s"
"""

SPC = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: {name}
spec:
  provider: azure
  parameters:
    keyvaultName: kv-{namespace}
    tenantID: "7f3c2a10-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
    objects: |
      array:
        - |
          objectName: {name}-api-key
          objectType: secret
  secretObjects:
    - secretName: {name}-api
      type: Opaque
      data:
        - objectName: {name}-api-key
          key: api-key
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
    - port: 80
      targetPort: 8080
"""

KINDS = (("deployment", DEPLOYMENT), ("sealedsecret", SEALED), ("configmap", CONFIGMAP), ("spc", SPC))


def sealed_blob() -> str:
    """Random bytes framed as a 4096-bit sealed value (the lint reads framing, not contents)."""
    return base64.b64encode(b"\x02\x00" + os.urandom(512 + 48)).decode()


def generate_repo(root: Path, files: int) -> None:
    blob = sealed_blob()
    written = 0
    app = 0
    while written < files:
        namespace = f"team{app % 20}"
        directory = root / "apps" / f"app{app:04}"
        directory.mkdir(parents=True)
        names: list[str] = []
        per_app = min(PER_APP, files - written)
        for i in range(per_app - 1):
            name = f"svc{app}-{i}"
            kind, template = KINDS[i % len(KINDS)] if i % 5 else ("service", SERVICE)
            base = f"svc{app}-{i - i % 5 + 1}"  # deployments, sealed secrets and SPCs share a name per group
            (directory / f"{kind}-{name}.yaml").write_text(
                template.format(name=base if kind != "service" else name, namespace=namespace, blob=blob)
            )
            names.append(f"{kind}-{name}.yaml")
        resources = "".join(f"  - {n}\n" for n in names)
        (directory / "kustomization.yaml").write_text(
            f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {namespace}\n"
            f"resources:\n{resources}"
        )
        written += per_app
        app += 1


OTHER_FILES = (
    ("settings.json", '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j%d"}, "data": {"a": "b"}}\n'),
    (".env.%d", "LOG_LEVEL=info\nFEATURE_FLAGS=a,b,c\n"),
    ("README-%d.md", "# app\n\nDeploy with Flux. The public key is in clusters/cert.pem.\n" * 20),
)


def mix_in_other_files(root: Path) -> None:
    """Replace one YAML file in ten with JSON, .env, Markdown or a small binary (same file count); the
    kustomization no longer lists the Service it replaces (lint reports a resource that is not there)."""
    services = sorted(root.rglob("service-*.yaml"))  # nothing else references Services by file
    for i, path in enumerate(services[: len(services) // 2]):
        path.unlink()
        kustomization = path.parent / "kustomization.yaml"
        kustomization.write_text(kustomization.read_text().replace(f"  - {path.name}\n", ""))
        if i % 4 == 3:
            (path.parent / f"logo-{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2048))
        else:
            name, body = OTHER_FILES[i % 3]
            (path.parent / (name % i if "%d" in name else f"{i}-{name}")).write_text(body % i if "%d" in body else body)


def run(root: Path, files: int, label: str) -> None:
    runner = CliRunner()
    start = time.perf_counter()
    result = runner.invoke(cli, ["lint", "--fail-on", "warning", str(root)])
    elapsed = time.perf_counter() - start
    print(result.output.strip().splitlines()[-1])
    assert result.exit_code == 0, result.output[-2000:]
    rate = files / elapsed
    print(
        f"lint {files} {label} in {elapsed:.2f}s: {rate:.0f} files/s "
        f"(target >= {TARGET_FILES_PER_S:.0f} files/s, 2x the {BASELINE_FILES_PER_S} files/s YAML-only baseline)"
    )


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else FILES
    root = Path(tempfile.mkdtemp(prefix="sealkit-bench-lint-"))
    generate_repo(root, files)
    run(root, files, "YAML files")
    mix_in_other_files(root)
    run(root, files, "mixed files (1 in 10 JSON, .env, Markdown or binary)")


if __name__ == "__main__":
    main()
