"""Severities, rules and findings: the vocabulary every lint module shares."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sealkit.errors import InputError


class Severity(IntEnum):
    """Ordered so that `--fail-on` is a comparison."""

    INFO = 1
    WARNING = 2
    ERROR = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise InputError(f"unknown severity {text!r} (choose one of: {choices})") from None


@dataclass(frozen=True)
class Rule:
    """One check: a stable id for configs and SARIF, a name for people, and how to fix what it finds."""

    id: str
    name: str
    severity: Severity
    summary: str
    fix: str


@dataclass(frozen=True)
class Finding:
    """One problem at one place. `message` never quotes a secret value."""

    path: str
    line: int
    rule: Rule
    severity: Severity
    message: str
    fix: str

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line, self.rule.id, self.message)


@dataclass(frozen=True)
class Hit:
    """What a rule reports before the scanner knows the file and applies the config."""

    rule: Rule
    line: int
    message: str
    fix: str | None = None
