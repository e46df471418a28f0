"""Bounded reading: bombs, recursion, deep nesting, binaries and huge files are findings, never
crashes; line numbers point at keys; List documents are unrolled."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealkit.errors import InputError
from sealkit.lint import loader
from sealkit.lint.config import LintConfig
from sealkit.lint.model import Hit
from sealkit.lint.scanner import lint


def rules_of(result: loader.LoadedFile) -> list[str]:
    return [hit.rule.id for hit in result.hits]


def laughs(levels: int, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly() -> None:
    result = loader.load_text(laughs(10))  # 9**10 ≈ 3.5 billion nodes when expanded: returning at all is the proof
    assert rules_of(result) == ["SK005"]
    assert result.manifests == []
    assert "excessive aliasing: aliases expand to" in result.hits[0].message


def test_moderate_alias_use_is_read() -> None:
    result = loader.load_text(laughs(3))  # 9**3 nodes: fine
    assert result.hits == []
    assert len(result.documents[0][0]["l2"]) == 9


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


def test_huge_file_is_an_error_not_a_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "notes.txt"
    big.write_bytes(b"k: " + b"v" * 2000 + b"\n")
    monkeypatch.setenv(loader.MAX_INPUT_ENV, "1000")
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert [(f.path, f.rule.id, f.line, f.severity.label) for f in report.findings] == [(str(big), "SK004", 1, "error")]
    assert report.files == 1


def test_default_cap_is_8_mib() -> None:
    assert loader.max_input_bytes({}) == 8 * 1024 * 1024
    assert loader.max_input_bytes({loader.MAX_INPUT_ENV: "123"}) == 123
    with pytest.raises(InputError, match="SEALKIT_MAX_INPUT_BYTES"):
        loader.max_input_bytes({loader.MAX_INPUT_ENV: "lots"})


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    assert isinstance(loader.read_file(tmp_path / "missing.yaml", 100), Hit)
    hit = loader.read_file(tmp_path, 100)  # a directory cannot be read as a file
    assert isinstance(hit, Hit) and hit.rule.id == "SK007" and hit.rule.severity.label == "error"


def test_binary_file_in_a_repo(tmp_path: Path) -> None:
    (tmp_path / "image.yaml").write_bytes(bytes(range(256)))
    (tmp_path / "logo.png").write_bytes(bytes(range(256)))  # binary under a binary name: keys only
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert [(Path(f.path).name, f.rule.id, f.severity.label) for f in report.findings] == [
        ("image.yaml", "SK003", "error")
    ]
    assert report.files == 2


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
    result = loader.load_text(
        "---\n---\napiVersion: v1\nkind: A\n---\n# only a comment\n---\napiVersion: v1\nkind: B\n"
    )
    assert [(m.kind, m.document) for m in result.manifests] == [("A", 1), ("B", 2)]


def test_scalars_are_typed_like_safe_load() -> None:
    obj = loader.load_text("a: 1\nb: true\nc: null\nd: '1'\ne: 1.5\nf: !custom x\ng: 2001-12-14\n").documents[0][0]
    assert obj["a"] == 1 and obj["b"] is True and obj["c"] is None and obj["d"] == "1" and obj["e"] == 1.5
    assert obj["f"] == "x"
    assert str(obj["g"]) == "2001-12-14"


def test_merge_keys_do_not_override_explicit_keys() -> None:
    obj = loader.load_text("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n").documents[0][0]
    assert obj["child"] == {"x": 1, "y": 3}


def test_invalid_yaml_names_the_line_and_never_the_content() -> None:
    result = loader.load_text("apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2\n  : [\n")
    assert rules_of(result) == ["SK001"]
    assert "hunter2" not in result.hits[0].message
    assert 1 <= result.hits[0].line <= 5


@pytest.mark.parametrize("text", ["{{ if .Values.on }}\nkind: A\n{{ end }}\n", "a: {{ b }\n  - c"])
def test_templates_are_skipped_as_info(text: str) -> None:
    assert rules_of(loader.load_text(text)) == ["SK002"]


def test_redefined_anchor_is_valid_yaml_and_the_later_one_wins() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: &v one\n  y: &v two\n  z: *v\n"
    result = loader.load_text(text)
    assert result.hits == []
    assert result.manifests[0].obj["data"] == {"x": "one", "y": "two", "z": "two"}


def test_duplicate_keys_only_count_in_kubernetes_objects() -> None:
    pipeline = "steps:\n  ${{ if eq(a, b) }}:\n    - run: x\n  ${{ if eq(a, b) }}:\n    - run: y\n"
    assert loader.load_text(pipeline).hits == []
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: 1}\ndata: {k: 2}\n"
    assert rules_of(loader.load_text(manifest)) == ["SK006"]


def test_json_one_object_a_list_and_concatenated() -> None:
    one = '{"apiVersion": "v1", "kind": "Secret",\n "metadata": {"name": "a"},\n "stringData": {"p": "x"}}'
    result = loader.load_json_text(one)
    assert [m.kind for m in result.manifests] == ["Secret"] and result.manifests[0].line("stringData", "p") == 3
    listed = '{"apiVersion": "v1", "kind": "List", "items": [\n' + one + "\n]}"
    assert [m.name for m in loader.load_json_text(listed).manifests] == ["a"]
    result = loader.load_json_text(one + "\n" + one.replace('"a"', '"b"'))
    assert [(m.name, m.line("metadata")) for m in result.manifests] == [("a", 2), ("b", 5)]


def test_json_that_is_not_json_is_info() -> None:
    result = loader.load_json_text('{\n  // a comment\n  "a": 1\n}')
    assert [(h.rule.id, h.line, h.rule.severity.label) for h in result.hits] == [("SK008", 2, "info")]
