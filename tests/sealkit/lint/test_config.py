"""`.sealkit-lint.yaml`: severities, off, path ignores per file and per rule, known Secrets, fail-on."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealkit.errors import InputError
from sealkit.lint import keymaterial
from sealkit.lint.config import LintConfig, glob_regex, load_config, parse_config
from sealkit.lint.model import Severity
from sealkit.lint.scanner import Scanner, Source, lint

PLAIN = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n"
REF = """\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: apps}
spec:
  containers: [{name: c, image: i, envFrom: [{secretRef: {name: made-by-an-operator}}]}]
"""


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("charts/**", "charts/a/templates/x.yaml", True),
        ("charts/**", "apps/charts/x.yaml", False),
        ("*.enc.yaml", "apps/deep/s.enc.yaml", True),
        ("apps/*/secret.yaml", "apps/a/secret.yaml", True),
        ("apps/*/secret.yaml", "apps/a/b/secret.yaml", False),
        ("**/fixtures/", "x/fixtures/a/b.yaml", True),
        ("./tests/?.yaml", "tests/a.yaml", True),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).match(path)) is matches


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def config(root: Path, text: str) -> LintConfig:
    (root / ".sealkit-lint.yaml").write_text(text)
    return load_config(root / ".sealkit-lint.yaml")


def test_defaults_report_and_fail_on_error(tmp_path: Path) -> None:
    write(tmp_path, {"s.yaml": PLAIN})
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert [f.rule.id for f in report.findings] == ["SK101"]
    assert report.failed(LintConfig().fail_on)


def test_severity_override_off_and_per_rule_ignores(tmp_path: Path) -> None:
    write(tmp_path, {"apps/s.yaml": PLAIN, "tests/fixtures/s.yaml": PLAIN, "apps/pod.yaml": REF})
    cfg = config(
        tmp_path,
        "rules:\n  SK101: {ignore: ['tests/fixtures/**']}\n  secret-ref-missing: error\n",
    )
    report = lint([tmp_path], cfg)
    assert [(Path(f.path).relative_to(tmp_path).as_posix(), f.rule.id, f.severity) for f in report.findings] == [
        ("apps/pod.yaml", "SK401", Severity.ERROR),
        ("apps/s.yaml", "SK101", Severity.ERROR),
    ]
    off = lint([tmp_path], config(tmp_path, "rules: {SK101: off, SK401: warning}\nfail-on: warning\n"))
    assert [f.rule.id for f in off.findings] == ["SK401"]
    assert off.failed(load_config(tmp_path / ".sealkit-lint.yaml").fail_on)


def test_ignored_files_are_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"charts/x/templates/s.yaml": PLAIN, "ok.yaml": "kind: ConfigMap\n"})
    report = lint([tmp_path], config(tmp_path, "ignore: ['charts/']\n"))
    assert report.findings == [] and report.files == 1


def test_ignored_files_are_still_checked_for_private_keys(tmp_path: Path) -> None:
    from .keyfiles import _age

    write(tmp_path, {"charts/x/templates/s.yaml": PLAIN, "charts/x/age.txt": _age().decode()})
    report = lint([tmp_path], config(tmp_path, "ignore: ['charts/']\n"))
    assert [(f.path.endswith("age.txt"), f.rule.id) for f in report.findings] == [(True, "SK104")]
    assert report.files == 0 and report.skipped == 3  # the two files and the config


def test_ignored_files_over_the_size_cap_are_still_checked_for_private_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ignoring a file is the documented way out of SK004 (too large), never out of SK104: a key at the end of a
    file over the cap is found, at its line, with the file scanned in pieces (one boundary inside the key)."""
    from .keyfiles import _age

    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "1000")
    monkeypatch.setattr(keymaterial, "CHUNK_BYTES", 2048)
    age = _age()
    filler = b"x" * 99 + b"\n"
    head = filler * (2048 // len(filler)) + b"y" * (2048 % len(filler) - 40)  # the piece ends inside the key
    write(tmp_path, {"vendor/bundle.js": (head + age + filler * 30).decode()})
    report = lint([tmp_path], config(tmp_path, "ignore: ['vendor/']\n"))
    line = head.count(b"\n") + 1 + age[: age.index(b"AGE-SECRET-KEY-1")].count(b"\n")
    assert [(f.path.endswith("bundle.js"), f.rule.id, f.line) for f in report.findings] == [(True, "SK104", line)]


def test_ignored_pipe_over_the_size_cap_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_ = config(tmp_path, "ignore: ['-']\n")
    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "10")
    scanner = Scanner(config_)
    report = scanner.run([Source("-", None, data=b"kind: ConfigMap\n" * 10)])
    assert [f.rule.id for f in report.findings] == ["SK004"]


@pytest.mark.parametrize(
    "text",
    [
        "rules: {SK104: off}\n",
        "rules: {private-key-committed: warning}\n",
        "rules: {SK102: {severity: error}}\n",
        "rules: {SK102: {ignore: ['tests/**']}}\n",
    ],
)
def test_critical_rules_cannot_be_silenced(text: str) -> None:
    import yaml

    with pytest.raises(InputError) as info:
        parse_config(yaml.safe_load(text), "cfg.yaml", Path())
    assert "is critical (a committed private key): it cannot be switched off, lowered or ignored" in str(info.value)
    assert parse_config(yaml.safe_load("rules: {SK104: critical}\n"), "cfg.yaml", Path()).severities


def test_known_secrets(tmp_path: Path) -> None:
    write(tmp_path, {"pod.yaml": REF})
    assert lint([tmp_path], config(tmp_path, "known-secrets: [apps/made-by-an-operator]\n")).findings == []
    assert lint([tmp_path], config(tmp_path, "known-secrets: [made-by-an-operator]\n")).findings == []
    other = lint([tmp_path], config(tmp_path, "known-secrets: [other-ns/made-by-an-operator]\n"))
    assert [f.rule.id for f in other.findings] == ["SK401"]


def test_object_annotation_ignores_a_rule_but_not_critical(tmp_path: Path) -> None:
    annotated = REF.replace("namespace: apps}", "namespace: apps, annotations: {sealkit.io/lint-ignore: 'SK401'}}")
    key = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: k\n  annotations: {sealkit.io/lint-ignore: SK102}\n"
        "data: {tls.key: a2V5}\n"
    )
    write(tmp_path, {"pod.yaml": annotated, "key.yaml": key})
    assert [f.rule.id for f in lint([tmp_path], LintConfig(root=tmp_path)).findings] == ["SK102"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: {SK999: error}\n", "unknown lint rule 'SK999'"),
        ("rules: {SK101: loud}\n", "unknown severity 'loud'"),
        ("rules: {SK101: {sevrity: error}}\n", "unknown key(s) sevrity"),
        ("ignored: []\n", "unknown key(s) ignored"),
        ("ignore: charts\n", "ignore: a list of glob strings"),
        ("- a\n", "must be a mapping"),
        ("fail-on: 3\n", "fail-on must be a severity"),
    ],
)
def test_config_mistakes_are_one_line_errors(text: str, message: str) -> None:
    import yaml

    with pytest.raises(InputError, match=None) as info:
        parse_config(yaml.safe_load(text), "cfg.yaml", Path())
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_fail_on_never(tmp_path: Path) -> None:
    assert config(tmp_path, "fail-on: never\n").fail_on is None
