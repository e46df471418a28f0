"""`reencrypt --env`'s guard: the cluster must serve the certificate the repo holds for the environment, and
the refusal says what to do for where that certificate comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sealkit.csi.spec import load_spec
from sealkit.errors import InputError
from sealkit.provenance import short
from sealkit_cli.envreencrypt import _check_cluster
from sealkit_cli.main import cli
from tests.support.envrepo import environment, make_repo, vector_pairs


def test_a_file_only_environment_is_told_to_commit_the_certificate_not_to_pull(
    tmp_path: Path, vectors: dict[str, Any]
) -> None:
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("dev",)))
    repo.write_spec({"dev": environment("dev")})  # sealingCert: a committed file, nothing to pull from
    spec = load_spec(repo.spec, check_bases=False)
    dev = spec.environments["dev"]
    served = "0" * 64
    with pytest.raises(InputError) as caught:
        _check_cluster(spec, dev, served, kubeconfig=None)
    message = str(caught.value)
    assert message.startswith(f"environment dev: the cluster's certificate {short(served)} is not the environment's")
    assert "commit the cluster's certificate to certs/dev.pem" in message and "certs pull" not in message
    assert caught.value.where == "certs/dev.pem" and message.endswith(": certs/dev.pem")  # the committed file


def test_a_file_linked_out_of_the_repo_is_refused_before_any_work(tmp_path: Path, vectors: dict[str, Any]) -> None:
    """Offline (--private-key): a SealedSecret file that is a link leading out of the repo was re-sealed out
    there; the run now stops before any file is touched, naming it."""
    pairs = vector_pairs(vectors, ("dev",))
    repo = make_repo(tmp_path / "repo", pairs)
    repo.write_spec({"dev": environment("dev")})
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: p}\n"
    runner = CliRunner()
    sealed = runner.invoke(cli, ["seal", "--spec", str(repo.spec), "--env", "dev"], input=secret)
    assert sealed.exit_code == 0, sealed.output
    (tmp_path / "key.pem").write_text(pairs["dev"][0])
    inside, outside = repo.file("dev", "shop", "db"), tmp_path / "outside.yaml"
    inside.rename(outside)
    inside.symlink_to(outside)
    kept = outside.read_bytes()
    args = ["reencrypt", "--spec", str(repo.spec), "--env", "dev", "--private-key", str(tmp_path / "key.pem")]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    root = repo.root.resolve()
    assert result.output == f"error: a symbolic link out of the repo ({root}) is in the way: {inside}\n"
    assert outside.read_bytes() == kept
