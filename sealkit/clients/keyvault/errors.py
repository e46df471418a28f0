"""Every Azure SDK failure read once, into a `Problem`: what kind of failure, with the service's own words.

The two uses word their one-line errors for their readers (`reader.py` for `sealkit csi`, `escrow.py`
for key escrow), but what an exception *is* (not found, disabled, throttled, forbidden, no token,
unreachable, a challenge for another resource, ...) is decided here only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass

from sealkit.clients.keyvault.credentials import credential_failed, credential_message
from sealkit.clients.keyvault.sdk import answer_refused
from sealkit.clients.transport import transport_cause
from sealkit.vault.sdkerrors import error_codes, one_line, retry_after, service_message

# Problem kinds.
REFUSED = "refused"  # GuardedCredential would not (or could not) get a token: its message is sealkit's own
NO_TOKEN = "no-token"  # noqa: S105 - the SDK's credential failed
NOT_FOUND = "not-found"
DISABLED = "disabled"  # 403 with an inner code such as SecretDisabled
THROTTLED = "throttled"  # 429 or 503
FORBIDDEN = "forbidden"  # 403
UNAUTHORIZED = "unauthorized"  # 401
CONFLICT = "conflict"  # 409 (e.g. a deleted secret of that name is kept)
HTTP = "http"  # any other status
UNREACHABLE = "unreachable"
CHALLENGE = "challenge"  # the vault's challenge names a resource that does not match its host
SDK = "sdk"  # any other SDK error
VALUE = "value"  # a ValueError from the SDK (e.g. a credential built without its environment)


@dataclass(frozen=True)
class Problem:
    """One SDK failure, read: `kind` plus the service's status, codes and one-line messages."""

    kind: str
    status: int | None = None
    code: str = ""
    inner: str = ""
    service: str = ""  # the service's message, without the principal details
    text: str = ""  # the exception's first line; for UNREACHABLE, why in words (`transport_cause`)
    credential: str = ""  # for NO_TOKEN: what to do about it
    own: str = ""  # for REFUSED: sealkit's own message, whole
    exc_type: str = ""
    retry_after: float | None = None
    resource: str = "?"  # for CHALLENGE: the resource the vault named


# A bearer token or any JWT: a broken proxy or a hostile vault may echo the request's Authorization header in
# its error message, which every use prints.
_TOKEN = re.compile(r"(?i)\bbearer\s+[^\s,;\"']+|\beyJ[\w-]*\.[\w.-]*")


def scrub(text: str) -> str:
    """`text` with every bearer token or JWT in it, and the value of AZURE_CLIENT_SECRET, replaced by `[redacted]`."""
    secret = os.environ.get("AZURE_CLIENT_SECRET", "")
    if len(secret) >= 8:
        text = text.replace(secret, "[redacted]")
    return _TOKEN.sub("[redacted]", text)


def classify(exc: Exception) -> Problem | None:
    """What `exc` is, or None when it is no SDK failure at all (the caller re-raises it); the service's words
    and the exception's text come without tokens (`scrub`)."""
    problem = _classify(exc)
    if problem is None:
        return None
    return dataclasses.replace(
        problem,
        service=scrub(problem.service),
        text=scrub(problem.text),
        own=scrub(problem.own),
        credential=scrub(problem.credential),
    )


def _classify(exc: Exception) -> Problem | None:
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    name = type(exc).__name__
    if isinstance(exc, credential_failed()):
        own = str(getattr(exc, "message", "") or exc)
        return Problem(REFUSED, text=one_line(own), own=own, exc_type=name)
    if isinstance(exc, answer_refused()):  # sealkit's own words: a nextLink or redirect elsewhere, a loop
        return Problem(SDK, text=one_line(str(getattr(exc, "message", "") or exc)), exc_type=name)
    if isinstance(exc, ResourceNotFoundError):
        code, inner = error_codes(exc)
        return Problem(NOT_FOUND, exc.status_code, code, inner, service_message(exc), exc_type=name)
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        status = exc.status_code
        code, inner = error_codes(exc)
        kind = HTTP
        if status == 403 and inner.endswith("Disabled"):
            kind = DISABLED
        elif status in (429, 503):
            kind = THROTTLED
        elif status in (401, 403, 409):
            kind = {401: UNAUTHORIZED, 403: FORBIDDEN, 409: CONFLICT}[status]
        wait = retry_after(exc)
        if wait is not None and math.isnan(wait):  # "Retry-After: nan" is no hint (and no time to sleep)
            wait = None
        return Problem(kind, status, code, inner, service_message(exc), exc_type=name, retry_after=wait)
    if isinstance(exc, json.JSONDecodeError):  # the SDK parses a 2xx body itself: a proxy's page, say
        return Problem(SDK, text="the vault's answer is not JSON", exc_type=name)
    if isinstance(exc, ClientAuthenticationError):
        text = one_line(str(exc.message or exc))
        return Problem(NO_TOKEN, text=text, credential=credential_message(exc), exc_type=name)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return Problem(UNREACHABLE, text=transport_cause(exc), exc_type=name)
    if isinstance(exc, ValueError) and "challenge resource" in str(exc):
        resource = str(exc).split("'")[1] if "'" in str(exc) else "?"
        return Problem(CHALLENGE, text=one_line(str(exc)), exc_type=name, resource=resource)
    if isinstance(exc, AzureError):
        return Problem(SDK, text=one_line(str(exc)), exc_type=name)
    if isinstance(exc, ValueError):
        return Problem(VALUE, text=one_line(str(exc)), exc_type=name)
    return None
