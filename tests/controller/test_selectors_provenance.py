"""Label selectors as the API server reads them; the provenance digest; the HTTP rate limiter's memory."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.errors import InputError
from sealkit_controller.reconciling.provenance import annotate, recorded, source_digest
from sealkit_controller.reconciling.selectors import parse_selector
from sealkit_controller.serving.httpapi import TokenBucket

LABEL = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {}, True),
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app!=web", {"app": "web"}, False),
        ("tier in (a, b)", {"tier": "b"}, True),
        ("tier notin (a,b)", {"tier": "c"}, True),
        ("tier notin (a,b)", {"tier": "a"}, False),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("example.com/team=a,!legacy", {"example.com/team": "a"}, True),
        ("example.com/team=a,!legacy", {"example.com/team": "a", "legacy": "1"}, False),
    ],
)
def test_selector_semantics(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_selector(selector).matches(labels) is expected


@pytest.mark.parametrize("bad", ["=a", "a in b", "a in ()", "a b", "a,,b", "a=(b)"])
def test_bad_selectors_name_the_part(bad: str) -> None:
    with pytest.raises(InputError, match="label selector"):
        parse_selector(bad)


@given(st.dictionaries(LABEL, LABEL, max_size=4), st.dictionaries(LABEL, LABEL, max_size=4))
def test_equality_selector_matches_exactly_the_supersets(wanted: dict[str, str], labels: dict[str, str]) -> None:
    selector = parse_selector(",".join(f"{k}={v}" for k, v in wanted.items()))
    assert selector.matches(labels) is (wanted.items() <= labels.items())


SEALED: dict[str, Any] = {
    "apiVersion": "bitnami.com/v1alpha1",
    "kind": "SealedSecret",
    "metadata": {"name": "a", "namespace": "ns", "uid": "u1", "labels": {"x": "1"}, "resourceVersion": "5"},
    "spec": {"encryptedData": {"k": "AgB"}, "template": {"type": "Opaque"}},
}


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o["spec"]["encryptedData"].update(k="AgC"),
        lambda o: o["spec"]["template"].update(type="kubernetes.io/tls"),
        lambda o: o["metadata"].update(uid="u2"),
        lambda o: o["metadata"].update(name="b"),
        lambda o: o["metadata"].update(annotations={"sealedsecrets.bitnami.com/namespace-wide": "true"}),
    ],
)
def test_digest_changes_with_what_shapes_the_secret(change: object) -> None:
    changed = copy.deepcopy(SEALED)
    change(changed)  # type: ignore[operator]
    assert source_digest(changed) != source_digest(SEALED)


def test_digest_ignores_what_does_not_shape_the_secret() -> None:
    other = copy.deepcopy(SEALED)
    other["metadata"].update(resourceVersion="9", labels={"y": "2"})
    other["status"] = {"observedGeneration": 3}
    assert source_digest(other) == source_digest(SEALED)


def test_record_round_trip_and_malformed_records() -> None:
    digest = source_digest(SEALED)
    secret = annotate({"metadata": {"annotations": {"keep": "me"}}}, digest, "SHA256:abc/def")
    assert recorded(secret) == (digest, "SHA256:abc/def")
    assert secret["metadata"]["annotations"]["keep"] == "me"
    assert list(secret["metadata"]["annotations"]) == ["keep", "sealkit.io/unsealed-from"]
    for bad in ("", "short/SHA256:x", f"{digest}/", digest):
        for name in ("sealkit.io/unsealed-from", "sealkit.dev/unsealed-from"):
            assert recorded({"metadata": {"annotations": {name: bad}}}) is None
    assert recorded(None) is None


def test_records_under_the_old_domain_are_read_and_rewritten_under_the_new() -> None:
    digest = source_digest(SEALED)
    old = {"metadata": {"annotations": {"sealkit.dev/unsealed-from": f"{digest}/SHA256:k"}}}
    assert recorded(old) == (digest, "SHA256:k")
    assert annotate(old, digest, "SHA256:k")["metadata"]["annotations"] == {
        "sealkit.io/unsealed-from": f"{digest}/SHA256:k"
    }


def test_rate_limiter_memory_stays_bounded() -> None:
    now = [0.0]
    bucket = TokenBucket(1.0, 2, clock=lambda: now[0], max_clients=100)
    for i in range(1000):
        bucket.take(f"10.0.{i // 256}.{i % 256}")
    assert len(bucket._buckets) <= 100
    # The latest client kept its state (one of its two tokens used): evicting it would hand out a fresh burst.
    assert bucket.take("10.0.3.231") == 0.0 and bucket.take("10.0.3.231") > 0
