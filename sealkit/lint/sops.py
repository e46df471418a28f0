"""SOPS files checked for the structure SOPS writes, without any key.

A SOPS-encrypted YAML/JSON document has a top-level `sops` block with a `mac` (itself an
`ENC[...]` envelope); every value is an `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`
envelope except empty strings and nulls (SOPS leaves those) and keys the block says stay plain:
`unencrypted_suffix` (default `_unencrypted`), `encrypted_suffix`, `unencrypted_regex`,
`encrypted_regex` (the first key on a value's path that matches decides, as SOPS does). A
plaintext value left in, or added after encryption, is SK106 naming the key and line, never the
value. Encrypted `.env` files (`sops_mac=` lines) get the same check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from sealkit.lint import catalog
from sealkit.lint.dotenv import entries
from sealkit.lint.model import Hit

ENVELOPE = re.compile(r"ENC\[AES256_GCM,data:[A-Za-z0-9+/=]*,iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+,type:[a-z]+\]")
DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
_NULL_TAG = "tag:yaml.org,2002:null"
_MAX_VISITS = 200_000


def sops_block(obj: Any) -> Mapping[str, Any] | None:
    """The document's `sops` metadata block, when it is a SOPS file."""
    if not isinstance(obj, Mapping):
        return None
    block = obj.get("sops")
    if isinstance(block, Mapping) and ("mac" in block or "version" in block or "lastmodified" in block):
        return block
    return None


class _Policy:
    """Which keys SOPS encrypts, from the settings it stored in the block."""

    def __init__(self, block: Mapping[str, Any]) -> None:
        def text(key: str) -> str:
            value = block.get(key)
            return value if isinstance(value, str) else ""

        self.unencrypted_suffix = text("unencrypted_suffix")
        self.encrypted_suffix = text("encrypted_suffix")
        self.unencrypted_regex = self._regex(text("unencrypted_regex"))
        self.encrypted_regex = self._regex(text("encrypted_regex"))
        self.valid = all(
            r is not False for r in (self.unencrypted_regex, self.encrypted_regex)
        )  # a regex Python cannot read: values are not judged
        if not any((self.encrypted_suffix, text("unencrypted_regex"), text("encrypted_regex"))):
            self.unencrypted_suffix = self.unencrypted_suffix or DEFAULT_UNENCRYPTED_SUFFIX

    @staticmethod
    def _regex(pattern: str) -> re.Pattern[str] | bool | None:
        if not pattern:
            return None
        try:
            return re.compile(pattern)
        except re.error:
            return False

    def decides(self, key: str) -> bool | None:
        """True: this key's subtree is encrypted; False: it stays plain; None: undecided here."""
        if self.unencrypted_suffix and key.endswith(self.unencrypted_suffix):
            return False
        if self.encrypted_suffix and key.endswith(self.encrypted_suffix):
            return True
        if isinstance(self.unencrypted_regex, re.Pattern) and self.unencrypted_regex.search(key):
            return False
        if isinstance(self.encrypted_regex, re.Pattern) and self.encrypted_regex.search(key):
            return True
        return None

    @property
    def default(self) -> bool:
        """Whether a value no key on its path decided is encrypted."""
        return not (self.encrypted_suffix or isinstance(self.encrypted_regex, re.Pattern))


def _plain(node: yaml.ScalarNode) -> bool:
    if node.tag == _NULL_TAG or node.value == "":
        return False
    return not ENVELOPE.fullmatch(node.value)


def check_document(obj: Any, node: yaml.Node, block: Mapping[str, Any]) -> Iterator[Hit]:
    """SK106 for one SOPS document: no MAC, or values SOPS would have encrypted that are plain."""
    mac = block.get("mac")
    if not isinstance(mac, str) or not ENVELOPE.fullmatch(mac):
        yield Hit(catalog.SOPS_PLAINTEXT, _key_line(node, "sops"), "SOPS file has no MAC (sops.mac): it was not "
                  "written by sops, or was edited by hand")  # fmt: skip
    policy = _Policy(block)
    if not policy.valid or not isinstance(node, yaml.MappingNode):
        return
    stack: list[tuple[yaml.Node, str, bool | None]] = []
    for key_node, value_node in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else ""
        if key != "sops":
            stack.append((value_node, key, policy.decides(key)))
    visits = 0
    while stack and visits < _MAX_VISITS:
        current, path, decided = stack.pop()
        visits += 1
        encrypted = policy.default if decided is None else decided
        if isinstance(current, yaml.ScalarNode):
            if encrypted and _plain(current):
                yield Hit(catalog.SOPS_PLAINTEXT, int(current.start_mark.line) + 1,
                          f"SOPS file: {path} is not encrypted (a plaintext value in an encrypted file)")  # fmt: skip
        elif isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                here = policy.decides(key) if decided is None else decided
                stack.append((value_node, f"{path}.{key}", here))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((child, f"{path}[{i}]", decided) for i, child in enumerate(current.value))


def _key_line(node: yaml.Node, key: str) -> int:
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return int(key_node.start_mark.line) + 1
    return int(node.start_mark.line) + 1


def check_env(text: str) -> Iterator[Hit]:
    """SK106 for a SOPS-encrypted `.env` file (metadata in `sops_*` keys)."""
    found = list(entries(text))
    settings = {e.key.removeprefix("sops_"): e.value for e in found if e.key.startswith("sops_")}
    mac = settings.get("mac", "")
    if not ENVELOPE.fullmatch(mac):
        line = next((e.line for e in found if e.key == "sops_mac"), 1)
        yield Hit(catalog.SOPS_PLAINTEXT, line, "SOPS file has no valid MAC (sops_mac)")
    policy = _Policy(settings)
    if not policy.valid:
        return
    for entry in found:
        if entry.key.startswith("sops_") or not entry.value:
            continue
        decided = policy.decides(entry.key)
        encrypted = policy.default if decided is None else decided
        if encrypted and not ENVELOPE.fullmatch(entry.value):
            yield Hit(catalog.SOPS_PLAINTEXT, entry.line, f"SOPS file: {entry.key} is not encrypted")
