"""`sealkit csi verify` against HashiCorp Vault: 200 objects with every failure class, real hvac client.

The scenario is the CLI test's (`tests/support/vaultscenario.py`): one environment on a local Vault
over HTTPS with token auth, 150 readable objects, 10 missing paths, 10 missing keys, 10 forbidden
paths, 5 deleted pinned versions, 5 undecodable values, 5 objects on a sealed Vault and 5 on an
address where nothing listens. Each run goes through the click command (spec loading, the token
check, the reads and the report included) and must report exactly those classes.

Run: .venv/bin/python benchmarks/bench_csi_verify_vault.py
Target: the 200 objects in <= 2 s on the test server (2-core machine, default --concurrency 8).
The Vaults run in this process (one GIL), so concurrency shows little here; against a real Vault
(milliseconds per request) it is what keeps large specs fast.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, as the tests import it

from sealkit_cli.commands.csi import csi
from sealkit_testservers.vault import VaultServer
from tests.support import vaultscenario

TARGET = 2.0
RUNS = 5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with VaultServer(root / "a") as a, VaultServer(root / "b") as b:
            scenario = vaultscenario.build(root, a, b)
            env = {"VAULT_TOKEN": scenario.token, "VAULT_CACERT": None, "HOME": tmp}
            args = ["verify", str(scenario.spec), "--vault-cacert", str(scenario.ca_bundle)]
            runner = CliRunner()
            warm = runner.invoke(csi, args, env=env)  # imports hvac, first TLS handshakes
            expected = "200 Vault reference(s) in 3 Vault(s): 150 ok, 40 failed, 10 not-checked"
            assert warm.exit_code == 2 and expected in warm.output, warm.output  # 2: unreachable Vaults
            print(f"csi verify, {vaultscenario.TOTAL} Vault objects, every failure class (cpus: {os.cpu_count()}):")
            for concurrency in (1, 8):
                times = []
                for _ in range(RUNS):
                    a.clear_requests()
                    started = time.perf_counter()
                    result = runner.invoke(csi, [*args, "--concurrency", str(concurrency)], env=env)
                    times.append(time.perf_counter() - started)
                    assert expected in result.output, result.output
                best, median = min(times), statistics.median(times)
                verdict = "ok" if median <= TARGET else "OVER TARGET"
                print(
                    f"  --concurrency {concurrency}: median {median:.2f} s, best {best:.2f} s over {RUNS} runs "
                    f"(target <= {TARGET:.0f} s: {verdict}); {len(a.requests)} requests to the reachable Vault"
                )


if __name__ == "__main__":
    main()
