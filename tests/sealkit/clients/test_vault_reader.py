"""The HashiCorp Vault client (`sealkit.clients.vault`) with the real hvac against the local Vault:
token and Kubernetes logins, KV v1/v2 reads, 403/404, deleted versions, KV-version hints, sealed,
unreachable and TLS failures - each one line, never a secret value, token or JWT."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sealkit.clients.vault.auth import VaultAuth
from sealkit.clients.vault.reader import VaultReader
from sealkit.csi.hashicorp.check import Denied, Found, Login, Lookup, Missing, Target
from sealkit.vault.errors import CredentialError, VaultAccessError
from sealkit_testservers.vault import VaultServer, service_account_jwt

VALUE = "vault-value-never-shown-"
LOGIN = Login("kubernetes", "web")


@pytest.fixture
def vault(vault_server: VaultServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> VaultServer:
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.vault-token unless a test writes one
    vault_server.add_mount("legacy", kv_version=1)
    vault_server.put_secret("secret", "web/db", {"password": VALUE + "1", "username": "web"})
    vault_server.put_secret("secret", "web/db", {"password": VALUE + "2", "username": "web"})
    vault_server.delete_secret("secret", "web/db", versions=[1])
    vault_server.put_secret("secret", "web/blob", {"b64": "aGVsbG8=", "hex": "cafe", "text": VALUE + "t"})
    vault_server.put_secret("legacy", "team/token", {"token": VALUE + "3"})
    vault_server.put_secret("secret", "other/db", {"password": VALUE + "4"})
    vault_server.add_policy(
        "web", 'path "secret/data/web/*" { capabilities = ["read"] }\npath "legacy/*" { capabilities = ["read"] }'
    )
    vault_server.add_role("web", service_account_names=["web"], service_account_namespaces=["team"], policies=["web"])
    return vault_server


def reader(vault: VaultServer, **kwargs: object) -> VaultReader:
    options = {"ca_cert": str(vault.ca_path), "timeout": 5.0, **kwargs}
    return VaultReader(VaultAuth(**options))  # type: ignore[arg-type]


def lookup(vault: VaultServer, path: str, mount: str | None = "secret", namespace: str = "") -> Lookup:
    return Lookup(Target(vault.url, namespace), LOGIN, path, mount)


def never_shown(*texts: object) -> None:
    for text in texts:
        assert VALUE not in str(text) and "hvs." not in str(text) and "eyJ" not in str(text)


def test_token_from_the_environment_reads_key_names(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", vault.issue_token(["web"]))
    r = reader(vault)
    try:
        found = r.fetch(lookup(vault, "secret/data/web/db"))
        assert found == Found(frozenset({"password", "username"}))
        assert r.fetch(lookup(vault, "legacy/team/token", "legacy")) == Found(frozenset({"token"}))
        blob = r.fetch(lookup(vault, "secret/data/web/blob"))
        assert isinstance(blob, Found)
        assert "b64" in blob.base64 and "text" not in blob.base64
        assert "hex" in blob.hex and "b64" not in blob.hex
        never_shown(found, blob)
    finally:
        r.close()


def test_missing_denied_deleted_and_kv_hints(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", vault.issue_token(["web"]))
    r = reader(vault)
    try:
        assert r.fetch(lookup(vault, "secret/data/web/nope")) == Missing(mount_version=2)
        assert r.fetch(lookup(vault, "secret/data/other/db")) == Denied()  # the policy names web/* only
        deleted = r.fetch(lookup(vault, "secret/data/web/db?version=1"))
        assert isinstance(deleted, Missing) and deleted.deleted
        assert r.fetch(lookup(vault, "secret/data/web/db?version=2")) == Found(frozenset({"password", "username"}))
        # KV v2 path on a KV v1 mount: a plain 404, and the mount says it is KV v1
        assert r.fetch(lookup(vault, "legacy/data/team/token", "legacy")) == Missing(mount_version=1)
        # KV v1 path on a KV v2 mount: the ACL is checked first (the web policy names secret/data/web/*)
        assert r.fetch(lookup(vault, "secret/web/db")) == Denied()
    finally:
        r.close()
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    r = reader(vault)
    # ... with read on it: Vault warns "Invalid path for a versioned K/V secrets engine"
    v1_on_v2 = r.fetch(lookup(vault, "secret/web/db"))
    assert isinstance(v1_on_v2, Missing) and v1_on_v2.versioned_hint
    r.close()


def test_token_file_and_the_vault_cli_token_helper(vault: VaultServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(vault.issue_token(["web"]) + "\n")
    r = reader(vault, token_file=str(token_file))
    assert isinstance(r.fetch(lookup(vault, "secret/data/web/db")), Found)
    r.close()
    helper = tmp_path / "home" / ".vault-token"
    helper.parent.mkdir()
    helper.write_text(vault.issue_token(["web"]))
    r = reader(vault)
    assert isinstance(r.fetch(lookup(vault, "secret/data/web/db")), Found)
    r.close()


def test_no_token_and_a_refused_token(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CredentialError, match="no Vault token: set VAULT_TOKEN"):
        reader(vault).fetch(lookup(vault, "secret/data/web/db"))
    monkeypatch.setenv("VAULT_TOKEN", "hvs.not-a-real-token")
    with pytest.raises(VaultAccessError) as caught:
        reader(vault).fetch(lookup(vault, "secret/data/web/db"))
    assert str(caught.value) == "the token was refused (403 permission denied)"
    never_shown(caught.value)


def test_kubernetes_login_with_the_role(vault: VaultServer, tmp_path: Path) -> None:
    jwt = tmp_path / "token"
    jwt.write_text(service_account_jwt("team", "web"))
    r = reader(vault, mode="kubernetes", jwt_file=str(jwt))
    try:
        assert isinstance(r.fetch(lookup(vault, "secret/data/web/db")), Found)
        assert r.fetch(lookup(vault, "secret/data/other/db")) == Denied()
    finally:
        r.close()
    logins = [rec for rec in vault.requests if rec.path.endswith("/login")]
    assert len(logins) == 1  # one login per (Vault, mount, role), shared by every read


def test_refused_logins_are_one_line(vault: VaultServer, tmp_path: Path) -> None:
    jwt = tmp_path / "token"
    jwt.write_text(service_account_jwt("team", "intruder"))
    with pytest.raises(VaultAccessError) as caught:
        reader(vault, mode="kubernetes", jwt_file=str(jwt)).fetch(lookup(vault, "secret/data/web/db"))
    assert str(caught.value) == (
        "the Kubernetes login as role 'web' at auth/kubernetes was refused (403 service account name not authorized)"
    )
    never_shown(caught.value)
    other_mount = Lookup(Target(vault.url), Login("k8s-prod", "web"), "secret/data/web/db", "secret")
    with pytest.raises(VaultAccessError, match=r"no such auth mount or namespace \(404"):
        reader(vault, mode="kubernetes", jwt_file=str(jwt)).fetch(other_mount)
    absent = tmp_path / "absent"
    with pytest.raises(CredentialError) as unreadable:
        reader(vault, mode="kubernetes", jwt_file=str(absent)).fetch(lookup(vault, "secret/data/web/db"))
    assert str(unreadable.value) == f"cannot read the service-account token file (no such file or directory): {absent}"
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(CredentialError) as empty:
        reader(vault, mode="kubernetes", jwt_file=str(tmp_path / "empty")).fetch(lookup(vault, "secret/data/web/db"))
    assert str(empty.value) == f"the service-account token file is empty: {tmp_path / 'empty'}"


def test_sealed_unreachable_and_tls(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    r = reader(vault)
    assert isinstance(r.fetch(lookup(vault, "secret/data/web/db")), Found)
    vault.seal()
    with pytest.raises(VaultAccessError) as sealed:
        r.fetch(lookup(vault, "secret/data/web/nope"))
    assert str(sealed.value) == "Vault is sealed (503): unseal it"
    r.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gone = Lookup(Target(f"https://127.0.0.1:{port}"), LOGIN, "secret/data/web/db", "secret")
    with pytest.raises(VaultAccessError) as refused:
        reader(vault).fetch(gone)
    assert str(refused.value) == "cannot reach Vault (connection refused)"
    vault.unseal()
    with pytest.raises(VaultAccessError) as untrusted:
        reader(vault, ca_cert=None).fetch(lookup(vault, "secret/data/web/db"))
    assert str(untrusted.value) == (
        "cannot reach Vault (TLS: the server's certificate is not trusted (certificate verify failed)): "
        "give Vault's CA with --vault-cacert or VAULT_CACERT"
    )


def test_namespaces_and_address_overrides(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    vault.add_namespace("team/prod")
    vault.put_secret("secret", "web/db", {"password": VALUE}, namespace="team/prod")
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    spec_address = "https://vault.example.com:8200"
    r = reader(vault, addresses=((spec_address, vault.url),))
    found = r.fetch(Lookup(Target(spec_address, "team/prod"), LOGIN, "secret/data/web/db", "secret"))
    assert found == Found(frozenset({"password"}))
    assert [rec.namespace for rec in vault.requests if rec.path == "/v1/secret/data/web/db"] == ["team/prod"]
    r.close()


@pytest.mark.parametrize("token", ["{t}\nhvs.second-line", "{t} trailing-word", "{t}\u2019"])
def test_a_token_that_is_not_one_word_is_refused_without_showing_it(
    vault: VaultServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, token: str
) -> None:
    # Before: requests refused the header and quoted it: "the token failed: Invalid ... header value: 'hvs...'".
    value = token.format(t=vault.root_token)
    monkeypatch.setenv("VAULT_TOKEN", value)
    with pytest.raises(CredentialError) as caught:
        reader(vault).fetch(lookup(vault, "secret/data/web/db"))
    assert str(caught.value) == (
        "the Vault token is not one token (it holds spaces, line breaks or characters a token cannot have): "
        "$VAULT_TOKEN"
    )
    (tmp_path / "token").write_text(value)
    with pytest.raises(CredentialError) as from_file:
        reader(vault, token_file=str(tmp_path / "token")).fetch(lookup(vault, "secret/data/web/db"))
    assert str(from_file.value).endswith(f": {tmp_path / 'token'}")
    never_shown(caught.value, from_file.value)
    assert vault.root_token not in str(caught.value) + str(from_file.value)


def test_a_ca_bundle_that_cannot_be_used_is_one_line(
    vault: VaultServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Before: "the token failed: Could not find a suitable TLS CA certificate bundle, invalid path: ..." and
    # "cannot reach Vault (TLS handshake failed)" for a file that is not PEM.
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    with pytest.raises(CredentialError) as missing:
        reader(vault, ca_cert=str(tmp_path / "absent.pem")).fetch(lookup(vault, "secret/data/web/db"))
    assert str(missing.value) == f"cannot read the CA bundle (no such file or directory): {tmp_path / 'absent.pem'}"
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    with pytest.raises(CredentialError) as garbage:
        reader(vault, ca_cert=str(tmp_path / "ca.pem")).fetch(lookup(vault, "secret/data/web/db"))
    assert str(garbage.value) == f"the CA bundle holds no PEM certificate: {tmp_path / 'ca.pem'}"


@pytest.mark.parametrize("path", ["web%2fdb", "web/db#x", "web/db%23x", "web/%2e%2e/web/db"])
def test_paths_reach_vault_as_the_provider_sends_them(
    vault: VaultServer, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # The provider sets the path as Go's url.URL.Path (path.Join, then escaped: '%' as %25, '#' as %23), so Vault
    # looks up the literal key. Before: '%2f' reached Vault as '/' and '#x' was cut off as a fragment, so
    # verify read secret/data/web/db and passed a path the provider cannot read.
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    r = reader(vault)
    try:
        assert isinstance(r.fetch(lookup(vault, f"secret/data/{path}")), Missing)
        vault.put_secret("secret", path, {"password": VALUE})
        assert r.fetch(lookup(vault, f"secret/data/{path}")) == Found(frozenset({"password"}))
    finally:
        r.close()


def test_dot_segments_are_cleaned_as_go_s_path_join(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    r = reader(vault)
    try:
        assert r.fetch(lookup(vault, "secret/data/web/./db/.")) == Found(frozenset({"password", "username"}))
    finally:
        r.close()
    assert [rec.path for rec in vault.requests if "web" in rec.path] == ["/v1/secret/data/web/db"]


def test_insecure_targets_print_no_library_warning(
    vault: VaultServer, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    # Before: urllib3's InsecureRequestWarning (a file path and a class name) on stderr for every request.
    monkeypatch.setenv("VAULT_TOKEN", vault.root_token)
    r = VaultReader(VaultAuth(timeout=5.0), frozenset({Target(vault.url)}))
    try:
        assert isinstance(r.fetch(lookup(vault, "secret/data/web/db")), Found)
    finally:
        r.close()
    assert [str(w.message) for w in recwarn] == []
