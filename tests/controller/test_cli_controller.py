"""`sealkit controller`: Bitnami's flags and env names, one-line errors, lazy imports, and a real run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit_cli.main import cli
from sealkit_controller.testing import CONTROLLER_NS, Cluster

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "cli", "controller", "testservers"))}


def test_help_lists_bitnami_flags_and_env() -> None:
    result = CliRunner().invoke(cli, ["controller", "--help"])
    assert result.exit_code == 0
    for flag in ("--key-renew-period", "--rotate-period", "--key-cutoff-time", "--my-cn", "--key-prefix",
                 "--update-status", "--skip-recreate", "--all-namespaces", "--additional-namespaces",
                 "--privatekey-labels", "--max-unseal-retries", "--kubeconfig", "--context", "--namespace"):
        assert flag in result.output
    assert "SEALED_SECRETS_KEY_RENEW_PERIOD" in result.output


def test_bad_values_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["controller", "--key-renew-period", "30d"])
    assert result.exit_code == 1 and "--key-renew-period: '30d' is not a duration" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["controller"], env={"SEALED_SECRETS_KEY_SIZE": "1024"})
    assert result.exit_code == 1 and "at least 2048" in result.output
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(cli, ["controller", "--kubeconfig", str(missing), "--key-size", "2048"])
    assert result.exit_code == 1 and "cannot configure the Kubernetes client" in result.output
    assert "Traceback" not in result.output


def test_command_module_imports_neither_kopf_nor_kubernetes() -> None:
    code = ("import sys, sealkit_cli.commands.controller; "
            "sys.exit(1 if {'kopf', 'kubernetes'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], env=ENV, check=False).returncode == 0


def test_runs_as_a_process_against_the_api_server(cluster: Cluster) -> None:
    env = {**ENV, "SEALED_SECRETS_KEY_SIZE": "2048", "POD_NAMESPACE": CONTROLLER_NS}
    process = subprocess.Popen([sys.executable, "-m", "sealkit_cli.main", "controller", "--kubeconfig",
                                str(cluster.kubeconfig), "--update-status=false"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        key = cluster.wait(lambda: cluster.kube.list("v1", "Secret", CONTROLLER_NS, label_selector=SEALING_KEY_LABEL),
                           timeout=20)[0]
        import base64

        from sealkit.keys import load_certificate
        from sealkit.sealing import seal_secret

        cert = load_certificate(base64.b64decode(key["data"]["tls.crt"]))
        cluster.create(seal_secret({"apiVersion": "v1", "kind": "Secret",
                                    "metadata": {"name": "app", "namespace": "default"},
                                    "stringData": {"token": "t0k3n"}}, cert))
        assert cluster.wait(lambda: cluster.data("app")) == {"token": b"t0k3n"}
        cluster.wait(lambda: "Unsealed" in cluster.reasons("app"))
        assert "status" not in (cluster.sealed("app") or {})  # --update-status=false
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr[-2000:]
    assert "generated sealing key SHA256:" in stderr and "t0k3n" not in stderr
