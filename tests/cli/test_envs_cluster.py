"""Environments whose certificate comes from their cluster: two emulated clusters (dev, prod), each with the
real sealkit controller holding its own key, reached through the API server's service proxy by kubeconfig
context, as `certs pull`, `seal --env`, `reencrypt --env` and `lint` reach them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.data import crd_path
from sealkit.documents import load_documents
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.unsealing import unseal
from sealkit_cli.main import cli
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.kube import KubeServer
from tests.support.cluster import CONTROLLER_NS, Cluster

SERVICE = "sealed-secrets-controller"


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None})


@dataclass
class Env:
    """One emulated cluster with its controller."""

    name: str
    cluster: Cluster
    running: ControllerThread | None = None

    def expose(self) -> None:
        assert self.running is not None
        if self.cluster.kube.get("v1", "Service", SERVICE, CONTROLLER_NS) is None:
            self.cluster.create(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": SERVICE, "namespace": CONTROLLER_NS},
                    "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
                }
            )
        self.cluster.kube.register_service_backend(CONTROLLER_NS, SERVICE, "http", self.running.api_url)

    def start(self) -> None:
        self.running = self.cluster.start()
        self.expose()

    def restart_with_key(self, index: int) -> None:
        """A renewed key: the controller loads it on restart and hands out its certificate from then on."""
        assert self.running is not None
        self.running.stop()
        self.cluster.add_key(index, name=f"sealed-secrets-key{index}")
        self.start()

    def cert_sha256(self, index: int) -> str:
        return load_certificate(self.cluster.keys[index].certificate_pem).sha256

    def ring(self, *indexes: int) -> KeyRing:
        return KeyRing(k for i in indexes for k in load_private_keys(self.cluster.keys[i].private_pem))


@pytest.fixture(scope="module")
def env_keys() -> dict[str, list[GeneratedKey]]:
    return {name: [generate_key_pair(bits=2048) for _ in range(2)] for name in ("dev", "prod")}


@pytest.fixture
def clusters(tmp_path: Path, env_keys: dict[str, list[GeneratedKey]]) -> Iterator[tuple[dict[str, Env], Path]]:
    """dev and prod: two API servers, one kubeconfig with a context for each."""
    servers = {name: KubeServer(crds=[crd_path("bitnami.com_sealedsecrets.yaml")]).start() for name in env_keys}
    envs: dict[str, Env] = {}
    try:
        for name, server in servers.items():
            kubeconfig = server.write_kubeconfig(tmp_path / f"kubeconfig-{name}")
            envs[name] = Env(name, Cluster(server, kubeconfig, env_keys[name]))
            envs[name].cluster.add_key(0)
            envs[name].start()
        merged = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": n, "cluster": {"server": s.url}} for n, s in servers.items()],
            "users": [{"name": "admin", "user": {}}],
            "contexts": [{"name": n, "context": {"cluster": n, "user": "admin"}} for n in servers],
            "current-context": "dev",
        }
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(merged))
        yield envs, kubeconfig
    finally:
        for env in envs.values():
            if env.running is not None:
                env.running.stop()
                assert env.running.error is None
        for server in servers.values():
            server.stop()


def write_spec(root: Path, dev_context: str = "dev") -> Path:
    spec = root / "sealkit-csi.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "sealkit/v1alpha1",
                "kind": "KeyVaultCsi",
                "environments": {
                    "dev": {
                        "sealingCert": {"file": "certs/dev.pem", "context": dev_context},
                        "sealedSecrets": "clusters/dev/secrets",
                    },
                    "prod": {
                        "sealingCert": {
                            "file": "certs/prod.pem",
                            "context": "prod",
                            "controllerName": SERVICE,
                            "controllerNamespace": CONTROLLER_NS,
                            "previous": "certs/prod-previous.pem",
                        },
                        "sealedSecrets": "clusters/prod/secrets",
                    },
                },
            },
            sort_keys=False,
        )
    )
    return spec


SECRET = yaml.safe_dump(
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}, "stringData": {"pw": "x1"}}
)


def provenance_of(path: Path) -> str:
    obj = load_documents(path.read_text(), str(path))[0].obj
    return str(obj["metadata"]["annotations"]["sealkit.io/certificate-sha256"])


def test_certs_pull_seal_lint_and_reencrypt_through_each_cluster(
    clusters: tuple[dict[str, Env], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    envs, kubeconfig = clusters
    root = tmp_path / "repo"
    root.mkdir()
    write_spec(root)
    monkeypatch.chdir(root)
    kc = ("--kubeconfig", str(kubeconfig))

    # Nothing committed yet: --check fails, pull writes each cluster's certificate.
    check = run("certs", "pull", "--check", *kc)
    assert check.exit_code == 1 and "stale: dev: new" in check.output and "stale: prod: new" in check.output
    pulled = run("certs", "pull", *kc)
    assert pulled.exit_code == 0, pulled.output
    for name, env in envs.items():
        assert load_certificate((root / "certs" / f"{name}.pem").read_bytes()).sha256 == env.cert_sha256(0)
        assert f"{name}: new sha256:{env.cert_sha256(0)[:12]}" in pulled.output
    assert run("certs", "pull", "--check", *kc).exit_code == 0

    # Seal for both from the committed certificates; each opens with its own cluster's key only.
    assert run("seal", "--all-envs", *kc, input=SECRET).exit_code == 0
    prod_file = root / "clusters/prod/secrets/shop.db.sealedsecret.yaml"
    assert unseal(yaml.safe_load(prod_file.read_text()), envs["prod"].ring(0)).items == {"pw": b"x1"}
    assert run("lint", "--all-files", ".").exit_code == 0

    # prod renews its key: the committed certificate is now stale, and files sealed with it are "older".
    envs["prod"].restart_with_key(1)
    stale = run("certs", "pull", "--check", *kc)
    assert stale.exit_code == 1 and "stale: prod: changed" in stale.output, stale.output
    pulled = run("certs", "pull", "--env", "prod", *kc)
    assert pulled.exit_code == 0, pulled.output
    assert "goes to certs/prod-previous.pem" in pulled.output
    assert load_certificate((root / "certs/prod.pem").read_bytes()).sha256 == envs["prod"].cert_sha256(1)
    previous = (root / "certs/prod-previous.pem").read_bytes()
    assert load_certificate(previous).sha256 == envs["prod"].cert_sha256(0)
    linted = run("lint", "--all-files", ".")
    assert linted.exit_code == 0 and "warning SK211 sealed-old-certificate" in linted.output, linted.output
    assert "sealkit reencrypt --env prod" in linted.output

    # Re-seal prod's files through prod's controller: provenance follows, lint is clean again.
    before = prod_file.read_text()
    reencrypted = run("reencrypt", "--env", "prod", *kc)
    assert reencrypted.exit_code == 0, reencrypted.output
    assert provenance_of(prod_file) == envs["prod"].cert_sha256(1)
    assert prod_file.read_text().count("\n") == before.count("\n"), "values and provenance replaced in place"
    assert unseal(yaml.safe_load(prod_file.read_text()), envs["prod"].ring(1)).items == {"pw": b"x1"}
    assert run("lint", "--all-files", ".").output.startswith("no findings")


def test_reencrypt_env_refuses_a_cluster_that_is_not_the_environments(
    clusters: tuple[dict[str, Env], Path], tmp_path: Path
) -> None:
    envs, kubeconfig = clusters
    root = tmp_path / "repo"
    root.mkdir()
    spec = write_spec(root)
    kc = ("--kubeconfig", str(kubeconfig))
    assert run("certs", "pull", "--spec", str(spec), *kc).exit_code == 0
    assert run("seal", "--spec", str(spec), "--env", "dev", *kc, input=SECRET).exit_code == 0
    dev_file = root / "clusters/dev/secrets/shop.db.sealedsecret.yaml"
    before = dev_file.read_bytes()
    write_spec(root, dev_context="prod")  # a slip: dev's context names prod's cluster
    result = run("reencrypt", "--spec", str(spec), "--env", "dev", *kc)
    assert result.exit_code != 0
    assert f"the cluster's certificate sha256:{envs['prod'].cert_sha256(0)[:12]} is not the environment's" in (
        result.output
    )
    assert "run `sealkit certs pull --env dev`" in result.output, "dev's certificate comes from its cluster"
    assert dev_file.read_bytes() == before
    assert not [r for r in envs["prod"].cluster.kube.request_log if "/proxy/v1/rotate" in str(r)]


def test_seal_env_fetches_from_the_cluster_when_nothing_is_committed(
    clusters: tuple[dict[str, Env], Path], tmp_path: Path
) -> None:
    envs, kubeconfig = clusters
    root = tmp_path / "repo"
    root.mkdir()
    spec = root / "sealkit-csi.yaml"
    body: dict[str, Any] = {
        "apiVersion": "sealkit/v1alpha1",
        "kind": "KeyVaultCsi",
        "environments": {"prod": {"sealingCert": {"context": "prod"}, "sealedSecrets": "secrets"}},
    }
    spec.write_text(yaml.safe_dump(body))
    result = run("seal", "--spec", str(spec), "--env", "prod", "--kubeconfig", str(kubeconfig), input=SECRET)
    assert result.exit_code == 0, result.output
    path = root / "secrets/shop.db.sealedsecret.yaml"
    assert provenance_of(path) == envs["prod"].cert_sha256(0)
    proxied = [r for r in envs["prod"].cluster.kube.request_log if "/proxy/v1/cert.pem" in str(r)]
    assert proxied, "fetched through prod's API server's service proxy"
    # `set` reaches the cluster the same way and changes only that item.
    added = run("set", "shop/db", "token", "--spec", str(spec), "--env", "prod", "--kubeconfig", str(kubeconfig),
                "--from-literal", "t0k3n")  # fmt: skip
    assert added.exit_code == 0, added.output
    opened = unseal(yaml.safe_load(path.read_text()), envs["prod"].ring(0)).items
    assert opened == {"pw": b"x1", "token": b"t0k3n"}


def test_no_kubeconfig_for_an_environments_context_names_what_works_with_env(tmp_path: Path) -> None:
    # --cert is refused with --env, so the hint must not offer it: --kubeconfig or $KUBECONFIG is the way.
    spec = tmp_path / "sealkit-csi.yaml"
    body = {
        "apiVersion": "sealkit/v1alpha1",
        "kind": "KeyVaultCsi",
        "environments": {
            "prod": {"sealingCert": {"context": "prod"}, "sealedSecrets": "prod"},
            "dev": {"sealingCert": {"file": "dev.pem", "context": "dev"}, "sealedSecrets": "dev"},
        },
    }
    spec.write_text(yaml.safe_dump(body))
    runner = CliRunner()
    env = {"KUBECONFIG": None, "SEALED_SECRETS_CERT": None, "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": None}
    for args, name in ((["seal", "--env", "prod"], "prod"), (["certs", "pull", "--env", "dev"], "dev")):
        result = runner.invoke(cli, [*args, "--spec", str(spec)], input=SECRET, env=env)
        assert result.exit_code == 2, result.output
        assert f"environment {name}: no kubeconfig found: give --kubeconfig or set KUBECONFIG" in result.output
        assert "--cert" not in result.output
