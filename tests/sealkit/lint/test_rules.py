"""Every rule on small fixture repos (tests/data/lint/rules/<id>-<name>/): `bad/` yields exactly
the findings marked `# expect: <id>` on their lines, `good/` yields no finding at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.lint.catalog import RULES
from sealkit.lint.config import LintConfig
from sealkit.lint.envs import EnvironmentIndex, load_index
from sealkit.lint.scanner import LintReport, lint
from sealkit.lint.sealed import SealedChecks, offline_opener

DATA = Path(__file__).resolve().parents[2] / "data"
CASES = DATA / "lint" / "rules"
EXAMPLE_CERT = Path(__file__).resolve().parents[3] / "examples" / "gitops" / "clusters" / "example-cluster-cert.pem"
EXPECT = re.compile(r"(?:#|//)\s*expect:\s*(SK\d{3})")
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())


def checks_for(case: Path) -> SealedChecks:
    flags = yaml.safe_load((case / "case.yaml").read_text()) if (case / "case.yaml").is_file() else {}
    bits: frozenset[int] = frozenset()
    opener = None
    if flags.get("cert"):
        bits = frozenset({load_certificate(EXAMPLE_CERT.read_bytes()).public_key.key_size})
    if flags.get("private-key"):
        opener = offline_opener(KeyRing(load_private_keys((DATA / "example-cluster-key.pem").read_bytes())))
    return SealedChecks(bits, opener)


def environments_for(case: Path, directory: Path) -> EnvironmentIndex | None:
    """`environments: true`: the repo's own sealkit-csi.yaml names the environments (SK210-SK212)."""
    flags = yaml.safe_load((case / "case.yaml").read_text()) if (case / "case.yaml").is_file() else {}
    if not flags.get("environments"):
        return None
    keys = None
    if flags.get("environment-keys"):
        keys = KeyRing(k for name in flags["environment-keys"] for k in load_private_keys((case / name).read_bytes()))
    return load_index(directory / "sealkit-csi.yaml", keys)


def run(directory: Path, checks: SealedChecks, environments: EnvironmentIndex | None = None) -> LintReport:
    return lint([directory], LintConfig(root=directory), checks, environments=environments)


def expected(directory: Path) -> set[tuple[str, int, str]]:
    """Markers in any text file (`# expect:` in YAML and .env, `// expect:` in broken JSON...)."""
    out = set()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                if m := EXPECT.search(line):
                    out.add((str(path), number, m.group(1)))
    return out


def test_every_rule_has_a_case() -> None:
    covered = {p.name[:5] for p in CASE_DIRS}
    # Made at test time elsewhere: binary, oversized and unreadable files (test_loader.py), a
    # check that fails (test_scanner.py), committed keys (test_leaks.py generates them).
    untested_here = {"SK003", "SK004", "SK007", "SK009", "SK104"}
    assert {r.id for r in RULES} - untested_here <= covered
    assert all((p / "bad").is_dir() and (p / "good").is_dir() for p in CASE_DIRS)


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_bad_repo_yields_the_marked_findings(case: Path) -> None:
    report = run(case / "bad", checks_for(case), environments_for(case, case / "bad"))
    found = {(f.path, f.line, f.rule.id) for f in report.findings}
    marked = expected(case / "bad")
    rule = case.name[:5]
    assert marked, "a bad case marks at least one line"
    assert {m for m in marked if m[2] == rule}, f"the case marks its own rule {rule}"
    assert found == marked, [f"{f.path}:{f.line} {f.rule.id} {f.message}" for f in report.findings]


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_good_repo_is_clean(case: Path) -> None:
    report = run(case / "good", checks_for(case), environments_for(case, case / "good"))
    assert report.findings == [], [f"{f.path}:{f.line} {f.rule.id} {f.message}" for f in report.findings]
    assert report.files > 0
