"""Every flag of Bitnami's controller takes effect in `sealkit controller`, or is accepted with one warning.

`FLAG_TESTS` names, for each flag of Bitnami's controller (cmd/controller/main.go and the goflags of
pkg/controller/server.go; see ../shared/notes/kubeseal-flags.md), the test showing it takes effect or
warns; `test_every_bitnami_flag_has_a_test_that_exists` keeps the table honest. The flags added here
(--version, --log-info-stdout, --metrics-omit-secret-labels, --rotate-period's deprecation, Bitnami's
--kubeclient-qps default and its negative value) are tested below.
"""

from __future__ import annotations

import importlib
import logging
import urllib.request
from typing import Any

import pytest
from click.testing import CliRunner

import sealkit_controller as runner
from sealkit_cli.commands.controller import controller as controller_command
from sealkit_cli.main import cli
from sealkit_controller.settings import Settings
from tests.support.cluster import Cluster

LIVE = "tests.controller.test_settings_live"
HERE = "tests.controller.test_bitnami_flags"
FLAG_TESTS: dict[str, str] = {
    "--key-prefix": f"{LIVE}::test_new_key_secrets_take_prefix_labels_annotations_cn_and_ttl",
    "--key-size": f"{LIVE}::test_new_key_secrets_take_prefix_labels_annotations_cn_and_ttl",
    "--key-ttl": f"{LIVE}::test_new_key_secrets_take_prefix_labels_annotations_cn_and_ttl",
    "--my-cn": f"{LIVE}::test_new_key_secrets_take_prefix_labels_annotations_cn_and_ttl",
    "--privatekey-labels": f"{LIVE}::test_new_key_secrets_take_prefix_labels_annotations_cn_and_ttl",
    "--privatekey-annotations": f"{LIVE}::test_new_key_secrets_take_prefix_labels_annotations_cn_and_ttl",
    "--key-renew-period": "tests.controller.test_keys_live::test_renewal_by_key_age_and_cutoff_keeps_old_keys",
    "--key-cutoff-time": "tests.controller.test_keys_live::test_renewal_by_key_age_and_cutoff_keeps_old_keys",
    "--rotate-period": f"{HERE}::test_rotate_period_is_the_deprecated_key_renew_period",
    "--key-order-priority": f"{LIVE}::test_key_order_priority_reaches_the_running_controller",
    "--accept-deprecated-v1-data": f"{LIVE}::test_deprecated_v1_data_accepted_or_refused",
    "--all-namespaces": f"{LIVE}::test_own_namespace_plus_additional_namespaces",
    "--additional-namespaces": f"{LIVE}::test_own_namespace_plus_additional_namespaces",
    "--label-selector": f"{LIVE}::test_label_selector_picks_sealed_secrets_and_follows_relabelling",
    "--rate-limit": "tests.controller.test_http_metrics::test_verify_and_rotate_are_rate_limited_per_peer",
    "--rate-limit-burst": "tests.controller.test_http_metrics::test_verify_and_rotate_are_rate_limited_per_peer",
    "--metrics-omit-secret-labels": f"{HERE}::test_metrics_omit_secret_labels_leaves_out_condition_info",
    "--old-gc-behavior": f"{LIVE}::test_old_gc_behavior_deletes_secrets_without_owner_references",
    "--update-status": "tests.controller.test_cli_controller::test_runs_as_a_process_against_the_api_server",
    "--watch-for-secrets": "tests.controller.test_cli_controller::test_runs_as_a_process_against_the_api_server",
    "--skip-recreate": "tests.controller.test_faults::test_skip_recreate_leaves_a_deleted_secret_deleted",
    "--log-info-stdout": f"{LIVE}::test_log_info_stdout_splits_info_from_warnings",
    "--log-level": f"{LIVE}::test_log_level_and_format",
    "--log-format": f"{LIVE}::test_log_level_and_format",
    "--max-unseal-retries": "tests.controller.test_faults::test_lasting_failure_is_reported_then_recovers",
    "--kubeclient-qps": f"{HERE}::test_kubeclient_qps_as_client_go_reads_it",
    "--kubeclient-burst": f"{LIVE}::test_kubeclient_qps_throttles_the_controllers_requests",
    "--version": f"{HERE}::test_version_prints_bitnamis_line",
    "--listen-addr": "tests.controller.test_http_metrics::test_listeners_can_be_turned_off",
    "--listen-metrics-addr": "tests.controller.test_http_metrics::test_listeners_can_be_turned_off",
    "--read-timeout": "tests.controller.test_http_metrics::test_read_timeout_answers_408",
    "--write-timeout": "tests.controller.test_http_metrics::test_write_timeout_answers_503",
}
# sealkit's own flags (not Bitnami's): the API server, the own namespace, and what Bitnami has no word for.
SEALKIT_FLAGS = {
    "--kubeconfig",
    "--context",
    "--namespace",
    "--namespace-selector",
    "--workers",
    "--threads",
    "--escrow-vault",
    "--escrow-cluster-name",
    "--escrow-auth",
    "--escrow-accept-challenge-resource",
    "--escrow-timeout",
    "--kek-url",
    "--kek-auth",
    "--kek-accept-challenge-resource",
    "--kek-timeout",
    "--leader-elect",
    "--leader-elect-lease-name",
    "--leader-elect-lease-duration",
    "--leader-elect-renew-deadline",
    "--leader-elect-retry-period",
    "--trusted-proxies",
    "--help",
}


def long_flags() -> set[str]:
    return {opt for p in controller_command.params for opt in p.opts + p.secondary_opts if opt.startswith("--")}


def test_every_bitnami_flag_has_a_test_that_exists() -> None:
    assert long_flags() - SEALKIT_FLAGS == set(FLAG_TESTS)
    for flag, where in FLAG_TESTS.items():
        module, name = where.split("::")
        assert callable(getattr(importlib.import_module(module), name, None)), (flag, where)


def parse(args: list[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None) -> Settings:
    """Run the real command up to where it would start Kopf; the settings it built."""
    seen: list[Settings] = []
    monkeypatch.setattr(runner, "configure_logging", lambda settings: None)
    monkeypatch.setattr(runner, "run", seen.append)
    result = CliRunner().invoke(cli, ["controller", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (settings,) = seen
    return settings


def test_version_prints_bitnamis_line() -> None:
    result = CliRunner().invoke(cli, ["controller", "--version"])
    assert result.exit_code == 0 and result.output == "controller version: 0.1.0\n"


def test_rotate_period_is_the_deprecated_key_renew_period(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import datetime as dt

    with caplog.at_level(logging.WARNING):
        settings = parse(["--rotate-period", "24h"], monkeypatch)
    assert settings.key_renew_period == dt.timedelta(hours=24)
    (line,) = [r.getMessage() for r in caplog.records if "rotate-period" in r.getMessage()]
    assert line == "flag --rotate-period has been deprecated, please use --key-renew-period instead"
    caplog.clear()
    from_env = parse([], monkeypatch, env={"SEALED_SECRETS_ROTATE_PERIOD": "48h"})
    assert from_env.key_renew_period == dt.timedelta(hours=48)
    both = parse(["--rotate-period", "24h", "--key-renew-period", "12h"], monkeypatch)
    assert both.key_renew_period == dt.timedelta(hours=12), "the current spelling wins"
    assert parse([], monkeypatch).key_renew_period == dt.timedelta(hours=720)


def test_watch_for_secrets_warns_once_saying_why(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        parse(["--watch-for-secrets=false"], monkeypatch)
        parse([], monkeypatch)
    lines = [r.getMessage() for r in caplog.records if "watch-for-secrets" in r.getMessage()]
    assert lines == [
        "--watch-for-secrets has no effect: sealkit always watches key Secrets: new, restored and relabelled "
        "keys take effect at once"
    ]


def test_kubeclient_qps_as_client_go_reads_it(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse([], monkeypatch).kube_rate() == (5.0, 10), "Bitnami's default: 5/s, burst 10"
    assert Settings(kubeclient_qps=0, kubeclient_burst=0).kube_rate() == (5.0, 10), "0: client-go's defaults"
    assert Settings(kubeclient_qps=-1).kube_rate() == (0.0, 10), "negative: no limit"
    assert parse(["--kubeclient-qps", "-1"], monkeypatch).kubeclient_qps == -1
    cluster.add_key(0)
    for label, qps, throttled in (("limited", 5.0, True), ("unlimited", -1.0, False)):
        with cluster.start(kubeclient_qps=qps, kubeclient_burst=2) as running:
            names = [f"{label}-{i}" for i in range(3)]
            for name in names:
                cluster.create(cluster.seal(name))
            cluster.wait(lambda names=names: all(cluster.condition(n) for n in names))  # type: ignore[misc]
            client = running.runtime.client
            assert client is not None
            assert (client.throttle.qps, client.throttle.waited > 0) == ((5.0, True) if throttled else (0.0, False))


def scrape(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as response:
        return str(response.read().decode())


def test_metrics_omit_secret_labels_leaves_out_condition_info(cluster: Cluster) -> None:
    cluster.add_key(0)
    seen: dict[bool, str] = {}
    for omit in (False, True):
        with cluster.start(metrics_omit_secret_labels=omit) as running:
            name = f"app-{str(omit).lower()}"
            cluster.create(cluster.seal(name))
            cluster.wait(lambda name=name: cluster.condition(name))  # type: ignore[misc]

            def scraped(running: Any = running, name: str = name, omit: bool = omit) -> str:
                text = scrape(running.metrics_url)
                return text if "unseal_requests_total" in text and (omit or f'name="{name}"' in text) else ""

            seen[omit] = cluster.wait(scraped)
    assert 'sealed_secrets_controller_condition_info{condition="Synced",name="app-false"' in seen[False]
    assert "sealed_secrets_controller_condition_info{" not in seen[True]
    assert "app-true" not in seen[True]
    assert "sealed_secrets_controller_unseal_requests_total" in seen[True]
