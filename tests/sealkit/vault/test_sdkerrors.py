"""Azure SDK errors read duck-typed: Retry-After in both forms, error codes, one-line messages."""

from __future__ import annotations

import email.utils
import time
from types import SimpleNamespace

from sealkit.vault.sdkerrors import error_codes, one_line, retry_after, service_message


def error(headers: dict[str, str] | None = None, **body: object) -> SimpleNamespace:
    return SimpleNamespace(response=SimpleNamespace(headers=headers or {}), error=SimpleNamespace(**body))


def test_retry_after_seconds_date_and_junk() -> None:
    assert retry_after(error({"Retry-After": "3"})) == 3.0
    assert retry_after(error({"Retry-After": "-1"})) == 0.0
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (retry_after(error({"Retry-After": later})) or 0) <= 31
    assert retry_after(error({"Retry-After": "soon"})) is None
    assert retry_after(error()) is None
    assert retry_after(object()) is None


def test_codes_and_message() -> None:
    exc = error(
        code="Forbidden", innererror={"code": "SecretDisabled"}, message="Operation get is not allowed. Caller: appid=x"
    )
    assert error_codes(exc) == ("Forbidden", "SecretDisabled")
    assert service_message(exc) == "Operation get is not allowed."
    assert error_codes(object()) == ("", "")
    assert one_line("a\n  b") == "a" and one_line("x" * 300).endswith("...") and one_line("") == ""
