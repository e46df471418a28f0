"""docs/lint.md lists every rule, and its examples are true: each failing example yields its rule,
each passing example yields no finding of that rule and no error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sealkit.lint.catalog import RULES
from sealkit.lint.config import LintConfig
from sealkit.lint.envs import load_index
from sealkit.lint.model import Severity
from sealkit.lint.scanner import LintReport, lint

DOC = Path(__file__).resolve().parents[3] / "docs" / "lint.md"
REFERENCE = DOC.read_text().split("## Rule reference", 1)[1]
SECTION = re.compile(r"^### (SK\d{3}) (\S+)\n(.*?)(?=^### |\Z)", re.S | re.M)
EXAMPLE = re.compile(r"^(Fails|Passes) \(`([^`]+)`[^\n]*\):\n```[a-z]*\n(.*?)^```", re.S | re.M)
SAME_AS = re.compile(r"^Passes: the (SK\d{3}) passing example\.", re.M)
# Rules whose examples cannot be short text files: the section says which test makes them.
MADE_ELSEWHERE = {"SK003", "SK004", "SK007", "SK009", "SK104", "SK203", "SK208", "SK303", "SK304"}

SECTIONS = {m.group(1): (m.group(2), m.group(3)) for m in SECTION.finditer(REFERENCE)}


def examples(rule_id: str, kind: str) -> dict[str, str]:
    _, body = SECTIONS[rule_id]
    found = {name: text for k, name, text in EXAMPLE.findall(body) if k == kind}
    if kind == "Passes" and not found and (same := SAME_AS.search(body)):
        return examples(same.group(1), "Passes")
    return found


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir()
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def run(directory: Path) -> LintReport:
    """Lint an example folder; one holding a `sealkit-csi.yaml` is checked against its environments too."""
    spec = directory / "sealkit-csi.yaml"
    environments = load_index(spec) if spec.is_file() else None
    return lint([directory], LintConfig(root=directory), environments=environments)


def test_every_rule_has_a_section_with_a_source() -> None:
    assert list(SECTIONS) == [r.id for r in RULES]
    for rule in RULES:
        name, body = SECTIONS[rule.id]
        assert name == rule.name
        assert "Source" in body or "source" in body, rule.id
        has_examples = bool(examples(rule.id, "Fails")) and bool(examples(rule.id, "Passes"))
        assert has_examples != (rule.id in MADE_ELSEWHERE), rule.id


RUNNABLE = [r.id for r in RULES if r.id not in MADE_ELSEWHERE]


@pytest.mark.parametrize("rule_id", RUNNABLE)
def test_examples_are_true(rule_id: str, tmp_path: Path) -> None:
    fails = write(tmp_path / "fails", examples(rule_id, "Fails"))
    found = run(fails)
    assert rule_id in {f.rule.id for f in found.findings}, [(f.rule.id, f.message) for f in found.findings]
    passes = write(tmp_path / "passes", examples(rule_id, "Passes"))
    clean = run(passes)
    bad = [f for f in clean.findings if f.rule.id == rule_id or f.severity >= Severity.ERROR]
    assert bad == [], [(f.rule.id, f.message) for f in bad]
