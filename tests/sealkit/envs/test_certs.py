"""A certificate file the spec names that cannot be read: one line with the reason in lower case, never "None"."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from sealkit.envs.certs import read_repo_file
from sealkit.errors import InputError

WHAT = "the sealing certificate of environment prod"


def _refuse(monkeypatch: pytest.MonkeyPatch, exc: OSError) -> None:
    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(Path, "open", refuse)


@pytest.mark.parametrize(
    ("exc", "why"),
    [
        (OSError(errno.EACCES, os.strerror(errno.EACCES)), "permission denied"),
        (OSError(), "input/output error"),  # no strerror: a library's OSError, not the system's
        (OSError(errno.EIO, None), "input/output error"),
    ],
)
def test_a_certificate_that_cannot_be_read_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: OSError, why: str
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "prod.pem").write_text("")
    _refuse(monkeypatch, exc)
    with pytest.raises(InputError) as caught:
        read_repo_file(tmp_path, "certs/prod.pem", WHAT)
    assert str(caught.value) == f"cannot read {WHAT} ({why}): certs/prod.pem"
    assert "None" not in str(caught.value)


def test_a_certificate_that_is_not_there_is_none(tmp_path: Path) -> None:
    assert read_repo_file(tmp_path, "certs/prod.pem", WHAT) is None
