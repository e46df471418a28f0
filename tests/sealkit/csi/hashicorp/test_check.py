"""How `csi verify` judges Vault's answers (without Vault): one line per failure, key names never values,
each distinct read made once, a Vault-wide failure stops only that Vault, a credential failure all."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.csi.hashicorp import check
from sealkit.csi.hashicorp.check import Denied, Empty, Found, Login, Lookup, Missing, Reference, Status, Target
from sealkit.vault.errors import CredentialError, VaultAccessError

A = Target("https://a.example:8200")
B = Target("https://b.example:8200", "team")
LOGIN = Login("kubernetes", "web")


def ref(
    path: str = "secret/data/web/db",
    key: str | None = "password",
    *,
    target: Target = A,
    kv: int | None = 2,
    encoding: str | None = None,
    version: int = 0,
    file: str = "f",
) -> Reference:
    return Reference(
        "dev", "web", 0, Lookup(target, LOGIN, path, "secret" if kv else None), file, kv, key, encoding, version
    )


def test_ok_and_missing_key_name_the_keys_not_values() -> None:
    found = Found(frozenset({"password", "username"}))
    assert check.evaluate(ref(), found).status is Status.OK
    result = check.evaluate(ref(key="pass"), found)
    assert result.status is Status.FAILED
    assert result.problem == "no key 'pass' at secret/data/web/db (keys: password, username)"


def test_permission_denied_and_missing_paths() -> None:
    denied = check.evaluate(ref(), Denied())
    assert denied.problem == "permission denied: the login's policies do not grant read on secret/data/web/db"
    assert check.evaluate(ref(), Missing()).problem == "path not found: secret/data/web/db (404)"
    pinned = check.evaluate(ref("secret/data/web/db?version=3", version=3), Missing())
    assert pinned.problem == "version 3 of secret/data/web/db not found (404)"
    deleted = check.evaluate(ref("secret/data/web/db?version=3", version=3), Missing(deleted=True))
    assert deleted.problem == "version 3 of secret/data/web/db?version=3 is deleted or destroyed (404)"


def test_a_wrong_kv_version_is_explained() -> None:
    """Vault's "Invalid path for a versioned K/V secrets engine" warning, or the mount's own version."""
    v1_on_v2 = check.evaluate(ref("secret/web/db", kv=1), Missing(versioned_hint=True))
    assert "secret is a KV v2 mount, so the spec's kv: 1 is wrong" in v1_on_v2.problem
    v2_on_v1 = check.evaluate(ref(), Missing(mount_version=1))
    assert "secret is a KV v1 mount, so the spec's kv: 2 adds a wrong data/" in v2_on_v1.problem


def test_encodings_the_provider_would_refuse() -> None:
    """provider.go decodeValue fails the mount when a base64/hex value does not decode."""
    found = Found(frozenset({"k"}), base64=frozenset(), hex=frozenset({"k"}))
    assert check.evaluate(ref(key="k", encoding="base64"), found).problem.startswith("the value of 'k' is not base64")
    assert check.evaluate(ref(key="k", encoding="hex"), found).status is Status.OK
    assert check.evaluate(ref(key="k", encoding="utf-8"), found).status is Status.OK


def test_run_reads_each_lookup_once_and_stops_a_failed_vault() -> None:
    calls: list[Lookup] = []
    lock = threading.Lock()

    def fetch(lookup: Lookup) -> check.Answer:
        with lock:
            calls.append(lookup)
        if lookup.target == B:
            raise VaultAccessError("Vault is sealed (503): unseal it")
        return Found(frozenset({"password", "username"}))

    refs = [
        ref(file="p"),
        ref(key="username", file="u"),  # the same path: read once
        ref("pki/issue/web", None, kv=None, file="cert"),  # another engine: not read
        *[ref(f"secret/data/b/{i}", target=B, file=f"b{i}") for i in range(5)],
    ]
    report = check.run(refs, fetch, concurrency=1)
    assert [r.status for r in report.results] == [Status.OK, Status.OK, Status.SKIPPED, *[Status.NOT_CHECKED] * 5]
    assert [c.target for c in calls] == [A, B]  # B stopped after its first failure
    assert check.error_lines(report) == [
        "Vault is sealed (503): unseal it: vault https://b.example:8200 (namespace team)"
    ]
    assert not report.ok
    assert check.summary(report) == "8 Vault reference(s) in 2 Vault(s): 2 ok, 1 skipped, 5 not-checked"


def test_a_credential_failure_stops_everything() -> None:
    def fetch(lookup: Lookup) -> check.Answer:
        raise CredentialError("no Vault token: set VAULT_TOKEN")

    report = check.run([ref(), ref(target=B)], fetch, concurrency=1)
    assert check.error_lines(report) == ["no Vault token: set VAULT_TOKEN"]
    assert {r.status for r in report.results} == {Status.NOT_CHECKED}


def test_table_and_json_carry_paths_and_problems() -> None:
    report = check.run([ref(), ref(key="nope", file="g")], lambda _: Found(frozenset({"password"})))
    table = check.table(report, only_problems=True).splitlines()
    assert table[0].split() == ["ENV", "APP", "FILE", "PATH", "KEY", "STATUS", "DETAIL"]
    assert len(table) == 2 and "failed" in table[1] and "no key 'nope'" in table[1]
    data = check.to_json(report)
    assert data["ok"] is False
    assert data["summary"]["failed"] == 1
    assert data["objects"][1] == {
        "environment": "dev",
        "application": "web",
        "address": "https://a.example:8200",
        "namespace": None,
        "file": "g",
        "path": "secret/data/web/db",
        "key": "nope",
        "status": "failed",
        "problem": "no key 'nope' at secret/data/web/db (keys: password)",
    }


def test_an_answer_without_a_secret_fails() -> None:
    result = check.evaluate(ref(), Empty("no data"))
    assert (result.status, result.problem) == (
        Status.FAILED,
        "Vault answered secret/data/web/db with no data: the provider fails the mount",
    )


@settings(max_examples=300, deadline=None)
@given(st.frozensets(st.text(max_size=300), max_size=60))
def test_key_names_from_vault_are_one_bounded_line(keys: frozenset[str]) -> None:
    # Key names come from Vault: before, every one was joined as written (escapes, line breaks, thousands).
    problem = check.evaluate(ref(key="\x00absent"), Found(keys)).problem
    assert problem.startswith("no key ")
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in problem)
    assert len(problem) <= 60 + check.MAX_KEYS_SHOWN * (4 * check.MAX_KEY_SHOWN + 8) + 20
