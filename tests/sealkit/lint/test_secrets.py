"""Plain Secrets: whichever way a Secret's apiVersion is spelt, its committed values are plaintext."""

from __future__ import annotations

import pytest

from sealkit.lint.scanner import Scanner, Source


def rules(text: str) -> list[str]:
    report = Scanner().run([Source("-", None, data=text.encode())])
    return [f.rule.id for f in report.findings]


@pytest.mark.parametrize(
    "api_version",
    [
        "v1",
        "/v1",  # Kubernetes parses it as the core group (apimachinery ParseGroupVersion, kustomize alike)
        "core/v1",  # how people write the core group; refused, but committed all the same
        "v2",
        "' v1 '",
        '""',
        "null",
        "",
        "1",
        "[v1]",
    ],
)
def test_a_secret_by_any_core_apiversion_is_plaintext(api_version: str) -> None:
    text = f"apiVersion: {api_version}\nkind: Secret\nmetadata: {{name: a}}\nstringData: {{k: not-a-real-value}}\n"
    assert rules(text) == ["SK101"]


def test_a_secret_kind_of_another_group_is_not_a_core_secret() -> None:
    text = "apiVersion: example.com/v1\nkind: Secret\nmetadata: {name: a}\nstringData: {k: not-a-real-value}\n"
    assert rules(text) == []
