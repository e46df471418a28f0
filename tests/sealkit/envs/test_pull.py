"""`certs pull`'s judgement: a committed certificate that is stale (not the one served) or expired is what
`--check` fails on; an unchanged one is not. Dates are moved with `now`, not by waiting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from sealkit.csi.spec import load_spec
from sealkit.envs.certs import committed, read_certificates
from sealkit.envs.pull import compare, offline_status
from sealkit.errors import InputError
from sealkit.provenance import short
from tests.support.envrepo import environment, make_repo, vector_pairs

LATER = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)  # after every test certificate's notAfter


def repo_with_sources(tmp_path: Path, vectors: dict[str, Any]) -> Path:
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("dev", "prod")))
    repo.write_spec(
        {
            "dev": environment("dev"),  # a file only: nothing to pull from
            "prod": environment(
                "prod", sealingCert={"file": "certs/prod.pem", "url": "https://prod.example/v1/cert.pem"}
            ),
        }
    )
    return repo.spec


def test_served_certificate_against_the_committed_one(tmp_path: Path, vectors: dict[str, Any]) -> None:
    spec = load_spec(repo_with_sources(tmp_path, vectors), check_bases=False)
    prod = spec.environments["prod"]
    known = committed(spec, prod)
    (same,) = read_certificates(vectors["keys"][1]["cert_pem"].encode(), "served")
    (other,) = read_certificates(vectors["keys"][2]["cert_pem"].encode(), "served")

    unchanged = compare(spec, prod, known, same)
    assert (unchanged.status, unchanged.stale, unchanged.changes) == ("unchanged", False, [])

    changed = compare(spec, prod, known, other)
    assert changed.status == "changed" and changed.stale
    (change,) = changed.changes
    assert change.path == spec.root / "certs/prod.pem"
    assert f"{short(same.sha256)} -> {short(other.sha256)}" in changed.message

    expired = compare(spec, prod, known, same, now=LATER)
    assert expired.status == "expired" and expired.stale and expired.changes == []
    assert "expired on" in expired.message


def test_a_file_only_environment_is_stale_once_its_certificate_expired(tmp_path: Path, vectors: dict[str, Any]) -> None:
    spec = load_spec(repo_with_sources(tmp_path, vectors), check_bases=False)
    dev = spec.environments["dev"]
    valid = offline_status(dev, committed(spec, dev))
    assert (valid.status, valid.stale) == ("no-source", False)
    expired = offline_status(dev, committed(spec, dev), now=LATER)
    assert (expired.status, expired.stale) == ("expired", True)
    assert "expired on" in expired.message and "certs/dev.pem" in expired.message
    (spec.root / "certs/dev.pem").unlink()
    missing = offline_status(dev, committed(spec, dev))
    assert (missing.status, missing.stale) == ("expired", True), "nothing committed and nothing to pull from"


@pytest.mark.parametrize("blocked", ["certs/prod.pem", "certs/prod-previous.pem"])
def test_a_file_that_cannot_be_read_for_the_change_is_named(
    tmp_path: Path, vectors: dict[str, Any], blocked: str
) -> None:
    """The committed file (or the previous one) turned into a directory after it was read (EISDIR, also as
    root): one line naming it, not a bare 'is a directory' naming nothing the user knows."""
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("prod",)))
    source = {"file": "certs/prod.pem", "previous": "certs/prod-previous.pem", "url": "https://prod.example/cert"}
    repo.write_spec({"prod": environment("prod", sealingCert=source)})
    spec = load_spec(repo.spec, check_bases=False)
    prod = spec.environments["prod"]
    known = committed(spec, prod)
    (other,) = read_certificates(vectors["keys"][2]["cert_pem"].encode(), "served")
    (spec.root / blocked).unlink(missing_ok=True)
    (spec.root / blocked).mkdir()
    with pytest.raises(InputError) as caught:
        compare(spec, prod, known, other)
    assert str(caught.value) == f"cannot read (is a directory): {blocked}"


def test_the_replaced_certificate_is_said_to_go_where_it_goes(tmp_path: Path, vectors: dict[str, Any]) -> None:
    """The same words for `certs pull` and its `--check` (which writes nothing): 'goes to', not 'kept in'."""
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("prod",)))
    source = {"file": "certs/prod.pem", "previous": "certs/prod-previous.pem", "url": "https://prod.example/cert.pem"}
    repo.write_spec({"prod": environment("prod", sealingCert=source)})
    spec = load_spec(repo.spec, check_bases=False)
    prod = spec.environments["prod"]
    (other,) = read_certificates(vectors["keys"][2]["cert_pem"].encode(), "served")
    changed = compare(spec, prod, committed(spec, prod), other)
    assert changed.message.endswith(" (the replaced one goes to certs/prod-previous.pem)"), changed.message
    assert [c.path.name for c in changed.changes] == ["prod.pem", "prod-previous.pem"]


def test_the_same_certificate_with_others_after_it_is_not_called_a_change(
    tmp_path: Path, vectors: dict[str, Any]
) -> None:
    """The committed file holds the served certificate first and another after it (an older one, or the CA of a
    chain): the pull said 'changed 2321... -> 2321...'; it says the certificate is kept alone now."""
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("prod",)))
    source = {"file": "certs/prod.pem", "url": "https://prod.example/cert.pem"}
    repo.write_spec({"prod": environment("prod", sealingCert=source)})
    committed_file = repo.root / "certs/prod.pem"
    committed_file.write_text(committed_file.read_text() + vectors["keys"][2]["cert_pem"])
    spec = load_spec(repo.spec, check_bases=False)
    prod = spec.environments["prod"]
    known = committed(spec, prod)
    served = known.current[0]
    result = compare(spec, prod, known, served)
    fp = short(served.sha256)
    assert result.message == (
        f"prod: {fp} kept alone, 1 more certificate(s) in the file: certs/prod.pem "
        "(the replaced one is not kept: name sealingCert.previous to keep it)"
    )
    assert [c.text for c in result.changes] == [served.pem.decode()]


@pytest.mark.parametrize("linked", ["certs/prod.pem", "certs/prod-previous.pem"])
def test_a_certificate_file_linked_out_of_the_repo_is_refused(
    tmp_path: Path, vectors: dict[str, Any], linked: str
) -> None:
    """The committed certificate (or the previous one) is a link leading out of the repo: the pull updated the
    file out there and the repo kept its old certificate (it holds only the link)."""
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("prod",)))
    source = {"file": "certs/prod.pem", "previous": "certs/prod-previous.pem", "url": "https://prod.example/cert"}
    repo.write_spec({"prod": environment("prod", sealingCert=source)})
    outside = tmp_path / "outside.pem"
    target = repo.root / linked
    outside.write_text(target.read_text() if target.exists() else vectors["keys"][0]["cert_pem"])
    target.unlink(missing_ok=True)
    target.symlink_to(outside)
    spec = load_spec(repo.spec, check_bases=False)
    prod = spec.environments["prod"]
    (other,) = read_certificates(vectors["keys"][2]["cert_pem"].encode(), "served")
    with pytest.raises(InputError) as caught:
        compare(spec, prod, committed(spec, prod), other)
    assert str(caught.value) == f"a symbolic link out of the repo ({spec.root.resolve()}) is in the way: {linked}"


@pytest.mark.parametrize("previous", ["certs/prod.pem", "certs/./prod.pem", "certs/prod-link.pem"])
def test_previous_certificates_kept_in_the_sealing_certificate_file_are_refused(
    tmp_path: Path, vectors: dict[str, Any], previous: str
) -> None:
    """`previous` names the committed file itself (or a link to it): the pull said 'the replaced one goes to
    certs/prod.pem' and wrote the served certificate alone there; the replaced one was lost."""
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("prod",)))
    (repo.root / "certs/prod-link.pem").symlink_to("prod.pem")
    source = {"file": "certs/prod.pem", "previous": previous, "url": "https://prod.example/cert.pem"}
    repo.write_spec({"prod": environment("prod", sealingCert=source)})
    spec = load_spec(repo.spec, check_bases=False)
    prod = spec.environments["prod"]
    (other,) = read_certificates(vectors["keys"][2]["cert_pem"].encode(), "served")
    with pytest.raises(InputError) as caught:
        compare(spec, prod, committed(spec, prod), other)
    assert str(caught.value) == (
        "environment prod's previous certificates are kept in its sealing certificate file; "
        f"name another file for sealingCert.previous: {prod.cert_source.previous}"
    )
