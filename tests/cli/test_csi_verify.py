"""`sealkit csi verify` / `discover` with the real Azure SDK clients and azure-identity credentials,
against the local Key Vault (tokens from its local endpoint, over TLS with the test CA)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from azure.core.pipeline.transport import HttpTransport
from click.testing import CliRunner, Result

import sealkit_testservers.keyvault.vault as vault_module
from sealkit.csi.spec import load_spec
from sealkit_cli.commands.csi import csi
from sealkit_testservers.keyvault import PEM, PKCS12, KeyVaultServer, Vault

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gitops"
EXAMPLE_PIN = "3f9a1c0b7e2d4a6f8b1c2d3e4f5a6b7c"
VALUE = "plaintext-never-shown-"  # every seeded secret value starts with this


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(csi, list(args), env=env)


@pytest.fixture
def sdk_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits of the Azure SDK's retry policies (through their transport), recorded instead of slept: a
    failure that gives up at once records none."""
    waits: list[float] = []
    monkeypatch.setattr(HttpTransport, "sleep", lambda self, duration: waits.append(duration))
    return waits


def check_no_values(result: Result) -> None:
    assert VALUE not in result.output
    assert "Traceback" not in result.output


def seed_example(server: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Vault]:
    """The example repo's three vaults with every object it reads (prod keeps its pinned version)."""
    vaults = {name: server.add_vault(name) for name in ("sealkit-dev-kv", "sealkit-prod-kv", "sealkit-prod-pay")}
    for name in ("sealkit-dev-kv", "sealkit-prod-kv"):
        vault = vaults[name]
        if name == "sealkit-prod-kv":
            monkeypatch.setattr(vault_module, "new_version", lambda: EXAMPLE_PIN)
            vault.add_secret("orders-db-password", VALUE + "old")
            monkeypatch.undo()
        vault.add_secret("orders-db-password", VALUE + "db")
        vault.add_certificate("orders-api-tls", content_type=PKCS12, dns_names=["orders.example.org"])
        vault.add_key("orders-signing-key")
        vault.add_certificate("partner-ca", content_type=PEM)
    for name in ("sealkit-dev-kv", "sealkit-prod-pay"):
        vaults[name].add_secret("psp-api-key", VALUE + "psp", content_type="text/plain")
        vaults[name].add_secret("ledger-db-url", VALUE + "url")
    return vaults


def url_env(vaults: dict[str, Vault]) -> dict[str, str | None]:
    return {f"SEALKIT_VAULT_URL_{name.upper().replace('-', '_')}": v.url for name, v in vaults.items()}


@pytest.fixture
def env(keyvault_server: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Workload identity through the local token endpoint, as DefaultAzureCredential finds it."""
    for name in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_TOKEN_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("SEALKIT_")]:
        monkeypatch.delenv(name)
    return dict(keyvault_server.env())


# --- the example repo -----------------------------------------------------------------------------


def test_example_verifies_clean_then_pins_generates_checks_and_unpins(
    keyvault_server: KeyVaultServer, env: dict[str, str | None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    committed = (EXAMPLE / "sealkit-csi.yaml").read_text()
    repo = tmp_path / "gitops"
    shutil.copytree(EXAMPLE, repo)
    spec_path = repo / "sealkit-csi.yaml"
    vaults = seed_example(keyvault_server, monkeypatch)
    env |= url_env(vaults)

    result = run("verify", str(spec_path), "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["summary"]["ok"] == 12 and report["errors"] == []
    check_no_values(result)

    result = run("verify", str(spec_path), "--pin", env=env)
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"pinned current versions in {spec_path}\n")
    pinned = load_spec(spec_path, check_bases=False)
    tls_version = vaults["sealkit-prod-kv"].versions("orders-api-tls", "secret")[-1]
    orders = pinned.applications["orders"]
    assert orders.objects[1].version_for("prod") == tls_version
    assert orders.objects[0].version_for("prod") == EXAMPLE_PIN  # the existing pin is kept

    assert run("generate", "--spec", str(spec_path), "--check").exit_code == 1  # output is now stale
    assert run("generate", "--spec", str(spec_path)).exit_code == 0
    check = run("generate", "--spec", str(spec_path), "--check")
    assert check.exit_code == 0, check.output
    spc = yaml.safe_load((repo / "clusters/prod/apps/orders/secretproviderclass.yaml").read_text())
    objects = [yaml.safe_load(item) for item in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]]
    assert {o["objectName"]: o["objectVersion"] for o in objects}["orders-api-tls"] == tls_version
    assert all(o["objectVersion"] for o in objects)

    again = run("verify", str(spec_path), env=env)  # the pinned versions verify too
    assert again.exit_code == 0 and "(pinned)" in again.output

    result = run("verify", str(spec_path), "--unpin")
    assert result.exit_code == 0 and "unpinned" in result.output
    assert all(
        not obj.version_for(e)
        for app in load_spec(spec_path).applications.values()
        for obj in app.objects
        for e in ("dev", "prod")
    )
    assert (EXAMPLE / "sealkit-csi.yaml").read_text() == committed  # the committed example is untouched


# --- one object per failure kind ------------------------------------------------------------------

SPEC = """\
apiVersion: sealkit/v1alpha1
kind: KeyVaultCsi
environments:
  dev:
    vault: kv-main
    tenant: {tenant}
    overlay: clusters/dev/apps
    sealingCert: cert.pem
    identity:
      vmManagedIdentity: {{}}
applications:
  web:
    namespace: team
    base: apps/web/base
    objects:
{objects}
"""


def write_spec(root: Path, tenant: str, objects: list[dict[str, str]]) -> Path:
    body = yaml.safe_dump(objects, sort_keys=False)
    path = root / "sealkit-csi.yaml"
    path.write_text(SPEC.format(tenant=tenant, objects="\n".join("      " + line for line in body.splitlines())))
    return path


@pytest.fixture
def vault(keyvault_server: KeyVaultServer) -> Vault:
    return keyvault_server.add_vault("kv-main")


@pytest.fixture
def spec_env(env: dict[str, str | None], vault: Vault) -> dict[str, str | None]:
    return env | {"SEALKIT_VAULT_URL_KV_MAIN": vault.url}


def test_each_failure_is_reported_per_object(
    keyvault_server: KeyVaultServer, vault: Vault, spec_env: dict[str, str | None], tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    vault.add_secret("good", VALUE + "1", content_type="text/plain")
    vault.add_secret("off", VALUE + "2")
    vault.disable("off")
    vault.add_secret("stale", VALUE + "3", exp=now - dt.timedelta(days=1))
    vault.add_secret("early", VALUE + "4", nbf=now + dt.timedelta(days=1))
    vault.add_secret("soon", VALUE + "5", exp=now + dt.timedelta(days=3))
    gone = vault.add_secret("rotated", VALUE + "6")
    vault.delete("rotated")
    vault.purge("rotated")
    vault.add_secret("rotated", VALUE + "7")
    vault.add_key("signing")
    vault.disable("signing")
    vault.add_certificate(
        "ca", content_type=PEM, not_after=now - dt.timedelta(hours=1), not_before=now - dt.timedelta(days=30)
    )
    vault.add_certificate("tls", content_type=PEM)
    objects = [
        {"name": "good"},
        {"name": "missing"},
        {"name": "off"},
        {"name": "stale"},
        {"name": "early"},
        {"name": "soon"},
        {"name": "rotated", "version": gone},
        {"name": "signing", "type": "key"},
        {"name": "ca", "type": "cert"},
        {"name": "tls", "format": "pfx"},
    ]
    spec = write_spec(tmp_path, keyvault_server.tenant_id, objects)
    result = run("verify", str(spec), "--format", "json", env=spec_env)
    assert result.exit_code == 1
    check_no_values(result)
    report = json.loads(result.stdout)
    rows = {o["object"]: o for o in report["objects"]}
    expected = {
        "good": ("ok", ""),
        "missing": ("failed", "not found, or deleted (SecretNotFound)"),
        "off": ("failed", "current version is disabled (SecretDisabled)"),
        "stale": ("failed", "expired "),
        "early": ("failed", "not valid before "),
        "soon": ("warning", "expires "),
        "rotated": ("failed", f"pinned version {gone} not found, or deleted"),
        # A disabled key stays readable (200, enabled: false), unlike a secret: no error code to show.
        "signing": ("failed", "current version is disabled"),
        "ca": ("failed", "expired "),
        "tls": ("failed", "format pfx, but the certificate stores PEM"),
    }
    for name, (status, problem) in expected.items():
        assert rows[name]["status"] == status, rows[name]
        assert problem in " ".join(rows[name]["problems"]), rows[name]
    assert rows["good"]["contentType"] == "text/plain" and rows["tls"]["certificateBacked"] is True

    table = run("verify", str(spec), "--problems-only", env=spec_env)
    assert table.exit_code == 1
    assert "good" not in table.output and "error: 8 reference(s) failed verification" in table.output
    assert "10 reference(s) in 1 vault(s): 1 ok, 1 warning, 8 failed" in table.output
    check_no_values(table)


def test_pin_refuses_to_write_when_anything_fails(
    keyvault_server: KeyVaultServer, vault: Vault, spec_env: dict[str, str | None], tmp_path: Path
) -> None:
    vault.add_secret("good", VALUE)
    spec = write_spec(tmp_path, keyvault_server.tenant_id, [{"name": "good"}, {"name": "missing"}])
    before = spec.read_text()
    result = run("verify", str(spec), "--pin", env=spec_env)
    assert result.exit_code == 1 and "not pinned: fix the failures first" in result.output
    assert spec.read_text() == before


def test_repin_moves_an_old_pin_to_the_current_version(
    keyvault_server: KeyVaultServer, vault: Vault, spec_env: dict[str, str | None], tmp_path: Path
) -> None:
    old = vault.add_secret("db", VALUE + "a")
    new = vault.add_secret("db", VALUE + "b")
    spec = write_spec(tmp_path, keyvault_server.tenant_id, [{"name": "db", "version": old}])
    assert run("verify", str(spec), "--pin", env=spec_env).output.endswith(f"nothing new to pin in {spec}\n")
    assert run("verify", str(spec), "--repin", env=spec_env).exit_code == 0
    assert load_spec(spec, check_bases=False).applications["web"].objects[0].version_for("dev") == new


# --- vault-level failures: one line each, fast ----------------------------------------------------


@pytest.fixture
def many(keyvault_server: KeyVaultServer, vault: Vault, tmp_path: Path) -> Path:
    for i in range(12):
        vault.add_secret(f"s{i}", VALUE)
    return write_spec(tmp_path, keyvault_server.tenant_id, [{"name": f"s{i}"} for i in range(12)])


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error: ")]


def test_throttling_with_retry_after_is_retried(vault: Vault, many: Path, spec_env: dict[str, str | None]) -> None:
    vault.throttle(3, retry_after=0.05)
    result = run("verify", str(many), "--concurrency", "1", env=spec_env)
    assert result.exit_code == 0, result.output
    assert sum(1 for r in vault.requests if r.status == 429) == 3


def test_a_long_retry_after_fails_at_once_with_one_line(
    vault: Vault, many: Path, spec_env: dict[str, str | None], sdk_waits: list[float]
) -> None:
    vault.throttle(100, retry_after=120)
    result = run("verify", str(many), env=spec_env)
    assert result.exit_code == 2
    assert sdk_waits == [] and sum(1 for r in vault.requests if r.status == 429) <= 8  # no wait, no retry
    (line,) = error_lines(result)
    assert "throttled (429 Throttled); Retry-After 120 s is longer than the 10 s sealkit waits" in line
    assert "kv-main" in line


def test_no_credential_is_one_line_and_fast(
    many: Path, spec_env: dict[str, str | None], sdk_waits: list[float]
) -> None:
    env = spec_env | {"AZURE_CLIENT_ID": None, "AZURE_FEDERATED_TOKEN_FILE": None, "AZURE_TENANT_ID": None}
    env |= {"PATH": "/nonexistent", "IDENTITY_ENDPOINT": None, "MSI_ENDPOINT": None}
    result = run("verify", str(many), env=env)
    assert result.exit_code == 2 and sdk_waits == []
    assert error_lines(result) == [
        "error: no Azure credential found: DefaultAzureCredential tried the environment, workload identity, "
        "managed identity and developer sign-ins; set AZURE_TENANT_ID + AZURE_CLIENT_ID with "
        "AZURE_FEDERATED_TOKEN_FILE or AZURE_CLIENT_SECRET, run `az login`, or choose one with --auth"
    ]


def test_incomplete_workload_identity_settings_are_one_line(many: Path, spec_env: dict[str, str | None]) -> None:
    env = spec_env | {"AZURE_FEDERATED_TOKEN_FILE": None}
    result = run("verify", str(many), "--auth", "workload-identity", env=env)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line == (  # what is missing and how to set it (the variable, or this CLI's flag), then where
        "error: Missing required arguments: 'token_file_path'; set AZURE_FEDERATED_TOKEN_FILE or "
        "--federated-token-file: --auth workload-identity"
    )


TOKEN_FILE = "environment variable AZURE_FEDERATED_TOKEN_FILE"


@pytest.mark.parametrize(
    ("mode", "settings", "line"),
    [
        (
            "default",
            {"AZURE_TENANT_ID": "   "},
            "not a tenant ID (a GUID) or a domain name: environment variable AZURE_TENANT_ID",
        ),
        (
            "workload-identity",
            {"AZURE_TENANT_ID": "not a tenant!"},
            "not a tenant ID (a GUID) or a domain name: environment variable AZURE_TENANT_ID",
        ),
        (
            "workload-identity",
            {"AZURE_CLIENT_ID": " "},
            "not a client ID (it holds white space): environment variable AZURE_CLIENT_ID",
        ),
        (
            "workload-identity",
            {"AZURE_AUTHORITY_HOST": "http://127.0.0.1:9"},
            "not an https:// URL (tokens would be asked for in clear): environment variable AZURE_AUTHORITY_HOST",
        ),
        (
            "default",
            {"AZURE_AUTHORITY_HOST": "not a url"},
            "not an https:// URL or a host name: environment variable AZURE_AUTHORITY_HOST",
        ),
        (
            "workload-identity",
            {"AZURE_AUTHORITY_HOST": "https://"},
            "not an https:// URL or a host name: environment variable AZURE_AUTHORITY_HOST",
        ),
        (
            "workload-identity",
            {"AZURE_AUTHORITY_HOST": ""},
            "empty (unset it for the public cloud): environment variable AZURE_AUTHORITY_HOST",
        ),
        (
            "workload-identity",
            {"AZURE_FEDERATED_TOKEN_FILE": "{tmp}"},
            f"the federated token file is a directory: {TOKEN_FILE}",
        ),
        (
            "workload-identity",
            {"AZURE_FEDERATED_TOKEN_FILE": "{tmp}/absent"},
            f"cannot read the federated token file (no such file or directory): {TOKEN_FILE}",
        ),
        (
            "workload-identity",
            {"AZURE_FEDERATED_TOKEN_FILE": "{tmp}/huge"},
            f"the federated token file is larger than 64 KiB: {TOKEN_FILE}",
        ),
        (
            "workload-identity",
            {"AZURE_FEDERATED_TOKEN_FILE": "{tmp}/empty"},
            f"the federated token file is empty: {TOKEN_FILE}",
        ),
        (
            "workload-identity",
            {"AZURE_FEDERATED_TOKEN_FILE": "{tmp}/binary"},
            f"the federated token file is not UTF-8 text: {TOKEN_FILE}",
        ),
        (
            "default",
            {"AZURE_FEDERATED_TOKEN_FILE": "/dev/null"},
            f"the federated token file is not a regular file: {TOKEN_FILE}",
        ),
        (
            "service-principal",
            {"AZURE_CLIENT_SECRET": "   "},
            "blank (white space only): environment variable AZURE_CLIENT_SECRET",
        ),
        (
            "service-principal",
            {"AZURE_CLIENT_SECRET": "sp-secret-value~1\n"},
            "starts or ends with white space: environment variable AZURE_CLIENT_SECRET",
        ),
    ],
)
def test_an_azure_setting_that_cannot_work_is_one_line_naming_it(
    many: Path, spec_env: dict[str, str | None], tmp_path: Path, mode: str, settings: dict[str, str], line: str
) -> None:
    """An AZURE_* variable azure-identity takes and fails on later: a token file that is a directory or missing
    ended in a traceback (FileNotFoundError, IsADirectoryError: internal error, exit 1); a 20 MiB one was read
    whole and sent; others gave a message naming no variable ('Failed to parse: Host ...', 'Invalid URL
    https:///...', the 'not configured to acquire tokens for tenant' of the spec's tenant). Now one line naming
    the variable, never a secret's value, before any request."""
    (tmp_path / "huge").write_bytes(b"e" * (20 * 1024 * 1024))
    (tmp_path / "empty").write_bytes(b" \n")
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00eyJ")
    env = spec_env | {name: value.format(tmp=tmp_path) for name, value in settings.items()}
    result = run("verify", str(many), "--auth", mode, env=env)
    assert (result.exit_code, result.output) == (2, f"error: {line}\n")
    assert "sp-secret-value" not in result.output


def test_no_permission_is_one_line(vault: Vault, many: Path, spec_env: dict[str, str | None]) -> None:
    vault.deny()
    result = run("verify", str(many), env=spec_env)
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 1 and "403 ForbiddenByRbac: this identity may not read secrets" in lines[0]
    assert sum(1 for r in vault.requests if r.status == 403) <= 8  # stopped early, not once per object


def test_unreachable_vault_is_one_line_and_fast(
    vault: Vault, many: Path, spec_env: dict[str, str | None], sdk_waits: list[float]
) -> None:
    vault.stop()
    result = run("verify", str(many), env=spec_env)
    assert result.exit_code == 2 and sdk_waits == []
    (line,) = error_lines(result)
    assert line == f"error: cannot reach the vault (connection refused): vault kv-main ({vault.url})"


def test_unreachable_token_endpoint_is_one_line(
    many: Path, spec_env: dict[str, str | None], sdk_waits: list[float]
) -> None:
    env = spec_env | {"AZURE_AUTHORITY_HOST": "https://127.0.0.1:9"}
    result = run("verify", str(many), "--auth", "workload-identity", env=env)
    assert sdk_waits == []
    (line,) = error_lines(result)
    assert line.startswith("error: cannot reach the token endpoint:")


# --- URLs, challenge resources, credentials -------------------------------------------------------


def test_a_host_that_does_not_match_the_challenge_needs_an_accepted_resource(
    keyvault_server: KeyVaultServer, vault: Vault, many: Path, env: dict[str, str | None]
) -> None:
    localhost = vault.url.replace("127.0.0.1", "localhost")
    refused = run("verify", str(many), "--vault-url", f"kv-main={localhost}", env=env)
    assert refused.exit_code == 2
    (line,) = error_lines(refused)
    assert "challenge names resource vault.azure.net" in line and "--accept-challenge-resource" in line

    accepted = run(
        "verify", str(many), "--vault-url", f"kv-main={localhost}",
        "--accept-challenge-resource", "https://vault.azure.net", env=env,
    )  # fmt: skip
    assert accepted.exit_code == 0, accepted.output

    other = run(
        "verify", str(many), "--vault-url", f"kv-main={localhost}",
        "--accept-challenge-resource", "https://vault.example.org", env=env,
    )  # fmt: skip
    (line,) = error_lines(other)
    assert "asked for a token for https://vault.azure.net, not an accepted challenge resource" in line
    assert not [t for t in keyvault_server.token_requests if "example.org" in t.scope]


def test_service_principal_auth(
    keyvault_server: KeyVaultServer, vault: Vault, many: Path, spec_env: dict[str, str | None]
) -> None:
    secret = keyvault_server.client.secret
    assert secret is not None
    env = spec_env | {"AZURE_CLIENT_SECRET": secret, "AZURE_FEDERATED_TOKEN_FILE": None}
    result = run("verify", str(many), "--auth", "service-principal", "--disable-instance-discovery", env=env)
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert {t.grant for t in keyvault_server.token_requests} == {"secret"}


def test_explicit_workload_identity_flags(
    keyvault_server: KeyVaultServer, vault: Vault, many: Path, spec_env: dict[str, str | None]
) -> None:
    env = spec_env | {"AZURE_CLIENT_ID": None, "AZURE_FEDERATED_TOKEN_FILE": None, "AZURE_TENANT_ID": None}
    result = run(
        "verify", str(many), "--auth", "workload-identity",
        "--client-id", keyvault_server.client.client_id,
        "--federated-token-file", str(keyvault_server.federated_token_file), env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {t.grant for t in keyvault_server.token_requests} == {"assertion"}


def test_bad_flags_are_one_line(many: Path, spec_env: dict[str, str | None]) -> None:
    result = run("verify", str(many), "--vault-url", "kv-main=http://127.0.0.1:1", env=spec_env)
    assert error_lines(result) == [
        "error: 'http://127.0.0.1:1' must be an https:// URL (Key Vault clients refuse anything else): "
        "--vault-url kv-main"
    ]
    assert run("verify", str(many), "--pin", "--unpin").exit_code == 2
    assert "unknown environment 'qa'" in run("verify", str(many), "--env", "qa", env=spec_env).output


# --- discover --------------------------------------------------------------------------------------


def test_discover_pages_through_the_vault_and_prints_a_fragment(vault: Vault, env: dict[str, str | None]) -> None:
    for i in range(30):
        vault.add_secret(f"app-secret-{i:02d}", VALUE, tags={"team": "orders"} if i == 0 else None)
    vault.add_certificate("web-tls", content_type=PKCS12)
    vault.add_key("signing")
    vault.add_secret("expired-one", VALUE, exp=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    result = run("discover", "--vault", "kv-main", "--vault-url", f"kv-main={vault.url}", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    check_no_values(result)
    data = json.loads(result.stdout)
    names = [o["name"] for o in data["objects"]]
    assert len(names) == 33 and "web-tls" in names and names.count("web-tls") == 1  # managed secret/key folded
    assert next(o for o in data["objects"] if o["name"] == "web-tls")["contentType"] == PKCS12
    assert next(o for o in data["objects"] if o["name"] == "app-secret-00")["tags"] == {"team": "orders"}
    assert any("$skiptoken" in r.query for r in vault.requests if r.path == "/secrets")  # paged
    fragment = yaml.safe_load(data["fragment"])
    assert {"name": "web-tls", "type": "secret", "format": "pem"} in fragment["objects"]
    assert {"name": "signing", "type": "key"} in fragment["objects"]
    assert {"name": "expired-one"} not in fragment["objects"]

    table = run("discover", "--vault", "kv-main", "--vault-url", f"kv-main={vault.url}", env=env)
    assert table.exit_code == 0 and table.output.startswith("TYPE") and "objects:\n" in table.output


def test_discover_failures_are_one_line(vault: Vault, env: dict[str, str | None]) -> None:
    vault.deny()
    result = run("discover", "--vault", "kv-main", "--vault-url", f"kv-main={vault.url}", env=env)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith("error: 403 ForbiddenByRbac") and line.endswith(f": vault kv-main ({vault.url})")
    (bad_name,) = error_lines(run("discover", "--vault", "x"))
    assert bad_name.startswith("error: keyvaultName") and bad_name.endswith(": --vault")
    # No token: the line names the credential that could not get one.
    no_cli = env | {"PATH": "/nonexistent"}
    result = run("discover", "--vault", "kv-main", "--vault-url", f"kv-main={vault.url}", "--auth", "cli", env=no_cli)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert line.startswith("error: the credential could not get a token: ") and line.endswith(": --auth cli")
    # A credential that cannot even be built (service-principal without its variables) names --auth too.
    no_secret = env | {"AZURE_CLIENT_SECRET": None}
    args = ("discover", "--vault", "kv-main", "--vault-url", f"kv-main={vault.url}", "--auth", "service-principal")
    result = run(*args, env=no_secret)
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: this mode needs AZURE_TENANT_ID or --tenant-id, AZURE_CLIENT_ID or --client-id, and "
        "AZURE_CLIENT_SECRET; the secret is read from the environment only: --auth service-principal"
    ]


def test_discover_refuses_a_vault_url_for_another_vault(vault: Vault, env: dict[str, str | None]) -> None:
    """A mistyped name in --vault-url was ignored: the credential went to the public cloud's vault of that name."""
    args = ("discover", "--vault", "kv-main", "--vault-url", f"kv-mian={vault.url}")
    result = run(*args, env=env)
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: names vault kv-mian, not the one listed (--vault kv-main): --vault-url kv-mian"
    ]
    assert vault.requests == []
    assert run("discover", "--vault", "KV-Main", "--vault-url", f"kv-main={vault.url}", env=env).exit_code == 0


# --- import cost -----------------------------------------------------------------------------------


def test_help_does_not_import_the_azure_sdk() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sealkit_cli.main import cli\n"
        "for args in (['--help'], ['csi', '--help'], ['csi', 'verify', '--help'], ['csi', 'discover', '--help']):\n"
        "    r = CliRunner().invoke(cli, args)\n"
        "    assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.startswith('azure')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
