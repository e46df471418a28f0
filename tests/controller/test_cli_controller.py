"""`sealkit controller`: Bitnami's flags and env names, one-line errors, lazy imports, and a real run."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit_cli.main import cli
from sealkit_controller.settings import Settings
from tests.support.cluster import CONTROLLER_NS, Cluster
from tests.support.processes import stopped

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "cli", "controller", "testservers"))}


def test_version_in_bitnamis_form() -> None:
    """Bitnami's controller prints `controller version: <v>`; so does this one, with the package version."""
    import sealkit

    result = CliRunner().invoke(cli, ["controller", "--version"])
    assert (result.exit_code, result.output) == (0, f"controller version: {sealkit.__version__}\n")


def test_help_lists_bitnami_flags_and_env() -> None:
    result = CliRunner().invoke(cli, ["controller", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--key-renew-period",
        "--rotate-period",
        "--key-cutoff-time",
        "--my-cn",
        "--key-prefix",
        "--update-status",
        "--skip-recreate",
        "--all-namespaces",
        "--additional-namespaces",
        "--privatekey-labels",
        "--max-unseal-retries",
        "--kubeconfig",
        "--context",
        "--namespace",
    ):
        assert flag in result.output
    assert "SEALED_SECRETS_KEY_RENEW_PERIOD" in result.output
    text = " ".join(result.output.split())
    assert "-0700', or ISO 8601)" in text  # --key-cutoff-time takes both (docs/controller.md)
    assert "[default: --workers + 4]" in text  # --threads follows --workers when it is given


def test_bad_values_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["controller", "--key-renew-period", "30d"])
    assert (
        result.exit_code == 2
        and "'30d' is not a duration (e.g. 720h, 1h30m, 90s, 0): --key-renew-period" in result.output
    )
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["controller"], env={"SEALED_SECRETS_KEY_SIZE": "1024"})
    assert result.exit_code == 2 and "at least 2048" in result.output
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(cli, ["controller", "--kubeconfig", str(missing), "--key-size", "2048"])
    assert result.exit_code == 2 and f"no such file: kubeconfig {missing}" in result.output
    assert "Traceback" not in result.output


def test_command_module_imports_neither_kopf_nor_kubernetes() -> None:
    code = (
        "import sys, sealkit_cli.commands.controller; sys.exit(1 if {'kopf', 'kubernetes'} & set(sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], env=ENV, check=False).returncode == 0


NO_PASSWD_ENTRY = """
import pwd

def _no_entry(uid):
    raise KeyError(f"getpwuid(): uid not found: {uid}")

pwd.getpwuid = _no_entry
"""


def test_runs_as_a_process_against_the_api_server(cluster: Cluster, tmp_path: Path) -> None:
    # As in a pod of the chart: POD_NAME and POD_NAMESPACE set, no POD_ID, no user name in the
    # environment and no passwd entry for the uid (uid 65532 in the image). Kopf must not be left
    # to guess its identity from the passwd database.
    (tmp_path / "sitecustomize.py").write_text(NO_PASSWD_ENTRY)
    env = {k: v for k, v in ENV.items() if k not in ("POD_ID", "USER", "LOGNAME", "LNAME", "USERNAME")} | {
        "SEALED_SECRETS_KEY_SIZE": "2048",
        "SEALED_SECRETS_WATCH_FOR_SECRETS": "true",  # accepted, with one warning saying why
        "POD_NAMESPACE": CONTROLLER_NS,
        "POD_NAME": "sealkit-controller-7d9f-abcde",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), ENV["PYTHONPATH"]]),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sealkit_cli.main",
            "controller",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--update-status=false",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        key = cluster.wait(
            lambda: cluster.kube.list("v1", "Secret", CONTROLLER_NS, label_selector=SEALING_KEY_LABEL), timeout=20
        )[0]
        import base64

        from sealkit.keys import load_certificate
        from sealkit.sealing import seal_secret

        cert = load_certificate(base64.b64decode(key["data"]["tls.crt"]))
        cluster.create(
            seal_secret(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "app", "namespace": "default"},
                    "stringData": {"token": "t0k3n"},
                },
                cert,
            )
        )
        assert cluster.wait(lambda: cluster.data("app")) == {"token": b"t0k3n"}
        cluster.wait(lambda: "Unsealed" in cluster.reasons("app"))
        assert "status" not in (cluster.sealed("app") or {})  # --update-status=false
    finally:
        stdout, stderr = stopped(process)
    assert process.returncode == 0, stderr[-2000:]
    # --log-info-stdout (default true): info lines on stdout, warnings on stderr.
    assert "generated sealing key SHA256:" in stdout and " INFO " not in stderr
    (warning,) = [line for line in stderr.splitlines() if "WARNING" in line]
    assert "--watch-for-secrets has no effect: sealkit always watches key Secrets" in warning
    assert "t0k3n" not in stdout + stderr


ENV_SETTINGS = {
    "SEALED_SECRETS_KEY_PREFIX": ("k-", "key_prefix", "k-"),
    "SEALED_SECRETS_KEY_SIZE": ("3072", "key_size", 3072),
    "SEALED_SECRETS_KEY_TTL": ("48h", "key_ttl", dt.timedelta(hours=48)),
    "SEALED_SECRETS_MY_CN": ("me", "my_cn", "me"),
    "SEALED_SECRETS_KEY_RENEW_PERIOD": ("24h", "key_renew_period", dt.timedelta(hours=24)),
    "SEALED_SECRETS_KEY_CUTOFF_TIME": (
        "Mon, 02 Jan 2006 15:04:05 -0700",
        "key_cutoff_time",
        dt.datetime(2006, 1, 2, 22, 4, 5, tzinfo=dt.UTC),
    ),
    "SEALED_SECRETS_KEY_ORDER_PRIORITY": ("SecretCreationTimestamp", "key_order_priority", "SecretCreationTimestamp"),
    "SEALED_SECRETS_PRIVATEKEY_LABELS": ("a=1", "private_key_labels", {"a": "1"}),
    "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS": ("b=2", "private_key_annotations", {"b": "2"}),
    "SEALED_SECRETS_WATCH_FOR_SECRETS": ("true", "watch_for_secrets", True),
    "SEALED_SECRETS_UPDATE_STATUS": ("false", "update_status", False),
    "SEALED_SECRETS_SKIP_RECREATE": ("true", "skip_recreate", True),
    "SEALED_SECRETS_MAX_UNSEAL_RETRIES": ("7", "max_unseal_retries", 7),
    "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA": ("false", "accept_deprecated_v1_data", False),
    "SEALED_SECRETS_OLD_GC_BEHAVIOR": ("true", "old_gc_behavior", True),
    "SEALED_SECRETS_ALL_NAMESPACES": ("false", "all_namespaces", False),
    "SEALED_SECRETS_ADDITIONAL_NAMESPACES": ("x,y", "additional_namespaces", ("x", "y")),
    "SEALED_SECRETS_LABEL_SELECTOR": ("team=a", "label_selector", "team=a"),
    "SEALED_SECRETS_NAMESPACE_SELECTOR": ("env in (dev)", "namespace_selector", "env in (dev)"),
    "SEALED_SECRETS_LISTEN_ADDR": ("127.0.0.1:9080", "listen_addr", "127.0.0.1:9080"),
    "SEALED_SECRETS_LISTEN_METRICS_ADDR": ("127.0.0.1:9081", "listen_metrics_addr", "127.0.0.1:9081"),
    "SEALED_SECRETS_RATE_LIMIT": ("5", "rate_limit", 5.0),
    "SEALED_SECRETS_RATE_LIMIT_BURST": ("6", "rate_limit_burst", 6),
    "SEALED_SECRETS_READ_TIMEOUT": ("30s", "read_timeout", dt.timedelta(seconds=30)),
    "SEALED_SECRETS_WRITE_TIMEOUT": ("1m", "write_timeout", dt.timedelta(minutes=1)),
    "SEALED_SECRETS_KUBECLIENT_QPS": ("7", "kubeclient_qps", 7.0),
    "SEALED_SECRETS_METRICS_OMIT_SECRET_LABELS": ("true", "metrics_omit_secret_labels", True),
    "SEALED_SECRETS_LOG_INFO_STDOUT": ("false", "log_info_stdout", False),
    "SEALED_SECRETS_KUBECLIENT_BURST": ("12", "kubeclient_burst", 12),
    "SEALED_SECRETS_LEADER_ELECT": ("true", "leader_elect", True),
    "SEALED_SECRETS_LEADER_ELECT_LEASE_NAME": ("sk", "leader_elect_lease_name", "sk"),
    "SEALED_SECRETS_LEADER_ELECT_LEASE_DURATION": ("30s", "leader_elect_lease_duration", 30.0),
    "SEALED_SECRETS_LEADER_ELECT_RENEW_DEADLINE": ("20s", "leader_elect_renew_deadline", 20.0),
    "SEALED_SECRETS_LEADER_ELECT_RETRY_PERIOD": ("3s", "leader_elect_retry_period", 3.0),
    "SEALED_SECRETS_WORKERS": ("3", "workers", 3),
    "SEALED_SECRETS_THREADS": ("2", "threads", 2),
    "SEALED_SECRETS_LOG_LEVEL": ("WARN", "log_level", "WARNING"),
    "SEALED_SECRETS_LOG_FORMAT": ("json", "log_format", "json"),
}


def test_every_setting_is_read_from_its_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    import sealkit_controller as runner

    seen: list[Settings] = []
    monkeypatch.setattr(runner, "configure_logging", lambda settings: None)
    monkeypatch.setattr(runner, "run", seen.append)
    env = {name: value for name, (value, _, _) in ENV_SETTINGS.items()}
    result = CliRunner().invoke(cli, ["controller"], env=env)
    assert result.exit_code == 0, result.output
    (settings,) = seen
    for name, (_, attribute, expected) in ENV_SETTINGS.items():
        assert getattr(settings, attribute) == expected, name
    assert settings.watched_namespaces() is not None and "x" in settings.watched_namespaces()  # type: ignore[operator]
    defaults = Settings()
    untouched = {a for _, a, _ in ENV_SETTINGS.values()} - {"watch_for_secrets"}
    assert all(getattr(defaults, a) != getattr(settings, a) for a in untouched), "each env var changed something"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label-selector", "a,=b"], "'=b' is not a requirement"),
        (["--namespace-selector", "env in ()"], "'env in ()' needs a list"),
        (["--listen-addr", "8080"], "'8080' is not a listen address"),
        (["--key-order-priority", "Newest"], "Invalid value for '--key-order-priority'"),
        (["--read-timeout", "soon"], "'soon' is not a duration"),
        (["--kubeclient-burst", "-1"], "must not be negative (0: client-go's default, 10): --kubeclient-burst"),
        (["--leader-elect-renew-deadline", "20s"], "renew deadline (20s) must be positive and shorter than the lease"),
        (["--leader-elect-retry-period", "9s"], "retry period (9s) must be positive"),
        (["--leader-elect", "--leader-elect-lease-name", "Bad_Name"], "lease name 'Bad_Name' is not a valid"),
        # Values the chart could pass that were taken, and failed only later (a 422 at the first key, a watch
        # URL with a space in it, a rate limiter that never refills, a key that takes hours to generate).
        (["--rate-limit", "nan"], "error: nan is not a number of requests a second: --rate-limit\n"),
        (["--kubeclient-qps", "inf"], "error: inf is not a number of requests a second: --kubeclient-qps\n"),
        (["-n", "Bad NS"], "error: 'Bad NS' is not a valid namespace name (lower-case letters, digits and '-', "),
        (["--all-namespaces=false", "--additional-namespaces", "ok,a b"], "at most 63 characters): --additional-"),
        (["--key-prefix", "BAD PREFIX"], "error: 'BAD PREFIX' is not a valid name prefix (lower-case letters, "),
        (["--privatekey-labels", "app=bad value!"], "error: app is not a valid label value (at most 63 letters"),
        (["--privatekey-annotations", "bad key=x"], "error: the 1st key is not a valid annotation key (an "),
        (["--key-size", "99999999"], "error: key size 99999999 is too large: use at most 16384 bits: --key-size\n"),
    ],
)
def test_bad_new_settings_are_one_line_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["controller", *args])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    if message.startswith("error: "):  # the command's own errors (click's usage errors are reworded by main)
        assert result.output.count("\n") == 1, result.output
