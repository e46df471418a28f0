"""Literals where secrets do not belong: a SealedSecret's template data is put into its Secret as written."""

from __future__ import annotations

from sealkit.lint.scanner import Scanner, Source

SEALED = """\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: db, namespace: shop}
spec:
  encryptedData:
    password: AgBy3i4OJSWK+PiTySYZZA==
  template:
    data:
      username: orders
      config.yaml: |
        user: orders
        password: {{ index . "password" }}
"""


def findings(text: str) -> list[tuple[int, str]]:
    report = Scanner().run([Source("-", None, data=text.encode())])
    return [(f.line, f.rule.id) for f in report.findings if f.rule.id.startswith("SK5")]


def test_templates_and_plain_settings_in_template_data_pass() -> None:
    assert findings(SEALED) == []


def test_a_plaintext_credential_in_template_data_is_reported() -> None:
    text = SEALED.replace("      username: orders\n", "      username: orders\n      api-token: not-a-real-token\n")
    text += "      url: postgres://orders:not-a-real-pw@db:5432/orders\n"
    assert findings(text) == [(10, "SK503"), (14, "SK502")]
