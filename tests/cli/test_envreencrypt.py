"""`reencrypt --env`'s guard: the cluster must serve the certificate the repo holds for the environment, and
the refusal says what to do for where that certificate comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sealkit.csi.spec import load_spec
from sealkit.errors import InputError
from sealkit.provenance import short
from sealkit_cli.envreencrypt import _check_cluster
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
