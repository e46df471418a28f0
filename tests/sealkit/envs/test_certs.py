"""A certificate file the spec names that cannot be read: one line with the reason in lower case, never "None"."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from sealkit.envs.certs import read_certificates, read_repo_file
from sealkit.errors import InputError, KeyMaterialError

WHAT = "the sealing certificate of environment prod"


def _refuse(monkeypatch: pytest.MonkeyPatch, exc: OSError) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(os, "open", refuse)


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


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda path: os.mkfifo(path), "is not a regular file"),  # opening it waited for a writer for ever
        (lambda path: path.symlink_to("missing.pem"), "is a symbolic link to nothing"),  # was: not there
        (lambda path: path.mkdir(), "is a directory, not a certificate file"),
    ],
    ids=["named pipe", "dangling link", "directory"],
)
def test_a_certificate_that_is_not_a_regular_file_is_named(tmp_path: Path, make: Any, what: str) -> None:
    """A named pipe committed where the certificate goes hung `certs pull`, `seal --env` and lint; a link to
    nothing was taken for no certificate ('new' for --check, then 'the file appeared ...; run again')."""
    (tmp_path / "certs").mkdir()
    make(tmp_path / "certs" / "prod.pem")
    with pytest.raises(InputError) as caught:
        read_repo_file(tmp_path, "certs/prod.pem", WHAT)
    assert str(caught.value) == f"{WHAT} {what}: certs/prod.pem"


@pytest.mark.parametrize(
    "make",
    [
        lambda repo, out: (repo / "certs" / "prod.pem").symlink_to(out / "prod.pem"),
        lambda repo, out: (repo / "certs" / "prod.pem").symlink_to(out / "missing.pem"),
        lambda repo, out: (repo / "certs" / "prod.pem").symlink_to("/dev/zero"),
        lambda repo, out: (repo / "certs" / "prod.pem").symlink_to("../../outside/prod.pem"),
        lambda repo, out: (repo / "certs").rmdir() or (repo / "certs").symlink_to(out),
    ],
    ids=["file", "dangling", "device", "relative", "directory above"],
)
def test_a_certificate_linked_out_of_the_repo_is_refused(tmp_path: Path, make: Any) -> None:
    """A committed certificate that is a link leading out of the repo was read (by `seal --env`, `certs pull`,
    `--check`, lint): what sealing used was not what the repo holds and reviews. Refused as the spec's
    paths out of the repo are, naming the path as the spec does."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "certs").mkdir(parents=True)
    outside.mkdir()
    (outside / "prod.pem").write_text("a certificate out there")
    make(repo, outside)
    with pytest.raises(InputError) as caught:
        read_repo_file(repo, "certs/prod.pem", WHAT)
    assert str(caught.value) == f"a symbolic link out of the repo ({repo.resolve()}) is in the way: certs/prod.pem"


def test_a_certificate_linked_inside_the_repo_is_read(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "cert.pem").write_bytes(b"pem")
    (tmp_path / "certs").symlink_to("shared")
    assert read_repo_file(tmp_path, "certs/cert.pem", WHAT) == b"pem"


def test_a_committed_certificate_of_an_unknown_key_type_is_one_line(tmp_path: Path) -> None:
    """`certs pull`, lint and `reencrypt --env` read committed files with `read_certificates`: a key type
    `cryptography` does not know raised UnsupportedAlgorithm, an internal error."""
    from tests.cli.test_certsource import unknown_key_type

    with pytest.raises(KeyMaterialError) as caught:
        read_certificates(unknown_key_type(), "certs/prod.pem")
    assert str(caught.value) == "a certificate's key is not RSA (Sealed Secrets uses RSA): certs/prod.pem"
