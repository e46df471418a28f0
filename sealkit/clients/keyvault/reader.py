"""Reading Key Vault object attributes for `sealkit csi verify` and `discover`: plain data out, never a value.

Everything leaving this module is plain data (`Observed`, `Absent`, `Listed`) or a one-line
`VaultAccessError`; secret values are dropped as soon as a response is parsed. 429 is retried by
`sealkit.csi.vaultrun` (with `sealkit.retry`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sealkit.clients.keyvault import errors as e
from sealkit.clients.keyvault.credentials import AuthOptions, GuardedCredential
from sealkit.clients.keyvault.sdk import CERTIFICATE, KEY, SECRET, bounded_pages, client_options, make_client
from sealkit.csi.discover import Listed
from sealkit.csi.vaultcheck import Absent, Answer, Lookup, Observed
from sealkit.vault.errors import CredentialError, Throttled, VaultAccessError
from sealkit.vault.sdkerrors import one_line

_KINDS = {SECRET: "secret", KEY: "key", CERTIFICATE: "certificate"}


def map_error(exc: Exception, kind: str) -> Absent:
    """Object-level answers become `Absent`; anything about the vault is raised as one line."""
    problem = e.classify(exc)
    if problem is None:
        raise exc
    if problem.kind == e.REFUSED:
        raise CredentialError(problem.own) from None
    if problem.kind == e.NOT_FOUND:
        return Absent(problem.code or "NotFound")
    if problem.kind == e.DISABLED:
        return Absent(problem.inner, disabled=True)
    if problem.kind == e.THROTTLED:
        raise Throttled(f"throttled ({problem.status} {problem.code or 'Throttled'})", problem.retry_after) from None
    if problem.kind == e.FORBIDDEN:
        raise VaultAccessError(
            f"403 {problem.inner or problem.code or 'Forbidden'}: this identity may not read {kind}s here "
            f"(needs e.g. the Key Vault {kind.capitalize()}s User role or a get access policy): {problem.service}"
        ) from None
    if problem.kind == e.UNAUTHORIZED:
        raise VaultAccessError(f"401: the vault refused the token ({problem.service})") from None
    if problem.kind in (e.CONFLICT, e.HTTP):
        raise VaultAccessError(f"{problem.status} {problem.code}: {problem.service}") from None
    if problem.kind == e.NO_TOKEN:
        raise CredentialError(problem.credential) from None
    if problem.kind == e.UNREACHABLE:
        raise VaultAccessError(f"cannot reach the vault ({problem.text})") from None
    if problem.kind == e.CHALLENGE:
        raise VaultAccessError(
            f"the vault's challenge names resource {problem.resource}, which does not match this URL's host; if "
            f"the URL is right (private endpoint, custom domain), pass --accept-challenge-resource "
            f"https://{problem.resource}"
        ) from None
    if problem.kind in (e.ANSWER, e.SDK):
        raise VaultAccessError(problem.text) from None
    if problem.kind == e.VALUE:  # the SDK refusing a setting at first use, in its own words
        raise CredentialError(problem.text) from None
    raise exc


class VaultReader:
    """Lazily built SDK clients, one per (vault URL, kind), shared by the worker threads."""

    def __init__(self, urls: Mapping[str, str], credentials: Mapping[str, GuardedCredential], options: AuthOptions):
        self.urls = dict(urls)
        self.credentials = dict(credentials)  # vault -> credential (by the vault's tenant)
        self.options = options
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, vault: str, kind: str) -> Any:
        key = (vault, kind)
        with self._lock:
            if key not in self._clients:
                options = client_options(
                    self.options.timeout, verify_challenge_resource=not self.options.accepted_resources
                )
                self._clients[key] = make_client(kind, self.urls[vault], self.credentials[vault], options)
            return self._clients[key]

    def fetch(self, lookup: Lookup) -> Answer:
        """The attributes of one object version (`Observed`) or why it is missing (`Absent`)."""
        kind = _KINDS[lookup.type]
        client = self.client(lookup.vault, lookup.type)
        version = lookup.version or None
        try:
            if lookup.type == SECRET:
                secret = client.get_secret(lookup.name, version)
                props = secret.properties
                del secret  # the value is never kept
                backed = bool(props.key_id) or bool(props.managed)
                return _observed(props, props.content_type, backed)
            if lookup.type == KEY:
                return _observed(client.get_key(lookup.name, version).properties)
            if version:
                cert = client.get_certificate_version(lookup.name, version)
            else:
                cert = client.get_certificate(lookup.name)
            return _observed(cert.properties)
        except Exception as exc:
            return map_error(exc, kind)

    def list_vault(self, vault: str) -> list[Listed]:
        """Every object of the vault (current versions' attributes, paged by the SDK; a listing that loops or
        goes on past `bounded_pages`' limit is refused)."""
        items: list[Listed] = []
        try:
            secrets = list(bounded_pages(self.client(vault, SECRET).list_properties_of_secrets()))
            keys = list(bounded_pages(self.client(vault, KEY).list_properties_of_keys()))
            certs = list(bounded_pages(self.client(vault, CERTIFICATE).list_properties_of_certificates()))
        except Exception as exc:
            map_error(exc, "secret")
            raise VaultAccessError(f"listing failed: {one_line(str(exc))}") from None
        cert_types = {p.name: p.content_type for p in secrets if p.managed}
        for p in secrets:
            items.append(_listed(p, SECRET, p.content_type, bool(p.managed)))
        for p in keys:
            items.append(_listed(p, KEY, None, bool(p.managed)))
        for p in certs:
            items.append(_listed(p, CERTIFICATE, cert_types.get(p.name), False))
        return items

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        for credential in {id(c): c for c in self.credentials.values()}.values():
            credential.close()


def _observed(props: Any, content_type: str | None = None, backed: bool = False) -> Observed:
    return Observed(
        version=str(props.version or ""),
        enabled=bool(props.enabled),
        not_before=props.not_before,
        expires_on=props.expires_on,
        content_type=content_type,
        certificate_backed=backed,
    )


def _listed(props: Any, kind: str, content_type: str | None, managed: bool) -> Listed:
    return Listed(
        name=str(props.name),
        type=kind,
        enabled=bool(props.enabled),
        content_type=content_type,
        expires_on=props.expires_on,
        not_before=props.not_before,
        tags=dict(props.tags or {}),
        managed=managed,
    )
