"""`sealkit csi verify` throughput: 500 objects against the local Key Vault, real SDK and credential.

The spec has 25 apps x 20 secrets in one environment; the vault is the local test server (HTTPS,
bearer challenge, workload-identity token from its token endpoint). Prints objects per second
for several --concurrency values, through the click command (spec loading and the report
included), then the time `--pin` takes to write 500 versions into the spec.

Run: .venv/bin/python benchmarks/bench_csi_verify.py [OBJECTS]
Target: 500 objects in well under 5 s on a 2-core machine at the default concurrency (8).
The local vault runs in the same process (one GIL), so concurrency shows little here; against
the real service (tens of ms per request) it is what keeps large specs fast.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from sealkit_cli.commands.csi import csi
from sealkit_testservers.keyvault import KeyVaultServer

PER_APP = 20
HEAD = """\
apiVersion: sealkit/v1alpha1
kind: KeyVaultCsi
environments:
  dev:
    vault: bench-kv
    tenant: {tenant}
    overlay: clusters/dev/apps
    sealingCert: cert.pem
    identity:
      vmManagedIdentity: {{}}
applications:
"""


def write_spec(path: Path, tenant: str, objects: int) -> None:
    lines = [HEAD.format(tenant=tenant)]
    for app in range((objects + PER_APP - 1) // PER_APP):
        lines.append(f"  app{app:03d}:\n    namespace: ns{app:03d}\n    base: apps/app{app:03d}\n    objects:\n")
        for i in range(PER_APP):
            if app * PER_APP + i < objects:
                lines.append(f"      - name: app{app:03d}-secret-{i:02d}\n")
    path.write_text("".join(lines))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp, KeyVaultServer(Path(tmp) / "kv") as server:
        vault = server.add_vault("bench-kv")
        for app in range((count + PER_APP - 1) // PER_APP):
            for i in range(PER_APP):
                if app * PER_APP + i < count:
                    vault.add_secret(f"app{app:03d}-secret-{i:02d}", "value", content_type="text/plain")
        spec = Path(tmp) / "sealkit-csi.yaml"
        write_spec(spec, server.tenant_id, count)
        env = {**server.env(), "SEALKIT_VAULT_URL_BENCH_KV": vault.url}
        for name in ("AZURE_CLIENT_SECRET", "AZURE_USERNAME", "AZURE_CLIENT_CERTIFICATE_PATH"):
            os.environ.pop(name, None)
        runner = CliRunner()
        warm = runner.invoke(csi, ["verify", str(spec), "--problems-only"], env=env)  # imports, first token
        assert warm.exit_code == 0, warm.output
        print(f"verify {count} objects (cpus: {os.cpu_count()}):")
        for concurrency in (1, 4, 8, 16):
            vault.clear_requests()
            started = time.perf_counter()
            result = runner.invoke(csi, ["verify", str(spec), "--concurrency", str(concurrency)], env=env)
            elapsed = time.perf_counter() - started
            assert result.exit_code == 0, result.output
            requests = len(vault.requests)
            print(
                f"  --concurrency {concurrency:>2}: {elapsed:6.2f} s  {count / elapsed:7.0f} objects/s  "
                f"({requests} vault requests)"
            )
        started = time.perf_counter()
        pinned = runner.invoke(csi, ["verify", str(spec), "--pin", "--problems-only"], env=env)
        assert pinned.exit_code == 0, pinned.output
        print(f"  verify --pin ({count} versions written): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
