"""User-facing errors: each renders as one line naming what is wrong, never a secret value."""

from __future__ import annotations


class SealkitError(Exception):
    """Base of every error sealkit reports to a person; `str()` is a single line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


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

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
