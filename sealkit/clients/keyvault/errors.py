"""Every Azure SDK failure read once, into a `Problem`: what kind of failure, with the service's own words.

The two uses word their one-line errors for their readers (`reader.py` for `sealkit csi`, `escrow.py`
for key escrow), but what an exception *is* (not found, disabled, throttled, forbidden, no token,
unreachable, a challenge for another resource, ...) is decided here only.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sealkit.clients.keyvault.credentials import credential_failed, credential_message
from sealkit.clients.keyvault.sdk import answer_refused
from sealkit.clients.transport import transport_cause
from sealkit.vault.sdkerrors import error_codes, one_line, retry_after

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
ANSWER = "answer"  # an answer refused in sealkit's own words (not JSON, another host, a loop, a field of another shape)
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
    # For DISABLED and FORBIDDEN: the object itself refuses whoever asks (a disabled secret or key, an operation not
    # among a key's key_ops: 403 KeyOperationForbidden), rather than this caller lacking a role or access policy
    # (403 ForbiddenByRbac, Forbidden). Decided from the codes, never from the message's words.
    object_refuses: bool = False


# Inner codes of a 403 that the object gives whoever asks (not a missing role or access policy).
_OBJECT_REFUSALS = ("KeyOperationForbidden",)

# A bearer token or any JWT: a broken proxy or a hostile vault may echo the request's Authorization header in
# its error message, which every use prints.
_TOKEN = re.compile(r"(?i)\bbearer\s+[^\s,;\"']+|\beyJ[\w-]*\.[\w.-]*")
# A PEM block, whole or cut short (its END line past the cut), with real or JSON-escaped line breaks: no error
# line needs one, and an escrowed key is sent as one.
_PEM = re.compile(r"-----BEGIN [^\n]*?-----.*?(?:-----END [^\n]*?-----|\Z)", re.DOTALL)
# A run of base64 or base64url characters; in a message also JSON's escapes (\n, \/) inside it.
_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}")
_ECHO = re.compile(r"(?:[A-Za-z0-9+/_-]|\\[nrt/])+")
_ESCAPE = re.compile(r"\\[nrt]")
_WINDOW = 16  # an echo is found by any 16 characters of a run of what was sent, where it starts or ends
_SHORTEST = 8  # a shorter piece (a run cut at the end of a message) is redacted when all of it was sent
_SCRUB_LIMIT = 8192  # characters of a message looked at (the line shown is at most 240 of them)
_TRAILING_RUN = re.compile(r"(?:[A-Za-z0-9+/_-]|\\[nrt/]?)+\Z")


class Sent:
    """What a request sent that must not come back in an error line (an escrowed key, a data key to wrap): its
    runs of base64 and base64url characters, as sent, with line breaks taken out (a PEM body as one run) and
    base64-encoded. Runs that hold no upper-case letter (secret names, hex versions, URL paths) are not
    material: a message may name them."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        runs: list[str] = []
        for value in values:
            if not value:
                continue
            raw = value.encode()
            encoded = (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode())
            forms = (value, "".join(value.split()), *encoded)
            runs.extend(run for form in forms for run in _RUN.findall(form) if run.lower() != run)
        self.text = "\n".join(runs)
        self.windows = {run[i : i + _WINDOW] for run in runs for i in range(len(run) - _WINDOW + 1)}

    def echoed(self, piece: str) -> bool:
        """Whether `piece` (a run of a message, JSON escapes taken out) repeats some of what was sent."""
        if len(piece) < _SHORTEST or not self.text:
            return False
        if len(piece) < _WINDOW:
            return piece in self.text
        return any(piece[i : i + _WINDOW] in self.windows for i in range(len(piece) - _WINDOW + 1))


_NOTHING = Sent()


def _echo(sent: Sent, match: re.Match[str]) -> str:
    pieces = _ESCAPE.split(match.group().replace("\\/", "/"))
    return "[redacted]" if any(sent.echoed(piece) for piece in pieces) else match.group()


def scrub(text: str, sent: Sent = _NOTHING) -> str:
    """`text` with every bearer token or JWT, PEM block and echo of what was `sent` in it, and the value of
    AZURE_CLIENT_SECRET, replaced by `[redacted]`."""
    secret = os.environ.get("AZURE_CLIENT_SECRET", "")
    if len(secret) >= 8:
        text = text.replace(secret, "[redacted]")
    text = _PEM.sub("[redacted]", _TOKEN.sub("[redacted]", text))
    if sent.text:
        text = _ECHO.sub(lambda match: _echo(sent, match), text)
    return text


def _line(text: str, sent: Sent) -> str:
    """The first line of `text`, scrubbed, then cut to one line (`one_line`): what is redacted is taken out before
    the cut, so no part of it is left at the cut. Past `_SCRUB_LIMIT`, the run cut there is dropped."""
    stripped = text.strip()
    first = stripped.splitlines()[0] if stripped else ""
    if len(first) > _SCRUB_LIMIT:
        first = _TRAILING_RUN.sub("", first[:_SCRUB_LIMIT]) + "..."
    return one_line(scrub(first, sent))


def _service_message(exc: Exception, sent: Sent) -> str:
    """The service's message (`sealkit.vault.sdkerrors.service_message`), scrubbed before it is cut."""
    error = getattr(exc, "error", None)
    text = str(getattr(error, "message", "") or getattr(exc, "message", "") or getattr(exc, "reason", "") or "")
    return _line(text.split(" Caller:")[0], sent)


def classify(exc: Exception, sent: Iterable[str] = ()) -> Problem | None:
    """What `exc` is, or None when it is no SDK failure at all (the caller re-raises it); the service's words
    and the exception's text come without tokens, PEM blocks or any echo of what the request `sent` (`scrub`)."""
    material = Sent(sent)
    problem = _classify(exc, material)
    if problem is None:
        return None
    return dataclasses.replace(
        problem,
        service=scrub(problem.service, material),
        text=scrub(problem.text, material),
        own=scrub(problem.own, material),
        credential=scrub(problem.credential, material),
    )


def _classify(exc: Exception, sent: Sent) -> Problem | None:
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
        return Problem(REFUSED, text=_line(own, sent), own=own, exc_type=name)
    if isinstance(exc, answer_refused()):  # sealkit's own words: a nextLink or redirect elsewhere, a loop
        return Problem(ANSWER, text=_line(str(getattr(exc, "message", "") or exc), sent), exc_type=name)
    if isinstance(exc, ResourceNotFoundError):
        code, inner = error_codes(exc)
        return Problem(NOT_FOUND, exc.status_code, code, inner, _service_message(exc, sent), exc_type=name)
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        status = exc.status_code
        code, inner = error_codes(exc)
        kind = HTTP
        object_refuses = False
        if status == 403 and inner.endswith("Disabled"):
            kind, object_refuses = DISABLED, True
        elif status in (429, 503):
            kind = THROTTLED
        elif status in (401, 403, 409):
            kind = {401: UNAUTHORIZED, 403: FORBIDDEN, 409: CONFLICT}[status]
            object_refuses = status == 403 and inner in _OBJECT_REFUSALS
        wait = retry_after(exc)
        if wait is not None and math.isnan(wait):  # "Retry-After: nan" is no hint (and no time to sleep)
            wait = None
        service = _service_message(exc, sent)
        return Problem(
            kind, status, code, inner, service, exc_type=name, retry_after=wait, object_refuses=object_refuses
        )
    if isinstance(exc, json.JSONDecodeError):  # the SDK parses a 2xx body itself: a proxy's page, say
        return Problem(ANSWER, text="the vault's answer is not JSON", exc_type=name)
    if isinstance(exc, ClientAuthenticationError):
        text = _line(str(exc.message or exc), sent)
        return Problem(NO_TOKEN, text=text, credential=credential_message(exc), exc_type=name)
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return Problem(UNREACHABLE, text=transport_cause(exc), exc_type=name)
    if isinstance(exc, ValueError) and "challenge resource" in str(exc):
        resource = str(exc).split("'")[1] if "'" in str(exc) else "?"
        return Problem(CHALLENGE, text=_line(str(exc), sent), exc_type=name, resource=resource)
    if isinstance(exc, AzureError):
        return Problem(SDK, text=_line(str(exc), sent), exc_type=name)
    if isinstance(exc, ValueError):
        return Problem(VALUE, text=_line(str(exc), sent), exc_type=name)
    return None
