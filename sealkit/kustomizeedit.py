"""Adding files to a `kustomization.yaml`'s `resources`, in place: comments, order and layout kept.

Where it sits: the core, for `sealkit seal --env`, which writes a new SealedSecret file into a directory a
kustomization lists: unlisted, Flux or Argo CD would never apply it. Only the `resources` list changes:
a name goes where the sorted order puts it when the list is sorted, else at its end, with the indentation
and dash style of the existing entries; a flow list (`[a, b]`) gets `, name`; a file without `resources`
gets the key at its end.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections import Counter

import yaml

from sealkit.errors import InputError
from sealkit.yamledit import compose, newline_of, read_back

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_PLAIN = re.compile(r"[A-Za-z0-9_][-A-Za-z0-9_./]*")


def _scalar(name: str) -> str:
    return name if _PLAIN.fullmatch(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    """Where the line holding `pos` ends: at its line break (before the CR of a CRLF)."""
    end = text.find("\n", pos)
    if end < 0:
        return len(text)
    return end - 1 if end > pos and text[end - 1] == "\r" else end


def listed(text: str, source: str) -> list[str]:
    """The `resources` entries of a kustomization (strings only)."""
    return _entries(_root(text, source), "resources")


def _entries(root: yaml.MappingNode, key: str) -> list[str]:
    node = _resources(root, key)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.value for item in node.value if isinstance(item, yaml.ScalarNode)]


def _normal(entry: str) -> str:
    """A file entry as kustomize resolves it against the directory (`./a.yaml` and `a.yaml` are one file)."""
    return posixpath.normpath(entry)


def _root(text: str, source: str) -> yaml.MappingNode:
    nodes = compose(text, source)
    if not nodes or not isinstance(nodes[0], yaml.MappingNode):
        raise InputError(f"not a kustomization (no mapping at the top): {source}")
    return nodes[0]


def _resources(root: yaml.MappingNode, name: str = "resources") -> yaml.Node | None:
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name and isinstance(value, yaml.Node):
            return value
    return None


def add_resources(text: str, names: list[str], source: str) -> str:
    """`text` with each of `names` not yet listed added to `resources` (one edit, whatever their number).

    A name already listed as a resource or a base (kustomize's older key), also written `./name`, is not
    added again: kustomize refuses a file listed twice. The result is read back and refused unless it is
    the kustomization with exactly these names added to `resources`."""
    root = _root(text, source)
    have = {_normal(entry) for key in ("resources", "bases") for entry in _entries(root, key)}
    todo = [n for n in dict.fromkeys(names) if _normal(n) not in have]
    if not todo:
        return text
    batched = _add_to_block_list(text, todo, source)
    out = batched if batched is not None else _add_all(text, todo, source)
    _check(text, out, todo, source)
    return out


def _check(before: str, after: str, added: list[str], source: str) -> None:
    """`after` must read as `before` with `added` in its resources, nothing else changed."""
    try:
        old, new = read_back(before, source), read_back(after, source)
    except InputError:
        old, new = [], []
    ok = bool(old) and len(new) == len(old) and isinstance(old[0], dict) and isinstance(new[0], dict)
    if ok:
        was, now = old[0].get("resources") or [], new[0].get("resources")
        ok = (
            isinstance(now, list)
            and Counter(map(str, now)) == Counter(map(str, was)) + Counter(added)
            and {k: v for k, v in old[0].items() if k != "resources"}
            == {k: v for k, v in new[0].items() if k != "resources"}
            and old[1:] == new[1:]
        )
    if not ok:
        raise InputError(
            "cannot add the new files to resources in place (a layout sealkit cannot edit there); "
            f"list {', '.join(added)} by hand: {source}"
        )


def _add_to_block_list(text: str, names: list[str], source: str) -> str | None:
    """All `names` in one pass when `resources` is a non-empty block list (the usual case); else None."""
    node = _resources(_root(text, source))
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        return None
    items = node.value
    first = items[0]
    prefix = text[_line_start(text, first.start_mark.index) : first.start_mark.index]
    if prefix.strip() != "-":
        return None
    values = [i.value if isinstance(i, yaml.ScalarNode) else None for i in items]
    newline = newline_of(text)
    splices: list[tuple[int, str]] = []
    if None not in values and values == sorted(values):  # type: ignore[type-var]
        for name in sorted(names):
            after = next((i for i, v in zip(items, values, strict=True) if v is not None and v > name), None)
            if after is not None:
                splices.append((_line_start(text, after.start_mark.index), prefix + _scalar(name) + newline))
            else:
                splices.append((_end_of(text, items[-1]), newline + prefix + _scalar(name)))
    else:
        at = _end_of(text, items[-1])
        splices.extend((at, newline + prefix + _scalar(name)) for name in names)
    for pos, insert in _grouped(splices):
        text = text[:pos] + insert + text[pos:]
    return text


def _grouped(splices: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Splices at equal positions joined in their given order, then ordered back to front."""
    joined: dict[int, str] = {}
    for pos, insert in splices:
        joined[pos] = joined.get(pos, "") + insert
    return sorted(joined.items(), key=lambda s: s[0], reverse=True)


def _end_of(text: str, item: yaml.Node) -> int:
    end = int(item.end_mark.index)
    while end > item.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return _line_end(text, end)


def _add_all(text: str, names: list[str], source: str) -> str:
    """`resources` missing, empty, null or a flow list: every name in one splice."""
    root = _root(text, source)
    node = _resources(root)
    entries = [_scalar(n) for n in names]
    if node is None:
        if root.flow_style:
            close = text.rindex("}", root.start_mark.index, root.end_mark.index)
            listed_names = ", ".join(json.dumps(n) for n in names)
            return text[:close].rstrip() + f', "resources": [{listed_names}]' + text[close:]
        indent = " " * root.value[0][0].start_mark.column if root.value else ""
        newline = newline_of(text)
        # After the mapping's last line: text after it (a `...` or `---` marker, another document) stays after.
        end = _end_of(text, _last_node(root)) if root.value else len(text)
        block = "".join(f"{newline}{indent}  - {e}" for e in sorted(entries))
        lead = newline if end else ""
        return text[:end] + f"{lead}{indent}resources:" + block + (newline if end == len(text) else "") + text[end:]
    if isinstance(node, yaml.ScalarNode):  # `resources:` with nothing after it
        if node.value not in ("", "~", "null"):
            raise InputError(f"resources is not a list: {source}")
        start = node.start_mark.index
        flow = "[" + ", ".join(entries) + "]"
        return text[:start] + ("" if text[start - 1] == " " else " ") + flow + text[node.end_mark.index :]
    if not isinstance(node, yaml.SequenceNode):
        raise InputError(f"resources is not a list: {source}")
    if node.value:  # right after the last entry: a trailing comma or a comment after it stays valid
        at = int(node.value[-1].end_mark.index)
        return text[:at] + ", " + ", ".join(entries) + text[at:]
    at = int(node.start_mark.index) + 1
    return text[:at] + ", ".join(entries) + text[at:]


def _last_node(node: yaml.Node) -> yaml.Node:
    """The node whose text ends a block collection (its end mark would sit at the next token)."""
    while isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node
