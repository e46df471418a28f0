"""The shape of a Key Vault answer, checked before the SDK reads it: what it would otherwise crash on or misread.

The SDK trusts the vault's JSON: a listing that is `null`, an item that is a string, `attributes` that are
not a map raised Python errors (tracebacks); `"enabled": "false"` read as enabled, `"exp": "never"` came
through as a string instead of a time; an unwrap result that is not base64url gave a short key. And it
never compares what it got with what it asked for: an answer naming another secret or version was taken
as the one asked for. `problem` names what is wrong by field, never with its value (it may be a secret).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

_COLLECTIONS = ("secrets", "keys", "certificates")
_TIMES = ("nbf", "exp", "created", "updated")
_MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z: the last second a datetime holds
_KEY_OPERATIONS = ("wrapkey", "unwrapkey", "encrypt", "decrypt", "sign")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def problem(method: str, url: str, body: Any) -> str | None:
    """What is wrong with the JSON `body` answering `method url` (2xx), or None."""
    if not isinstance(body, dict):
        return "it is not a JSON object"
    segments = [urllib.parse.unquote(s) for s in urllib.parse.urlsplit(url).path.split("/") if s]
    if method.upper() == "GET" and (len(segments) == 1 or (segments[-1:] == ["versions"] and len(segments) == 3)):
        return _listing(body)
    if segments and segments[-1].lower() in _KEY_OPERATIONS:
        value = body.get("value")
        if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
            return "its value is not base64url"
        return _string(body, "kid")
    found = _item(body, "")
    if found is None and method.upper() == "GET" and segments[:1] and segments[0].lower() in _COLLECTIONS:
        return _names_asked(segments, body)
    return found


def _listing(body: dict[str, Any]) -> str | None:
    link = body.get("nextLink")
    if link is not None and not isinstance(link, str):
        return "its nextLink is not a URL"
    items = body.get("value")
    if not isinstance(items, list):
        return "its listing has no list of items"
    for item in items:
        if not isinstance(item, dict):
            return "an item of its listing is not a JSON object"
        if not (_is_id(item.get("id")) or _is_id(item.get("kid"))):
            return "an item of its listing has no id"
        found = _item(item, "an item's ")
        if found:
            return found
    return None


def _item(item: dict[str, Any], prefix: str) -> str | None:
    for name in ("id", "kid", "contentType", "x5t"):
        if _string(item, name):
            return f"{prefix}{name} is not a string"
    for name in ("id", "kid"):
        if item.get(name) is not None and not _is_id(item[name]):
            return f"{prefix}{name} is not a Key Vault object id"
    if item.get("managed") is not None and not isinstance(item["managed"], bool):
        return f"{prefix}managed is not true or false"
    tags = item.get("tags")
    if tags is not None and not (isinstance(tags, dict) and all(isinstance(v, str) for v in tags.values())):
        return f"{prefix}tags are not a map of strings"
    attributes = item.get("attributes")
    if attributes is not None:
        if not isinstance(attributes, dict):
            return f"{prefix}attributes are not a JSON object"
        if attributes.get("enabled") is not None and not isinstance(attributes["enabled"], bool):
            return f"{prefix}attributes.enabled is not true or false"
        for name in _TIMES:
            when = attributes.get(name)
            if when is not None and not (type(when) is int and 0 <= when <= _MAX_TIME):
                return f"{prefix}attributes.{name} is not a time"
    key = item.get("key")
    if key is not None:
        if not isinstance(key, dict):
            return f"{prefix}key is not a JSON object"
        for name in ("kid", "kty", "n", "e", "crv", "x", "y"):
            if _string(key, name):
                return f"{prefix}key.{name} is not a string"
        if key.get("kid") is not None and not _is_id(key["kid"]):
            return f"{prefix}key.kid is not a Key Vault object id"
        ops = key.get("key_ops")
        if ops is not None and not (isinstance(ops, list) and all(isinstance(op, str) for op in ops)):
            return f"{prefix}key.key_ops is not a list of strings"
    return None


def _names_asked(segments: list[str], body: dict[str, Any]) -> str | None:
    """An object asked for by name (and version) must be answered by that object (names are case-insensitive)."""
    key = body.get("key")
    ident = key.get("kid") if isinstance(key, dict) else body.get("id")
    if not isinstance(ident, str):
        return "it names no object id"
    answered = [s.lower() for s in urllib.parse.urlsplit(ident).path.split("/") if s]
    asked = [s.lower() for s in segments]
    if answered[: len(asked)] != asked:
        return "it is for another object or version than the one asked for"
    return None


def _string(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None or isinstance(value, str) else f"{name} is not a string"


def _is_id(value: Any) -> bool:
    """What the SDK parses as an object id: an absolute URL with /collection/name[/version]."""
    if not isinstance(value, str):
        return False
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return False
    return bool(parts.scheme and parts.hostname) and 2 <= len([s for s in parts.path.split("/") if s]) <= 3
