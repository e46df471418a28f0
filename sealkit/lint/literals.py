"""Secret-looking literals where secrets do not belong: ConfigMaps, env values, Flux Helm values
and postBuild substitutions, a SealedSecret's template data, .env files.

Three levels: a value with the unmistakable shape of a credential (PEM private key, cloud access
key, token, password inside a URL) is an error wherever it sits (SK502); in places that are
configuration for secrets by nature (HelmRelease values, Flux substitutions, SealedSecret
template data, .env files) any literal under a credential name (password, token, apiKey,
clientSecret...) is an error (SK503);
elsewhere (ConfigMaps, env values) a random-looking value under such a name is a warning (SK501).

Not secret values: references to Secrets (`existingSecret`, `secretName`, `*SecretRef`,
`secretKeyRef.name`...), external references (`op://`, `vault:`, `ref+`, `akv://`...),
placeholders (`$VAR`, `${VAR}`, `<...>`, `{{ ... }}`) and names of keys (`passwordKey: password`).
Messages name the key, never the value.
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
    r"(name|ref|file|path|dir|url|uri|endpoint|host|port|ttl|length|size|enabled|enable|mode|type|policy|expiry|"
    r"version|id|count|header|field|key(s)?name|env|source|mount|format|algorithm|timeout|interval|duration|"
    r"days|hours|minutes|seconds|lifetime|expiration|expires|rotation|template|store|provider|class|kind|"
    r"namespace|label|labels|annotations|prefix|suffix|regex|pattern|user|username|email|issuer|audience)$"
)
_REFERENCE_PREFIX = re.compile(r"^(existing|use|create|enable|generate|auto)")  # existingSecret, useSecret...
# External references resolved at deploy time (1Password, Vault, vals, Azure Key Vault, SOPS...).
EXTERNAL_REFERENCE_PREFIXES = ("op://", "vault:", "ref+", "akv://", "akv:", "secretref", "sops:", "keyvault:")
_PLACEHOLDER_PREFIXES = ("$", "<", "{{", "%", "ENC[", "/", *EXTERNAL_REFERENCE_PREFIXES)
_PLACEHOLDERS = {"changeme", "changeit", "placeholder", "redacted", "replaceme", "example", "dummy", "notset",
                 "none", "empty", "todo", "xxx", "xxxx", "secret", "password"}  # fmt: skip
# A value that is itself the name of a key (`passwordKey: password`, `tokenField: admin-token`).
_KEY_NAME_VALUE = re.compile(
    r"(admin|user|root|db|client|api|access|secret|private|auth|redis|postgres(ql)?|mysql|default)?"
    r"(password|passwd|secret|token|key|apikey|accesskey|secretkey|credentials?|auth)"
)
_TEMPLATE = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|\{\{.*?\}\}|<[^<>]+>")


def _normalize(key: str) -> str:
    return re.sub(r"[-_.\s]", "", key.lower())


def sensitive_key(key: str) -> bool:
    """A key that names a credential, not a reference to one (`existingSecret`, `secretName`)."""
    normalized = _normalize(key)
    if normalized.endswith("secret") and _SENSITIVE.search(normalized[:-6]):
        return False  # passwordSecret, smtpPasswordSecret: the name of the Secret holding it
    return (
        bool(_SENSITIVE.search(normalized))
        and not _REFERENCE_SUFFIX.search(normalized)
        and not _REFERENCE_PREFIX.match(normalized)
    )


def is_reference(value: str) -> bool:
    """A placeholder, template, external reference or key name rather than a secret value."""
    text = value.strip()
    if not text or text.startswith(_PLACEHOLDER_PREFIXES) or _TEMPLATE.search(text):
        return True
    normalized = _normalize(text)
    return normalized in _PLACEHOLDERS or bool(_KEY_NAME_VALUE.fullmatch(normalized))


def literal_credential(key: str, value: object) -> bool:
    """A value committed under a credential name that is a literal (not a reference, number or flag)."""
    if not isinstance(value, str) or not sensitive_key(key):
        return False
    text = value.strip()
    if len(text) < 3 or is_reference(text) or text.lower() in ("true", "false", "null", "yes", "no"):
        return False
    return not text.isdigit()


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(value: str) -> bool:
    """Long enough, varied enough, no spaces, not a placeholder or a reference."""
    if len(value) < 8 or any(c.isspace() for c in value) or is_reference(value):
        return False
    if value.lower() in ("true", "false", "null"):
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


def _places(manifest: Manifest) -> Iterator[tuple[YamlPath, str, str, str, bool]]:
    """(path, key, value, description of where, strict) for every literal this module inspects;
    `strict` places hold configuration for secrets, where any literal credential is an error."""
    obj = manifest.obj
    name = manifest.name or "(unnamed)"
    if manifest.kind == "ConfigMap":
        data = obj.get("data")
        if isinstance(data, Mapping):
            for key, value in data.items():
                if isinstance(value, str):
                    yield ("data", str(key)), str(key), value, f"ConfigMap {name} data.{key}", False
    for path, var, value in env_values(manifest):
        yield path, var, value, f"{manifest.kind} {name} env {var}", False
    spec = obj.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if manifest.kind == "HelmRelease" and manifest.api_version.startswith("helm.toolkit.fluxcd.io/"):
        for path, key, value in _strings(spec.get("values"), ("spec", "values"), "values"):
            dotted = ".".join(str(p) for p in path[2:])
            yield path, key, value, f"HelmRelease {name} values.{dotted}", True
    if manifest.kind == "SealedSecret" and manifest.api_version.startswith("bitnami.com/"):
        yield from _template_data(spec, name)
    if manifest.kind == "Kustomization" and manifest.api_version.startswith("kustomize.toolkit.fluxcd.io/"):
        post_build = spec.get("postBuild")
        substitute = post_build.get("substitute") if isinstance(post_build, Mapping) else None
        if isinstance(substitute, Mapping):
            for key, value in substitute.items():
                if isinstance(value, str):
                    where = f"Kustomization {name} postBuild.substitute.{key}"
                    yield ("spec", "postBuild", "substitute", str(key)), str(key), value, where, True


def _template_data(spec: Mapping[str, Any], name: str) -> Iterator[tuple[YamlPath, str, str, str, bool]]:
    """A SealedSecret's `spec.template.data`: Go templates over the opened values (`{{ .password }}`), put
    into the Secret as they are written, so a literal there is plaintext beside the sealed items (an item
    also in encryptedData is SK206's)."""
    template = spec.get("template")
    data = template.get("data") if isinstance(template, Mapping) else None
    sealed = spec.get("encryptedData")
    for key, value in data.items() if isinstance(data, Mapping) else ():
        if isinstance(value, str) and not (isinstance(sealed, Mapping) and key in sealed):
            yield (
                ("spec", "template", "data", str(key)),
                str(key),
                value,
                f"SealedSecret {name} spec.template.data.{key}",
                True,
            )


def judge(key: str, value: str, where: str, *, strict: bool, allowed: bool = False, line: int = 1) -> Hit | None:
    """One literal: SK502 for a credential shape anywhere; SK503 for any literal under a credential name in
    `strict` places (configuration for secrets); SK501 for a random-looking one elsewhere. Never the value."""
    shape = credential_shape(value)
    if shape is not None:
        return Hit(catalog.CREDENTIAL_LITERAL, line, f"{where} holds {shape}")
    if strict and not allowed and literal_credential(key, value):
        return Hit(
            catalog.PLAINTEXT_CREDENTIAL,
            line,
            f"{where}: a literal value under a credential name is committed in plain text",
        )
    if not strict and not allowed and sensitive_key(key) and looks_random(value):
        return Hit(catalog.SECRET_LITERAL, line, f"{where}: a random-looking value under a secret-sounding name")
    return None


def strings(value: Any, path: YamlPath, key: str) -> Iterator[tuple[YamlPath, str, str]]:
    """(path, nearest key, string) for every string leaf under `value`."""
    return _strings(value, path, key)


def check_literals(manifest: Manifest) -> Iterator[Hit]:
    """SK502 credential-shaped values; SK501 random values under sensitive keys (unless allowed)."""
    annotations = manifest.metadata.get("annotations")
    allowed = isinstance(annotations, Mapping) and bool(
        str(annotations.get(catalog.ALLOW_PLAINTEXT_ANNOTATION, "")).strip()
    )
    for path, key, value, where, strict in _places(manifest):
        hit = judge(key, value, where, strict=strict, allowed=allowed, line=manifest.line(*path))
        if hit is not None:
            yield hit
