"""Bounded reading: bombs, recursion, deep nesting, binaries and huge files are findings, never
crashes; line numbers point at keys; List documents are unrolled."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sealkit.lint import loader
from sealkit.lint.config import LintConfig
from sealkit.lint.scanner import lint


def rules_of(result: loader.LoadedFile) -> list[str]:
    return [hit.rule.id for hit in result.hits]


def laughs(levels: int, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly() -> None:
    start = time.perf_counter()
    result = loader.load_text(laughs(10))  # 9**10 ≈ 3.5 billion nodes when expanded
    assert time.perf_counter() - start < 1.0
    assert rules_of(result) == ["SK005"]
    assert result.manifests == []
    assert "expand to more than" in result.hits[0].message


def test_moderate_alias_use_is_read() -> None:
    result = loader.load_text(laughs(3))  # 9**3 nodes: fine
    assert result.hits == []
    assert len(result.manifests[0].obj["l2"]) == 9


def test_recursive_alias_is_refused() -> None:
    result = loader.load_text("a: &a\n  b: *a\n")
    assert rules_of(result) == ["SK005"]
    assert "recursive" in result.hits[0].message


def test_deep_nesting_is_refused() -> None:
    assert rules_of(loader.load_text("[" * 500 + "]" * 500)) == ["SK005"]
    assert rules_of(loader.load_text("[" * 50_000 + "]" * 50_000)) in (["SK001"], ["SK005"])


def test_binary_and_non_utf8_files() -> None:
    assert rules_of(loader.load_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")) == ["SK003"]
    assert rules_of(loader.load_bytes(b"kind: \xff\xfe ConfigMap\n")) == ["SK003"]


def test_huge_file_is_skipped_without_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"k: " + b"v" * (loader.MAX_FILE_BYTES + 10) + b"\n")
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert [(f.rule.id, f.line) for f in report.findings] == [("SK004", 1)]


def test_binary_file_in_a_repo(tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_bytes(bytes(range(256)))
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert [f.rule.id for f in report.findings] == ["SK003"]


def test_lines_point_at_keys_and_list_items() -> None:
    text = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: a
  - apiVersion: v1
    kind: Secret
    metadata:
      name: b
    stringData:
      password: x
"""
    result = loader.load_text(text)
    assert [m.kind for m in result.manifests] == ["ConfigMap", "Secret"]
    secret = result.manifests[1]
    assert (secret.document, secret.item) == (1, 1)
    assert secret.line("stringData", "password") == 13
    assert secret.line("stringData", "missing") == 12, "nearest existing ancestor"
    assert secret.line() == 8, "the item's own line"


def test_documents_are_numbered_and_empty_ones_skipped() -> None:
    result = loader.load_text("---\n---\nkind: A\n---\n# only a comment\n---\nkind: B\n")
    assert [(m.kind, m.document) for m in result.manifests] == [("A", 1), ("B", 2)]


def test_scalars_are_typed_like_safe_load() -> None:
    obj = loader.load_text("a: 1\nb: true\nc: null\nd: '1'\ne: 1.5\nf: !custom x\ng: 2001-12-14\n").manifests[0].obj
    assert obj["a"] == 1 and obj["b"] is True and obj["c"] is None and obj["d"] == "1" and obj["e"] == 1.5
    assert obj["f"] == "x"
    assert str(obj["g"]) == "2001-12-14"


def test_merge_keys_do_not_override_explicit_keys() -> None:
    obj = loader.load_text("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n").manifests[0].obj
    assert obj["child"] == {"x": 1, "y": 3}


def test_invalid_yaml_names_the_line_and_never_the_content() -> None:
    result = loader.load_text("apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2\n  : [\n")
    assert rules_of(result) == ["SK001"]
    assert "hunter2" not in result.hits[0].message
    assert 1 <= result.hits[0].line <= 5


@pytest.mark.parametrize("text", ["{{ if .Values.on }}\nkind: A\n{{ end }}\n", "a: {{ b }\n  - c"])
def test_templates_are_skipped_as_info(text: str) -> None:
    assert rules_of(loader.load_text(text)) == ["SK002"]
