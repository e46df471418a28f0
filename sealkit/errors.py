"""User-facing errors: each renders as one line `<what is wrong>: <where>`, never a secret value.

Where it sits: every layer raises these; the CLI prints `error: ` + `str(exc)` on stderr and exits
with the documented status (docs/errors.md): 2 for usage, input and connection errors. `what` says
what is wrong and `where` names the file, document, flag or endpoint; neither ever carries a value
taken from a Secret or from a SealedSecret's plaintext side.
"""

from __future__ import annotations

import enum
import errno
import os

EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a check found problems (verify, reencrypt, lint --fail-on, csi generate --check)
EXIT_USAGE = 2  # usage, input or connection error: the command could not do its job


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(text.split())


def os_reason(exc: OSError) -> str:
    """Why a path could not be used, for a message: "a file is in the way" for a path through a file, else
    the system's words in lower case ("permission denied", "file name too long")."""
    if exc.errno == errno.ENOTDIR:
        return "a file is in the way"
    return (exc.strerror or "input/output error").lower()


def shown_url(url: str) -> str:
    """`url` as a message may show it: a user name and password (`https://user:pass@host`) and a query or
    fragment (where a SAS token or an API key travels) are replaced by `***`; the rest as written."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "***"
    if not parts.scheme or not parts.netloc:
        return "***" if any(c in url for c in "@?#") else url
    _, at, host = parts.netloc.rpartition("@")
    shown = f"{parts.scheme}://{'***@' if at else ''}{host}{parts.path}"
    return shown + ("?***" if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")) else "")


class SealkitError(Exception):
    """Base of every error sealkit reports to a person; `str()` is a single line `what: where`."""

    exit_status = EXIT_USAGE

    def __init__(self, message: str, *, where: str | os.PathLike[str] | None = None) -> None:
        self.what = one_line(message)
        self.where = one_line(os.fspath(where)) if where else ""
        super().__init__(f"{self.what}: {self.where}" if self.where else self.what)


class CheckFailed(SealkitError):
    """A check the user asked for found a problem (e.g. `kubeseal --validate`): exit status 1, not 2."""

    exit_status = EXIT_CHECK_FAILED


class InputError(SealkitError):
    """A document, file or flag the user gave is not what the command needs."""


class KeyMaterialError(SealkitError):
    """A certificate or private key cannot be used."""


class UnsealError(SealkitError):
    """A sealed value or object does not open."""


class TemplateError(SealkitError):
    """A `spec.template.data` entry uses a construct sealkit does not render."""


class ServiceError(SealkitError):
    """An outside service (the Kubernetes API, a vault) refused or failed a request.

    `status` is the HTTP status (0 when there was no answer) and `retry_after` the seconds the
    service asked to wait, if it did. Clients raise subclasses (`sealkit.clients`); the core only
    reads these two fields, e.g. to tell "already exists" (409) from a real failure.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        retry_after: float | None = None,
        where: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.status = status
        self.retry_after = retry_after


class ConnectionFailure(ServiceError):
    """A failure at the connection level (refused, DNS, TLS, timeout, credentials refused, no such
    service): no other request to the same place would fare better, so bulk work stops at the first."""


class Refusal(enum.Enum):
    """Who refused, where the metric `reason` cannot say it (a disabled secret and a missing role are both 403,
    reason `forbidden`): the object itself, whoever asks, or this caller. Set from the vault's codes
    (`sealkit.clients.keyvault.errors.Problem.object_refuses`), never read from a message's words."""

    OBJECT = "object"  # a disabled secret or key, an operation not among a key's key_ops: any caller is refused
    CALLER = "caller"  # this identity may not: a role or access policy is missing (403), or its token is refused (401)
