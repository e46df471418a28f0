"""`sealkit keys` against the odd answers a real Key Vault (or what stands in front of it) gives.

Escrowed copies outside their exp/nbf, copies that do not hold their key, KEKs that are expired, not yet
valid or too small, a `nextLink` or redirect to another host, a listing that loops, a 200 that is not JSON,
`Retry-After: nan`. Each is one `error:` line (or a checked repair), never an "ok" that was not checked, and
never a token sent elsewhere.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.escrow import scheme as escrow
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit_cli.main import cli
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.keyvault.api import VaultApi
from sealkit_testservers.keyvault.https import Request, Response
from sealkit_testservers.kube import KubeServer
from tests.cli.test_keys import NS, add_key, check_clean, key_secrets, run, vault_args
from tests.cli.test_keys_wrap import add_plaintext, keys_cmd, plaintext, wrapped
from tests.support.wrapped import Kek

Rewrite = Callable[[Vault, Request, Response], Response]


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    return [generate_key_pair(bits=2048) for _ in range(2)]


@pytest.fixture
def env(keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("SEALKIT_ESCROW_VAULT", "SEALKIT_ESCROW_CLUSTER_NAME", "KUBECONFIG", "SEALKIT_AZURE_AUTH"):
        monkeypatch.delenv(name, raising=False)
    return keyvault_env


@pytest.fixture
def rewriting(keyvault_server: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Rewrite]]:
    """Vaults added after this fixture pass every answer through `rules[vault.name]` (if set)."""
    rules: dict[str, Rewrite] = {}
    real = VaultApi.handle

    def handle(self: VaultApi, request: Request) -> Response:
        response = real(self, request)
        rule = rules.get(self.vault.name)
        return rule(self.vault, request, response) if rule else response

    monkeypatch.setattr(VaultApi, "handle", handle)
    yield rules


def seed(vault: Vault, pair: GeneratedKey, **attributes: object) -> str:
    payload = escrow.build_payload(pair.key, "dev")
    value = str(attributes.pop("value", payload.value))
    vault.add_secret(payload.name, value, content_type=payload.content_type, tags=dict(payload.tags), **attributes)  # type: ignore[arg-type]
    return payload.name


def repo(tmp_path: Path, pair: GeneratedKey) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s0", "namespace": "app"}}
    sealed = seal_secret({**secret, "stringData": {"v": "x"}}, load_certificate(pair.certificate_pem))
    (root / "s0.yaml").write_text(yaml.safe_dump(sealed))
    return root


def check_recovery(vault: Vault, root: Path) -> Result:
    return CliRunner().invoke(cli, ["keys", "check-recovery", str(root), *vault_args(vault)])


@pytest.mark.parametrize(("attribute", "state"), [("exp", "expired"), ("nbf", "not yet valid")])
def test_an_escrowed_copy_outside_its_validity_is_restored_with_a_warning_and_renewed(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault: Vault,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    tmp_path: Path,
    attribute: str,
    state: str,
) -> None:
    """Key Vault serves expired and not-yet-valid secrets (it does not enforce exp/nbf on reads). Such a copy
    still holds the key (checked on reading): a restore uses it and says so, since a cluster rebuilt without
    it makes a new key and every SealedSecret sealed for the old one stays closed; `list` shows the state;
    `backup` did say 'already escrowed' and now writes a fresh version over it. A disabled copy is never used."""
    when = int(time.time()) + (-3600 if attribute == "exp" else 3600)
    name = seed(keyvault, pairs[0], **{attribute: when})
    fp = pairs[0].key.fingerprint
    warning = (
        f"warning: escrowed key {name} ({fp}) is {state} in the vault: its key is used; "
        "`sealkit keys backup --vault` (or the controller's escrow) writes a fresh version\n"
    )

    listed = run(kubeconfig, "list", *vault_args(keyvault), "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)[0]["escrowed"] == state.replace(" ", "-")

    checked = check_recovery(keyvault, repo(tmp_path, pairs[0]))
    assert checked.exit_code == 0, checked.output
    assert checked.stderr == warning and checked.stdout.endswith(": all open\n")

    restored = run(kubeconfig, "restore", *vault_args(keyvault))
    assert restored.exit_code == 0, restored.output
    assert restored.stderr == warning
    assert [s["metadata"]["annotations"] for s in key_secrets(kube)] != []

    backup = run(kubeconfig, "backup", *vault_args(keyvault))
    assert backup.exit_code == 0, backup.output
    assert backup.output == (
        f"escrowed {fp} as {name} in {keyvault.url} (the copy there is {state}; a new version was written)\n"
    )
    assert len(keyvault.versions(name, "secret")) == 2
    again = run(kubeconfig, "backup", *vault_args(keyvault))
    assert again.output.startswith(f"already escrowed {fp}"), again.output
    check_clean(backup, pairs)


@pytest.mark.parametrize("value", ["not a key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"])
def test_backup_reads_an_existing_copy_before_calling_it_escrowed(
    kube: KubeServer, kubeconfig: Path, keyvault: Vault, env: dict[str, str], pairs: list[GeneratedKey], value: str
) -> None:
    """`backup` trusted the listing's tags: a copy whose value is not the key (truncated, replaced) was
    'already escrowed' (exit 0) for ever. Now it is read and checked; a bad one gets a new version."""
    name = seed(keyvault, pairs[0], value=value)
    add_key(kube, pairs[0])
    result = run(kubeconfig, "backup", *vault_args(keyvault))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"escrowed {pairs[0].key.fingerprint} as {name} in {keyvault.url} (the copy ")
    assert result.output.endswith("; a new version was written)\n") and "cannot be used (" in result.output
    assert len(keyvault.versions(name, "secret")) == 2
    restored_from = keyvault.client().get_secret(name).value
    assert escrow.parse_payload(restored_from, name=name, cluster="dev").fingerprint == pairs[0].key.fingerprint
    check_clean(result, pairs)


def test_a_copy_changed_after_listing_is_checked_as_read(
    kube: KubeServer, kubeconfig: Path, keyvault: Vault, env: dict[str, str], pairs: list[GeneratedKey]
) -> None:
    """The value is read from the newest version, which may not be the one listed: its own attributes and tags
    are checked (an expired version, or one tagged for another cluster, is not restored)."""
    name = seed(keyvault, pairs[0])
    payload = escrow.build_payload(pairs[0].key, "dev")
    real_entries = escrow.entry_from_listing

    def listed_then_changed(*args: object, **kwargs: object) -> object:
        entry = real_entries(*args, **kwargs)  # type: ignore[arg-type]
        if not kube.list("v1", "Secret", NS) and len(keyvault.versions(name, "secret")) == 1:
            tags = {**payload.tags, "cluster": "prod"}
            keyvault.add_secret(name, payload.value, content_type=payload.content_type, tags=tags)
        return entry

    import sealkit.clients.keyvault.escrow as vault_escrow

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vault_escrow, "entry_from_listing", listed_then_changed)
        result = run(kubeconfig, "restore", *vault_args(keyvault))
    assert result.exit_code == 2, result.output
    assert result.output == (
        "error: its tags do not name it a scheme-1 escrow of cluster dev's key; nothing restored: "
        f"escrowed key {name} ({payload.fingerprint})\n"
    )
    assert key_secrets(kube) == []


@pytest.mark.parametrize("change", ["disabled", "deleted and purged", "deleted"])
def test_backup_writes_a_fresh_version_over_a_copy_gone_or_disabled_since_the_listing(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault: Vault,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    """A copy disabled (or deleted) between the listing and the read ended `backup` with exit 2 ('the secret is
    disabled'), though a copy the listing shows disabled gets a fresh version: the vault answered about the copy,
    not about the caller. Now it gets one too. A name still held by a soft-deleted secret cannot be written: that
    stays one line saying to recover or purge it (exit 2)."""
    from sealkit.clients.keyvault.escrow import EscrowVault

    name = seed(keyvault, pairs[0])
    add_key(kube, pairs[0])
    real = EscrowVault.entries

    def entries(self: EscrowVault, cluster: str) -> list[escrow.EscrowEntry]:
        found = real(self, cluster)
        if change == "disabled":
            keyvault.disable(name)
        else:
            keyvault.delete(name)
            if change == "deleted and purged":
                keyvault.purge(name)
        return found

    monkeypatch.setattr(EscrowVault, "entries", entries)
    result = run(kubeconfig, "backup", *vault_args(keyvault))
    check_clean(result, pairs)
    if change == "deleted":
        assert result.exit_code == 2, result.output
        (line,) = result.output.splitlines()
        assert line.startswith("error: 409 Conflict: a deleted secret of that name is kept; recover it")
        return
    assert result.exit_code == 0, result.output
    why = "disabled" if change == "disabled" else "deleted"
    assert result.output == (
        f"escrowed {pairs[0].key.fingerprint} as {name} in {keyvault.url} "
        f"(the copy there was {why} since the listing; a new version was written)\n"
    )
    monkeypatch.setattr(EscrowVault, "entries", real)
    again = run(kubeconfig, "backup", *vault_args(keyvault))
    assert again.output.startswith(f"already escrowed {pairs[0].key.fingerprint}"), again.output


def _next_link_to(target: Callable[[], str]) -> Rewrite:
    def rule(vault: Vault, request: Request, response: Response) -> Response:
        if request.path != "/secrets" or response.status != 200:
            return response
        body = json.loads(response.body)
        body["nextLink"] = f"{target()}/secrets?api-version={request.param('api-version')}"
        return Response.json(200, body)

    return rule


def test_a_next_link_or_redirect_to_another_host_gets_no_request(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    rewriting: dict[str, Rewrite],
) -> None:
    """The SDK followed a `nextLink` to any host, answered its challenge and sent it a bearer token; it
    followed redirects there too. Now no request leaves for another scheme, host or port."""
    vault, elsewhere = keyvault_server.add_vault("escrow"), keyvault_server.add_vault("elsewhere")
    seed(vault, pairs[0])
    add_key(kube, pairs[1])
    rewriting["escrow"] = _next_link_to(lambda: elsewhere.url)
    refused = f"the vault's answer leads to another host ({elsewhere.url}); not followed"
    expected = f"error: {refused}: Key Vault {vault.url}\n"
    for command in ("list", "restore", "backup"):
        result = run(kubeconfig, command, *vault_args(vault))
        assert (result.exit_code, result.output) == (2, expected), command
    assert elsewhere.requests == []

    def redirect(vault: Vault, request: Request, response: Response) -> Response:
        return Response(302, b"", {"Location": f"{elsewhere.url}{request.path}?api-version=2026-04-01"})

    rewriting["escrow"] = redirect
    result = run(kubeconfig, "list", *vault_args(vault))
    assert (result.exit_code, result.output) == (2, expected)
    assert elsewhere.requests == [] and key_secrets(kube)[0]["metadata"]["name"]


def test_a_listing_that_loops_ends(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    rewriting: dict[str, Rewrite],
) -> None:
    """A `nextLink` back to the first page was followed for ever (the command hung)."""
    vault = keyvault_server.add_vault("escrow")
    seed(vault, pairs[0])
    rewriting["escrow"] = _next_link_to(lambda: vault.url)
    result = run(kubeconfig, "restore", *vault_args(vault))
    assert (result.exit_code, result.output) == (
        2,
        f"error: the vault's listing loops (a nextLink it gave before): Key Vault {vault.url}\n",
    )
    assert len([r for r in vault.requests if r.path == "/secrets" and r.status == 200]) == 2


def test_an_answer_that_is_not_json_and_a_retry_after_of_nan(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    env: dict[str, str],
    rewriting: dict[str, Rewrite],
) -> None:
    """A 200 that is not JSON (a proxy's page) read 'Expecting value: line 1 column 1 (char 0)' (Python's json
    message, as a credential failure); `Retry-After: nan` ended in 'internal error' (sleep(nan))."""
    vault = keyvault_server.add_vault("escrow")
    rewriting["escrow"] = lambda v, request, response: (
        Response(200, b"<html>sign in</html>", {"Content-Type": "text/html"}) if response.status == 200 else response
    )
    page = run(kubeconfig, "list", *vault_args(vault))
    assert (page.exit_code, page.output) == (2, f"error: the vault's answer is not JSON: Key Vault {vault.url}\n")
    rewriting.clear()
    vault.fail(429, "Throttled", times=None, headers={"Retry-After": "nan"})
    throttled = run(kubeconfig, "list", *vault_args(vault), "--max-retry-wait", "0.2")
    assert throttled.exit_code == 2, throttled.output
    assert throttled.output.startswith("error: throttled (429 Throttled); "), throttled.output


@pytest.fixture
def kek(keyvault_server: KeyVaultServer, env: dict[str, str]) -> Kek:
    vault = keyvault_server.add_vault("kv-kek")
    vault.add_key("kek", kty="RSA", size=2048)
    return Kek(keyvault_server, vault)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"exp": -60}, "the key expired at "),
        ({"nbf": 3600}, "the key is not valid before "),
        ({"bits": 1024}, "an RSA key of 1024 bits is too small to wrap keys (at least 2048)"),
        # Its modulus fills 256 bytes: counted as bytes x 8, it passed as 2048 bits.
        ({"bits": 2041}, "an RSA key of 2041 bits is too small to wrap keys (at least 2048)"),
    ],
)
def test_a_kek_that_may_not_wrap_now_is_refused(
    kube: KubeServer, kubeconfig: Path, kek: Kek, pairs: list[GeneratedKey], setup: dict[str, int], message: str
) -> None:
    """The SDK wraps with an RSA key's public part locally, so the vault never refused it: an expired, not yet
    valid or 1024-bit KEK wrapped keys (exit 0) and the plaintext Secret was deleted."""
    now = int(time.time())
    if "bits" in setup:
        kek.vault.add_key("kek", private_key=rsa.generate_private_key(public_exponent=65537, key_size=setup["bits"]))
    else:
        kek.vault.add_key("kek", kty="RSA", **{name: now + delta for name, delta in setup.items()})  # type: ignore[arg-type]
    add_plaintext(kube, pairs[0])
    result = keys_cmd(kubeconfig, "wrap", "--kek", kek.url)
    assert result.exit_code == 2, result.output
    (line,) = result.output.splitlines()
    assert line.startswith(f"error: {message}") and f": Key Vault key {kek.url}/" in line, line
    assert len(plaintext(kube)) == 1 and wrapped(kube) == []
    assert kek.unwraps() == 0


def _echoes(body: str, value: str, name: str) -> dict[str, str]:
    """How a vault or a proxy in front of it may echo a `set_secret` request in a 400's message."""
    lines = value.splitlines()
    return {
        "the request body (JSON)": f"Secret {name}: bad request body {body}",
        "the body with JSON's \\/ escapes": f"Secret {name}: bad request body {body.replace('/', chr(92) + '/')}",
        "the key's base64, one run": f"Secret {name}: invalid value {''.join(lines[1:-1])}",
        "from its second line": f"Secret {name}: invalid value {chr(10).join(lines[1:])}",
        "the value base64-encoded": f"Secret {name}: value {base64.b64encode(value.encode()).decode()} refused",
    }


@pytest.mark.parametrize("form", list(_echoes("{}", "a\nb\nc", "n")))
def test_a_vault_echoing_the_escrowed_key_in_its_error_shows_none_of_it(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    rewriting: dict[str, Rewrite],
    form: str,
) -> None:
    """A 400 whose message echoes what `set_secret` sent printed up to 240 characters of the escrowed private key
    (its PEM, its base64) in the one error line (a terminal, a CI log, the controller's log and events). Now any
    echo of it reads [redacted]; the secret's name, which the message may give, is kept."""
    vault = keyvault_server.add_vault("escrow")
    add_key(kube, pairs[0])
    name = escrow.build_payload(pairs[0].key, "dev").name

    def echo(v: Vault, request: Request, response: Response) -> Response:
        if request.method != "PUT":
            return response
        body = request.body.decode()
        message = _echoes(body, json.loads(body)["value"], name)[form]
        return Response.json(400, {"error": {"code": "BadParameter", "message": message}})

    rewriting["escrow"] = echo
    result = run(kubeconfig, "backup", *vault_args(vault))
    assert result.exit_code == 2, result.output
    (line,) = result.output.splitlines()
    assert line.startswith(f"error: 400 BadParameter: Secret {name}: ") and "[redacted]" in line, line
    assert line.endswith(f": Key Vault {vault.url}"), line
    shown = line.replace("\\n", "").replace("\\/", "/")
    pem = pairs[0].private_pem.decode()
    body = "".join(pem.splitlines()[1:-1])
    assert "PRIVATE KEY" not in line
    assert not [body[i : i + 8] for i in range(len(body) - 8) if body[i : i + 8] in shown], line


def _key_answer(status: int, body: object) -> Rewrite:
    def rule(vault: Vault, request: Request, response: Response) -> Response:
        if request.method != "GET" or not request.path.startswith("/keys/kek") or response.status != 200:
            return response
        if isinstance(body, bytes):
            return Response(status, body, {"Content-Type": "text/html"})
        return Response.json(status, body)

    return rule


@pytest.mark.parametrize(
    ("rule", "what"),
    [
        (_key_answer(200, b"<html>sign in</html>"), "the vault's answer is not JSON"),
        (
            _key_answer(200, {"key": "RSA", "attributes": {"enabled": True}}),
            "the vault's answer is not what Key Vault sends (key is not a JSON object)",
        ),
        (
            _key_answer(400, {"error": {"code": "BadParameter", "message": "The request is invalid."}}),
            "read failed (400 BadParameter): The request is invalid.",
        ),
        (
            _key_answer(502, {"error": {"code": "BadGateway", "message": "Upstream failed."}}),
            "read failed (502 BadGateway): Upstream failed.",
        ),
    ],
)
def test_a_kek_answer_refused_is_one_plain_line(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    rewriting: dict[str, Rewrite],
    rule: Rewrite,
    what: str,
) -> None:
    """KEK lines nested the message in the action's brackets ('read failed (error: the vault's answer is not
    JSON)'); now `<what>: <where>` as every other Key Vault line, the status and code alone in brackets."""
    vault = keyvault_server.add_vault("kv-kek")
    vault.add_key("kek", kty="RSA", size=2048)
    rewriting["kv-kek"] = rule
    add_plaintext(kube, pairs[0])
    result = keys_cmd(kubeconfig, "wrap", "--kek", vault.key_id("kek"))
    assert (result.exit_code, result.output) == (2, f"error: {what}: Key Vault key {vault.key_id('kek')}\n")
    assert len(plaintext(kube)) == 1 and wrapped(kube) == []
