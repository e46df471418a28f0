"""Every hvac and HTTP failure read once: what it is (sealed, unreachable, TLS, refused, ...) in one line.

hvac raises `VaultError` subclasses by status (Forbidden 403, InvalidPath 404, InvalidRequest 400,
Unauthorized 401, RateLimitExceeded 429, VaultDown 503, ...) with Vault's own `errors` list; requests
raises `SSLError`, `ConnectionError` and `Timeout`. Messages carry Vault's error text and the path,
never a token, a JWT or a secret value (hvac puts none of them in its exceptions).
"""

from __future__ import annotations

from sealkit.clients.transport import transport_cause
from sealkit.vault.errors import VaultAccessError
from sealkit.vault.sdkerrors import one_line

SEALED = "Vault is sealed"


def status_of(exc: Exception) -> int | None:
    """The HTTP status of an hvac error (None for a transport failure or another exception)."""
    from hvac import exceptions

    by_class = {
        exceptions.InvalidRequest: 400,
        exceptions.Unauthorized: 401,
        exceptions.Forbidden: 403,
        exceptions.InvalidPath: 404,
        exceptions.UnsupportedOperation: 405,
        exceptions.PreconditionFailed: 412,
        exceptions.RateLimitExceeded: 429,
        exceptions.InternalServerError: 500,
        exceptions.VaultNotInitialized: 501,
        exceptions.BadGateway: 502,
        exceptions.VaultDown: 503,
    }
    for cls, status in by_class.items():
        if isinstance(exc, cls):
            return status
    return None


def vault_text(exc: Exception) -> str:
    """Vault's own error words, on one line ("permission denied", "Vault is sealed", ...)."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        return one_line("; ".join(str(e).replace("1 error occurred:", "").replace("*", "").strip() for e in errors))
    return one_line(str(exc).split(", on ")[0]) or type(exc).__name__


def transport_problem(exc: Exception) -> VaultAccessError | None:
    """A Vault-wide failure before any answer: TLS, connection, timeout (None for anything else)."""
    import requests

    if isinstance(exc, requests.exceptions.InvalidURL):
        return VaultAccessError("cannot reach Vault (not a valid URL)")
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):  # SSLError too
        cause = transport_cause(exc)
        hint = ": give Vault's CA with --vault-cacert or VAULT_CACERT" if "not trusted" in cause else ""
        return VaultAccessError(f"cannot reach Vault ({cause}){hint}")
    return None


def vault_wide(exc: Exception) -> VaultAccessError | None:
    """Answers about Vault as a whole: sealed or down (503), throttled (429), uninitialized (501)."""
    status = status_of(exc)
    if status == 503:
        text = vault_text(exc)
        return VaultAccessError(f"{text} (503): unseal it" if SEALED.lower() in text.lower() else f"{text} (503)")
    if status in (429, 501, 502):
        return VaultAccessError(f"{vault_text(exc)} ({status})")
    return transport_problem(exc)
