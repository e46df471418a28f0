"""The disaster-recovery drill of docs/disaster-recovery.md, step by step, on the emulator and the local Key Vault.

The shell blocks of the page's drill are parsed and run in order with bash (the real `sealkit` and
`kubectl` binaries, the real Azure SDK and credentials). The only lines not run literally start and stop the
controller's Deployment, which the emulator does not run: they start and stop the real controller on a
thread instead. The emulator serves no OpenAPI, so `kubectl apply` gets `--validate=false` from a
wrapper. `test_doc_lists_exactly_the_steps_the_drill_runs` keeps page and test in lockstep.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_private_keys
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.keyvault import KeyVaultServer
from sealkit_testservers.kube import KubeServer
from tests.support.cluster import CONTROLLER_NS, Cluster

DOC = Path(__file__).resolve().parents[2] / "docs" / "disaster-recovery.md"
STOP = 'kubectl -n "$NS" scale deployment/sealed-secrets-controller --replicas=0'
START = 'kubectl -n "$NS" scale deployment/sealed-secrets-controller --replicas=1'
LIST = 'sealkit keys list --vault "$VAULT" --cluster-name "$CLUSTER"'
COMMON_BEFORE = [
    'sealkit keys backup --vault "$VAULT" --cluster-name "$CLUSTER"',
    LIST,
    STOP,
    'kubectl -n "$NS" delete secret -l sealedsecrets.bitnami.com/sealed-secrets-key',
    "kubectl -n default delete sealedsecret drill-canary",
]
COMMON_AFTER = [
    "kubectl apply -f drill-canary.yaml",
    "kubectl -n default wait --for=condition=Synced sealedsecret/drill-canary --timeout=60s",
    LIST,
]
EXPECTED = {
    "A": [*COMMON_BEFORE, START, LIST, *COMMON_AFTER],
    "B": [
        *COMMON_BEFORE,
        'sealkit keys restore --vault "$VAULT" --cluster-name "$CLUSTER" --dry-run',
        'sealkit keys restore --vault "$VAULT" --cluster-name "$CLUSTER"',
        START,
        *COMMON_AFTER,
    ],
}


def drill_commands(path: str) -> list[str]:
    """The commands of the page's drill blocks marked for `path` (A or B), in order."""
    text = DOC.read_text()
    drill = text[text.index("## The drill") :]
    drill = drill[: drill.index("\n## ", 1)] if "\n## " in drill[1:] else drill
    commands: list[str] = []
    for marker, block in re.findall(r"<!-- drill: ([A-Z ]+) -->\s*```sh\n(.*?)```", drill, re.S):
        if path in marker.split():
            commands += [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return commands


def test_doc_lists_exactly_the_steps_the_drill_runs() -> None:
    for path, expected in EXPECTED.items():
        assert drill_commands(path) == expected, f"docs/disaster-recovery.md drill {path} and this test differ"
    assert drill_commands("A").count(START) == 1 and drill_commands("B").count(STOP) == 1


class Drill:
    """The 'production' cluster before the loss, and a runner for the page's commands."""

    def __init__(
        self,
        kube: KubeServer,
        kubeconfig: Path,
        server: KeyVaultServer,
        workdir: Path,
        start_controller: Callable[[], ControllerThread],
    ) -> None:
        self.kube = kube
        self.vault = server.add_vault("kv-prod")
        self.workdir = workdir
        self.start_controller = start_controller
        self.controller: ControllerThread | None = None
        self.outputs: list[str] = []
        self.by_command: dict[str, list[str]] = {}
        self.env = {
            **os.environ,
            **server.env(),
            "KUBECONFIG": str(kubeconfig),
            "KUBECACHEDIR": str(workdir / ".kube-cache"),
            "VAULT": self.vault.url,
            "CLUSTER": "prod",
            "NS": CONTROLLER_NS,
            "PATH": os.pathsep.join(
                [str(self._kubectl_wrapper()), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
            ),
        }
        for name in ("AZURE_CLIENT_SECRET", "SEALKIT_ESCROW_VAULT", "SEALKIT_ESCROW_CLUSTER_NAME"):
            self.env.pop(name, None)

    def _kubectl_wrapper(self) -> Path:
        real = shutil.which("kubectl")
        assert real, "kubectl is needed for the drill"
        folder = self.workdir / "bin"
        folder.mkdir()
        wrapper = folder / "kubectl"
        wrapper.write_text(
            f'#!/bin/sh\nfor a in "$@"; do [ "$a" = apply ] && exec {real} "$@" --validate=false; done\n'
            f'exec {real} "$@"\n'
        )
        wrapper.chmod(0o755)
        return folder

    def run(self, command: str) -> None:
        if command == STOP:
            assert self.controller is not None
            self.controller.stop()
            self.controller = None
            return
        if command == START:
            assert self.controller is None
            self.controller = self.start_controller()
            return
        assert command.split()[0] in ("sealkit", "kubectl"), command
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.outputs.append(done.stdout + done.stderr)
        self.by_command.setdefault(command, []).append(done.stdout + done.stderr)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"


def key_fingerprints(kube: KubeServer) -> set[str]:
    secrets = [
        s
        for s in kube.list("v1", "Secret", CONTROLLER_NS)
        if (s["metadata"].get("labels") or {}).get(SEALING_KEY_LABEL) == "active"
    ]
    return {k.fingerprint for s in secrets for k in load_private_keys(yaml.safe_dump(s).encode())}


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    return [generate_key_pair(bits=2048, now=start), generate_key_pair(bits=2048, now=start + dt.timedelta(days=30))]


def run_drill(
    path: str,
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    tmp_path: Path,
    pairs: list[GeneratedKey],
    settings: dict[str, Any],
) -> Drill:
    cluster = Cluster(kube, kubeconfig, pairs)
    drill = Drill(
        kube,
        kubeconfig,
        keyvault_server,
        tmp_path,
        lambda: cluster.start(**{k: v(drill) if callable(v) else v for k, v in settings.items()}),
    )
    # Production before the loss: two keys (the older one sealed the canary), the controller, the canary.
    cluster.add_key(0)
    cluster.add_key(1)
    before = key_fingerprints(kube)
    canary = cluster.seal("drill-canary", "default", {"password": "opens-after-the-drill"}, key=0)
    (tmp_path / "drill-canary.yaml").write_text(yaml.safe_dump(canary))
    drill.controller = drill.start_controller()
    try:
        cluster.create(canary)
        cluster.wait(lambda: cluster.data("drill-canary"))
        for command in drill_commands(path):
            drill.run(command)
        assert cluster.data("drill-canary") == {"password": b"opens-after-the-drill"}
        assert key_fingerprints(kube) == before  # the same keys, and no new one was generated
        last_list = drill.outputs[-1]
        for pair in pairs:
            assert re.search(rf"{re.escape(pair.key.fingerprint)}.*\b(sealing|yes)\s+no\s+yes\b", last_list), last_list
        text = "\n".join(drill.outputs)
        assert "PRIVATE KEY" not in text and "opens-after-the-drill" not in text
        assert not any(pair.private_pem.decode().splitlines()[2] in text for pair in pairs)
    finally:
        if drill.controller is not None:
            drill.controller.stop()
    return drill


@pytest.mark.slow
def test_drill_b_restore_by_hand(
    kube: KubeServer, kubeconfig: Path, keyvault_server: KeyVaultServer, tmp_path: Path, pairs: list[GeneratedKey]
) -> None:
    drill = run_drill("B", kube, kubeconfig, keyvault_server, tmp_path, pairs, {})
    (dry_run,) = drill.by_command[EXPECTED["B"][5]]
    assert dry_run.count("would restore") == len(pairs)
    (restored,) = drill.by_command[EXPECTED["B"][6]]
    assert restored.count("restored SHA256:") == len(pairs)


@pytest.mark.slow
def test_drill_a_the_controller_restores(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    keyvault_env: dict[str, str],
    tmp_path: Path,
    pairs: list[GeneratedKey],
) -> None:
    settings = {
        "escrow_vault": lambda drill: drill.vault.url,
        "escrow_cluster_name": "prod",
        "escrow_credential": keyvault_server.credential("workload"),
        "escrow_timeout": 5.0,
    }
    drill = run_drill("A", kube, kubeconfig, keyvault_server, tmp_path, pairs, settings)
    after_start = drill.by_command[LIST][1]  # the list right after the controller started again
    for pair in pairs:
        assert re.search(rf"{re.escape(pair.key.fingerprint)}.*sealed-secrets-key-[0-9a-f]{{16}}", after_start)
