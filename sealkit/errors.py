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
