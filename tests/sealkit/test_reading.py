"""The one bounded reader: size, text, aliases at their expanded size, depth and duplicate keys, decided
before any Python object is built, each refusal one line naming the source and the limit."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sealkit import reading
from sealkit.errors import InputError
from sealkit.reading import Limits, load_documents, read_documents, read_file, read_stream

PLANTED = "Pl4nted-S3cret-Value"


def laughs(levels: int, fan: int = 9) -> str:
    """The classic alias bomb: each level lists the previous one `fan` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * fan)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * fan)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def fan_out(size: int, count: int) -> str:
    """One large string anchored once and aliased `count` times (a Secret value multiplied)."""
    return (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\n"
        f"stringData:\n  a: &v {PLANTED}{'x' * size}\n" + "".join(f"  k{i}: *v\n" for i in range(count))
    )


def refused(text: str | bytes, *fragments: str, limits: Limits | None = None) -> str:
    with pytest.raises(InputError) as info:
        load_documents(text, "in.yaml", limits=limits)
    message = str(info.value)
    assert "\n" not in message and PLANTED not in message
    assert ": in.yaml" in message, "what is wrong, then where"
    for fragment in fragments:
        assert fragment in message, message
    return message


# --- size ------------------------------------------------------------------------------------------------


def test_cap_is_8_mib_and_the_environment_sets_it() -> None:
    assert reading.max_input_bytes({}) == 8 * 1024 * 1024
    assert reading.max_input_bytes({"SEALKIT_MAX_INPUT_BYTES": "20000000"}) == 20_000_000
    for bad in ("lots", "-1", "0", "1e9", "١٢"):
        with pytest.raises(InputError) as refused:
            reading.max_input_bytes({"SEALKIT_MAX_INPUT_BYTES": bad})
        assert str(refused.value) == (
            "not a positive whole number of bytes: environment variable SEALKIT_MAX_INPUT_BYTES"
        ), "what is wrong, then where: the variable"


def test_a_100_mib_file_is_refused_by_its_size_without_being_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:  # sparse: 100 MiB on paper, nothing on disk
        handle.truncate(100 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            read_file(big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == f"larger than the 8 MiB input limit (raise it with SEALKIT_MAX_INPUT_BYTES): {big}"
    assert peak < 1024 * 1024, "decided from the size, not by reading 100 MiB"


def test_streams_are_read_no_further_than_the_cap() -> None:
    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            self.served += len(buffer)
            buffer[:] = b"a" * len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(
        InputError, match=r"larger than the 1 KiB input limit \(raise it with SEALKIT_MAX_INPUT_BYTES\): stdin"
    ):
        read_stream(stream, "stdin", 1024)  # type: ignore[arg-type]
    assert stream.served <= 1025


def test_raising_the_cap_lets_a_larger_file_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {k: " + "v" * 3000 + "}\n")
    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "1000")
    with pytest.raises(InputError, match="larger than the 1000 bytes input limit"):
        read_documents(str(path))
    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "10000")
    assert read_documents(str(path))[0].obj["metadata"]["name"] == "a"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory, not a file"),
    ],
)
def test_files_that_cannot_be_read_are_one_line(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "x.yaml"
    make(path)  # type: ignore[operator]
    with pytest.raises(InputError) as info:
        read_file(path)
    assert str(info.value) == f"{message}: {path}"


# --- text ------------------------------------------------------------------------------------------------


def test_binary_and_invalid_utf8_are_refused_bom_is_not() -> None:
    refused(b"\x89PNG\r\n\x1a\n\x00\x00" + PLANTED.encode(), "binary data (NUL bytes)")
    refused(b"password: " + PLANTED.encode() + b"\xff\xfe", "not valid UTF-8 text (byte 31)")
    assert load_documents(b"\xef\xbb\xbfa: 1\n", "in.yaml")[0].obj == {"a": 1}


def test_parse_errors_quote_nothing_from_the_input() -> None:
    message = refused(f"password: '{PLANTED}\n  b: [\n", "not valid YAML")
    assert "line" in message
    message = refused(f"a: *{PLANTED}\n", "an alias refers to an anchor not defined before it")
    message = refused(f'{{"password": "{PLANTED}", ', "not valid JSON")
    assert PLANTED not in message


# --- aliases ---------------------------------------------------------------------------------------------


def test_alias_bomb_is_refused_before_anything_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_building(*_: object, **__: object) -> None:
        raise AssertionError("the constructor ran")

    monkeypatch.setattr(reading.yaml, "load_all", no_building)
    monkeypatch.setattr(reading.yaml, "compose_all", no_building)
    refused(laughs(12), "excessive aliasing: aliases expand to")


def test_alias_fan_out_counts_expanded_size() -> None:
    text = fan_out(100_000, 100)  # 100 KB aliased 100 times: 10 MB once expanded
    assert len(text) < 200_000
    refused(text, "aliases expand beyond the 8 MiB input limit")


def test_go_yaml_ratio_refuses_few_nodes_many_aliases() -> None:
    # 1,000 aliases of a 200-item list: ~200,000 nodes from a document that holds ~1,200.
    text = "base: &b [" + ", ".join(["x"] * 200) + "]\nuses:\n" + "".join("  - *b\n" for _ in range(1000))
    refused(text, "excessive aliasing")


def test_ordinary_aliases_and_merge_keys_are_read() -> None:
    text = laughs(2) + "defaults: &d {cpu: 1, memory: 2}\nweb:\n  <<: *d\n  cpu: 2\n"
    (doc,) = load_documents(text, "in.yaml")
    assert doc.obj["web"] == {"cpu": 2, "memory": 2}
    assert len(doc.obj["l2"]) == 9


def test_recursive_alias_is_refused() -> None:
    refused("a: &a [1, *a]\n", "an alias refers to a collection that contains it")


# --- depth ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 500 + "1" + "}" * 500,
        "".join("  " * i + "-\n" for i in range(200)),
        "a: &a [[[[[[[[[[1]]]]]]]]]]\n" + "b: " + "[" * 125 + "*a" + "]" * 125 + "\n",
    ],
    ids=["flow-10000", "json-500", "block-200", "deep-through-alias"],
)
def test_nesting_deeper_than_the_limit_is_refused(text: str) -> None:
    refused(text, "deeper than 128 levels")


def test_nesting_within_the_limit_is_read() -> None:
    assert load_documents("[" * 100 + "]" * 100, "in.yaml")


# --- duplicate keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, name: b}\n",
        "apiVersion: v1\nkind: Secret\nstringData:\n  password: one\n  password: two\n",
        '{"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "1", "password": "2"}}',
    ],
)
def test_duplicate_keys_in_kubernetes_objects_are_refused(text: str) -> None:
    refused(text, "is given twice (the API server refuses duplicate keys)")


def test_duplicate_values_never_show_and_other_yaml_may_repeat_keys() -> None:
    message = refused(f"apiVersion: v1\nkind: Secret\nstringData:\n  {PLANTED} x: 1\n  {PLANTED} x: 2\n", "(not shown)")
    assert PLANTED not in message
    assert load_documents("steps: 1\nsteps: 2\n", "ci.yaml")[0].obj == {"steps": 2}


def test_json_streams_and_yaml_streams_number_their_documents() -> None:
    stream = json.dumps({"a": 1}) + "\n" + json.dumps({"b": 2})
    assert [d.where for d in load_documents(stream, "in.json")] == ["in.json document 1", "in.json document 2"]
    assert [d.index for d in load_documents("---\na: 1\n---\n---\nb: 2\n", "in.yaml")] == [1, 2]


# --- compose_documents: one parse for a file about to be edited in place ---------------------------------

SEALED = (
    "# comment\n"
    "apiVersion: bitnami.com/v1alpha1\n"
    "kind: SealedSecret\n"
    "metadata: {name: db, namespace: team-a}\n"
    "spec:\n"
    "  encryptedData:\n"
    "    password: AgBy3i4OJSWK+PiTySYZZA==\n"
    "  template: {type: Opaque}\n"
)


@pytest.mark.parametrize(
    "text",
    [
        SEALED,
        "---\n---\n" + SEALED + "---\nnull\n---\na: 1\nb: [1, 2.5, true, 2024-01-02]\n",
        "list: [a, {b: c}]\nother: x\nother: y\n",  # not a Kubernetes object: its keys may repeat
        "list: [a, {b: c}]\nother: x\nother: 'y'\n",  # the same with strings only: the last value wins
        SEALED + '---\n"<<": quoted, a plain key\nkind: x\n',
        "base: {<<: {a: b}, c: d}\n",  # a merge key: the constructor merges
        "a:\nb: ~\nc: ''\nd: [x, 1]\n",  # nulls and numbers among strings
        "",
    ],
)
def test_compose_documents_reads_what_load_documents_reads(text: str) -> None:
    composed = reading.compose_documents(text, "in.yaml")
    assert composed is not None
    assert [doc for doc, _ in composed] == load_documents(text, "in.yaml")
    for doc, node in composed:  # each node is the document it was built from
        assert node.start_mark.index <= node.end_mark.index <= len(text)
        assert yaml.safe_load(yaml.serialize(node)) == doc.obj


_ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
_TREES = st.recursive(
    _ASCII | st.integers() | st.booleans() | st.none(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_ASCII, children, max_size=4),
    max_leaves=20,
)


@given(st.lists(st.dictionaries(_ASCII, _TREES, min_size=1, max_size=4), min_size=1, max_size=3), st.booleans())
def test_compose_documents_builds_what_the_constructor_builds(objects: list[object], flow: bool) -> None:
    """Strings only (built directly) or mixed with other scalars (the constructor): the same objects."""
    text = yaml.safe_dump_all(objects, default_flow_style=flow)
    composed = reading.compose_documents(text, "in.yaml")
    if composed is not None:
        assert [doc for doc, _ in composed] == load_documents(text, "in.yaml")


@pytest.mark.parametrize(
    "text",
    [
        SEALED.replace("kind: SealedSecret\n", "kind: SealedSecret\nkind: Secret\n"),
        SEALED.replace("    password:", "    a: x\n    password: x\n    a:"),
        SEALED.replace("    password:", "    a: x\n    a: y\n    b: x\n    b: y\n    password:"),  # the first
        SEALED.replace("{type: Opaque}", "{type: Opaque, metadata: {labels: {a: b, a: c}}}"),
        "a: 1\n---\n" + SEALED.replace("name: db", "name: db, name: db"),
        SEALED + "spec: [\n",
        SEALED.replace("password: Ag", "password: !!int Ag"),
    ],
)
def test_compose_documents_refuses_what_load_documents_refuses_in_the_same_words(text: str) -> None:
    with pytest.raises(InputError) as loaded:
        load_documents(text, "in.yaml")
    with pytest.raises(InputError) as composed:
        reading.compose_documents(text, "in.yaml")
    assert str(composed.value) == str(loaded.value)


@pytest.mark.parametrize(
    "text",
    [
        SEALED.replace("name: db", "name: &n db, other: *n"),  # aliases: counted by the full check
        SEALED.replace("# comment", "# commentaire modifié"),  # not ASCII: marks would be bytes
        '{"apiVersion": "v1", "kind": "Secret"}',  # JSON: the JSON reader's rules
        "a:\n" + "".join(f"{'  ' * i}- \n" for i in range(1, 130)),  # could nest deeper than the limit
    ],
)
def test_compose_documents_leaves_other_texts_to_the_full_check(text: str) -> None:
    assert reading.compose_documents(text, "in.yaml") is None


def test_compose_documents_stays_under_the_size_cap() -> None:
    """Only texts whose expanded size cannot reach the cap are read in one parse."""
    assert reading.compose_documents(SEALED, "in.yaml", limits=Limits(max_bytes=4 * len(SEALED))) is None
    assert reading.compose_documents(SEALED, "in.yaml", limits=Limits(max_bytes=4 * len(SEALED) + 1)) is not None


def test_file_found_tells_nothing_there_from_something_else_there(tmp_path: Path) -> None:
    """A file looked for by its name (a config): absent is False; anything there but a regular file (symlinks
    followed) is an error naming it, never taken for absent."""
    import os

    (tmp_path / "file.yaml").write_text("a: 1\n")
    (tmp_path / "link.yaml").symlink_to("file.yaml")
    assert reading.file_found(tmp_path / "file.yaml") and reading.file_found(tmp_path / "link.yaml")
    assert not reading.file_found(tmp_path / "missing.yaml")
    assert not reading.file_found(tmp_path / "file.yaml" / "below.yaml"), "a file above it: nothing there"
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "dangling.yaml").symlink_to("missing.yaml")
    long = tmp_path / ("n" * 300)
    for path, what in [
        (tmp_path / "fifo.yaml", "not a regular file"),
        (tmp_path / "dangling.yaml", "a symbolic link to nothing"),
        (long, "cannot be read (file name too long)"),
    ]:
        with pytest.raises(InputError) as caught:
            reading.file_found(path)
        assert str(caught.value) == f"{what}: {path}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: [1, 2\n", "did not find expected ',' or ']'"),
        ("a: {b: 1\n", "did not find expected ',' or '}'"),
        ("- a\nb: c\n", "did not find expected '-' indicator"),
        ("a: !<tag:s3cr3t> x\n", "could not determine a constructor for the tag"),
    ],
)
def test_a_yaml_error_keeps_the_grammars_words_and_drops_the_inputs(text: str, problem: str) -> None:
    """It read 'did not find expected or' (every quoted part dropped, the grammar's tokens too)."""
    with pytest.raises(InputError) as caught:
        load_documents(text, "in.yaml")
    assert str(caught.value).startswith(f"not valid YAML: {problem}: in.yaml line "), str(caught.value)
    assert "s3cr3t" not in str(caught.value)
