"""`sealkit csi generate` on a synthetic config repo: 500 apps x 3 environments.

Each app has a base (Deployment + CronJob), three Key Vault objects, one synced Secret and env
wiring; the environments use workload identity, VM managed identity and a service principal.
Prints the time to load and validate the spec (bases included), render, and write every file.

Run: .venv/bin/python benchmarks/bench_csi_generate.py [APPS] [DIR]
Target: load + plan + write under 2 s for 500 apps on a 2-core machine. Writing ~6,500 small
files is disk-bound: the "bare write" line times the same bytes written by a plain loop, so a slow
disk shows there; output goes to /dev/shm when present (DIR picks another parent directory).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from sealkit.csi import generate
from sealkit.csi.spec import load_spec

TENANT = "11111111-2222-3333-4444-555555555555"
BASE_KUSTOMIZATION = "namespace: {ns}\nresources: [deployment.yaml, cronjob.yaml]\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: app, image: example/{name}:1}}, {{name: sidecar, image: example/sidecar:1}}]
"""
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}-report}}
spec:
  schedule: "0 1 * * *"
  jobTemplate: {{spec: {{template: {{spec: {{restartPolicy: Never, containers: [{{name: report, image: r:1}}]}}}}}}}}
"""


def environment(name: str, identity: dict[str, Any]) -> dict[str, Any]:
    return {
        "vault": f"bench-{name}-kv",
        "tenant": TENANT,
        "overlay": f"clusters/{name}/apps",
        "sealingCert": "cert.pem",
        "identity": identity,
    }


def application(i: int) -> dict[str, Any]:
    name = f"app{i:03d}"
    return {
        "namespace": f"ns{i % 50:02d}",
        "base": f"apps/{name}/base",
        "serviceAccount": {"name": name},
        "objects": [
            {"name": f"{name}-db", "alias": "db-password", "filePermission": "0440"},
            {"name": f"{name}-tls", "format": "pem"},
            {"name": f"{name}-signing", "type": "key", "versionHistory": 2},
        ],
        "sync": [{"secretName": f"{name}-db", "data": [{"key": "password", "objectName": "db-password"}]}],
        "workloads": [
            {
                "kind": "Deployment",
                "name": name,
                "containers": ["app"],
                "env": [{"name": "DB_PASSWORD", "secretName": f"{name}-db", "key": "password"}],
            },
            {"kind": "CronJob", "name": f"{name}-report"},
        ],
    }


def make_repo(root: Path, apps: int) -> Path:
    spec = {
        "apiVersion": "sealkit/v1alpha1",
        "kind": "KeyVaultCsi",
        "environments": {
            "dev": environment("dev", {"workloadIdentity": {"clientID": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}}),
            "staging": environment("staging", {"vmManagedIdentity": None}),
            "prod": environment("prod", {"servicePrincipal": None}),
        },
        "applications": {f"app{i:03d}": application(i) for i in range(apps)},
    }
    for i in range(apps):
        name, base = f"app{i:03d}", root / f"apps/app{i:03d}/base"
        base.mkdir(parents=True)
        (base / "kustomization.yaml").write_text(BASE_KUSTOMIZATION.format(ns=f"ns{i % 50:02d}"))
        (base / "deployment.yaml").write_text(DEPLOYMENT.format(name=name))
        (base / "cronjob.yaml").write_text(CRONJOB.format(name=name))
    path = root / "sealkit-csi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def bare_write(root: Path, files: dict[str, str]) -> float:
    """The floor: the same bytes written by a plain loop into a fresh directory."""
    start = time.perf_counter()
    for relpath, text in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode())
    return time.perf_counter() - start


def main() -> None:
    apps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    # RAM-backed by default so the numbers measure sealkit, not this machine's disk (see "bare write").
    parent = sys.argv[2] if len(sys.argv) > 2 else ("/dev/shm" if Path("/dev/shm").is_dir() else None)
    print(f"output under: {parent or tempfile.gettempdir()}")
    print(f"libyaml: {'yes' if getattr(yaml, '__with_libyaml__', False) else 'no (pure-Python PyYAML, ~4x slower)'}")
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        path = make_repo(Path(tmp), apps)
        start = time.perf_counter()
        spec = load_spec(path)
        loaded = time.perf_counter()
        plan = generate.plan(spec)
        planned = time.perf_counter()
        result = generate.write(plan)
        written = time.perf_counter()
        again = generate.check(generate.plan(load_spec(path)))
        checked = time.perf_counter()
        floor = bare_write(Path(tmp) / "bare", plan.files)
    assert again.diffs == [] and again.stale == []
    total = written - start
    print(f"{apps} apps x {len(spec.environments)} environments -> {len(result.written)} files")
    print(f"  load + validate spec and bases: {loaded - start:6.3f} s")
    print(f"  render:                         {planned - loaded:6.3f} s")
    print(
        f"  write:                          {written - planned:6.3f} s  (bare write of the same files: {floor:.3f} s)"
    )
    print(f"  generate total:                 {total:6.3f} s  (target < 2 s)")
    print(f"  generate --check (re-run):      {checked - written:6.3f} s")
    if total >= 2.0:
        sys.exit(f"too slow: {total:.3f} s >= 2 s")


if __name__ == "__main__":
    main()
