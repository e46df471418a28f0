"""`csi discover`'s table and fragment hold whatever text a vault lists: one row per object, no character a
terminal acts on, and a fragment that is YAML with only usable names uncommented."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import given
from hypothesis import strategies as st

from sealkit.csi import discover

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
USABLE = st.from_regex(r"[-A-Za-z0-9]{1,20}", fullmatch=True)


def test_control_characters_in_tags_and_content_types_are_shown_escaped() -> None:
    """They were printed as they came: a tag value's newline started a row of its own, an escape sequence
    recoloured or cleared the terminal."""
    items = [
        discover.Listed("db", "secret", True, "text/plain\x1b[2J\nEVIL", tags={"k": "v\x1b[31mred\nnext", "a\nb": "c"}),
        discover.Listed("rtl", "secret", True, "\u202etxt.exe", tags={"team": "ordres-é"}),
    ]
    table = discover.table(items, NOW)
    assert len(table.splitlines()) == 3
    assert "\x1b" not in table and "\u202e" not in table
    assert "text/plain\\x1b[2J\\nEVIL" in table and "a\\nb=c,k=v\\x1b[31mred\\nnext" in table
    assert "\\u202etxt.exe" in table and "team=ordres-é" in table  # printable text (accents) unchanged


@given(
    names=st.lists(st.one_of(USABLE, st.text(max_size=20)), min_size=1, max_size=6, unique=True),
    text=st.text(max_size=30),
)
def test_any_listing_gives_one_row_each_and_a_fragment_of_usable_names(names: list[str], text: str) -> None:
    items = [discover.Listed(name, "secret", True, text or None, tags={text: text} if text else {}) for name in names]
    table = discover.table(items, NOW)
    rows = table.split("\n")[:-1]
    assert len(rows) == len(names) + 1
    assert all(line.isprintable() for line in rows)
    fragment = discover.fragment("kv", items, NOW)
    objects = yaml.safe_load(fragment)["objects"] or []
    usable = sorted(n for n in names if discover.rules.object_name_problem(n) is None)
    assert sorted(o["name"] for o in objects) == usable
    assert all(line.isprintable() for line in fragment.split("\n"))


def test_names_yaml_would_read_as_something_else_are_quoted() -> None:
    """`0`, `no`, `null`, `0x1A` are usable Key Vault names; written bare, the fragment pasted into a spec named
    the number 0, false or nothing."""
    names = ["0", "no", "null", "0x1A", "-1", "true", "plain-name"]
    fragment = discover.fragment("kv", [discover.Listed(n, "secret", True) for n in names], NOW)
    assert [o["name"] for o in yaml.safe_load(fragment)["objects"]] == sorted(names)
    assert "  - name: plain-name\n" in fragment and '  - name: "0"\n' in fragment
