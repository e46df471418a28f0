"""`.sealkit-lint.yaml`: rule severities, path ignores and Secrets made outside the repo.

    rules:
      SK401: error                 # raise, lower, or `off`; ids or names
      secret-literal: off
      SK101:                       # or a severity plus paths where the rule does not apply
        ignore: ["tests/fixtures/**"]
    ignore: ["charts/*/templates/**", "**/*.enc.yaml"]
    known-secrets: ["flux-system/sops-age", "registry-pull"]   # [namespace/]name
    fail-on: error                 # info | warning | error | critical | never

Globs are relative to the config file's directory: `*` stays within one path segment, `**`
crosses segments, and a pattern without `/` matches a file name anywhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealkit.errors import InputError
from sealkit.lint.catalog import find_rule
from sealkit.lint.model import Rule, Severity
from sealkit.reading import file_found, load_documents, read_file

CONFIG_NAMES = (".sealkit-lint.yaml", ".sealkit-lint.yml")
_TOP_KEYS = {"rules", "ignore", "known-secrets", "fail-on"}
_OFF = {"off", "none", "disabled", "false"}
NEVER = "never"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob as a regex over POSIX relative paths."""
    pattern = pattern.strip().removeprefix("./")
    anchored = "/" in pattern.rstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    pattern = pattern.lstrip("/")
    out = "" if anchored else "(?:.*/)?"
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


@dataclass
class LintConfig:
    """What the config file says; the defaults when there is none."""

    root: Path = field(default_factory=Path)
    severities: dict[str, Severity | None] = field(default_factory=dict)  # rule id -> override, None = off
    ignore: list[re.Pattern[str]] = field(default_factory=list)
    rule_ignore: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    known_secrets: list[tuple[str, str]] = field(default_factory=list)
    fail_on: Severity | None = Severity.ERROR  # None: never fail
    source: str | None = None

    def relative(self, display: str) -> str:
        """The path as the globs see it: relative to the config's directory when inside it."""
        # String operations, not Path.resolve(): this runs once per file and must not follow symlinks.
        absolute = os.path.normpath(os.path.abspath(display))  # noqa: PTH100
        root = os.path.normpath(os.path.abspath(self.root))  # noqa: PTH100
        if absolute == root or not absolute.startswith(root.rstrip(os.sep) + os.sep):
            return Path(display).as_posix()
        return Path(os.path.relpath(absolute, root)).as_posix()

    def ignores_file(self, relative: str) -> bool:
        return any(p.match(relative) for p in self.ignore)

    def severity(self, rule: Rule, relative: str) -> Severity | None:
        """The severity to report `rule` at in this file, or None when it is off there."""
        if any(p.match(relative) for p in self.rule_ignore.get(rule.id, ())):
            return None
        return self.severities.get(rule.id, rule.severity)


def parse_fail_on(text: str) -> Severity | None:
    return None if text.strip().lower() == NEVER else Severity.parse(text)


def _severity(value: Any, field: str, source: str) -> Severity | None:
    if value is False or (isinstance(value, str) and value.strip().lower() in _OFF):
        return None
    if not isinstance(value, str):
        raise InputError(f"{field}: a severity (info, warning, error, critical) or off", where=source)
    try:
        return Severity.parse(value)
    except InputError as exc:
        raise InputError(f"{field}: {exc.what}", where=source) from None


def _globs(value: Any, field: str, source: str) -> list[re.Pattern[str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{field}: a list of glob strings", where=source)
    return [glob_regex(v) for v in value]


def _known(value: Any, field: str, source: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{field}: a list of [namespace/]name strings", where=source)
    out = []
    for entry in value:
        namespace, _, name = entry.rpartition("/")
        out.append((namespace, name))
    return out


def _keep_critical(rule: Rule, config: LintConfig, field: str, source: str) -> None:
    """A critical rule (a committed private key) is never switched off, lowered or ignored for some paths: the
    key is readable in Git whatever the config says, as the per-object opt-out annotations never cover it."""
    if rule.severity < Severity.CRITICAL:
        return
    lowered = rule.id in config.severities and config.severities[rule.id] != Severity.CRITICAL
    if lowered or config.rule_ignore.get(rule.id):
        raise InputError(
            f"{field}: {rule.id} is critical (a committed private key): it cannot be switched off, lowered or "
            "ignored; remove the key from the repo and rotate it",
            where=source,
        )


def parse_config(data: Any, source: str, root: Path) -> LintConfig:
    """Validate a loaded config document; every mistake is one line naming the key, then the file."""
    config = LintConfig(root=root, source=source)
    if data is None:
        return config
    if not isinstance(data, Mapping):
        raise InputError("the lint config must be a mapping", where=source)
    unknown = sorted(str(k) for k in data if k not in _TOP_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_TOP_KEYS))
        raise InputError(f"unknown key(s) {', '.join(unknown)} (allowed: {allowed})", where=source)
    rules = data.get("rules") or {}
    if not isinstance(rules, Mapping):
        raise InputError("rules must map rule ids to a severity", where=source)
    for key, value in rules.items():
        field = f"rules.{key}"
        try:
            rule = find_rule(str(key))
        except InputError as exc:
            raise InputError(f"{field}: {exc.what}", where=source) from None
        if isinstance(value, Mapping):
            extra = set(value) - {"severity", "ignore"}
            if extra:
                unknown_keys = ", ".join(sorted(map(str, extra)))
                raise InputError(f"{field}: unknown key(s) {unknown_keys} (severity, ignore)", where=source)
            if "severity" in value:
                config.severities[rule.id] = _severity(value["severity"], f"{field}.severity", source)
            config.rule_ignore[rule.id] = _globs(value.get("ignore"), f"{field}.ignore", source)
        else:
            config.severities[rule.id] = _severity(value, field, source)
        _keep_critical(rule, config, field, source)
    config.ignore = _globs(data.get("ignore"), "ignore", source)
    config.known_secrets = _known(data.get("known-secrets"), "known-secrets", source)
    if "fail-on" in data:
        if not isinstance(data["fail-on"], str):
            raise InputError("fail-on must be a severity or never", where=source)
        config.fail_on = parse_fail_on(data["fail-on"])
    return config


def find_config(directories: Iterable[Path]) -> Path | None:
    """The first config file in `directories` (each name in turn); one that is there but is not a regular
    file (a directory, a broken symlink) is an error naming it, never the defaults in its place."""
    for directory in directories:
        for name in CONFIG_NAMES:
            candidate = directory / name
            if file_found(candidate):
                return candidate
    return None


def load_config(path: Path | None) -> LintConfig:
    """The config at `path`, or the defaults (relative to the current directory) when None."""
    if path is None:
        return LintConfig(root=Path.cwd())
    documents = load_documents(read_file(path), str(path))
    if len(documents) > 1:
        raise InputError("the lint config must be one YAML document", where=path)
    data = documents[0].obj if documents else None
    return parse_config(data, str(path), path.parent)
