"""Secret-looking literals where secrets do not belong: ConfigMaps, env values, Flux Helm values.

Two levels: a value with the unmistakable shape of a credential (PEM private key, cloud access
key, token, password inside a URL) is an error wherever it sits; a random-looking value under a
sensitive key name (password, token, apiKey...) is a warning. Messages name the key, never the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from sealkit.lint import catalog
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit
from sealkit.lint.workloads import env_values

YamlPath = tuple[str | int, ...]

_CREDENTIAL_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"), "a PEM private key"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"), "a GitHub token"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"AccountKey=[A-Za-z0-9+/]{40,}={0,2}"), "an Azure storage account key"),
    (re.compile(r"[?&]sig=[A-Za-z0-9%+/]{20,}"), "an Azure SAS signature"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "a JSON Web Token"),
    (re.compile(r"(?i)(?:^|;)\s*(?:password|pwd)\s*=\s*(?![$<{%])[^;\s]{4,}"), "a password in a connection string"),
    (re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:(?![$<{%])[^@\s/]{3,}@"), "a password in a URL"),
)

_SENSITIVE = re.compile(
    r"password|passwd|passphrase|pwd|secret|token|apikey|accesskey|privatekey|credential|connectionstring|"
    r"connstr|signingkey|encryptionkey|masterkey|sharedkey"
)
# Keys naming where a secret is, not holding it.
_REFERENCE_SUFFIX = re.compile(
    r"(name|ref|file|path|dir|url|uri|endpoint|host|port|ttl|length|size|enabled|mode|type|policy|expiry|"
    r"version|id|count|header|field|key(s)?name|env|source|mount|format|algorithm)$"
)
_PLACEHOLDER_PREFIXES = ("$", "<", "{{", "%", "ENC[", "/", "vault:", "ref+", "akv:", "secretref")
_PLACEHOLDERS = {"changeme", "changeit", "placeholder", "redacted", "replaceme", "example", "dummy", "notset"}


def _normalize(key: str) -> str:
    return re.sub(r"[-_.\s]", "", key.lower())


def sensitive_key(key: str) -> bool:
    normalized = _normalize(key)
    return bool(_SENSITIVE.search(normalized)) and not _REFERENCE_SUFFIX.search(normalized)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(value: str) -> bool:
    """Long enough, varied enough, no spaces, not a placeholder or a reference."""
    if len(value) < 8 or any(c.isspace() for c in value) or value.startswith(_PLACEHOLDER_PREFIXES):
        return False
    if _normalize(value) in _PLACEHOLDERS or value.lower() in ("true", "false", "null"):
        return False
    classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value)))
    h = entropy(value)
    return (h >= 3.0 and classes >= 2) or (len(value) >= 20 and h >= 3.5)


def credential_shape(value: str) -> str | None:
    for pattern, description in _CREDENTIAL_SHAPES:
        if pattern.search(value):
            return description
    return None


def _strings(value: Any, path: YamlPath, key: str) -> Iterator[tuple[YamlPath, str, str]]:
    """(path, nearest key, string) for every string leaf under `value` (already bounded by the loader)."""
    stack: list[tuple[Any, YamlPath, str]] = [(value, path, key)]
    while stack:
        current, where, name = stack.pop()
        if isinstance(current, str):
            yield where, name, current
        elif isinstance(current, Mapping):
            stack.extend((v, (*where, str(k)), str(k)) for k, v in current.items())
        elif isinstance(current, list):
            stack.extend((v, (*where, i), name) for i, v in enumerate(current))


def _places(manifest: Manifest) -> Iterator[tuple[YamlPath, str, str, str]]:
    """(path, key, value, description of where) for every literal this module inspects."""
    obj = manifest.obj
    name = manifest.name or "(unnamed)"
    if manifest.kind == "ConfigMap":
        data = obj.get("data")
        if isinstance(data, Mapping):
            for key, value in data.items():
                if isinstance(value, str):
                    yield ("data", str(key)), str(key), value, f"ConfigMap {name} data.{key}"
    for path, var, value in env_values(manifest):
        yield path, var, value, f"{manifest.kind} {name} env {var}"
    if manifest.kind == "HelmRelease" and manifest.api_version.startswith("helm.toolkit.fluxcd.io/"):
        spec = obj.get("spec")
        values = spec.get("values") if isinstance(spec, Mapping) else None
        for path, key, value in _strings(values, ("spec", "values"), "values"):
            dotted = ".".join(str(p) for p in path[2:])
            yield path, key, value, f"HelmRelease {name} values.{dotted}"


def check_literals(manifest: Manifest) -> Iterator[Hit]:
    """SK502 credential-shaped values; SK501 random values under sensitive keys (unless allowed)."""
    annotations = manifest.metadata.get("annotations")
    allowed = isinstance(annotations, Mapping) and bool(
        str(annotations.get(catalog.ALLOW_PLAINTEXT_ANNOTATION, "")).strip()
    )
    for path, key, value, where in _places(manifest):
        shape = credential_shape(value)
        if shape is not None:
            yield Hit(catalog.CREDENTIAL_LITERAL, manifest.line(*path), f"{where} holds {shape}")
        elif not allowed and sensitive_key(key) and looks_random(value):
            yield Hit(
                catalog.SECRET_LITERAL,
                manifest.line(*path),
                f"{where}: a random-looking value under a secret-sounding name",
            )
