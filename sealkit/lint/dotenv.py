"""Plain `.env` files: `KEY=value` lines, read as docker compose, direnv and kustomize read them.

A `.env` file holds whatever its author needed locally, so committed ones are a classic leak. A
literal under a credential name (SK503) or a value with a credential's shape (SK502) is an
error; names, flags, placeholders and references are not. The same parser reads the env files a
kustomize `secretGenerator` lists (`generators`), and SOPS-encrypted env files (`sops_mac=`)
are left to `sops`. Messages name the key and line, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from sealkit.lint import catalog
from sealkit.lint.literals import credential_shape, literal_credential
from sealkit.lint.model import Hit

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s?(.*)$")
_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tmpl")


@dataclass(frozen=True)
class EnvEntry:
    line: int
    key: str
    value: str


def is_env_file(name: str) -> bool:
    """`.env`, `.env.production`, `prod.env`: the names docker compose and dotenv tools read."""
    lower = name.lower()
    return lower == ".env" or lower.startswith(".env.") or lower.endswith(".env")


def is_env_template(name: str) -> bool:
    """`.env.example` and friends document the keys; their values are meant to be replaced."""
    return name.lower().endswith(_TEMPLATE_SUFFIXES)


def _unquote(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()


def entries(text: str) -> Iterator[EnvEntry]:
    """Every `KEY=value` assignment; comments, blank lines and anything else are skipped."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match:
            yield EnvEntry(number, match.group(1), _unquote(match.group(2)))


def is_sops_env(text: str) -> bool:
    return any(entry.key == "sops_mac" for entry in entries(text))


def check_env_text(text: str, where: str, *, template: bool = False) -> Iterator[Hit]:
    """SK502/SK503 for one `.env` file's assignments (only SK502 in a template such as `.env.example`)."""
    for entry in entries(text):
        shape = credential_shape(entry.value)
        if shape is not None:
            yield Hit(catalog.CREDENTIAL_LITERAL, entry.line, f"{where} {entry.key} holds {shape}")
        elif not template and literal_credential(entry.key, entry.value):
            yield Hit(
                catalog.PLAINTEXT_CREDENTIAL,
                entry.line,
                f"{where} {entry.key}: a literal value under a credential name is committed in plain text",
            )
