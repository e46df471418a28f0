"""The names of the Warning events that report failures: valid for the API server whatever the object's name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sealkit.validation import is_dns_subdomain
from sealkit_controller.reconciling import status
from sealkit_controller.reconciling.reconciler import event_name

LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
NAMES = st.lists(LABEL, min_size=1, max_size=8).map(".".join).filter(is_dns_subdomain)


@given(NAMES)
def test_an_event_name_is_a_dns_subdomain_for_any_sealedsecret_name(name: str) -> None:
    body = {"metadata": {"name": name, "namespace": "default", "uid": "u", "generation": 1}}
    outcome = status.Outcome(False, status.ERR_UNSEAL_FAILED, "Failed to unseal: x")
    assert is_dns_subdomain(event_name(body, outcome, None))


def test_a_long_name_cut_at_a_dash_or_dot() -> None:
    outcome = status.Outcome(False, status.ERR_UNSEAL_FAILED, "Failed to unseal: x")
    for cut in "-.":
        name = "a" * 199 + cut + "b" * 20
        made = event_name({"metadata": {"name": name, "uid": "u", "generation": 1}}, outcome, None)
        assert made.startswith("a" * 199 + ".") and is_dns_subdomain(made)
