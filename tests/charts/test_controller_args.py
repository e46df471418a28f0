"""The chart's container args and `sealkit controller` agree: every setting a value, every flag parses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Any

import click
import pytest
from charttools import Render, by_kind
from click.testing import CliRunner

import sealkit_controller as runner
from sealkit_cli.commands.controller import controller as controller_command
from sealkit_controller.settings import Settings

# Options that are not settings of a deployed controller: in a pod the API server comes from the
# service account, and the own namespace from POD_NAMESPACE (set by the chart from the downward API).
# --rotate-period is the deprecated spelling of --key-renew-period; --version prints and exits.
NOT_CHART_SETTINGS = {"--kubeconfig", "--context", "--namespace", "--help", "--version", "--rotate-period"}
# Bitnami flags sealkit only warns about: rendered when set, so a default install starts without a warning.
WARN_ONLY = {"--watch-for-secrets"}


def long_options(command: click.Command) -> dict[str, str]:
    """Every long flag (aliases included) -> the parameter's primary flag."""
    out: dict[str, str] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            flags = [f for f in param.opts + param.secondary_opts if f.startswith("--")]
            for flag in flags:
                out[flag] = flags[0]
    return out


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(objects, "Deployment")
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def rendered_flags(args: list[str]) -> list[str]:
    assert all(a.startswith("--") and "=" in a for a in args), args
    return [a.split("=", 1)[0] for a in args]


def parse_settings(args: list[str], monkeypatch: pytest.MonkeyPatch, namespace: str) -> Settings:
    """Run the real command on the chart's args up to the point where it would start Kopf."""
    captured: list[Settings] = []
    monkeypatch.setattr(runner, "configure_logging", lambda settings: None)
    monkeypatch.setattr(runner, "run", captured.append)
    for name in [n for n in os.environ if n.startswith("SEALED_SECRETS_")]:
        monkeypatch.delenv(name)
    result = CliRunner().invoke(controller_command, args, env={"POD_NAMESPACE": namespace}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (settings,) = captured
    return settings


@pytest.fixture(scope="module")
def both(render: Render, nondefault_values: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "default": container(render())["args"],
        "nondefault": container(render(nondefault_values, release="sk", namespace="sealkit"))["args"],
    }


@pytest.mark.parametrize("values", ["default", "nondefault"])
def test_every_rendered_flag_is_a_controller_flag(both: dict[str, list[str]], values: str) -> None:
    known = long_options(controller_command)
    flags = rendered_flags(both[values])
    assert [f for f in flags if f not in known] == []
    assert len(set(flags)) == len(flags)


# Left out by default (values null): the controller follows the CPUs its container may use.
FOLLOW_THE_CPUS = {"--workers", "--threads"}


def test_every_controller_setting_is_a_chart_value(both: dict[str, list[str]]) -> None:
    primary = set(long_options(controller_command).values())
    rendered = {long_options(controller_command)[f] for f in rendered_flags(both["default"])}
    assert sorted(primary - NOT_CHART_SETTINGS - WARN_ONLY - FOLLOW_THE_CPUS - rendered) == []
    assert rendered & WARN_ONLY == set(), "a default install passes no flag that only warns"
    assert rendered & FOLLOW_THE_CPUS == set(), "by default the controller sizes itself from its CPU limit"
    nondefault = {long_options(controller_command)[f] for f in rendered_flags(both["nondefault"])}
    assert nondefault >= WARN_ONLY | FOLLOW_THE_CPUS


def test_default_args_give_the_controller_its_defaults(
    both: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from_chart = parse_settings(both["default"], monkeypatch, "kube-system")
    from_nothing = parse_settings([], monkeypatch, "kube-system")
    # The chart runs 2 replicas, so leader election is on; everything else is the controller's default.
    assert from_chart.leader_elect and not from_nothing.leader_elect
    assert dataclasses.replace(from_chart, leader_elect=False) == from_nothing
    assert from_chart.namespace == "kube-system"


def test_nondefault_values_reach_the_controller(both: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    s = parse_settings(both["nondefault"], monkeypatch, "sealkit")
    assert s.namespace == "sealkit"
    assert s.watched_namespaces() == ["sealkit", "team-a", "team-b"]
    assert (s.key_prefix, s.key_size, s.my_cn) == ("sealkit-key", 3072, "sealkit.example.test")
    assert s.key_ttl == dt.timedelta(hours=8760)
    assert s.key_renew_period == dt.timedelta(hours=168)
    assert s.key_cutoff_time == dt.datetime(2006, 1, 2, 22, 4, 5, tzinfo=dt.UTC)
    assert s.private_key_labels == {"backup.example.test/include": "true"}
    assert s.private_key_annotations == {"backup.example.test/policy": "daily"}
    assert (s.update_status, s.skip_recreate, s.max_unseal_retries) == (False, True, 3)
    assert (s.log_level, s.log_format) == ("DEBUG", "json")
    assert (s.key_order_priority, s.watch_for_secrets) == ("SecretCreationTimestamp", True)
    assert (s.accept_deprecated_v1_data, s.old_gc_behavior) == (False, True)
    assert (s.label_selector, s.namespace_selector) == (
        "sealkit.example.test/managed=true",
        "sealkit.example.test/secrets=enabled",
    )
    assert (s.rate_limit, s.rate_limit_burst) == (5.5, 10)
    assert (s.read_timeout, s.write_timeout) == (dt.timedelta(seconds=30), dt.timedelta(minutes=1))
    assert (s.kubeclient_qps, s.kubeclient_burst, s.workers, s.threads) == (20, 40, 2, 4)
    assert (s.leader_elect, s.leader_elect_lease_name) == (True, "sealkit")
    assert (s.leader_elect_lease_duration, s.leader_elect_renew_deadline, s.leader_elect_retry_period) == (30, 20, 4)
    assert (s.metrics_omit_secret_labels, s.log_info_stdout) == (True, False)
    # The container ports the chart declares (and the probes and Services use) are where it listens.
    assert (s.listen_addr, s.listen_metrics_addr) == (":8080", ":8081")


def test_escrow_values_reach_the_controller(render: Render, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "controller": {
            "escrow": {
                "vault": "kv-prod",
                "clusterName": "prod-eu",
                "auth": "workload-identity",
                "acceptChallengeResources": ["https://vault.example.test"],
                "timeout": "5s",
            }
        }
    }
    args = container(render(values))["args"]
    assert "--escrow-vault=kv-prod" in args and "--escrow-cluster-name=prod-eu" in args
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000002")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token")
    s = parse_settings(args, monkeypatch, "kube-system")
    assert (s.escrow_vault, s.escrow_cluster_name, s.escrow_auth) == ("kv-prod", "prod-eu", "workload-identity")
    assert list(s.escrow_accept_challenge_resources) == ["https://vault.example.test"]
    assert s.escrow_timeout == 5.0


def test_kek_values_reach_the_controller(render: Render, monkeypatch: pytest.MonkeyPatch) -> None:
    kek = "https://kv-prod.vault.azure.net/keys/sealing-kek"
    values = {
        "controller": {
            "kek": {
                "url": kek,
                "auth": "workload-identity",
                "acceptChallengeResources": ["https://managedhsm.azure.net"],
                "timeout": "5s",
            }
        }
    }
    rendered = container(render(values))
    assert f"--kek-url={kek}" in rendered["args"]
    env = {e["name"]: e.get("value") for e in rendered["env"]}
    assert env["SEALKIT_DEPLOYMENT_NAME"] == "sealed-secrets-controller"  # events about itself go there
    assert rendered["readinessProbe"]["httpGet"]["path"] == "/readyz"  # ready once a key is usable
    assert rendered["livenessProbe"]["httpGet"]["path"] == "/healthz"
    s = parse_settings(rendered["args"], monkeypatch, "kube-system")
    assert (s.kek_url, s.kek_auth, s.kek_timeout) == (kek, "workload-identity", 5.0)
    assert s.wraps_keys and list(s.kek_accept_challenge_resources) == ["https://managedhsm.azure.net"]
