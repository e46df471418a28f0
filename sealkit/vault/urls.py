"""Where a Key Vault lives: its URL per cloud, and overrides for private endpoints and tests.

The spec names vaults (`keyvaultName`) and clouds, as the provider does; the URL is derived from
them. A private endpoint under another host name, a sovereign cloud the table lacks, or a local
test vault needs an explicit URL, given per vault name (flag or environment variable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from sealkit.errors import InputError, shown_url

# cloudName -> the vault DNS suffix, which is also the token resource the vault asks for.
CLOUD_DOMAINS: Mapping[str, str] = {
    "": "vault.azure.net",
    "AzurePublicCloud": "vault.azure.net",
    "AzureUSGovernmentCloud": "vault.usgovcloudapi.net",
    "AzureChinaCloud": "vault.azure.cn",
    "AzureGermanCloud": "vault.microsoftazure.de",
}
ENV_PREFIX = "SEALKIT_VAULT_URL_"
_VAULT_NAME = re.compile(r"[-A-Za-z0-9]{3,24}")


def env_var_for(vault: str) -> str:
    """`SEALKIT_VAULT_URL_<NAME>`: the vault name upper-cased, dashes as underscores."""
    return ENV_PREFIX + vault.upper().replace("-", "_")


def check_url(url: str, where: str) -> str:
    """An https URL with a host and no path beyond `/` (the SDK wants the vault root)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise InputError(
            f"{shown_url(url)!r} must be an https:// URL (Key Vault clients refuse anything else)", where=where
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(f"{shown_url(url)!r} must be the vault root, without a path or query", where=where)
    return url.rstrip("/")


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """`--vault-url NAME=URL` values as {vault name: URL}."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not _VAULT_NAME.fullmatch(name):
            raise InputError(
                "give VAULT=URL with the vault's name, e.g. kv-dev=https://...",
                where=f"--vault-url {shown_url(item)!r}",
            )
        out[name.lower()] = check_url(url, f"--vault-url {name}")
    return out


def resolve_url(vault: str, cloud: str | None, overrides: Mapping[str, str], environ: Mapping[str, str]) -> str:
    """The URL to reach `vault`: a `--vault-url` override, then $SEALKIT_VAULT_URL_<NAME>, then the cloud's."""
    if vault.lower() in overrides:
        return overrides[vault.lower()]
    variable = env_var_for(vault)
    if environ.get(variable):
        return check_url(environ[variable], f"${variable}")
    domain = CLOUD_DOMAINS.get(cloud or "")
    if domain is None:
        raise InputError(
            f"cloud {cloud} has no well-known vault domain; pass --vault-url {vault}=https://... or set ${variable}",
            where=f"vault {vault}",
        )
    return f"https://{vault.lower()}.{domain}"


def default_resource(cloud: str | None) -> str:
    """The token resource a vault in `cloud` names in its challenge."""
    return "https://" + CLOUD_DOMAINS.get(cloud or "", CLOUD_DOMAINS[""])


def check_resource(value: str, flag: str = "--accept-challenge-resource") -> str:
    """A challenge resource to accept: an https URL (`https://vault.azure.net`) or a bare domain; `flag` is the
    caller's flag that gave it (the where of an error)."""
    text = value if "://" in value else f"https://{value}"
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise InputError("give a resource like https://vault.azure.net", where=f"{flag} {shown_url(value)!r}")
    return text.rstrip("/")


def vault_url(value: str, where: str, overrides: Mapping[str, str], environ: Mapping[str, str]) -> str:
    """A vault given as an https:// URL or by name (public cloud, `--vault-url`, or $SEALKIT_VAULT_URL_<NAME>)."""
    if "://" in value:
        return check_url(value, where)
    if not _VAULT_NAME.fullmatch(value):  # else a host name no vault has, met only at the first request
        raise InputError(
            f"{shown_url(value)!r} is neither a vault name (3-24 letters, digits and '-') nor an https:// URL",
            where=where,
        )
    return resolve_url(value, None, overrides, environ)
