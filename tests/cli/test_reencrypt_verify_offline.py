"""`sealkit verify`, `sealkit reencrypt` and `seal --merge-into` offline, diff-tested."""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.documents import load_documents
from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.unsealing import unseal
from sealkit_cli.main import cli
from tests.support.envrepo import environment, make_repo, vector_pairs


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def seal(cert: Path, name: str, namespace: str, items: dict[str, str], scope: str = "strict") -> dict:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}}
    secret["stringData"] = items
    result = run("seal", "--cert", str(cert), "--scope", scope, input=yaml.safe_dump(secret))
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.stdout)


def commented_file(sealed: list[dict], extra: str = "") -> str:
    """A hand-kept file: comments, odd quoting and key order, a ConfigMap between SealedSecrets."""
    parts = []
    for obj in sealed:
        values = obj["spec"]["encryptedData"]
        lines = [
            f"# {obj['metadata']['name']}: keep this comment",
            "kind: SealedSecret",
            "apiVersion: bitnami.com/v1alpha1",
        ]
        lines += ["metadata:", f"  namespace: {obj['metadata']['namespace']}", f"  name: '{obj['metadata']['name']}'"]
        if "annotations" in obj["metadata"]:
            lines += ["  annotations:"] + [f'    {k}: "{v}"' for k, v in obj["metadata"]["annotations"].items()]
        lines += ["spec:", "  template:", "    type: Opaque   # trailing comment", "  encryptedData:"]
        for i, (key, value) in enumerate(sorted(values.items(), reverse=True)):
            lines.append(f'    {key}: "{value}"' if i % 2 else f"    {key}: {value}  # item comment")
        parts.append("\n".join(lines) + "\n")
    parts.insert(1, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: b}\n")
    return "---\n".join(parts) + extra


@pytest.fixture
def repo(tmp_path: Path, key_files: list[tuple[Path, Path]]) -> Path:
    _, old_cert = key_files[0]
    root = tmp_path / "repo"
    (root / "apps" / "a").mkdir(parents=True)
    (root / "apps" / "b").mkdir(parents=True)
    first = [
        seal(old_cert, "db", "team-a", {"user": "u1", "password": "p1"}),
        seal(old_cert, "api", "team-a", {"token": "t1"}, "namespace-wide"),
    ]
    second = [seal(old_cert, "cache", "team-b", {"url": "redis://x"}, "cluster-wide")]
    (root / "apps" / "a" / "secrets.yaml").write_text(commented_file(first))
    (root / "apps" / "b" / "cache.yml").write_text(commented_file(second, "# end of file\n"))
    (root / "apps" / "b" / "README.md").write_text("not a manifest")
    json_obj = seal(old_cert, "jsonone", "team-c", {"k": "v"})
    (root / "apps" / "b" / "one.json").write_text(json.dumps(json_obj, indent=4) + "\n")
    return root


PROVENANCE = re.compile(r'^[-+]\s*("?sealkit\.io/certificate-sha256"?:|annotations:|"annotations": \{)')


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_reencrypt_directory_changes_only_encrypted_value_lines(repo: Path, key_files: list[tuple[Path, Path]]) -> None:
    old_key, _ = key_files[0]
    new_key, new_cert = key_files[1]
    files = sorted(p for p in repo.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    before = {p: p.read_text() for p in files}
    result = run("reencrypt", "--private-key", str(old_key), "--cert", str(new_cert), str(repo))
    assert result.exit_code == 0, result.output
    assert "4 SealedSecrets in 3 files: 4 re-encrypted, 0 failed" in result.output
    new_only = KeyRing(load_private_keys(new_key.read_bytes()))
    old_values = {"u1", "p1", "t1", "redis://x", "v"}
    new_sha256 = load_certificate(new_cert.read_bytes()).sha256
    opened: set[str] = set()
    for path in files:
        after = path.read_text()
        provenance_lines = [line for line in changed_lines(before[path], after) if PROVENANCE.search(line)]
        value_lines = [line for line in changed_lines(before[path], after) if not PROVENANCE.search(line)]
        for line in value_lines:
            body = line[1:].strip()
            key, _, value = body.partition(": ")
            assert key.strip('"') in {"user", "password", "token", "url", "k"}, line
            assert value.split("#")[0].strip().strip('",').startswith(("Ag", "AQ")), line
        sealed = [d for d in load_documents(after, str(path)) if d.obj.get("kind") == "SealedSecret"]
        assert len(value_lines) == 2 * sum(len(d.obj["spec"]["encryptedData"]) for d in sealed)
        assert len(provenance_lines) == 2 * len(sealed), "each document's provenance line replaced"
        for doc in sealed:
            # Provenance: the certificate every value is now sealed with, in the SealedSecret's own metadata.
            assert doc.obj["metadata"]["annotations"]["sealkit.io/certificate-sha256"] == new_sha256
            opened |= {v.decode() for v in unseal(doc.obj, new_only, where=doc.where).items.values()}
    assert opened == old_values


def test_verify_reports_per_document_and_fails_on_any_failure(repo: Path, key_files: list[tuple[Path, Path]]) -> None:
    good_key, _ = key_files[0]
    other_key, _ = key_files[1]
    ok = run("verify", "--private-key", str(good_key), str(repo))
    assert ok.exit_code == 0, ok.output
    assert "4 SealedSecrets in 3 files: 4 open, 0 failed" in ok.output
    bad = run("verify", "--private-key", str(other_key), str(repo), "--format", "json")
    assert bad.exit_code == 1
    payload = json.loads(bad.stdout)
    assert payload["summary"]["failed"] == 4 and payload["summary"]["ok"] == 0
    first = payload["results"][0]["documents"][0]
    assert first["ok"] is False and "no key could decrypt it" in first["error"]
    assert {"u1", "p1", "t1"}.isdisjoint(bad.output.split())


def test_verify_names_a_sealed_secret_moved_to_another_namespace(
    tmp_path: Path, key_files: list[tuple[Path, Path]]
) -> None:
    key, cert = key_files[0]
    obj = seal(cert, "db", "team-a", {"password": "p1"})
    obj["metadata"]["namespace"] = "team-z"
    path = tmp_path / "moved.yaml"
    path.write_text(yaml.safe_dump(obj))
    result = run("verify", "--private-key", str(key), str(path))
    assert result.exit_code == 1
    assert "sealed strict for team-a/db, but the SealedSecret is strict for team-z/db" in result.output


@pytest.mark.parametrize(
    ("template", "cause"),
    [
        ({"metadata": {"labels": {"app": "not a label value!"}}}, "spec.template.metadata.labels"),
        ({"type": 5}, "spec.template.type"),
        ({"data": {"dsn": "{{ .password "}}, "spec.template.data[dsn]"),
    ],
    ids=["label", "type", "data-template"],
)
def test_verify_fails_a_sealed_secret_the_controller_would_not_unseal(
    tmp_path: Path, key_files: list[tuple[Path, Path]], template: dict[str, Any], cause: str
) -> None:
    """Every value opens, but the Secret it describes is refused (by the controller, or the API server): offline
    verify said 'ok' while unseal and the controller refused it, so a CI gate passed a file that never unseals."""
    key, cert = key_files[0]
    obj = seal(cert, "db", "team-a", {"password": "p1"})
    obj["spec"]["template"] = {**obj["spec"]["template"], **template}
    path = tmp_path / "bad-template.yaml"
    path.write_text(yaml.safe_dump(obj))
    verified = run("verify", "--private-key", str(key), str(path))
    assert verified.exit_code == 1, verified.output
    assert cause in verified.output and "1 SealedSecrets in 1 files: 0 open, 1 failed" in verified.output
    unsealed = run("unseal", "--private-key", str(key), "-f", str(path))
    assert unsealed.exit_code == 2 and cause in unsealed.output, "the same refusal as unseal's"


def test_offline_verify_looks_at_what_a_value_holds(tmp_path: Path, key_files: list[tuple[Path, Path]]) -> None:
    """With the keys in hand nobody is asking an oracle: a .dockerconfigjson that is not JSON fails offline, as
    the controller's unseal refuses it (only the controller's /v1/verify, which answers anyone, leaves it out)."""
    key, cert = key_files[0]
    obj = seal(cert, "pull", "team-a", {".dockerconfigjson": "not json"})
    obj["spec"]["template"] = {**obj["spec"]["template"], "type": "kubernetes.io/dockerconfigjson"}
    path = tmp_path / "pull.yaml"
    path.write_text(yaml.safe_dump(obj))
    verified = run("verify", "--private-key", str(key), str(path))
    assert verified.exit_code == 1 and "is not a JSON object" in verified.output, verified.output


def test_merge_into_changes_only_the_merged_lines(tmp_path: Path, key_files: list[tuple[Path, Path]]) -> None:
    key, cert = key_files[0]
    target = tmp_path / "db.sealed.yaml"
    original = commented_file([seal(cert, "db", "team-a", {"user": "u1", "password": "p1"})])
    target.write_text(original)
    update = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "ignored"},
        "stringData": {"password": "p2", "extra": "e1"},
    }
    result = run("seal", "--cert", str(cert), "--merge-into", str(target), input=yaml.safe_dump(update))
    assert result.exit_code == 0, result.output
    after = target.read_text()
    diff = changed_lines(original, after)
    assert [line[0] for line in diff] == ["-", "+", "+"], diff
    assert diff[0].lstrip("-").strip().startswith("password:") and diff[1].lstrip("+").strip().startswith("password:")
    merged = load_documents(after, "after")[0].obj
    assert diff[2] == "+    extra: " + merged["spec"]["encryptedData"]["extra"]
    assert diff[1].startswith('+    password: "'), "the quoting stays as it was"
    opened = unseal(merged, KeyRing(load_private_keys(key.read_bytes()))).items
    assert opened == {"user": b"u1", "password": b"p2", "extra": b"e1"}


def test_merge_into_json_file_keeps_scope(tmp_path: Path, key_files: list[tuple[Path, Path]]) -> None:
    key, cert = key_files[0]
    target = tmp_path / "api.json"
    target.write_text(json.dumps(seal(cert, "api", "team-a", {"a": "1"}, "namespace-wide")))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"b": "2"}}
    assert run("seal", "--cert", str(cert), "--merge-into", str(target), input=yaml.safe_dump(secret)).exit_code == 0
    merged = json.loads(target.read_text())
    sha256 = load_certificate(cert.read_bytes()).sha256
    assert merged["metadata"]["annotations"] == {
        "sealedsecrets.bitnami.com/namespace-wide": "true",
        "sealkit.io/certificate-sha256": sha256,  # provenance: the one certificate every item was sealed with
    }
    merged["metadata"]["name"] = "any-name-works-namespace-wide"
    assert unseal(merged, KeyRing(load_private_keys(key.read_bytes()))).items == {"a": b"1", "b": b"2"}


def test_merge_into_refuses_files_without_exactly_one_sealed_secret(
    tmp_path: Path, key_files: list[tuple[Path, Path]]
) -> None:
    _, cert = key_files[0]
    target = tmp_path / "cm.yaml"
    target.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = run("seal", "--cert", str(cert), "--merge-into", str(target), input="kind: Secret\nstringData: {a: b}\n")
    assert result.exit_code == 2 and "exactly one SealedSecret in the file, found 0" in result.output


@pytest.mark.parametrize(
    ("sealed_secrets", "why"),
    [
        ("clusters/prod.txt/secrets", "a file is in the way"),  # was taken for absent: "nothing to re-encrypt", 0
        (f"clusters/{'p' * 300}/secrets", "file name too long"),  # was a bare "error: file name too long"
    ],
)
def test_reencrypt_env_names_a_directory_it_cannot_look_up(
    tmp_path: Path, vectors: dict[str, Any], sealed_secrets: str, why: str
) -> None:
    """As root too (CI): an environment's directory that cannot be looked up is one line naming it, never
    an environment with nothing to re-encrypt."""
    repo = make_repo(tmp_path / "repo", vector_pairs(vectors, ("prod",)))
    repo.write_spec({"prod": environment("prod", sealedSecrets=sealed_secrets)})
    (repo.root / "clusters").mkdir()
    (repo.root / "clusters" / "prod.txt").write_text("a file, not a directory")
    key = tmp_path / "prod-key.pem"
    key.write_text(vectors["keys"][0]["private_pem"])
    result = run("reencrypt", "--spec", str(repo.spec), "--env", "prod", "--private-key", str(key))
    assert result.exit_code == 2
    assert result.output == f"error: environment prod's directory cannot be read ({why}): {sealed_secrets}\n"


def test_a_file_gone_before_its_rewrite_is_named_and_not_made_anew(
    repo: Path, key_files: list[tuple[Path, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file vanishes between its read and its rewrite: one line naming it (a bare 'error: no such file or
    directory' before, exit 2), the run goes on to its summary, and no file is made in its place."""
    from sealkit_cli import bulk

    old_key, _ = key_files[0]
    _, new_cert = key_files[1]
    target = repo / "apps" / "a" / "secrets.yaml"
    real = bulk.replace_values

    def vanish(text: str, edits: Any, where: str) -> str:
        target.unlink()
        return real(text, edits, where)

    monkeypatch.setattr(bulk, "replace_values", vanish)
    result = run("reencrypt", "--private-key", str(old_key), "--cert", str(new_cert), str(target))
    assert result.exit_code == 1
    assert f"ERROR cannot write (no such file or directory): {target}\n" in result.output
    assert result.output.endswith("2 SealedSecrets in 1 files: 2 re-encrypted, 0 failed, 1 unreadable files\n")
    assert not target.exists()


@contextlib.contextmanager
def fed_pipe(path: Path, text: str) -> Iterator[list[bytes]]:
    """A named pipe at `path` that gives `text` to one reader (as `<(cat file)` does). Yields what a command
    wrote into the pipe, known once the block ends (it must stay empty): a watchdog opens a reader after 5 s,
    so that such a write (its open waits for a reader) fails the test instead of hanging it."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    threading.Thread(target=path.write_text, args=(text,), daemon=True).start()
    readers: list[int] = []
    watchdog = threading.Timer(5.0, lambda: readers.append(os.open(path, os.O_RDONLY | os.O_NONBLOCK)))
    watchdog.start()
    written: list[bytes] = []
    try:
        yield written
    finally:
        watchdog.cancel()
        for fd in readers:
            with contextlib.suppress(BlockingIOError):
                written.append(os.read(fd, 1 << 16))
            os.close(fd)


def test_a_pipe_is_verified_and_never_rewritten_in_place(repo: Path, key_files: list[tuple[Path, Path]]) -> None:
    """`sealkit verify <(kustomize build ...)` reads the pipe (it was 'no such file or directory'); reencrypt
    and --merge-into refuse to write back into one (as root the rewrite replaced /dev/stdin with a file)."""
    old_key, old_cert = key_files[0]
    _, new_cert = key_files[1]
    text = (repo / "apps" / "a" / "secrets.yaml").read_text()
    pipe = repo / "rendered"

    with fed_pipe(pipe, text):
        verified = run("verify", "--private-key", str(old_key), str(pipe))
    assert verified.exit_code == 0, verified.output
    assert "2 SealedSecrets in 1 files: 2 open, 0 failed" in verified.output

    with fed_pipe(pipe, text) as written:
        again = run("reencrypt", "--private-key", str(old_key), "--cert", str(new_cert), str(pipe))
    assert again.exit_code == 2, "refused before any work, as --merge-into is (it read 're-encrypted', then ERROR)"
    assert again.output == f"error: not a regular file, so it cannot be rewritten in place: {pipe}\n"
    assert written == [] and stat.S_ISFIFO(pipe.lstat().st_mode)

    with fed_pipe(pipe, yaml.safe_dump(seal(old_cert, "db", "team-a", {"user": "u2"}))) as written:
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "team-a"}}
        secret["stringData"] = {"user": "u3"}
        merged = run("seal", "--cert", str(old_cert), "--merge-into", str(pipe), input=yaml.safe_dump(secret))
    assert merged.exit_code == 2
    assert merged.output == f"error: not a regular file, so it cannot be rewritten in place: {pipe}\n"
    assert written == [] and stat.S_ISFIFO(pipe.lstat().st_mode)


def test_a_pipe_found_in_a_directory_is_refused_never_read(repo: Path, key_files: list[tuple[Path, Path]]) -> None:
    """A named pipe under a directory blocked `sealkit verify DIR` for ever (its open waits for a writer);
    refused now, naming it, before any work (exit 2). Named on the command line, a pipe is still read."""
    key, _ = key_files[0]
    text = (repo / "apps" / "a" / "secrets.yaml").read_text()
    pipe = repo / "apps" / "fed.yaml"
    with fed_pipe(pipe, text):  # a writer waits at the pipe: without the refusal, verify reads it
        try:
            result = run("verify", "--private-key", str(key), str(repo))
        finally:
            released = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # lets a writer still waiting finish
    os.close(released)
    assert result.exit_code == 2, result.output
    assert result.output == (
        "error: a named pipe, not a regular file: only regular files are read from a directory "
        f"(name it to read it): {pipe}\n"
    )
    with fed_pipe(pipe, text):
        named = run("verify", "--private-key", str(key), str(pipe))
    assert named.exit_code == 0, named.output


def test_sealed_secrets_inside_a_list_are_checked_never_skipped(
    tmp_path: Path, key_files: list[tuple[Path, Path]]
) -> None:
    """`kubectl get sealedsecrets -o yaml` writes a v1 List, and `kubectl apply` creates each item: verify
    checks every item (it was 'no SealedSecrets found', and a List beside other files passed unchecked),
    reencrypt refuses the List rather than leave its items sealed with the old key, before writing anything."""
    key, cert = key_files[0]
    _, new_cert = key_files[1]
    good = seal(cert, "db", "team-a", {"password": "p1"})
    broken = seal(cert, "api", "team-a", {"token": "t1"})
    broken["metadata"]["namespace"] = "team-z"
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(good))
    listed = {"apiVersion": "v1", "kind": "List", "items": [{"kind": "ConfigMap"}, good, broken]}
    (tmp_path / "listed.yaml").write_text(yaml.safe_dump(listed))
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}

    verified = run("verify", "--private-key", str(key), str(tmp_path))
    assert verified.exit_code == 1, verified.output
    assert f"ok    {tmp_path / 'listed.yaml'} document 1 item 2 (team-a/db)\n" in verified.output
    assert "is strict for team-z/api" in verified.output
    assert f"name, namespace and scope: {tmp_path / 'listed.yaml'} document 1 item 3\n" in verified.output
    assert "3 SealedSecrets in 2 files: 2 open, 1 failed" in verified.output
    as_json = json.loads(run("verify", "--private-key", str(key), str(tmp_path), "--format", "json").stdout)
    assert [d["item"] for f in as_json["results"] for d in f["documents"]] == [None, 2, 3]

    rewritten = run("reencrypt", "--private-key", str(key), "--cert", str(new_cert), str(tmp_path))
    assert rewritten.exit_code == 2
    assert rewritten.output == (
        "error: a SealedSecret inside a List is not re-encrypted in place (give it a document of its own: ---): "
        f"{tmp_path / 'listed.yaml'} document 1 item 2\n"
    )
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


def test_a_list_whose_items_are_not_a_list_is_refused_not_passed_over(
    tmp_path: Path, key_files: list[tuple[Path, Path]]
) -> None:
    """A List whose `items` is a mapping (kubectl cannot decode it) was read as holding nothing: beside another
    file verify said all was well, the SealedSecrets in it unseen. It is one line naming it now, exit 2."""
    key, cert = key_files[0]
    good = seal(cert, "db", "team-a", {"password": "p1"})
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(good))
    listed = {"apiVersion": "v1", "kind": "List", "items": {"db": good}}
    (tmp_path / "listed.yaml").write_text(yaml.safe_dump(listed))
    for command in (["verify"], ["reencrypt", "--cert", str(cert)]):
        result = run(*command, "--private-key", str(key), str(tmp_path))
        assert result.exit_code == 2, result.output
        assert result.output == (
            "error: a List whose items is a mapping, not a list (kubectl cannot read it): "
            f"{tmp_path / 'listed.yaml'} document 1\n"
        )


def test_a_directory_reached_through_a_link_is_verified_and_reencrypted_where_it_lives(
    repo: Path, key_files: list[tuple[Path, Path]]
) -> None:
    """`clusters/prod/apps -> ../../apps`, as GitOps repos share a base: verify skipped it without a word and
    said all was well; now its SealedSecrets are checked, and reencrypt rewrites them where they live (the
    link stays), as it does for a link to a file."""
    old_key, _ = key_files[0]
    other_key, new_cert = key_files[1]
    prod = repo / "clusters" / "prod"
    prod.mkdir(parents=True)
    (prod / "apps").symlink_to("../../apps")
    bad = run("verify", "--private-key", str(other_key), str(prod))
    assert bad.exit_code == 1, bad.output
    assert "4 SealedSecrets in 3 files: 0 open, 4 failed" in bad.output
    assert f"{prod / 'apps' / 'a' / 'secrets.yaml'} document 1" in bad.output
    done = run("reencrypt", "--private-key", str(old_key), "--cert", str(new_cert), str(prod))
    assert done.exit_code == 0, done.output
    assert "4 SealedSecrets in 3 files: 4 re-encrypted, 0 failed" in done.output
    assert (prod / "apps").is_symlink()
    ok = run("verify", "--private-key", str(other_key), str(repo / "apps"))
    assert ok.exit_code == 0, ok.output


def test_reencrypt_env_refuses_a_directory_linked_out_of_the_repo(tmp_path: Path, vectors: dict[str, Any]) -> None:
    """Links to directories are followed now; one leading out of the repo is refused as a file link is, before
    any work (what was re-sealed out there would never be committed)."""
    pairs = vector_pairs(vectors, ("dev",))
    repo = make_repo(tmp_path / "repo", pairs)
    repo.write_spec({"dev": environment("dev")})
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: p}\n"
    sealed = run("seal", "--spec", str(repo.spec), "--env", "dev", input=secret)
    assert sealed.exit_code == 0, sealed.output
    (tmp_path / "key.pem").write_text(pairs["dev"][0])
    outside = tmp_path / "outside"
    outside.mkdir()
    placed = repo.file("dev", "shop", "db")
    placed.rename(outside / placed.name)
    kept = (outside / placed.name).read_bytes()
    (placed.parent / "shared").symlink_to(outside)
    result = run("reencrypt", "--spec", str(repo.spec), "--env", "dev", "--private-key", str(tmp_path / "key.pem"))
    assert result.exit_code == 2, result.output
    where = placed.parent / "shared" / placed.name
    assert result.output == f"error: a symbolic link out of the repo ({repo.root.resolve()}) is in the way: {where}\n"
    assert (outside / placed.name).read_bytes() == kept


@pytest.mark.parametrize("command", ["verify", "reencrypt"])
def test_offline_keys_whose_certificate_is_another_keys_are_refused(
    repo: Path, key_files: list[tuple[Path, Path]], tmp_path: Path, command: str
) -> None:
    """`--private-key` reads keys as `unseal` does: a PEM file whose certificate is another key's is refused
    (as `keys restore` refuses it) before anything is checked or rewritten."""
    (old_key, _), (_, new_cert) = key_files[0], key_files[1]
    crossed = tmp_path / "crossed.pem"
    crossed.write_text(old_key.read_text() + new_cert.read_text())
    before = {p: p.read_text() for p in repo.rglob("*") if p.is_file()}
    extra = ["--cert", str(new_cert)] if command == "reencrypt" else []
    result = run(command, "--private-key", str(crossed), *extra, str(repo))
    assert result.exit_code == 2
    assert result.output == (
        f"error: the certificate is the certificate of another key, not of the private key: {crossed}\n"
    )
    assert {p: p.read_text() for p in repo.rglob("*") if p.is_file()} == before


def test_a_file_reached_through_a_link_too_is_verified_and_reencrypted_once(
    repo: Path, key_files: list[tuple[Path, Path]]
) -> None:
    """`current.yaml -> secrets.yaml` beside it (and the file named on its own too): it was verified twice, and
    re-encrypted twice from the text read once (two writes, the second replacing the first); each real file
    once now, under the first path that reaches it."""
    old_key, _ = key_files[0]
    other_key, new_cert = key_files[1]
    a = repo / "apps" / "a"
    (a / "current.yaml").symlink_to("secrets.yaml")
    (repo / "apps" / "b" / "a-copy.yaml").symlink_to("../a/secrets.yaml")
    checked = run("verify", "--private-key", str(old_key), str(repo), str(a / "secrets.yaml"))
    assert checked.exit_code == 0, checked.output
    assert "4 SealedSecrets in 3 files: 4 open, 0 failed" in checked.output
    assert f"{a / 'current.yaml'} document 1" in checked.output and "secrets.yaml document" not in checked.output
    done = run("reencrypt", "--private-key", str(old_key), "--cert", str(new_cert), str(repo))
    assert done.exit_code == 0, done.output
    assert "4 SealedSecrets in 3 files: 4 re-encrypted, 0 failed" in done.output
    assert (a / "current.yaml").is_symlink() and (repo / "apps" / "b" / "a-copy.yaml").is_symlink()
    assert run("verify", "--private-key", str(other_key), str(repo)).exit_code == 0


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("verify", ["--private-key", "{missing}"], "no such file: {missing}"),
        (
            "verify",
            ["--private-key", "{crossed}"],
            "the certificate is the certificate of another key, not of the private key: {crossed}",
        ),
        ("reencrypt", ["--private-key", "{missing}", "--cert", "{cert}"], "no such file: {missing}"),
        ("reencrypt", ["--private-key", "{key}", "--cert", "{missing}"], "no such file: {missing}"),
        (
            "reencrypt",
            ["--private-key", "{key}"],
            "offline re-encryption needs --cert FILE|URL for the key to seal for: --cert",
        ),
    ],
)
def test_keys_and_cert_are_read_with_allow_empty_and_nothing_to_check(
    tmp_path: Path, key_files: list[tuple[Path, Path]], command: str, args: list[str], message: str
) -> None:
    """`--allow-empty` over a tree without SealedSecrets said all was well without reading --private-key or
    --cert at all: a key file that is not there (a CI variable's typo) passed until the first SealedSecret."""
    (key, cert), (_, other_cert) = key_files[0], key_files[1]
    crossed = tmp_path / "crossed.pem"
    crossed.write_text(key.read_text() + other_cert.read_text())
    (tmp_path / "empty").mkdir()
    names = {"missing": str(tmp_path / "absent.pem"), "crossed": str(crossed), "key": str(key), "cert": str(cert)}
    result = run(command, "--allow-empty", *(a.format(**names) for a in args), str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert result.output == f"error: {message.format(**names)}\n"
    with_cert = ["--cert", str(cert)] if command == "reencrypt" else []
    fine = run(command, "--allow-empty", "--private-key", str(key), *with_cert, str(tmp_path / "empty"))
    assert fine.exit_code == 0, fine.output
