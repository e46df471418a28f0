"""`merge_values`/`replace_values`: encryptedData items changed in the file's own text, in every layout people
write, and what is written reads back as exactly the intended change (else refused, never written)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.errors import InputError
from sealkit.yamledit import merge_values, replace_values, set_annotations

NEW = "AgNEWVALUE+/="
HEAD = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: shop\nspec:\n"
TAIL = "  template:\n    metadata:\n      name: db\n"


def loaded(text: str) -> dict[str, Any]:
    (obj,) = [d for d in yaml.load_all(text, Loader=yaml.SafeLoader) if d]
    assert isinstance(obj, dict)
    return obj


@pytest.mark.parametrize(
    ("encrypted", "items"),
    [
        ("  encryptedData:\n    a: |\n      AgAOLD\n    b: AgB\n", {"a": NEW}),  # block scalar replaced
        ("  encryptedData:\n    a: |\n      AgAOLD\n", {"c": NEW}),  # added after a block scalar
        ("  encryptedData:\n    a: >-\n      AgAOLD\n\n", {"a": NEW, "c": NEW}),
        ("  encryptedData:\n    a: AgA\n", {"on": NEW, "1": NEW, "yes": NEW, "null": NEW, "0x1f": NEW}),
        ("  encryptedData: {a: AgA # why\n  }\n", {"c": NEW}),  # a comment inside a flow mapping
        ("  encryptedData: {a: AgA,\n  }\n", {"c": NEW}),  # a trailing comma
        ("  encryptedData: {}\n", {"c": NEW}),
        ('  encryptedData:\n    "a": "AgA"  # kept\n', {"a": NEW, "b": NEW}),
    ],
)
def test_layouts_read_back_as_intended(encrypted: str, items: dict[str, str]) -> None:
    text = HEAD + encrypted + TAIL
    out = merge_values(text, 1, items, "f")
    before, after = loaded(text), loaded(out)
    assert after["spec"]["encryptedData"] == {**before["spec"]["encryptedData"], **items}
    assert {k: v for k, v in after.items() if k != "spec"} == {k: v for k, v in before.items() if k != "spec"}
    assert after["spec"]["template"] == before["spec"]["template"]
    assert out.endswith(TAIL) and out.startswith(HEAD)


def test_crlf_files_keep_their_line_breaks() -> None:
    text = (HEAD + "  encryptedData:\n    a: AgA\n" + TAIL).replace("\n", "\r\n")
    out = merge_values(text, 1, {"a": NEW, "b": NEW}, "f")
    out = set_annotations(out, 1, {"sealkit.io/environment": "prod"}, "f")
    assert out.count("\n") == out.count("\r\n") == text.count("\n") + 3
    assert loaded(out)["spec"]["encryptedData"] == {"a": NEW, "b": NEW}


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "  encryptedData:\n    a: &v AgA\n    b: *v\n" + TAIL,  # b's node is a's: b's edit would change a
        HEAD + "  encryptedData:\n    b: &v AgA\n    a: *v\n" + TAIL,  # a reads b's text: it would change too
        HEAD.replace("  name: db\n", "  name: db\n  labels: {l: &v AgA}\n") + "  encryptedData:\n    b: *v\n" + TAIL,
    ],
)
def test_anchors_and_aliases_are_refused_not_spliced(text: str) -> None:
    for edit in (lambda: merge_values(text, 1, {"b": NEW}, "f"), lambda: replace_values(text, {1: {"b": NEW}}, "f")):
        with pytest.raises(InputError, match=r"^spec.encryptedData.b is a YAML anchor or alias; .*: f document 1$"):
            edit()


# --- property: any mix of the layouts above --------------------------------------------------------------

KEYS = st.sampled_from(["a", "password", "on", "yes", "1", "null", "tls.crt", "_x", "-y", "0x1f", "1e3", "True"])
STYLES = st.sampled_from(["plain", "single", "double", "literal", "folded", "literal-strip"])


def _value(value: str, style: str, indent: str) -> str:
    return {
        "plain": value,
        "single": f"'{value}'",
        "double": f'"{value}"',
        "literal": f"|\n{indent}  {value}",
        "folded": f">\n{indent}  {value}",
        "literal-strip": f"|-\n{indent}  {value}",
    }[style]


@settings(max_examples=150, deadline=None)
@given(
    existing=st.dictionaries(KEYS, STYLES, min_size=1, max_size=4),
    changed=st.dictionaries(KEYS, st.just(NEW), min_size=1, max_size=4),
    flow=st.booleans(),
    crlf=st.booleans(),
    comments=st.booleans(),
    final_newline=st.booleans(),
)
def test_merge_reads_back_as_intended(
    existing: dict[str, str], changed: dict[str, str], flow: bool, crlf: bool, comments: bool, final_newline: bool
) -> None:
    values = {key: f"AgOLD{i}" for i, key in enumerate(existing)}
    if flow:
        body = ", ".join(f'"{k}": "{values[k]}"' for k in existing)
        encrypted = "  encryptedData: {" + body + (",  # end\n  }" if comments else "}") + "\n"
    else:
        lines = [f'    "{k}": {_value(values[k], style, "    ")}' for k, style in existing.items()]
        encrypted = "  encryptedData:\n" + "".join(
            line + ("  # c\n" if comments and "|" not in line and ">" not in line else "\n") for line in lines
        )
    text = HEAD + encrypted + TAIL
    if not final_newline:
        text = text.rstrip("\n")
    if crlf:
        text = text.replace("\n", "\r\n")
    before = yaml.safe_load(text)
    out = merge_values(text, 1, changed, "f")
    after = yaml.safe_load(out)
    expected_values = {k: v.rstrip("\n") for k, v in before["spec"]["encryptedData"].items()}
    got = {k: v.rstrip("\n") for k, v in after["spec"]["encryptedData"].items()}
    assert got == {**expected_values, **changed}
    assert after["spec"]["template"] == before["spec"]["template"] and after["metadata"] == before["metadata"]
    assert out.startswith(HEAD.replace("\n", "\r\n") if crlf else HEAD)
    if crlf:
        assert out.count("\n") == out.count("\r\n")


def test_an_edit_that_does_not_read_back_as_intended_is_refused() -> None:
    from sealkit.yamledit import check_edit, expect_edit, read_back

    text = HEAD + "  encryptedData:\n    a: AgA\n" + TAIL
    expected = expect_edit(read_back(text, "f"), 1, {"a": NEW})
    assert check_edit(expected, text.replace("AgA", NEW), "f", 1)
    for wrong in (text, text.replace("AgA", NEW + " # x\n    b: AgB"), text.replace("AgA", "[" + NEW)):
        with pytest.raises(InputError, match=r"^cannot edit the file in place: .*: f document 1$"):
            check_edit(expected, wrong, "f", 1)


# --- swaps_values_only: when the read-back can be skipped ------------------------------------------------

BASE64 = st.from_regex(r"[A-Za-z0-9+/]{1,80}={0,2}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(
    old=BASE64,
    new=BASE64,
    style=st.sampled_from(["", '"', "'"]),
    comment=st.sampled_from(["", "  # kept"]),
    crlf=st.booleans(),
)
def test_a_value_swap_it_skips_the_check_for_reads_back_as_intended(
    old: str, new: str, style: str, comment: str, crlf: bool
) -> None:
    """Whatever base64 it says yes to, in whatever quoting, the edit reads back as exactly the intended change
    (the read-back it saves would have passed)."""
    from sealkit.reading import compose_documents
    from sealkit.yamledit import expect_edit, read_back, sealed_document, swaps_values_only

    text = HEAD + f"  encryptedData:\n    a: {style}{old}{style}{comment}\n    b: AgB\n" + TAIL
    if crlf:
        text = text.replace("\n", "\r\n")
    composed = compose_documents(text, "f.yaml")
    if composed is None:  # not a layout the one-parse path handles (and so never asked)
        return
    located = sealed_document(composed[0][1], 1)
    assert located is not None
    if not swaps_values_only(text, located, {"a": new}):
        assert not style and yaml.safe_load(new) != new  # only a plain value YAML reads as another type
        return
    merged = merge_values(text, 1, {"a": new}, "f.yaml", located, check=False)
    assert read_back(merged, "f.yaml") == expect_edit(read_back(text, "f.yaml"), 1, {"a": new})


@pytest.mark.parametrize(
    ("value_text", "new"),
    [
        ("!!binary QUJD", NEW),  # a tag: its text is more than the value
        ("&x QUJD", NEW),  # an anchor
        ("|\n      QUJD\n", NEW),  # a block scalar
        ("QUJD\n      QUJE", NEW),  # a plain value over two lines
        ('"QU\\nJD"', NEW),  # an escape inside quotes
        ("QUJD", "1234"),  # a new plain value YAML reads as a number
        ("QUJD", "not base64!"),
    ],
    ids=["tag", "anchor", "block", "two-lines", "escape", "number", "not-base64"],
)
def test_anything_else_is_left_to_the_read_back(value_text: str, new: str) -> None:
    from sealkit.reading import load_documents
    from sealkit.yamledit import locate, swaps_values_only

    text = HEAD + f"  encryptedData:\n    a: {value_text}\n" + TAIL
    load_documents(text, "f.yaml")  # valid YAML
    (doc,) = locate(text, "f.yaml")
    assert doc is not None and not swaps_values_only(text, doc, {"a": new})
