"""`verify --pin` / `--unpin`: write or remove objects' per-environment versions in the spec file.

The spec is a reviewed file with comments and its own layout, so it is edited as text: ruamel.yaml
(round-trip) only locates the nodes, and only the lines holding versions change: an entry's value
is replaced in place (its comment kept), an entry line is added or removed, or a `version:` block
is added after an object's last line. The result is parsed again and must say exactly what was
asked, else nothing is written. The file is rewritten in place as other edits are (`sealkit.filewrites`:
its mode, owner, hard links and byte-order mark kept; refused when it changed meanwhile).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sealkit.csi.model import LATEST, Spec
from sealkit.csi.spec import parse_spec
from sealkit.csi.vaultcheck import ObjectResult, Status
from sealkit.errors import InputError
from sealkit.filewrites import FileChange, write_all
from sealkit.reading import check_yaml, decode_text, read_file

ObjectKey = tuple[str, int]  # (application, index in its objects list)
Changes = Mapping[ObjectKey, Mapping[str, str | None]]  # environment -> version, or None to unpin

SHARED = (
    "the version is shared with another object through a YAML anchor (&) and alias (*), so editing one would "
    "change both: write it out for each object"
)
_RESOLVER: Any = yaml.resolver.Resolver()
_SAFE_PLAIN = re.compile(r"[0-9A-Za-z]*[A-Za-z][0-9A-Za-z]*")
_YAML12_FLOAT = re.compile(r"[0-9]*[eE][0-9]+")  # a float to YAML 1.2 readers (not to PyYAML)


@dataclass(frozen=True)
class _Edit:
    """Replace lines [start, stop) with `lines` (each without its newline)."""

    start: int
    stop: int
    lines: tuple[str, ...]


def pins_from(results: Iterable[ObjectResult]) -> dict[ObjectKey, dict[str, str]]:
    """The versions to pin: every reference that followed latest and passed (warnings allowed)."""
    out: dict[ObjectKey, dict[str, str]] = {}
    for result in results:
        ref = result.reference
        if ref.version or result.observed is None or result.status not in (Status.OK, Status.WARNING):
            continue
        out.setdefault((ref.application, ref.index), {})[ref.environment] = result.observed.version
    return out


def unpins_for(spec: Spec, environments: Iterable[str] | None = None) -> dict[ObjectKey, dict[str, str | None]]:
    """Remove the version of every object in `environments` (default: all)."""
    envs = list(environments or spec.environments)
    return {
        (app.name, index): dict.fromkeys(envs, None)
        for app in spec.applications.values()
        for index in range(len(app.objects))
    }


def _is_map(node: Any) -> bool:
    """A mapping node (kept `Any`: ruamel's nodes carry the `lc`/`fa` position attributes)."""
    return isinstance(node, dict)


def _is_seq(node: Any) -> bool:
    return isinstance(node, list)


def _scalar(value: str) -> str:
    if (
        _SAFE_PLAIN.fullmatch(value)
        and not _YAML12_FLOAT.fullmatch(value)
        and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)).endswith(":str")
    ):
        return value
    return '"' + value + '"'


def _token_end(line: str, col: int) -> int:
    """End of the scalar starting at `col` (quoted, or plain up to a comment or end of line)."""
    if col < len(line) and line[col] in "'\"":
        quote = line[col]
        end = line.find(quote, col + 1)
        return len(line) if end < 0 else end + 1
    comment = line.find(" #", col)
    stop = len(line) if comment < 0 else comment
    return len(line[:stop].rstrip())


def _flow_end(line: str, col: int) -> int:
    """Index just past the flow mapping opening at `col` on this line, or -1."""
    depth, quote = 0, ""
    for i in range(col, len(line)):
        ch = line[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _content_end(lines: Sequence[str], start: int, stop: int) -> int:
    """Index just past the last line in [start, stop) that is not blank or a comment."""
    last = start
    for i in range(start, min(stop, len(lines))):
        text = lines[i].strip()
        if text and not text.startswith("#"):
            last = i
    return last + 1


def _following_line(stack: Sequence[tuple[Any, Any]], total: int) -> int:
    """The first line of whatever follows the node at the end of `stack` (container, key) pairs."""
    for container, key in reversed(stack):
        if _is_map(container):
            keys = list(container)
            position = keys.index(key)
            if position + 1 < len(keys) and not container.fa.flow_style():
                return int(container.lc.key(keys[position + 1])[0])
        elif _is_seq(container) and key + 1 < len(container):
            return int(container.lc.item(key + 1)[0])
    return total


def _effective(value: Any, envs: Sequence[str]) -> dict[str, str]:
    if value is None:
        return dict.fromkeys(envs, "")
    if isinstance(value, dict):
        return {env: ("" if value.get(env, LATEST) == LATEST else str(value.get(env))) for env in envs}
    return dict.fromkeys(envs, "" if value == LATEST else str(value))


def _object_edits(
    lines: Sequence[str], stack: list[tuple[Any, Any]], obj: Any, change: Mapping[str, str | None], envs: Sequence[str]
) -> list[_Edit]:
    where = f"applications.{stack[1][1]}.objects[{stack[-1][1]}]"
    if not _is_map(obj) or obj.fa.flow_style():
        raise InputError("written in flow style ({...}); --pin/--unpin edit block-style objects only", where=where)
    current = obj.get("version")
    entries: dict[str, str] = (
        {str(k): str(v) for k, v in current.items()}
        if _is_map(current)
        else {}
        if current is None or current == LATEST
        else dict.fromkeys(envs, str(current))
    )
    for env, version in change.items():
        if version is None:
            entries.pop(env, None)
        else:
            entries[env] = version
    before = _effective(current, envs)
    after = _effective(entries, envs)
    if before == after and (current is None or not _is_map(current) or set(current) == set(entries)):
        return []
    first_key = next(iter(obj))
    indent = int(obj.lc.key(first_key)[1])
    if current is None:
        end = _content_end(lines, int(obj.lc.key(first_key)[0]), _following_line(stack, len(lines)))
        body = [" " * indent + "version:"] + [f"{' ' * (indent + 2)}{env}: {_scalar(v)}" for env, v in entries.items()]
        return [_Edit(end, end, tuple(body))]
    key_line, key_col = (int(n) for n in obj.lc.key("version"))
    value_line, value_col = (int(n) for n in obj.lc.value("version"))
    on_dash = lines[key_line][:key_col].strip() == "-"
    version_end = _content_end(lines, key_line, _following_line([*stack, (obj, "version")], len(lines)))
    if not entries:
        if on_dash:
            raise InputError("move `version` off the `- ` line (it cannot be removed from there)", where=where)
        return [_Edit(key_line, version_end, ())]
    if _is_map(current) and not current.fa.flow_style():
        return _block_map_edits(lines, where, current, change, entries)
    line = lines[value_line]
    if _is_map(current):  # flow mapping on one line
        end = _flow_end(line, value_col)
        if end < 0 or value_line != key_line:
            raise InputError("a multi-line {...} mapping; write it in block style to pin", where=f"{where}.version")
        rendered = "{" + ", ".join(f"{env}: {_scalar(v)}" for env, v in entries.items()) + "}"
        return [_Edit(value_line, value_line + 1, (line[:value_col] + rendered + line[end:],))]
    if value_line != key_line:
        raise InputError("the value must be on the `version:` line to be edited", where=f"{where}.version")
    rest = line[_token_end(line, value_col) :]
    head = line[:value_col].rstrip() + (" " + rest.strip() if rest.strip() else "")
    body = [f"{' ' * (key_col + 2)}{env}: {_scalar(v)}" for env, v in entries.items()]
    return [_Edit(key_line, key_line + 1, (head, *body))]


def _block_map_edits(
    lines: Sequence[str], where: str, current: Any, change: Mapping[str, str | None], entries: Mapping[str, str]
) -> list[_Edit]:
    edits: list[_Edit] = []
    keys = [str(k) for k in current]
    entry_indent = int(current.lc.key(keys[0])[1])
    for env, version in change.items():
        if env not in current:
            continue
        line_no, value_col = (int(n) for n in current.lc.value(env))
        if line_no != int(current.lc.key(env)[0]):
            raise InputError("the value must be on the same line as its key", where=f"{where}.version.{env}")
        if version is None:
            edits.append(_Edit(line_no, line_no + 1, ()))
        else:
            line = lines[line_no]
            new = line[:value_col] + _scalar(version) + line[_token_end(line, value_col) :]
            edits.append(_Edit(line_no, line_no + 1, (new,)))
    added = [env for env in entries if env not in current]
    if added:
        after = max(int(current.lc.key(k)[0]) for k in keys) + 1
        body = tuple(f"{' ' * entry_indent}{env}: {_scalar(entries[env])}" for env in added)
        edits.append(_Edit(after, after, body))
    return edits


def edit_text(text: str, changes: Changes, environments: Sequence[str]) -> str:
    """`text` with the version changes applied (only version lines differ)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    check_yaml(text, "the spec")  # ruamel.yaml expands aliases as it likes: bound the text first
    try:
        document = YAML(typ="rt").load(text)
    except (YAMLError, ValueError, RecursionError):  # its messages quote the text: not shown
        raise InputError("cannot edit the spec: ruamel.yaml cannot read it", where="the spec") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    edits: list[_Edit] = []
    applications = document["applications"]
    edited: dict[int, ObjectKey] = {}  # the mappings and lists edited, by identity: an alias (*) is the same one
    for (app, index), change in sorted(changes.items()):
        objects = applications[app]["objects"]
        obj = objects[index]
        for node in (obj, obj.get("version") if _is_map(obj) else None):
            if (_is_map(node) or _is_seq(node)) and edited.setdefault(id(node), (app, index)) != (app, index):
                raise InputError(SHARED, where=f"applications.{app}.objects[{index}].version")
        stack: list[tuple[Any, Any]] = [(document, "applications"), (applications, app), (applications[app], "objects")]
        stack.append((objects, index))
        edits += _object_edits(lines, stack, objects[index], change, environments)
    for edit in sorted(edits, key=lambda e: (e.start, e.stop), reverse=True):
        lines[edit.start : edit.stop] = list(edit.lines)
    out = newline.join(lines)
    return out + newline if text.endswith(("\n", "\r\n")) or not text else out


def _versions(spec: Spec) -> dict[tuple[str, int, str], str]:
    return {
        (app.name, index, env): obj.version_for(env)
        for app in spec.applications.values()
        for index, obj in enumerate(app.objects)
        for env in spec.environments
    }


def apply(spec: Spec, changes: Changes) -> bool:
    """Edit the spec file in place; False when nothing changed. Parses the result before writing: every
    object's version must then be what was asked, and every other one what it was (a `version` shared
    through a YAML anchor and alias would change with another object's), else nothing is written."""
    path = spec.path
    data = read_file(path)
    text = decode_text(data, str(path))
    bom = "\ufeff" if data.startswith(codecs.BOM_UTF8) else ""  # kept, as the rest of the file's bytes
    new = edit_text(text, changes, list(spec.environments))
    if new == text:
        return False
    edited = parse_spec(new, path, check_bases=False)
    expected = _versions(spec)
    for (app, index), change in changes.items():
        expected.update({(app, index, env): version or "" for env, version in change.items()})  # "" = latest
    got = _versions(edited)
    for app, index, env in sorted(expected):
        if got.get((app, index, env)) != expected[(app, index, env)]:
            raise InputError(SHARED, where=f"{path} applications.{app}.objects[{index}].version")
    write_all([FileChange(path, bom + new, bom + text)])  # in place, after checking it still holds `text`
    return True
