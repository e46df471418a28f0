"""Adding files to a `kustomization.yaml`'s `resources`, in place: comments, order and layout kept.

Where it sits: the core, for `sealkit seal --env`, which writes a new SealedSecret file into a directory a
kustomization lists: unlisted, Flux or Argo CD would never apply it. Only the `resources` list changes:
a name goes where the sorted order puts it when the list is sorted, else at its end, with the indentation
and dash style of the existing entries; a flow list (`[a, b]`) gets `, name`; a file without `resources`
gets the key at its end.
"""

from __future__ import annotations

import json
import re

import yaml

from sealkit.errors import InputError
from sealkit.yamledit import compose

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_PLAIN = re.compile(r"[A-Za-z0-9_][-A-Za-z0-9_./]*")


def _scalar(name: str) -> str:
    return name if _PLAIN.fullmatch(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def listed(text: str, source: str) -> list[str]:
    """The `resources` entries of a kustomization (strings only)."""
    root = _root(text, source)
    node = _resources(root)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.value for item in node.value if isinstance(item, yaml.ScalarNode)]


def _root(text: str, source: str) -> yaml.MappingNode:
    nodes = compose(text, source)
    if not nodes or not isinstance(nodes[0], yaml.MappingNode):
        raise InputError(f"not a kustomization (no mapping at the top): {source}")
    return nodes[0]


def _resources(root: yaml.MappingNode) -> yaml.Node | None:
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "resources" and isinstance(value, yaml.Node):
            return value
    return None


def add_resources(text: str, names: list[str], source: str) -> str:
    """`text` with each of `names` not yet listed added to `resources` (one edit, whatever their number)."""
    have = set(listed(text, source))
    todo = [n for n in dict.fromkeys(names) if n not in have]
    if not todo:
        return text
    batched = _add_to_block_list(text, todo, source)
    if batched is not None:
        return batched
    return _add_all(text, todo, source)


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
    splices: list[tuple[int, str]] = []
    if None not in values and values == sorted(values):  # type: ignore[type-var]
        for name in sorted(names):
            after = next((i for i, v in zip(items, values, strict=True) if v is not None and v > name), None)
            if after is not None:
                splices.append((_line_start(text, after.start_mark.index), prefix + _scalar(name) + "\n"))
            else:
                splices.append((_end_of(text, items[-1]), "\n" + prefix + _scalar(name)))
    else:
        at = _end_of(text, items[-1])
        splices.extend((at, "\n" + prefix + _scalar(name)) for name in names)
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
    while end > item.start_mark.index and text[end - 1] in " \t\n":
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
        body = text if text.endswith("\n") or not text else text + "\n"
        end = root.end_mark.index if len(compose(text, source)) > 1 else len(body)
        block = "".join(f"{indent}  - {e}\n" for e in sorted(entries))
        return body[:end] + f"{indent}resources:\n" + block + body[end:]
    if isinstance(node, yaml.ScalarNode):  # `resources:` with nothing after it
        if node.value not in ("", "~", "null"):
            raise InputError(f"resources is not a list: {source}")
        start = node.start_mark.index
        flow = "[" + ", ".join(entries) + "]"
        return text[:start] + ("" if text[start - 1] == " " else " ") + flow + text[node.end_mark.index :]
    if not isinstance(node, yaml.SequenceNode):
        raise InputError(f"resources is not a list: {source}")
    close = text.rindex("]", node.start_mark.index, node.end_mark.index)
    before = text[node.start_mark.index + 1 : close].strip()
    return text[:close].rstrip() + (", " if before else "") + ", ".join(entries) + text[close:]
