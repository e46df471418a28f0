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
