"""`csi discover`: a vault's objects as a table, JSON, and a spec fragment to start an app from.

The adapter lists the vault (secrets, keys, certificates: metadata only, never values) and hands
over `Listed` items. Keys and secrets the vault manages for a certificate are folded into that
certificate's row, as the portal does; the fragment mounts a certificate's private key and chain
through its secret (PEM), which is what an app needs for TLS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit.csi import rules, textreport
from sealkit.csi.vaultcheck import PEM, PKCS12
from sealkit.csi.yamlio import flow_scalar


@dataclass(frozen=True)
class Listed:
    """One object as a vault lists it (the current version's attributes)."""

    name: str
    type: str  # secret | key | cert (the spec's objectType words)
    enabled: bool
    content_type: str | None = None
    expires_on: dt.datetime | None = None
    not_before: dt.datetime | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    managed: bool = False  # a key or secret the vault keeps for a certificate


def printable(text: str) -> str:
    """`text` with every character a terminal would act on (line breaks, escape sequences, bidi controls)
    written as its escape: a vault's names, content types and tags are anyone's text, shown one row each."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def visible(items: Iterable[Listed]) -> list[Listed]:
    """Without the managed keys/secrets of certificates, sorted by type then name."""
    order = {"secret": 0, "cert": 1, "key": 2}
    return sorted((i for i in items if not i.managed), key=lambda i: (order.get(i.type, 9), i.name))


def _state(item: Listed, now: dt.datetime) -> str:
    if not item.enabled:
        return "disabled"
    if item.expires_on is not None and item.expires_on <= now:
        return "expired"
    if item.not_before is not None and item.not_before > now:
        return "not yet valid"
    return "enabled"


def table(items: Iterable[Listed], now: dt.datetime) -> str:
    header = ("TYPE", "NAME", "CONTENT-TYPE", "STATE", "EXPIRES", "TAGS")
    rows = [
        (
            i.type,
            printable(i.name),
            printable(i.content_type or "-"),
            _state(i, now),
            _iso(i.expires_on) or "-",
            printable(",".join(f"{k}={v}" for k, v in sorted(i.tags.items())) or "-"),
        )
        for i in visible(items)
    ]
    return textreport.table(header, rows)


def to_json(vault: str, url: str, items: Iterable[Listed], now: dt.datetime) -> dict[str, Any]:
    return {
        "vault": vault,
        "url": url,
        "objects": [
            {
                "name": i.name,
                "type": i.type,
                "contentType": i.content_type,
                "state": _state(i, now),
                "enabled": i.enabled,
                "expires": _iso(i.expires_on),
                "notBefore": _iso(i.not_before),
                "tags": dict(sorted(i.tags.items())),
            }
            for i in visible(items)
        ],
    }


def fragment(vault: str, items: Iterable[Listed], now: dt.datetime) -> str:
    """YAML to paste under `applications.<app>:` (objects usable today; others commented out)."""
    lines = [f"# Key Vault objects in {vault}: keep what the app reads, then `sealkit csi verify`.", "objects:"]
    for item in visible(items):
        bad_name = rules.object_name_problem(item.name)
        # A YAML string whatever the name (`0`, `no`, `null` are usable names); one that is not usable is
        # commented out below, its characters a terminal acts on escaped.
        entry = [f"- name: {printable(flow_scalar(item.name))}"]
        note = ""
        if item.type == "cert":
            if item.content_type in (PKCS12, PEM):
                note = "certificate: private key + chain as PEM (type cert would mount only the public cert)"
                entry += ["  type: secret", "  format: pem"]
            else:
                entry += ["  type: cert"]
        elif item.type == "key":
            entry += ["  type: key"]
        state = _state(item, now)
        prefix = "  "
        if state != "enabled" or bad_name:
            prefix = "  # "
            note = f"{state}: not mounted until fixed" if not bad_name else "name not usable by the provider"
        if note:
            lines.append(f"  # {note}")
        lines += [prefix + text for text in entry]
    return "\n".join(lines) + "\n"
