"""kubectl's client flags applied as clientcmd applies them, to the `kubernetes` client's real Configuration
(`sealkit.clients.kube.overrides` and `config`); the namespace rule (`client_namespace`)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.clients.kube.config import ClusterOptions, client_namespace, connect, load_configuration
from sealkit.clients.kube.overrides import ClientOverrides, Impersonation, apply_cluster, apply_user
from sealkit.errors import InputError, SealkitError

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()


@pytest.fixture()
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two contexts over two clusters and users; relative file paths; CA data inline for one cluster."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "kube"
    folder.mkdir()
    for name in ("ca.crt", "client.crt", "client.key", "other-ca.crt", "flag-ca.crt", "flag.crt", "flag.key"):
        (folder / name).write_text("pem")
        (tmp_path / name).write_text("pem")
    path = folder / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "prod",
                        "cluster": {
                            "server": "https://prod.example.test:6443",
                            "certificate-authority": "ca.crt",
                            "tls-server-name": "prod-internal",
                        },
                    },
                    {
                        "name": "dev",
                        "cluster": {"server": "https://dev.example.test", "certificate-authority-data": CA},
                    },
                ],
                "users": [
                    {"name": "admin", "user": {"client-certificate": "client.crt", "client-key": "client.key"}},
                    {"name": "robot", "user": {"token": "robot-token", "as": "kube-admin", "as-groups": ["ops"]}},
                ],
                "contexts": [
                    {"name": "prod", "context": {"cluster": "prod", "user": "admin", "namespace": "team-a"}},
                    {"name": "dev", "context": {"cluster": "dev", "user": "robot"}},
                ],
                "current-context": "prod",
            }
        )
    )
    return path


def load(kubeconfig: Path, context: str | None = None, **overrides: Any) -> Any:
    return load_configuration(str(kubeconfig), context, overrides=ClientOverrides(**overrides).check())


def test_the_kubeconfig_as_is_relative_paths_against_its_file(kubeconfig: Path) -> None:
    config = load(kubeconfig)
    assert config.host == "https://prod.example.test:6443"
    assert config.ssl_ca_cert == str(kubeconfig.parent / "ca.crt")
    assert (config.cert_file, config.key_file) == (
        str(kubeconfig.parent / "client.crt"),
        str(kubeconfig.parent / "client.key"),
    )
    assert config.tls_server_name == "prod-internal" and config.verify_ssl is True


def test_context_cluster_and_user_choose_entries(kubeconfig: Path) -> None:
    dev = load(kubeconfig, "dev")
    assert dev.host == "https://dev.example.test" and dev.api_key["BearerToken"] == "Bearer robot-token"
    mixed = load(kubeconfig, cluster="dev", user="robot")
    assert mixed.host == "https://dev.example.test" and mixed.api_key["BearerToken"] == "Bearer robot-token"
    for kwargs, message in (
        ({"cluster": "nope"}, "cluster 'nope' does not exist"),
        ({"user": "nope"}, "user 'nope' does not exist"),
    ):
        with pytest.raises(InputError, match=message):
            load(kubeconfig, **kwargs)
    with pytest.raises(InputError, match="context 'nope' does not exist"):
        load(kubeconfig, "nope")


def test_server_and_tls_flags(kubeconfig: Path, tmp_path: Path) -> None:
    moved = load(kubeconfig, server="https://10.0.0.1:6443")
    assert moved.host == "https://10.0.0.1:6443"
    assert moved.tls_server_name is None, "a new --server drops the kubeconfig's tls-server-name (clientcmd)"
    named = load(kubeconfig, server="https://10.0.0.1:6443", tls_server_name="prod.example.test")
    assert named.tls_server_name == "prod.example.test"
    own_ca = load(kubeconfig, certificate_authority="flag-ca.crt")
    assert own_ca.ssl_ca_cert == str(tmp_path / "flag-ca.crt"), "relative to the working directory"
    insecure = load(kubeconfig, "dev", insecure_skip_tls_verify=True)
    assert insecure.verify_ssl is False and insecure.ssl_ca_cert is None, "the inline CA data is dropped too"
    proxied = load(kubeconfig, proxy_url="http://proxy.example.test:3128")
    assert proxied.proxy == "http://proxy.example.test:3128"
    with pytest.raises(InputError, match="give one of them"):
        ClientOverrides(insecure_skip_tls_verify=True, certificate_authority="ca.pem").check()


def test_credential_flags(kubeconfig: Path, tmp_path: Path) -> None:
    token = load(kubeconfig, token="flag-token")
    assert token.api_key["BearerToken"] == "Bearer flag-token"
    certs = load(kubeconfig, client_certificate="flag.crt", client_key="flag.key")
    assert (certs.cert_file, certs.key_file) == (str(tmp_path / "flag.crt"), str(tmp_path / "flag.key"))
    basic = load(kubeconfig, "dev", username="ann", password="pw", token=None)
    assert basic.api_key["BearerToken"] == "Bearer robot-token", "a token wins over basic auth"
    user_pass = load(kubeconfig, username="ann", password="pw")
    assert user_pass.api_key["BearerToken"] == "Basic " + base64.b64encode(b"ann:pw").decode()
    assert "pw" not in repr(ClientOverrides(password="pw", token="t")) and "'t'" not in repr(ClientOverrides(token="t"))


def test_impersonation_from_flags_or_the_kubeconfig_user() -> None:
    _, who = apply_user({"as": "kube-admin", "as-groups": ["ops"]}, ClientOverrides())
    assert who == Impersonation("kube-admin", ("ops",))
    _, flags = apply_user({"as": "kube-admin"}, ClientOverrides(impersonate="alice", impersonate_groups=("a", "b")))
    assert flags.headers() == [("Impersonate-User", "alice"), ("Impersonate-Group", "a"), ("Impersonate-Group", "b")]
    assert Impersonation().headers() == []
    with pytest.raises(InputError, match="impersonating needs a user name"):
        ClientOverrides(impersonate_uid="42").check()


def test_ca_flags_replace_all_of_the_clusters_ca_settings() -> None:
    cluster = {"server": "https://x", "certificate-authority-data": CA, "insecure-skip-tls-verify": False}
    replaced = apply_cluster(cluster, ClientOverrides(certificate_authority="/ca.pem"))
    assert replaced == {"server": "https://x", "certificate-authority": "/ca.pem", "insecure-skip-tls-verify": False}
    assert apply_cluster(cluster, ClientOverrides()) == cluster


def test_no_kubeconfig_but_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    client = connect(
        ClusterOptions(overrides=ClientOverrides(server="http://127.0.0.1:1", token="t", request_timeout=0))
    )
    assert client.host == "http://127.0.0.1:1"
    with pytest.raises(InputError, match="no kubeconfig found"):
        connect(ClusterOptions())
    with pytest.raises(InputError, match="no such file"):
        load_configuration(str(tmp_path / "missing"))


def test_namespace_rule(kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    options = ClusterOptions(str(kubeconfig))
    assert client_namespace(options) == ("team-a", False)
    assert client_namespace(ClusterOptions(str(kubeconfig), "dev")) == ("default", False)
    given = ClusterOptions(str(kubeconfig), overrides=ClientOverrides(namespace="given"))
    assert client_namespace(given) == ("given", True)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert client_namespace(ClusterOptions()) == ("default", False)


def test_the_server_is_named_without_its_user_or_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API server's URL is every cluster error's where: a password written into it is never shown."""
    from sealkit.clients.kube.proxy import ControllerProxy

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    options = ClusterOptions(
        overrides=ClientOverrides(server="http://admin:hunter2@127.0.0.1:1", token="t", request_timeout=0)
    )
    assert connect(options).host == "http://***@127.0.0.1:1"
    with pytest.raises(SealkitError) as unreachable:
        ControllerProxy(options).cert_pem()
    assert str(unreachable.value) == "cannot reach the API server (connection refused): http://***@127.0.0.1:1"
