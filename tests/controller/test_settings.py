"""Bitnami's flag values: RFC 1123Z cutoff times, k=v maps, the controller's namespace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sealkit.errors import InputError, SealkitError
from sealkit_controller.settings import Settings, default_namespace, parse_cutoff, parse_map


def test_cutoff_rfc1123z_and_iso() -> None:
    expected = dt.datetime(2006, 1, 2, 22, 4, 5, tzinfo=dt.UTC)
    assert parse_cutoff("Mon, 02 Jan 2006 15:04:05 -0700") == expected
    assert parse_cutoff("2006-01-02T22:04:05Z") == expected
    assert parse_cutoff("") is None
    with pytest.raises(InputError, match="RFC 1123Z"):
        parse_cutoff("yesterday")


def test_maps() -> None:
    assert parse_map("a=1, b=two,", "labels") == {"a": "1", "b": "two"}
    with pytest.raises(InputError, match="'oops' is not key=value"):
        parse_map("oops", "labels")


def test_namespace_order(tmp_path: Path) -> None:
    sa = tmp_path / "namespace"
    assert default_namespace({"POD_NAMESPACE": "sealed"}, sa) == "sealed"
    assert default_namespace({}, sa) == "kube-system"
    sa.write_text("from-sa\n")
    assert default_namespace({}, sa) == "from-sa"


def test_watched_namespaces() -> None:
    assert Settings().watched_namespaces() is None
    only = Settings(namespace="ctl", all_namespaces=False, additional_namespaces=("b", "a"))
    assert only.watched_namespaces() == ["a", "b", "ctl"]


def test_validation() -> None:
    with pytest.raises(InputError, match="2048"):
        Settings(key_size=1024).validate()
    with pytest.raises(InputError, match="--log-format"):
        Settings(log_format="xml").validate()


@pytest.mark.parametrize(
    ("settings", "flag"),
    [
        ({"listen_addr": "nonsense"}, "--listen-addr"),
        ({"listen_metrics_addr": "nonsense"}, "--listen-metrics-addr"),
        ({"label_selector": "a in"}, "--label-selector"),
        ({"namespace_selector": "a in"}, "--namespace-selector"),
        ({"escrow_vault": "kv-prod", "escrow_cluster_name": "Prod"}, "--escrow-cluster-name"),
        ({"escrow_vault": "http://kv", "escrow_cluster_name": "prod"}, "--escrow-vault"),
        ({"escrow_vault": "Bad_Name!", "escrow_cluster_name": "prod"}, "--escrow-vault"),  # was met at run time
        ({"workers": 0}, "--workers"),
        ({"threads": 100_000}, "--threads"),  # each a thread at most: was accepted, bounded only by memory
        ({"rate_limit_burst": 0}, "--rate-limit-burst"),  # these named two flags, one of them at fault
        ({"write_timeout": dt.timedelta(0)}, "--write-timeout"),
        ({"escrow_vault": "kv-prod"}, "--escrow-cluster-name"),
        ({"escrow_cluster_name": "prod"}, "--escrow-vault"),
        ({"my_cn": "é" * 33}, "--my-cn"),  # 66 bytes: accepted, then every new key failed
    ],
)
def test_a_bad_setting_names_its_flag_last(settings: dict[str, str], flag: str) -> None:
    """One line `error: <what>: <where>`, the where being the flag (or its SEALED_SECRETS_ variable) to fix."""
    with pytest.raises(SealkitError) as info:
        Settings(**settings).validate()  # type: ignore[arg-type]
    assert str(info.value).endswith(f": {flag}"), str(info.value)
