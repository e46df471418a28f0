"""How `sealkit csi verify` logs in to HashiCorp Vault: every mode listed once, tokens never printed.

- `token`: `--vault-token-file`, else `$VAULT_TOKEN`, else `~/.vault-token` (what `vault login` writes).
- `kubernetes`: a service-account JWT (`--vault-jwt-file`, default the pod's projected token) posted to
  `auth/<mount>/login` with the role (`--vault-role`, else the spec's role for each application), as the
  vault-csi-provider does for a pod.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sealkit.errors import os_reason
from sealkit.vault.errors import CredentialError

AUTH_MODES = ("token", "kubernetes")
DEFAULT_JWT_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
TOKEN_ENV = "VAULT_TOKEN"  # noqa: S105 - a variable name
TOKEN_HELPER_FILE = "~/.vault-token"  # noqa: S105 - a path
MAX_CREDENTIAL_BYTES = 64 * 1024
# A token as an HTTP header carries it: one word of visible ASCII. Anything else is refused before a request
# (requests would refuse the header and quote its value in the error).
TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class VaultAuth:
    """How to get a Vault token; the secrets themselves are read only when a client needs them."""

    mode: str = "token"
    token_file: str | None = None
    jwt_file: str = DEFAULT_JWT_FILE
    role: str | None = None  # kubernetes: log in with this role instead of the spec's
    ca_cert: str | None = None  # a PEM bundle to verify Vault's certificate (default: the system's)
    timeout: float = 10.0
    addresses: tuple[tuple[str, str], ...] = ()  # (address in the spec, address to use instead)

    def __post_init__(self) -> None:
        if self.mode not in AUTH_MODES:
            raise CredentialError(f"unknown --vault-auth {self.mode!r} (one of {', '.join(AUTH_MODES)})")

    def url_for(self, address: str) -> str:
        return dict(self.addresses).get(address, address)


def _read(path: str, what: str) -> str:
    try:
        with Path(path).expanduser().open("rb") as handle:
            data = handle.read(MAX_CREDENTIAL_BYTES + 1)
    except OSError as exc:
        raise CredentialError(f"cannot read the {what} ({os_reason(exc)})", where=path) from None
    if len(data) > MAX_CREDENTIAL_BYTES:
        raise CredentialError(f"the {what} is too large to be one", where=path)
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CredentialError(f"the {what} is not text", where=path) from None
    if not text:
        raise CredentialError(f"the {what} is empty", where=path)
    return text


def _one_token(value: str, where: str) -> str:
    if not TOKEN_SHAPE.fullmatch(value):
        raise CredentialError(
            "the Vault token is not one token (it holds spaces, line breaks or characters a token cannot have)",
            where=where,
        )
    return value


def token(auth: VaultAuth) -> str:
    """The token for `token` mode, from the first source that has one (one word of visible ASCII)."""
    if auth.token_file:
        return _one_token(_read(auth.token_file, "Vault token file"), auth.token_file)
    value = os.environ.get(TOKEN_ENV, "").strip()
    if value:
        return _one_token(value, f"${TOKEN_ENV}")
    helper = Path(TOKEN_HELPER_FILE).expanduser()
    if helper.is_file():
        return _one_token(_read(str(helper), "Vault token file"), str(helper))
    raise CredentialError(
        f"no Vault token: set {TOKEN_ENV}, pass --vault-token-file, run `vault login` (it writes "
        f"{TOKEN_HELPER_FILE}), or use --vault-auth kubernetes with a service-account token"
    )


def service_account_jwt(auth: VaultAuth) -> str:
    """The service-account JWT for `kubernetes` mode."""
    return _read(auth.jwt_file, "service-account token file")
