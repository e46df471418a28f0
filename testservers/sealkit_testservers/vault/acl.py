"""Vault ACL policies: path rules with capabilities, merged and matched as Vault does.

A policy is HCL (`path "secret/data/app/*" { capabilities = ["read", "list"] }`) or a mapping
of path to capabilities. Vault merges every policy of a token into one ACL, picks the most
specific rule matching the request path (developer.hashicorp.com/vault/docs/concepts/policies,
"Priority matching": later first wildcard, no trailing `*`, fewer `+`, longer, then
lexicographically larger wins), and a `deny` there refuses everything. `*` is only a trailing
prefix glob; `+` stands for exactly one path segment. The `root` policy allows everything.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CAPABILITIES = frozenset({"create", "read", "update", "patch", "delete", "list", "sudo", "deny"})

_PATH_BLOCK = re.compile(r'path\s+"([^"]+)"\s*\{([^}]*)\}', re.S)
_CAPS = re.compile(r"capabilities\s*=\s*\[([^\]]*)\]", re.S)


@dataclass(frozen=True)
class Rule:
    path: str
    capabilities: frozenset[str]

    def matches(self, path: str) -> bool:
        return _compile(self.path).fullmatch(path) is not None

    def priority(self) -> tuple[int, bool, int, int, str]:
        """Higher sorts later: Vault's tie-break order for overlapping rules."""
        first = min((i for i, c in enumerate(self.path) if c in "*+"), default=len(self.path))
        return (first, not self.path.endswith("*"), -self.path.count("+"), len(self.path), self.path)


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    out = ""
    body, star = (pattern[:-1], True) if pattern.endswith("*") else (pattern, False)
    for i, segment in enumerate(body.split("/")):
        if i:
            out += "/"
        out += "[^/]+" if segment == "+" else re.escape(segment)
    return re.compile(out + (".*" if star else ""))


def parse(rules: str | Mapping[str, Iterable[str]]) -> tuple[Rule, ...]:
    """Rules from HCL text or a {path: capabilities} mapping; ValueError on unknown capabilities."""
    pairs: list[tuple[str, list[str]]] = []
    if isinstance(rules, str):
        for path, block in _PATH_BLOCK.findall(rules):
            caps = _CAPS.search(block)
            names = re.findall(r'"([^"]+)"', caps.group(1)) if caps else []
            pairs.append((path, names))
        if not pairs and rules.strip():
            raise ValueError("policy text has no path blocks")
    else:
        pairs = [(path, list(caps)) for path, caps in rules.items()]
    out = []
    for path, names in pairs:
        unknown = set(names) - CAPABILITIES
        if unknown:
            raise ValueError(f"unknown capability {sorted(unknown)[0]!r} in policy path {path!r}")
        out.append(Rule(path.lstrip("/"), frozenset(names)))
    return tuple(out)


def allowed(policies: Iterable[tuple[Rule, ...]], path: str, capability: str) -> bool:
    """Whether the merged policies grant `capability` on `path` (no leading slash)."""
    merged: dict[str, set[str]] = {}
    for rules in policies:
        for rule in rules:
            merged.setdefault(rule.path, set()).update(rule.capabilities)
    best: Rule | None = None
    for rule_path, caps in merged.items():
        rule = Rule(rule_path, frozenset(caps))
        if rule.matches(path) and (best is None or rule.priority() > best.priority()):
            best = rule
    if best is None or "deny" in best.capabilities:
        return False
    return capability in best.capabilities


def capabilities(policies: Iterable[tuple[Rule, ...]], path: str) -> set[str]:
    """The capabilities the merged policies give on `path` (empty when denied)."""
    pols = list(policies)
    return {cap for cap in CAPABILITIES - {"deny"} if allowed(pols, path, cap)}
