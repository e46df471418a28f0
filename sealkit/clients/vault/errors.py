"""Every answer Vault (or whatever stands at its address) gives, read once: what it is in one line.

The reader sends each request through hvac's raw adapter with `raise_exception=False`, so every answer
arrives here as a status and the JSON object of its body (None when the body was not one): sealed or down
(503), throttled (429), a redirect (never followed), refused, or Vault's own `errors` list. requests raises
`SSLError`, `ConnectionError` and `Timeout` before any answer (`transport_problem`). Messages carry Vault's
error words and the path, never a token, a JWT or a secret value: anything token-shaped in Vault's words is
shown as `***`, and a body that is not Vault's JSON is never shown at all (a proxy may echo a request).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sealkit.clients.transport import transport_cause
from sealkit.vault.errors import VaultAccessError
from sealkit.vault.sdkerrors import one_line

SEALED = "Vault is sealed"
# Vault service and batch tokens, recovery tokens, legacy `s.` tokens, and JWTs (a service-account token).
_TOKEN_SHAPES = re.compile(r"\bhv[sbr]\.[\w.-]+|\b[sbr]\.[A-Za-z0-9]{20,}|\beyJ[\w-]*\.[\w-]*\.?[\w-]*")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_ERRORS_SHOWN = 3


def redacted(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secrets, anything shaped like a Vault token or a JWT, and control characters
    (terminal escapes, line breaks) taken out."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _UNPRINTABLE.sub(" ", _TOKEN_SHAPES.sub("***", text))


def vault_text(body: Mapping[str, Any] | None, secrets: Iterable[str] = ()) -> str:
    """Vault's own error words, on one line ("permission denied", "Vault is sealed", ...); only strings of an
    `errors` list are shown, a body that is not Vault's JSON is described, never quoted."""
    if body is None:
        return "an answer that is not Vault's JSON"
    errors = body.get("errors")
    words = [e for e in errors if isinstance(e, str)] if isinstance(errors, list) else []
    words = [" ".join(w.replace("1 error occurred:", "").replace("*", " ").split()) for w in words]
    words = [w for w in words if w][:MAX_ERRORS_SHOWN]
    if not words:
        return "no error text"
    return one_line(redacted("; ".join(words), secrets))


def transport_problem(exc: Exception) -> VaultAccessError:
    """A Vault-wide failure before any answer: TLS, connection, timeout, or a request that could not be made."""
    import requests

    if isinstance(exc, requests.exceptions.InvalidURL):
        return VaultAccessError("cannot reach Vault (not a valid URL)")
    cause = transport_cause(exc)
    hint = ": give Vault's CA with --vault-cacert or VAULT_CACERT" if "not trusted" in cause else ""
    return VaultAccessError(f"cannot reach Vault ({cause}){hint}")


def vault_wide(status: int, body: Mapping[str, Any] | None, secrets: Iterable[str] = ()) -> VaultAccessError | None:
    """Answers about Vault as a whole: a redirect (3xx, not followed), sealed or down (503), throttled (429),
    uninitialized (501), a bad gateway (502)."""
    if 300 <= status < 400:
        return VaultAccessError(
            f"Vault answered {status}, a redirect, which is not followed (a standby node or a proxy sends them; "
            "give the active node's address, e.g. with --vault-address)"
        )
    if status == 503:
        text = vault_text(body, secrets)
        return VaultAccessError(f"{text} (503): unseal it" if SEALED.lower() in text.lower() else f"{text} (503)")
    if status in (429, 501, 502):
        return VaultAccessError(f"{vault_text(body, secrets)} ({status})")
    return None
