"""Judging vault answers, running many lookups, vault URLs, reports and discover output (no Azure)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sealkit.csi import discover, vaultreport
from sealkit.csi.spec import load_spec
from sealkit.csi.vaultcheck import (
    PEM,
    PKCS12,
    Absent,
    Answer,
    Lookup,
    Observed,
    Reference,
    Status,
    evaluate,
    references,
)
from sealkit.csi.vaultrun import run
from sealkit.errors import InputError
from sealkit.retry import RetryPolicy, call_with_retries
from sealkit.vault import urls as vaults
from sealkit.vault.errors import CredentialError, Throttled, VaultAccessError

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
V1 = "0123456789abcdef0123456789abcdef"


def ref(**kwargs: Any) -> Reference:
    values: dict[str, Any] = {
        "environment": "dev",
        "application": "web",
        "index": 0,
        "vault": "kv",
        "name": "db",
        "type": "secret",
        "version": "",
    }
    values.update(kwargs)
    return Reference(**values)


def seen(**kwargs: Any) -> Observed:
    values: dict[str, Any] = {"version": V1, "enabled": True}
    values.update(kwargs)
    return Observed(**values)


# --- evaluate -------------------------------------------------------------------------------------


def test_plain_enabled_secret_is_ok() -> None:
    result = evaluate(ref(), seen(), NOW)
    assert result.status is Status.OK and result.problems == ()


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [
        (Absent("SecretNotFound"), ref(), "not found, or deleted (SecretNotFound)"),
        (Absent("SecretNotFound"), ref(version=V1), f"pinned version {V1} not found, or deleted"),
        (Absent("SecretDisabled", disabled=True), ref(), "current version is disabled (SecretDisabled)"),
        (Absent("KeyDisabled", disabled=True), ref(type="key", version=V1), f"version {V1} is disabled"),
        (seen(enabled=False), ref(type="cert"), "current version is disabled"),
        (seen(expires_on=NOW - dt.timedelta(seconds=1)), ref(), "expired 2026-11-29 11:59 UTC"),
        (seen(not_before=NOW + dt.timedelta(hours=1)), ref(), "not valid before 2026-11-29 13:00 UTC"),
    ],
)
def test_failures_name_the_problem(answer: Answer, reference: Reference, expected: str) -> None:
    result = evaluate(reference, answer, NOW)
    assert result.status is Status.FAILED
    assert any(expected in problem for problem in result.problems), result.problems


@given(st.integers(min_value=-10_000_000, max_value=10_000_000), st.integers(min_value=0, max_value=90))
def test_expiry_is_judged_against_now_and_the_warning_window(offset: int, days: int) -> None:
    expires = NOW + dt.timedelta(seconds=offset)
    window = dt.timedelta(days=days)
    result = evaluate(ref(), seen(expires_on=expires), NOW, window)
    if offset <= 0:
        assert result.status is Status.FAILED
    elif dt.timedelta(seconds=offset) <= window:
        assert result.status is Status.WARNING and result.problems[0].startswith("expires ")
    else:
        assert result.status is Status.OK


@given(st.integers(min_value=-10_000_000, max_value=10_000_000))
def test_not_before_fails_only_in_the_future(offset: int) -> None:
    result = evaluate(ref(), seen(not_before=NOW + dt.timedelta(seconds=offset)), NOW)
    assert (result.status is Status.FAILED) == (offset > 0)


@pytest.mark.parametrize(
    ("reference", "observed", "status", "fragment"),
    [
        (ref(format="pem"), seen(content_type=PKCS12, certificate_backed=True), Status.OK, None),
        (ref(format="pfx"), seen(content_type=PKCS12, certificate_backed=True), Status.OK, None),
        (ref(format="pfx"), seen(content_type=PEM, certificate_backed=True), Status.FAILED, "would write PEM"),
        (ref(), seen(content_type="text/plain", certificate_backed=True), Status.FAILED, "converts only"),
        (ref(format="pem"), seen(content_type="text/plain"), Status.WARNING, "only to certificate-backed"),
        (ref(tls_sync=True), seen(content_type="text/plain"), Status.WARNING, "kubernetes.io/tls"),
        (ref(tls_sync=True), seen(content_type=PEM), Status.OK, None),
        (ref(tls_sync=True, format="pfx"), seen(content_type=PKCS12, certificate_backed=True), Status.FAILED, "pfx"),
        (ref(type="key", format=None), seen(content_type=None), Status.OK, None),
    ],
)
def test_content_type_against_the_spec(
    reference: Reference, observed: Observed, status: Status, fragment: str | None
) -> None:
    result = evaluate(reference, observed, NOW)
    assert result.status is status, result.problems
    if fragment:
        assert any(fragment in p for p in result.problems), result.problems


def test_references_cover_every_environment_with_its_vault_and_version(example_dir: Path) -> None:
    spec = load_spec(example_dir / "sealkit-csi.yaml", check_bases=False)
    refs = references(spec)
    assert len(refs) == 12
    by = {(r.environment, r.application, r.name): r for r in refs}
    assert by[("prod", "payments", "psp-api-key")].vault == "sealkit-prod-pay"
    assert by[("dev", "payments", "psp-api-key")].vault == "sealkit-dev-kv"
    assert by[("prod", "orders", "orders-db-password")].version == "3f9a1c0b7e2d4a6f8b1c2d3e4f5a6b7c"
    assert by[("dev", "orders", "orders-db-password")].version == ""
    assert by[("dev", "orders", "orders-api-tls")].tls_sync and by[("dev", "orders", "orders-api-tls")].format == "pem"
    assert by[("dev", "orders", "partner-ca")].index == 3
    assert [r.environment for r in references(spec, ["prod"], ["orders"])] == ["prod"] * 4
    with pytest.raises(InputError, match="unknown environment 'staging'"):
        references(spec, ["staging"])


# --- run ------------------------------------------------------------------------------------------


class FakeVault:
    """A fetch function over a dict, counting calls; raises what it is told to."""

    def __init__(self, answers: dict[Lookup, Answer | Exception]) -> None:
        self.answers = answers
        self.calls: list[Lookup] = []
        self.lock = threading.Lock()

    def __call__(self, lookup: Lookup) -> Answer:
        with self.lock:
            self.calls.append(lookup)
        answer = self.answers.get(lookup, Absent("SecretNotFound"))
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_run_fetches_each_lookup_once_and_judges_every_reference() -> None:
    refs = [ref(environment="dev"), ref(environment="prod"), ref(name="gone")]
    fake = FakeVault({ref().lookup: seen()})
    report = run(refs, fake, urls={"kv": "https://kv.vault.azure.net"}, now=NOW)
    assert sorted(c.name for c in fake.calls) == ["db", "gone"]
    assert [r.status for r in report.results] == [Status.OK, Status.OK, Status.FAILED]
    assert not report.ok


def test_a_vault_error_stops_that_vault_only_and_is_reported_once() -> None:
    refs = [ref(vault="bad", name=f"s{i}") for i in range(20)] + [ref(vault="good")]
    answers: dict[Lookup, Answer | Exception] = {
        r.lookup: VaultAccessError("403 Forbidden: nope") for r in refs if r.vault == "bad"
    }
    answers[ref(vault="good").lookup] = seen()
    fake = FakeVault(answers)
    report = run(refs, fake, urls={"bad": "https://bad", "good": "https://good"}, concurrency=1, now=NOW)
    assert sum(1 for c in fake.calls if c.vault == "bad") == 1
    assert vaultreport.error_lines(report) == ["403 Forbidden: nope: vault bad (https://bad)"]
    assert report.results[-1].status is Status.OK
    assert {r.status for r in report.results[:-1]} == {Status.NOT_CHECKED}
    assert not report.ok


def test_a_credential_error_stops_everything_with_one_line() -> None:
    refs = [ref(vault=f"v{i}") for i in range(5)]
    fake = FakeVault({r.lookup: CredentialError("no Azure credential found") for r in refs})
    report = run(refs, fake, urls={}, concurrency=1, now=NOW)
    assert len(fake.calls) == 1
    assert vaultreport.error_lines(report) == ["no Azure credential found"]


def test_throttling_is_retried_as_the_server_asks() -> None:
    waits: list[float] = []
    sequence: list[Answer | Exception] = [Throttled("throttled", 0.25), Throttled("throttled", None), seen()]
    attempts = iter(sequence)

    def fetch() -> Answer:
        answer = next(attempts)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert call_with_retries(fetch, RetryPolicy(default_wait=0.5), waits.append) == seen()
    assert waits == [0.25, 1.0]  # Retry-After, then the doubled default for the second attempt


@pytest.mark.parametrize(
    ("policy", "retry_after", "message", "sleeps"),
    [
        (RetryPolicy(attempts=3), 0.0, "still throttled after 3 attempts", 2),
        (RetryPolicy(max_wait=5), 60.0, "Retry-After 60 s is longer than the 5 s", 0),
    ],
)
def test_throttling_gives_up_fast(policy: RetryPolicy, retry_after: float, message: str, sleeps: int) -> None:
    waits: list[float] = []

    def fetch() -> Answer:
        raise Throttled("throttled (429 Throttled)", retry_after)

    with pytest.raises(VaultAccessError, match=message) as info:
        call_with_retries(fetch, policy, waits.append, give_up=VaultAccessError)
    assert not isinstance(info.value, Throttled)
    assert len(waits) == sleeps


# --- URLs -----------------------------------------------------------------------------------------


def test_vault_urls_per_cloud_override_and_environment() -> None:
    assert vaults.resolve_url("Kv-1", None, {}, {}) == "https://kv-1.vault.azure.net"
    assert vaults.resolve_url("kv-1", "AzureChinaCloud", {}, {}) == "https://kv-1.vault.azure.cn"
    assert vaults.resolve_url("kv-1", "AzureUSGovernmentCloud", {}, {}) == "https://kv-1.vault.usgovcloudapi.net"
    env = {"SEALKIT_VAULT_URL_KV_1": "https://10.0.0.4:8443/"}
    assert vaults.resolve_url("kv-1", None, {}, env) == "https://10.0.0.4:8443"
    overrides = vaults.parse_overrides(["KV-1=https://127.0.0.1:9"])
    assert vaults.resolve_url("kv-1", None, overrides, env) == "https://127.0.0.1:9"
    with pytest.raises(InputError) as stack:
        vaults.resolve_url("kv-1", "AzureStackCloud", {}, {})
    assert str(stack.value) == (  # what is wrong and what to do, then the vault as where
        "cloud AzureStackCloud has no well-known vault domain; pass --vault-url kv-1=https://... "
        "or set $SEALKIT_VAULT_URL_KV_1: vault kv-1"
    )
    assert vaults.default_resource("AzureChinaCloud") == "https://vault.azure.cn"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("kv-1", "give VAULT=URL"),
        ("kv-1=http://127.0.0.1:9", "must be an https:// URL"),
        ("kv-1=https://127.0.0.1:9/secrets", "without a path"),
        ("k=https://127.0.0.1:9", "give VAULT=URL"),
    ],
)
def test_bad_vault_url_overrides_are_refused(item: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        vaults.parse_overrides([item])


def test_challenge_resources() -> None:
    assert vaults.check_resource("vault.azure.net") == "https://vault.azure.net"
    assert vaults.check_resource("https://vault.azure.net/") == "https://vault.azure.net"
    with pytest.raises(InputError):
        vaults.check_resource("https://vault.azure.net/.default")


# --- report and discover --------------------------------------------------------------------------


def test_report_json_and_table_carry_every_reference() -> None:
    refs = [ref(), ref(name="old", version=V1), ref(name="soon")]
    fake = FakeVault(
        {
            refs[0].lookup: seen(content_type="text/plain"),
            refs[2].lookup: seen(expires_on=NOW + dt.timedelta(days=2)),
        }
    )
    report = run(refs, fake, urls={"kv": "https://kv"}, now=NOW)
    data = vaultreport.to_json(report)
    assert json.loads(json.dumps(data)) == data
    assert data["summary"] == {"ok": 1, "warning": 1, "failed": 1, "not-checked": 0, "references": 3}
    assert [o["status"] for o in data["objects"]] == ["ok", "failed", "warning"]
    assert data["objects"][0]["version"] == V1 and data["objects"][1]["pinned"] == V1
    assert data["objects"][2]["expires"] == "2026-12-01T12:00:00Z"
    text = vaultreport.table(report)
    assert "failed" in text.splitlines()[2] and f"{V1[:12]} (pinned)" in text
    assert len(vaultreport.table(report, only_problems=True).splitlines()) == 3
    assert vaultreport.summary(report) == "3 reference(s) in 1 vault(s): 1 ok, 1 warning, 1 failed"


def test_discover_hides_managed_objects_and_comments_out_unusable_ones() -> None:
    far = NOW + dt.timedelta(days=400)
    items = [
        discover.Listed("db", "secret", True, "text/plain", tags={"team": "a"}),
        discover.Listed("tls", "secret", True, PKCS12, far, managed=True),
        discover.Listed("tls", "key", True, None, far, managed=True),
        discover.Listed("tls", "cert", True, PKCS12, far),
        discover.Listed("old", "secret", True, None, NOW - dt.timedelta(days=1)),
        discover.Listed("off", "key", False),
    ]
    table = discover.table(items, NOW)
    assert [line.split()[1] for line in table.splitlines()[1:]] == ["db", "old", "tls", "off"]
    assert "team=a" in table and "expired" in table and "disabled" in table
    fragment = discover.fragment("kv", items, NOW)
    objects = yaml.safe_load(fragment)["objects"]
    assert objects == [{"name": "db"}, {"name": "tls", "type": "secret", "format": "pem"}]
    assert "# - name: old" in fragment and '# - name: "off"' in fragment  # bare, YAML 1.1 reads off as false
    data = discover.to_json("kv", "https://kv", items, NOW)
    assert [o["name"] for o in data["objects"]] == ["db", "old", "tls", "off"]


def test_fake_vault_helper_answers_not_found_by_default() -> None:
    fetch: Callable[[Lookup], Answer] = FakeVault({})
    assert fetch(ref().lookup) == Absent("SecretNotFound")


def test_lookups_run_concurrently() -> None:
    refs = [ref(name=f"s{i}") for i in range(16)]
    # Each lookup waits until 8 are in flight at once: one at a time, the barrier breaks and the lookups fail.
    together = threading.Barrier(8, timeout=10)

    def gathered(lookup: Lookup) -> Answer:
        together.wait()
        return seen()

    report = run(refs, gathered, urls={}, concurrency=8, now=NOW)
    assert report.ok and not together.broken
