"""The chart's container args and `sealkit controller` agree: every setting a value, every flag parses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from charttools import Render, container, controller_refusal, helm_refusal, helm_template
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---- fail closed: what the controller would refuse at start, helm refuses first -------------------


def test_the_refusal_check_has_teeth(both: dict[str, list[str]]) -> None:
    assert controller_refusal(both["default"]) is None
    assert controller_refusal([*both["default"], "--key-ttl=0s"]) is not None
    assert controller_refusal([*both["default"], f"--my-cn={'x' * 65}"]) is not None


# (values, what helm's message names, the flags the chart would otherwise have passed). Each was accepted by
# helm and refused by the controller at start (a crash-looping pod) before the chart refused it.
REFUSED_BY_BOTH = [
    pytest.param({"controller": {"keyTTL": "0s"}}, "controller.keyTTL", ["--key-ttl=0s"], id="key-ttl-zero"),
    pytest.param(
        {"controller": {"keyTTL": "99999999999h"}}, "controller.keyTTL", ["--key-ttl=99999999999h"], id="key-ttl-huge"
    ),
    pytest.param(
        {"controller": {"keyRenewPeriod": "3000000h"}},
        "controller.keyRenewPeriod",
        ["--key-renew-period=3000000h"],
        id="renew-period-past-go",
    ),
    pytest.param({"controller": {"readTimeout": "0"}}, "controller.readTimeout", ["--read-timeout=0"], id="read-0"),
    pytest.param(
        {"controller": {"writeTimeout": "0ms"}}, "controller.writeTimeout", ["--write-timeout=0ms"], id="write-0"
    ),
    pytest.param(
        {"controller": {"kek": {"timeout": "0s"}}}, "controller.kek.timeout", ["--kek-timeout=0s"], id="kek-0"
    ),
    pytest.param(
        {"controller": {"escrow": {"vault": "kv-prod", "clusterName": "prod", "timeout": "0"}}},
        "controller.escrow.timeout",
        ["--escrow-vault=kv-prod", "--escrow-cluster-name=prod", "--escrow-timeout=0"],
        id="escrow-timeout-0",
    ),
    pytest.param(
        {"controller": {"maxUnsealRetries": 10**30}},
        "/controller/maxUnsealRetries",
        ["--max-unseal-retries=-9223372036854775808"],  # what `int` made of it
        id="retries-overflow",
    ),
    pytest.param(
        {"controller": {"rateLimitBurst": 10**19}},
        "/controller/rateLimitBurst",
        ["--rate-limit-burst=-9223372036854775808"],
        id="burst-overflow",
    ),
    pytest.param(
        {"controller": {"kubeclientBurst": 10**19}},
        "/controller/kubeclientBurst",
        ["--kubeclient-burst=-9223372036854775808"],
        id="kube-burst-overflow",
    ),
    pytest.param(
        {"controller": {"labelSelector": "a b c"}}, "controller.labelSelector", ["--label-selector=a b c"], id="sel"
    ),
    pytest.param(
        {"controller": {"labelSelector": "app=web,"}},
        "controller.labelSelector",
        ["--label-selector=app=web,"],
        id="sel-trailing-comma",
    ),
    pytest.param(
        {"controller": {"labelSelector": "env notin (a,)"}},
        "controller.labelSelector",
        ["--label-selector=env notin (a,)"],
        id="sel-empty-value",
    ),
    pytest.param(
        {"controller": {"namespaceSelector": "=x"}},
        "controller.namespaceSelector",
        ["--namespace-selector==x"],
        id="ns-sel",
    ),
    pytest.param(
        {"controller": {"trustedProxies": ["10.0.0.0/8", "not-an-ip"]}},
        "controller.trustedProxies",
        ["--trusted-proxies=10.0.0.0/8,not-an-ip"],
        id="proxy",
    ),
    pytest.param(
        {"controller": {"trustedProxies": ["10.0.0.0/33"]}},
        "controller.trustedProxies",
        ["--trusted-proxies=10.0.0.0/33"],
        id="proxy-prefix",
    ),
    pytest.param(
        {"controller": {"privateKeyLabels": {"bad key!": "v"}}},
        "controller.privateKeyLabels",
        ["--privatekey-labels=bad key!=v"],
        id="label-key",
    ),
    pytest.param(
        {"controller": {"privateKeyLabels": {"backup": "not ok"}}},
        "controller.privateKeyLabels",
        ["--privatekey-labels=backup=not ok"],
        id="label-value",
    ),
    pytest.param(
        {"controller": {"privateKeyAnnotations": {"note": "a,b"}}},
        "controller.privateKeyAnnotations",
        ["--privatekey-annotations=note=a,b"],
        id="annotation-comma",
    ),
    pytest.param(
        {"controller": {"privateKeyAnnotations": {"bad key!": "v"}}},
        "controller.privateKeyAnnotations",
        ["--privatekey-annotations=bad key!=v"],
        id="annotation-key",
    ),
    pytest.param(
        {"controller": {"keyCutoffTime": "yesterday"}},
        "controller.keyCutoffTime",
        ["--key-cutoff-time=yesterday"],
        id="cutoff",
    ),
    pytest.param(
        {"controller": {"keyCutoffTime": "2024-02-30"}},
        "controller.keyCutoffTime",
        ["--key-cutoff-time=2024-02-30"],
        id="cutoff-no-such-day",
    ),
    pytest.param({"controller": {"myCN": "x" * 65}}, "/controller/myCN", [f"--my-cn={'x' * 65}"], id="cn-65"),
    pytest.param({"controller": {"myCN": "é" * 33}}, "controller.myCN", [f"--my-cn={'é' * 33}"], id="cn-66-bytes"),
    pytest.param(
        {"controller": {"escrow": {"vault": "kv-prod"}}},
        "controller.escrow.clusterName",
        ["--escrow-vault=kv-prod"],
        id="escrow-no-cluster",
    ),
    pytest.param(
        {"controller": {"escrow": {"clusterName": "prod"}}},
        "controller.escrow.vault",
        ["--escrow-cluster-name=prod"],
        id="escrow-no-vault",
    ),
    pytest.param(
        {"controller": {"escrow": {"vault": "kv", "clusterName": "prod"}}},
        "controller.escrow.vault",
        ["--escrow-vault=kv", "--escrow-cluster-name=prod"],
        id="vault-name-short",
    ),
    pytest.param(
        {"controller": {"escrow": {"vault": "https://kv.example.test/path", "clusterName": "prod"}}},
        "controller.escrow.vault",
        ["--escrow-vault=https://kv.example.test/path", "--escrow-cluster-name=prod"],
        id="vault-url-path",
    ),
    pytest.param(
        {"controller": {"escrow": {"vault": "http://kv.example.test", "clusterName": "prod"}}},
        "controller.escrow.vault",
        ["--escrow-vault=http://kv.example.test", "--escrow-cluster-name=prod"],
        id="vault-url-http",
    ),
    pytest.param(
        {"controller": {"escrow": {"acceptChallengeResources": ["https://vault.example.test/path"]}}},
        "controller.escrow.acceptChallengeResources",
        ["--escrow-accept-challenge-resource=https://vault.example.test/path"],
        id="escrow-resource-path",
    ),
    pytest.param(
        {"controller": {"kek": {"acceptChallengeResources": ["https://"]}}},
        "controller.kek.acceptChallengeResources",
        ["--kek-accept-challenge-resource=https://"],
        id="kek-resource-empty",
    ),
    pytest.param(
        {"controller": {"kek": {"url": "https://kv.example.test:99999/keys/kek"}}},
        "controller.kek.url",
        ["--kek-url=https://kv.example.test:99999/keys/kek"],
        id="kek-port",
    ),
    pytest.param(
        {"controller": {"kek": {"url": "https://user@kv.example.test/keys/kek"}}},
        "controller.kek.url",
        ["--kek-url=https://user@kv.example.test/keys/kek"],
        id="kek-user",
    ),
    pytest.param(
        {"controller": {"leaderElection": {"leaseDuration": "0"}}},
        "controller.leaderElection.leaseDuration",
        ["--leader-elect-lease-duration=0"],
        id="lease-0",
    ),
    pytest.param(
        {"controller": {"leaderElection": {"leaseDuration": "5s"}}},
        "controller.leaderElection.renewDeadline",
        ["--leader-elect-lease-duration=5s"],
        id="renew-past-lease",
    ),
    pytest.param(
        {"controller": {"leaderElection": {"leaseDuration": "1.5s", "renewDeadline": "1s", "retryPeriod": "0.5s"}}},
        "controller.leaderElection.renewDeadline",
        ["--leader-elect-lease-duration=1.5s", "--leader-elect-renew-deadline=1s", "--leader-elect-retry-period=0.5s"],
        id="lease-whole-seconds",
    ),
    pytest.param(
        {"controller": {"leaderElection": {"retryPeriod": "9s"}}},
        "controller.leaderElection.retryPeriod",
        ["--leader-elect-retry-period=9s"],
        id="retry-too-long",
    ),
    pytest.param(
        {"replicaCount": 1, "controller": {"leaderElection": {"retryPeriod": "0s"}}},
        "controller.leaderElection.retryPeriod",
        ["--leader-elect=false", "--leader-elect-retry-period=0s"],
        id="retry-0-one-replica",
    ),
    pytest.param(
        {"fullnameOverride": "Sealkit_Controller"},
        "/fullnameOverride",
        ["--leader-elect-lease-name=Sealkit_Controller"],
        id="lease-name",
    ),
]


@pytest.mark.parametrize(("values", "named", "flags"), REFUSED_BY_BOTH)
def test_the_chart_refuses_what_the_controller_refuses(
    helm: str,
    tmp_path: Path,
    both: dict[str, list[str]],
    values: dict[str, Any],
    named: str,
    flags: list[str],
) -> None:
    # The controller refuses it (the chart's args with these flags after them: the last one wins)...
    assert controller_refusal([*both["default"], *flags]) is not None
    # ...so helm refuses it first, in one message naming the value.
    message = helm_refusal(helm_template(helm, tmp_path, values))
    assert named in message


# Odd but valid: helm renders them and the controller starts with what it rendered (no over-refusal).
ACCEPTED = [
    {"controller": {"keyTTL": ".5h", "keyRenewPeriod": "0", "readTimeout": "1.5m", "writeTimeout": "90s"}},
    {"controller": {"keyRenewPeriod": "2562047h47m16s"}},
    {"controller": {"labelSelector": "a in (b, c) ,  !d , e==f, g!=, example.com/x", "namespaceSelector": "  "}},
    {"controller": {"trustedProxies": ["::1", "fd00::/8", "2001:db8::1/128", "192.0.2.1", "0.0.0.0/0"]}},
    {"controller": {"keyCutoffTime": "Mon, 02 Jan 2006 15:04:05 -0700"}},
    {"controller": {"keyCutoffTime": "2006-01-02T15:04:05.123456789Z"}},
    {"controller": {"keyCutoffTime": "2006-01-02 15:04:05"}},
    {"controller": {"keyCutoffTime": "2006-01-02"}},
    {"controller": {"myCN": "x" * 64, "privateKeyAnnotations": {"example.test/note": "a=b c"}}},
    {"controller": {"privateKeyLabels": {"example.test/a": "", "b": "x_y.z-1"}}},
    {"controller": {"escrow": {"vault": "https://kv.example.test:8443/", "clusterName": "prod", "timeout": "1s"}}},
    {"controller": {"escrow": {"vault": "kv-prod", "clusterName": "prod", "acceptChallengeResources": ["https://a"]}}},
    {"controller": {"escrow": {"timeout": "0"}}},  # escrow off: the controller never uses it
    {"controller": {"kek": {"url": "https://kv.example.test:443/keys/k-1/0123abc/", "timeout": "1ms"}}},
    {"controller": {"leaderElection": {"leaseDuration": "2s", "renewDeadline": "1.5s", "retryPeriod": "1.2s"}}},
    {"controller": {"maxUnsealRetries": 2147483647, "rateLimitBurst": 2147483647, "kubeclientBurst": 0}},
    {"controller": {"rateLimit": 0, "kubeclientQps": -1, "keySize": 2048.0, "workers": 1, "threads": 1024}},
    {"fullnameOverride": "a" * 55},
    {"controller": {"logLevel": "warn"}},  # Bitnami's spelling (slog): the controller takes it as WARNING
    {"controller": {"logLevel": "WARN"}},
]


@pytest.mark.parametrize("values", ACCEPTED)
def test_odd_but_valid_values_reach_a_controller_that_starts(helm: str, tmp_path: Path, values: dict[str, Any]) -> None:
    result = helm_template(helm, tmp_path, values)
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert controller_refusal(container(objects)["args"], namespace="default") is None


def _duration() -> st.SearchStrategy[str]:
    part = st.tuples(st.sampled_from(["0", "1", "2", "15", "0.5", ".5", "1.", "99999999999"]), st.sampled_from(UNITS))
    return st.one_of(
        st.lists(part, min_size=1, max_size=3).map(lambda parts: "".join(n + u for n, u in parts)),
        st.text(alphabet="0123456789.hmsnu ", max_size=6),
    )


UNITS = ["ns", "us", "µs", "ms", "s", "m", "h", ""]
_SELECTOR_PART = st.sampled_from(["a", "!a", "a=b", "a==b", "a!=b", "a=", "a in (b,c)", "a notin (b)", "x/y", ""])
_NETWORK = st.one_of(
    st.ip_addresses().map(str),
    st.tuples(st.ip_addresses().map(str), st.integers(0, 140)).map(lambda t: f"{t[0]}/{t[1]}"),
    st.text(alphabet="0123456789abcdef:./", min_size=1, max_size=16),
)
_ODD_VALUES = st.one_of(
    st.builds(lambda t: {"controller": {"keyTTL": t}}, _duration()),
    st.builds(lambda t: {"controller": {"readTimeout": t}}, _duration()),
    st.builds(
        lambda a, b, c: {"controller": {"leaderElection": {"leaseDuration": a, "renewDeadline": b, "retryPeriod": c}}},
        _duration(),
        _duration(),
        _duration(),
    ),
    st.builds(lambda parts: {"controller": {"labelSelector": ",".join(parts)}}, st.lists(_SELECTOR_PART, max_size=3)),
    st.builds(lambda t: {"controller": {"namespaceSelector": t}}, st.text(alphabet="ab =!,()in/.-_", max_size=12)),
    st.builds(lambda items: {"controller": {"trustedProxies": items}}, st.lists(_NETWORK, max_size=2)),
    st.builds(
        lambda k, v: {"controller": {"privateKeyLabels": {k: v}}},
        st.text(alphabet="aZ9-_./ ,=", min_size=1, max_size=8),
        st.text(alphabet="aZ9-_./ ,=", max_size=8),
    ),
    st.builds(lambda t: {"controller": {"keyCutoffTime": t}}, st.datetimes().map(lambda d: d.isoformat())),
    st.builds(lambda t: {"controller": {"keyCutoffTime": t}}, st.text(alphabet="0123456789-:TZ+ ", max_size=20)),
    st.builds(lambda t: {"controller": {"myCN": t}}, st.text(min_size=60, max_size=70)),
)


@settings(max_examples=80, deadline=None)
@given(values=_ODD_VALUES)
def test_whatever_helm_renders_the_controller_starts_with(
    helm: str, tmp_path_factory: pytest.TempPathFactory, values: dict[str, Any]
) -> None:
    result = helm_template(helm, tmp_path_factory.getbasetemp(), values)
    if result.returncode != 0:
        helm_refusal(result)  # a clear refusal, never a template crash
        return
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert controller_refusal(container(objects)["args"], namespace="default") is None, values
