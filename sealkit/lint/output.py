"""Lint reports as text for people, JSON for scripts and SARIF 2.1.0 for code-scanning UIs.

Pure functions of the report; none of them can leak a value because findings hold none.

JSON shape (version 1):

    {"version": 1,
     "tool": {"name": "sealkit lint", "version": "0.1.0"},
     "summary": {"files": 12, "skipped": 1, "objects": 30, "findings": 2,
                 "bySeverity": {"info": 0, "warning": 1, "error": 1, "critical": 0},
                 "failOn": "error", "failed": true},
     "findings": [{"path": "apps/x.yaml", "line": 7, "rule": "SK101", "name": "plaintext-secret",
                   "severity": "error", "message": "...", "fix": "..."}]}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sealkit import __version__
from sealkit.lint.catalog import RULES
from sealkit.lint.model import Finding, Severity
from sealkit.lint.scanner import LintReport

JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"

_LEVELS = {Severity.INFO: "note", Severity.WARNING: "warning", Severity.ERROR: "error", Severity.CRITICAL: "error"}
# GitHub code scanning ranks security alerts by this CVSS-like score.
_SECURITY_SEVERITY = {Severity.INFO: "2.0", Severity.WARNING: "5.0", Severity.ERROR: "7.5", Severity.CRITICAL: "9.5"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(report: LintReport) -> str:
    scanned = (
        f"{_plural(report.files, 'file')} read, {report.skipped} skipped as not applicable, "
        f"{_plural(report.objects, 'object')}"
    )
    if not report.findings:
        return f"no findings ({scanned})"
    counts = report.counts()
    parts = [
        _plural(counts[s.label], s.label) if s in (Severity.ERROR, Severity.WARNING) else f"{counts[s.label]} {s.label}"
        for s in sorted(Severity, reverse=True)
        if counts[s.label]
    ]
    return f"{_plural(len(report.findings), 'finding')}: {', '.join(parts)} ({scanned})"


def to_text(report: LintReport) -> str:
    lines: list[str] = []
    for f in report.findings:
        lines.append(f"{f.path}:{f.line}: {f.severity.label} {f.rule.id} {f.rule.name}: {f.message}")
        lines.append(f"    fix: {f.fix}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "path": f.path,
        "line": f.line,
        "rule": f.rule.id,
        "name": f.rule.name,
        "severity": f.severity.label,
        "message": f.message,
        "fix": f.fix,
    }


def to_json(report: LintReport, fail_on: Severity | None = Severity.ERROR) -> str:
    body = {
        "version": JSON_VERSION,
        "tool": {"name": "sealkit lint", "version": __version__},
        "summary": {
            "files": report.files,
            "skipped": report.skipped,
            "objects": report.objects,
            "findings": len(report.findings),
            "bySeverity": report.counts(),
            "failOn": fail_on.label if fail_on is not None else None,
            "failed": report.failed(fail_on),
        },
        "findings": [_finding_json(f) for f in report.findings],
    }
    return json.dumps(body, indent=2) + "\n"


def _artifact(path: str, root: Path) -> dict[str, str]:
    """A URI relative to the source root when the file is inside it (what code scanning expects)."""
    if path == "stdin":
        return {"uri": "stdin"}
    candidate = Path(path).absolute()
    # The directory resolved, the name kept: a file read through a linked directory is shown where it lives, and a
    # symbolic link lint reports (out of the repo, dangling, in a loop) as itself, never as where it leads.
    where = Path(os.path.realpath(candidate.parent)) / candidate.name
    try:
        relative = where.relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return {"uri": where.as_uri()}
    return {"uri": quote(relative), "uriBaseId": SRCROOT}


def to_sarif(report: LintReport, root: Path) -> str:
    """One SARIF 2.1.0 run; every rule is listed so results can point at it by index."""
    index = {rule.id: i for i, rule in enumerate(RULES)}
    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "help": {"text": f"Fix: {rule.fix}"},
            "defaultConfiguration": {"level": _LEVELS[rule.severity]},
            "properties": {"tags": ["security", "kubernetes"], "security-severity": _SECURITY_SEVERITY[rule.severity]},
        }
        for rule in RULES
    ]
    results = [
        {
            "ruleId": f.rule.id,
            "ruleIndex": index[f.rule.id],
            "level": _LEVELS[f.severity],
            "message": {"text": f"{f.message}. Fix: {f.fix}"},
            "locations": [
                {"physicalLocation": {"artifactLocation": _artifact(f.path, root), "region": {"startLine": f.line}}}
            ],
            "properties": {"severity": f.severity.label},
        }
        for f in report.findings
    ]
    run = {
        "tool": {"driver": {"name": "sealkit", "semanticVersion": __version__, "version": __version__, "rules": rules}},
        "originalUriBaseIds": {SRCROOT: {"uri": root.resolve().as_uri().rstrip("/") + "/"}},
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
