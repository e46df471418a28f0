"""The wrong-cluster rules on small repos: provenance, keys that identify files without it, key sizes, overlays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from sealkit.keys import KeyRing
from sealkit.lint.config import LintConfig
from sealkit.lint.envs import load_index
from sealkit.lint.scanner import lint
from sealkit.scope import Scope
from sealkit.sealing import seal_secret
from sealkit_cli.main import cli
from tests.support.envrepo import EnvRepo, environment, make_repo, vector_pairs

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "namespace": "shop"},
    "stringData": {"a": "b"},
}


def findings(repo: EnvRepo, keys: KeyRing | None = None) -> list[tuple[str, str, str]]:
    report = lint([repo.root], LintConfig(root=repo.root), environments=load_index(repo.spec, keys), all_files=True)
    return [(str(Path(f.path).relative_to(repo.root)), f.rule.id, f.message) for f in report.findings]


def seal_env(repo: EnvRepo, env: str) -> None:
    result = CliRunner().invoke(cli, ["seal", "--spec", str(repo.spec), "--env", env], input=yaml.safe_dump(SECRET))
    assert result.exit_code == 0, result.output


def kubeseal_style(repo: EnvRepo, env: str, into: str) -> Path:
    """A file without provenance (as kubeseal writes), sealed with `env`'s certificate, put in `into`'s directory."""
    path = repo.file(into, "shop", "legacy")
    path.parent.mkdir(parents=True, exist_ok=True)
    obj = seal_secret(
        {**SECRET, "metadata": {"name": "legacy", "namespace": "shop"}}, repo.certs[env], scope=Scope.STRICT
    )
    path.write_text(yaml.safe_dump(obj))
    return path


def test_keys_identify_files_without_provenance(tmp_path: Path, vectors: dict[str, Any]) -> None:
    repo = make_repo(tmp_path / "r", vector_pairs(vectors))  # dev, staging: 4096 bits; prod: 2048 bits
    kubeseal_style(repo, "staging", into="dev")  # same key size as dev's: only a key can tell
    unknown = findings(repo)
    assert [(p, r) for p, r, _ in unknown] == [("clusters/dev/secrets/shop.legacy.sealedsecret.yaml", "SK212")]
    assert "lint with --private-key to tell" in unknown[0][2]
    ring = KeyRing([*repo.keys["dev"], *repo.keys["staging"]])
    (found,) = findings(repo, ring)
    assert found[1] == "SK210" and "sealed for environment staging" in found[2] and "its key says" in found[2]
    only_dev = findings(repo, repo.keys["dev"])
    assert [r for _, r, m in only_dev] == ["SK212"] and "no --private-key given opens it" in only_dev[0][2]


def test_key_size_alone_tells_another_cluster(tmp_path: Path, vectors: dict[str, Any]) -> None:
    repo = make_repo(tmp_path / "r", vector_pairs(vectors))
    kubeseal_style(repo, "prod", into="dev")  # 2048-bit values where dev's certificate is 4096-bit
    ((_, rule, message),) = findings(repo)
    assert rule == "SK210" and "sealed with a 2048-bit key, but environment dev's certificates are 4096-bit" in message


def test_overlay_counts_and_older_certificates_warn(tmp_path: Path, vectors: dict[str, Any]) -> None:
    repo = make_repo(tmp_path / "r", vector_pairs(vectors))
    seal_env(repo, "staging")
    # staging's certificate becomes dev's previous one; its file, moved under dev's overlay, is "older, same cluster".
    (repo.root / "certs/dev-previous.pem").write_bytes((repo.root / "certs/staging.pem").read_bytes())
    repo.write_spec(
        {
            "dev": environment(
                "dev",
                sealingCert={"file": "certs/dev.pem", "previous": "certs/dev-previous.pem"},
                overlay="clusters/dev/apps",
            ),
            "prod": environment("prod"),
        }
    )
    target = repo.root / "clusters/dev/apps/credentials/shop.db.sealedsecret.yaml"
    target.parent.mkdir(parents=True)
    repo.file("staging", "shop", "db").rename(target)
    ((path, rule, message),) = findings(repo)
    assert (path, rule) == ("clusters/dev/apps/credentials/shop.db.sealedsecret.yaml", "SK211")
    assert "older certificate of environment dev" in message


def test_environment_without_committed_certificate(tmp_path: Path, vectors: dict[str, Any]) -> None:
    repo = make_repo(tmp_path / "r", vector_pairs(vectors))
    seal_env(repo, "dev")
    seal_env(repo, "prod")
    repo.write_spec({"dev": environment("dev", sealingCert={"context": "dev"}), "prod": environment("prod")})
    (found,) = findings(repo)
    assert found[1] == "SK212" and "keeps no committed certificate" in found[2]
    # A file sealed with another environment's known certificate is still the wrong cluster.
    repo.file("prod", "shop", "db").rename(repo.file("dev", "shop", "fromprod"))
    rules = sorted(r for _, r, _ in findings(repo))
    assert rules == ["SK210", "SK212"]


def test_malformed_provenance_is_checked_as_without(tmp_path: Path, vectors: dict[str, Any]) -> None:
    repo = make_repo(tmp_path / "r", vector_pairs(vectors))
    seal_env(repo, "dev")
    path = repo.file("dev", "shop", "db")
    path.write_text(path.read_text().replace(repo.certs["dev"].sha256, "not-a-fingerprint"))
    found = findings(repo)
    assert [r for _, r, _ in found] == ["SK212", "SK212"]
    assert "not a comma-separated list" in found[0][2] or "not a comma-separated list" in found[1][2]


def test_files_outside_every_environment_are_not_judged(tmp_path: Path, vectors: dict[str, Any]) -> None:
    repo = make_repo(tmp_path / "r", vector_pairs(vectors))
    kubeseal_style(repo, "prod", into="dev").rename(repo.root / "elsewhere.yaml")
    assert findings(repo) == []


def test_a_key_of_odd_size_is_not_taken_for_another_cluster(tmp_path: Path, vectors: dict[str, Any]) -> None:
    """A 2050-bit key makes 257-byte RSA parts: lint compared bytes x 8 (2056) with the certificate's 2050 bits
    and said every file of that environment was sealed for another cluster."""
    import datetime as dt

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from sealkit.keygen import build_certificate

    key = rsa.generate_private_key(public_exponent=65537, key_size=2050)
    assert key.key_size == 2050
    now = dt.datetime.now(dt.UTC)
    cert = build_certificate(
        key, subject="odd", not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=9)
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pairs = {
        **vector_pairs(vectors, ("dev",)),
        "odd": (pem.decode(), cert.public_bytes(serialization.Encoding.PEM).decode()),
    }
    repo = make_repo(tmp_path / "r", pairs)
    path = kubeseal_style(repo, "odd", into="odd")
    assert [rule for _, rule, _ in findings(repo)] == ["SK212"]  # no provenance, no key given: unknown, not wrong
    path.unlink()
    kubeseal_style(repo, "dev", into="odd")  # 4096-bit values among 2050-bit certificates: still told apart
    ((_, rule, message),) = findings(repo)
    assert rule == "SK210" and "sealed with a 4096-bit key, but environment odd's certificates are 2050-bit" in message
