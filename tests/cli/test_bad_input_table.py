"""Every command against every class of bad input, as a user runs it (a subprocess each).

Each case asserts: the documented exit status (2 usage, input or connection error; 1 a check that
failed), one `error: <what is wrong>: <where>` line on stderr for errors (at most one stderr line
otherwise), no traceback, no Python exception name or value, no temporary file name, and no planted
plaintext anywhere in the output. A generous subprocess timeout catches hangs; no timing is asserted.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "gitops"
PLANTED = "Pl4nted-Pla1ntext-Value"
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b|\bTraceback\b")
PYTHON_VALUE = re.compile(r"(?<![\w-])(None|True|False)(?![\w-])|\{'|\['|b'")
TEMP_NAME = re.compile(r"/\.[^/\s]+\.[a-z0-9_]{8}\b|tmp[a-z0-9_]{8}")

CLASSES = [
    "missing file",
    "directory",
    "empty",
    "binary",
    "invalid UTF-8",
    "alias bomb",
    "alias fan-out",
    "100 MiB file",
    "wrong kind",
    "unreachable cluster",
    "corrupt kubeconfig",
    "expired cert",
    "wrong key",
]


def laughs(levels: int = 10) -> str:
    lines = [f"l0: &l0 [{PLANTED}, {', '.join(['lol'] * 8)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def fan_out() -> str:
    value = PLANTED + "x" * 200_000
    return (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: team-a}\n"
        f"stringData:\n  a: &v {value}\n" + "".join(f"  k{i}: *v\n" for i in range(100))
    )


@dataclass
class World:
    """Every file a case may need, made once per test run."""

    root: Path
    cert: Path
    key: Path
    other_key: Path
    expired_cert: Path
    sealed: Path
    sealed_repo: Path
    unreachable: Path
    corrupt_kubeconfig: Path
    spec_repo: Path
    expired_spec_repo: Path
    secret: str

    def bad(self, kind: str, suffix: str = ".yaml") -> Path:
        """A file (or path) of one bad-input class."""
        path = self.root / "bad" / kind.replace(" ", "-") / f"input{suffix}"
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "missing file":
            return path
        if kind == "directory":
            path.mkdir()
            return path
        contents: dict[str, bytes] = {
            "empty": b"",
            "binary": b"\x89PNG\r\n\x1a\n\x00\x00" + PLANTED.encode() + bytes(range(256)),
            "invalid UTF-8": f"password: {PLANTED}\n".encode() + b"\xff\xfe\xfd\n",
            "alias bomb": laughs().encode(),
            "alias fan-out": fan_out().encode(),
            "wrong kind": (
                f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x, namespace: team-a}}\ndata: {{p: {PLANTED}}}\n"
            ).encode(),
        }
        if kind == "100 MiB file":
            with path.open("wb") as handle:
                handle.truncate(100 * 1024 * 1024)  # sparse: never held in memory
        else:
            path.write_bytes(contents[kind])
        return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}}],
                "current-context": "x",
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    key_files: list[tuple[Path, Path]],
    small_key: Any,
    certificate_factory: Any,
) -> World:
    root = tmp_path_factory.mktemp("bad-input")
    key, cert = key_files[0]
    other_key, _ = key_files[2]
    expired = root / "expired.pem"
    expired.write_bytes(certificate_factory(small_key, not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), days=30))
    secret = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": "team-a"},
            "stringData": {"password": PLANTED},
        }
    )
    sealed_obj = seal_secret(yaml.safe_load(secret), load_certificate(cert.read_bytes()))
    sealed = root / "sealed.yaml"
    sealed.write_text(yaml.safe_dump(sealed_obj))
    repo = root / "repo"
    repo.mkdir()
    shutil.copy(sealed, repo / "db.sealed.yaml")
    corrupt = root / "corrupt-kubeconfig"
    corrupt.write_bytes(b"\x00\x01binary" + PLANTED.encode())
    spec_repo = root / "gitops"
    shutil.copytree(EXAMPLE, spec_repo)
    expired_spec = root / "gitops-expired"
    shutil.copytree(EXAMPLE, expired_spec)
    for cert_file in ("clusters/example-cluster-cert.pem", "clusters/prod/sealing-cert.pem"):
        shutil.copy(expired, expired_spec / cert_file)
    unreachable = write_kubeconfig(root / "unreachable-kubeconfig", f"https://127.0.0.1:{closed_port()}")
    return World(
        root, cert, key, other_key, expired, sealed, repo, unreachable, corrupt, spec_repo, expired_spec, secret
    )


@dataclass(frozen=True)
class Case:
    """How one command meets one class: its arguments, stdin, the exit status and a fragment of the line."""

    args: Callable[[World], list[str]]
    status: int
    expect: str = ""
    stdin: Callable[[World], str] = lambda w: ""


def file_cases(
    build: Callable[[World, Path], list[str]],
    *,
    stdin: Callable[[World], str] = lambda w: "",
    expect_instead: dict[str, str] | None = None,
) -> dict[str, Case]:
    """The file classes for a command that reads FILE at `build`'s place; all are input errors (2).
    `expect_instead`: what a command reading PEM (not only YAML) says instead, by class."""
    expect = {
        "missing file": "no such",
        "directory": "is a directory",
        "empty": "",
        "binary": "binary data",
        "invalid UTF-8": "not valid UTF-8",
        "alias bomb": "excessive aliasing",
        "alias fan-out": "aliases expand beyond the 8 MiB input limit",
        "100 MiB file": "larger than the 8 MiB input limit",
        "wrong kind": "",
    }
    expect |= expect_instead or {}
    return {
        kind: Case(lambda w, kind=kind: build(w, w.bad(kind)), 2, expect[kind], stdin)  # type: ignore[misc]
        for kind in expect
    }


CERT_FILE = {k: "not a PEM or DER certificate" for k in ("binary", "invalid UTF-8", "alias bomb", "alias fan-out")}
KEY_FILE = {"binary": "binary data", "invalid UTF-8": "binary data"}


def csi_spec(kind: str) -> Callable[[World, Path], list[str]]:
    return lambda w, p: ["csi", kind, "--spec", str(p)]


CLUSTER = {
    "unreachable cluster": ("unreachable", 2, "cannot reach the API server (connection refused)"),
    "corrupt kubeconfig": ("corrupt_kubeconfig", 2, "binary data (NUL bytes), not YAML or JSON text: kubeconfig"),
}


def cluster_cases(
    build: Callable[[World, str], list[str]], stdin: Callable[[World], str] = lambda w: ""
) -> dict[str, Case]:
    return {
        kind: Case(lambda w, attr=attr: build(w, str(getattr(w, attr))), status, expect, stdin)  # type: ignore[misc]
        for kind, (attr, status, expect) in CLUSTER.items()
    }


TABLE: dict[str, dict[str, Case]] = {
    "seal": {
        **file_cases(lambda w, p: ["seal", "--cert", str(w.cert), "-f", str(p)]),
        **cluster_cases(lambda w, kc: ["seal", "--kubeconfig", kc], stdin=lambda w: w.secret),
        "expired cert": Case(lambda w: ["seal", "--cert", str(w.expired_cert)], 2, "expired", lambda w: w.secret),
        "wrong key": Case(
            lambda w: ["seal", "--cert", str(w.key)], 2, "a private key, not a certificate", lambda w: w.secret
        ),
    },
    "unseal": {
        **file_cases(lambda w, p: ["unseal", "--private-key", str(w.key), "-f", str(p)]),
        "expired cert": Case(
            lambda w: ["unseal", "--private-key", str(w.expired_cert), "-f", str(w.sealed)], 2, "no private key found"
        ),
        "wrong key": Case(
            lambda w: ["unseal", "--private-key", str(w.other_key), "-f", str(w.sealed)], 2, "item 'password'"
        ),
    },
    "kubeseal": {
        **file_cases(lambda w, p: ["kubeseal", "--cert", str(w.cert), "-f", str(p)]),
        **cluster_cases(lambda w, kc: ["kubeseal", "--kubeconfig", kc], stdin=lambda w: w.secret),
        "expired cert": Case(lambda w: ["kubeseal", "--cert", str(w.expired_cert)], 2, "expired", lambda w: w.secret),
        "wrong key": Case(
            lambda w: [
                "kubeseal",
                "--recovery-unseal",
                "--recovery-private-key",
                str(w.other_key),
                "-f",
                str(w.sealed),
            ],
            2,
            "item 'password'",
        ),
    },
    "unseal --private-key": file_cases(
        lambda w, p: ["unseal", "--private-key", str(p), "-f", str(w.sealed)], expect_instead=KEY_FILE
    ),
    "cert": {
        **file_cases(lambda w, p: ["cert", "--cert", str(p)], expect_instead=CERT_FILE),
        **cluster_cases(lambda w, kc: ["cert", "--kubeconfig", kc]),
        "expired cert": Case(lambda w: ["cert", "--cert", str(w.expired_cert)], 2, "the certificate expired on"),
        "wrong key": Case(lambda w: ["cert", "--cert", str(w.key)], 2, "a private key, not a certificate"),
    },
    "verify": {
        **file_cases(lambda w, p: ["verify", "--private-key", str(w.key), str(p)]),
        "missing file": Case(lambda w: ["verify", str(w.bad("missing file"))], 2, "no such file or directory"),
        "directory": Case(lambda w: ["verify", str(w.bad("directory"))], 2, "no SealedSecrets found under PATHS"),
        "empty": Case(lambda w: ["verify", str(w.bad("empty"))], 2, "no SealedSecrets found under PATHS"),
        "wrong kind": Case(lambda w: ["verify", str(w.bad("wrong kind"))], 2, "no SealedSecrets found under PATHS"),
        **cluster_cases(lambda w, kc: ["verify", "--kubeconfig", kc, str(w.sealed_repo)]),
        "wrong key": Case(lambda w: ["verify", "--private-key", str(w.other_key), str(w.sealed_repo)], 1),
    },
    "reencrypt": {
        **file_cases(lambda w, p: ["reencrypt", "--private-key", str(w.key), "--cert", str(w.cert), str(p)]),
        "directory": Case(lambda w: ["reencrypt", str(w.bad("directory"))], 2, "no SealedSecrets found under PATHS"),
        "empty": Case(lambda w: ["reencrypt", str(w.bad("empty"))], 2, "no SealedSecrets found under PATHS"),
        "wrong kind": Case(lambda w: ["reencrypt", str(w.bad("wrong kind"))], 2, "no SealedSecrets found"),
        **cluster_cases(lambda w, kc: ["reencrypt", "--kubeconfig", kc, str(w.sealed_repo)]),
        "expired cert": Case(
            lambda w: ["reencrypt", "--private-key", str(w.key), "--cert", str(w.expired_cert), str(w.sealed_repo)],
            2,
            "the certificate expired on",
        ),
        "wrong key": Case(
            lambda w: ["reencrypt", "--private-key", str(w.other_key), "--cert", str(w.cert), str(w.sealed_repo)], 1
        ),
    },
    # lint reports files it cannot check as findings (exit 1); only a missing path is a usage error.
    "lint": {
        "missing file": Case(lambda w: ["lint", str(w.bad("missing file"))], 2, "no such file or directory"),
        "directory": Case(lambda w: ["lint", str(w.bad("directory"))], 0),
        "empty": Case(lambda w: ["lint", str(w.bad("empty"))], 0),
        "binary": Case(lambda w: ["lint", str(w.bad("binary"))], 1),
        "invalid UTF-8": Case(lambda w: ["lint", str(w.bad("invalid UTF-8"))], 1),
        "alias bomb": Case(lambda w: ["lint", str(w.bad("alias bomb"))], 1),
        "alias fan-out": Case(lambda w: ["lint", str(w.bad("alias fan-out"))], 1),
        "100 MiB file": Case(lambda w: ["lint", str(w.bad("100 MiB file"))], 1),
        "wrong kind": Case(lambda w: ["lint", str(w.bad("wrong kind"))], 0),
        **cluster_cases(lambda w, kc: ["lint", "--online", "--kubeconfig", kc, str(w.sealed_repo)]),
        "expired cert": Case(
            lambda w: ["lint", "--cert", str(w.expired_cert), str(w.sealed_repo)], 2, "the certificate expired on"
        ),
        "wrong key": Case(lambda w: ["lint", "--private-key", str(w.other_key), str(w.sealed_repo)], 1),
    },
    "csi generate": file_cases(csi_spec("generate")),
    "csi verify": file_cases(csi_spec("verify")),
    "csi seal-creds": {
        **file_cases(
            lambda w, p: ["csi", "seal-creds", "--env", "prod", "--from-stdin", "--spec", str(p)],
            stdin=lambda w: f"0a1b2c3d-0000-4000-8000-00000000c001\n{PLANTED}\n",
        ),
        "expired cert": Case(
            lambda w: [
                "csi",
                "seal-creds",
                "--env",
                "prod",
                "--from-stdin",
                "--spec",
                str(w.expired_spec_repo / "sealkit-csi.yaml"),
            ],
            2,
            "the certificate expired on",
            lambda w: f"0a1b2c3d-0000-4000-8000-00000000c001\n{PLANTED}\n",
        ),
    },
    "csi discover": {
        "unreachable cluster": Case(
            lambda w: ["csi", "discover", "--vault", "kv-x", "--vault-url", f"kv-x=https://127.0.0.1:{closed_port()}"],
            2,
        ),
        "wrong kind": Case(lambda w: ["csi", "discover", "--vault", "not_a_vault!"], 2, "keyvaultName"),
    },
    "keys restore": file_cases(
        lambda w, p: ["keys", "restore", "--from-file", str(p), "--kubeconfig", str(w.unreachable)],
        expect_instead=KEY_FILE | {"missing file": "does not exist"},
    ),
    "keys list": cluster_cases(lambda w, kc: ["keys", "list", "--kubeconfig", kc]),
    "keys backup": cluster_cases(
        lambda w, kc: ["keys", "backup", "--to-file", str(w.root / "out.yaml"), "--kubeconfig", kc]
    ),
    "controller": {
        "missing file": Case(lambda w: ["controller", "--kubeconfig", str(w.bad("missing file"))], 2, "no such file"),
        "directory": Case(lambda w: ["controller", "--kubeconfig", str(w.bad("directory"))], 2, "is a directory"),
        "binary": Case(lambda w: ["controller", "--kubeconfig", str(w.bad("binary"))], 2, "binary data"),
        "alias bomb": Case(lambda w: ["controller", "--kubeconfig", str(w.bad("alias bomb"))], 2, "excessive aliasing"),
        "100 MiB file": Case(lambda w: ["controller", "--kubeconfig", str(w.bad("100 MiB file"))], 2, "larger than"),
        "corrupt kubeconfig": Case(
            lambda w: ["controller", "--kubeconfig", str(w.corrupt_kubeconfig)], 2, "binary data"
        ),
        "wrong kind": Case(lambda w: ["controller", "--key-ttl", "soon"], 2, "'soon' is not a duration"),
        "expired cert": Case(lambda w: ["controller", "--key-size", "1024"], 2, "use at least 2048 bits"),
    },
}

CASES = [(command, kind) for command, cases in TABLE.items() for kind in CLASSES if kind in cases]


def run(
    args: list[str], stdin: str, *, extra_env: dict[str, str] | None = None, terminal: bool = False
) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it; `terminal`: stdin is a terminal (nothing piped in)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "SEALED_SECRETS", "SEALKIT", "AZURE"))
    }
    env |= {"HOME": "/nonexistent", "SEALED_SECRETS_KEY_SIZE": "2048", "PATH": "/usr/bin:/bin"} | (extra_env or {})
    command = [sys.executable, "-c", "from sealkit_cli.main import main; main()", *args]
    if not terminal:
        return subprocess.run(
            command, input=stdin, capture_output=True, text=True, check=False, timeout=30, env=env, cwd=ROOT
        )
    controller, tty = os.openpty()
    try:
        return subprocess.run(
            command, stdin=tty, capture_output=True, text=True, check=False, timeout=30, env=env, cwd=ROOT
        )
    finally:
        os.close(tty)
        os.close(controller)


def test_the_table_covers_every_command_and_class() -> None:
    assert {c.split()[0] for c in TABLE} == {
        "seal",
        "unseal",
        "cert",
        "verify",
        "reencrypt",
        "lint",
        "csi",
        "keys",
        "controller",
        "kubeseal",
    }
    covered = {kind for cases in TABLE.values() for kind in cases}
    assert covered == set(CLASSES)


@pytest.mark.parametrize(("command", "kind"), CASES, ids=[f"{c}: {k}" for c, k in CASES])
def test_bad_input(world: World, command: str, kind: str) -> None:
    case = TABLE[command][kind]
    result = run(case.args(world), case.stdin(world))
    everything = result.stdout + result.stderr
    assert result.returncode == case.status, (result.returncode, result.stdout[-2000:], result.stderr)
    assert PLANTED not in everything
    assert not EXCEPTION_NAME.search(everything), everything[-2000:]
    assert not TEMP_NAME.search(result.stderr), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) <= 1, result.stderr
    if case.status == 2:
        (line,) = lines
        assert line.startswith("error: ") and ": " in line[len("error: ") :], line
        assert not PYTHON_VALUE.search(line), line
        assert case.expect in line, line
        assert result.stdout == ""


# --- where: a refusal of a flag, variable, argument or file names it as `<where>` ------------------------


@dataclass(frozen=True)
class Refusal:
    """A command refused before it does anything: its arguments, what the environment adds, its exact line."""

    args: Callable[[World], list[str]]
    line: Callable[[World], str]
    env: dict[str, str] = field(default_factory=dict)
    terminal: bool = False  # stdin is a terminal


def secret_file(w: World) -> str:
    path = w.root / "secret.yaml"
    path.write_text(w.secret)
    return str(path)


def spec(w: World) -> str:
    return str(w.spec_repo / "sealkit-csi.yaml")


def dev_workdir_with_a_list_for_key(w: World) -> Path:
    workdir = w.root / "dev-workdir"
    workdir.mkdir(exist_ok=True)
    (workdir / "sealing-key.yaml").write_text("- not a key Secret\n")
    return workdir


ONLY_ONE = "error: give only one of these"
NO_CLIENT = "set (or pipe the id and secret to --from-stdin, one a line)"
ESCROW = "error: escrow needs both --vault and --cluster-name; this one is missing"
KEK = "needs the key-encryption key to wrap with: --kek URL (or SEALKIT_KEK_URL)"
VAULT_CSI = str(ROOT / "examples" / "vault-csi" / "sealkit-csi.yaml")  # HashiCorp Vault only: no Key Vault version


def edited_spec(w: World, name: str, source: str, old: str, new: str) -> str:
    """A copy of the spec `source` with `old` replaced by `new` (refused before its relative paths are read)."""
    path = w.root / name
    text = Path(source).read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return str(path)


def vault_spec_with_credentials(w: World) -> str:
    old = "address: https://vault.dev.example.internal:8200"
    new = f"address: https://admin:{PLANTED}@vault.dev.example.internal:8200"
    return edited_spec(w, "vault-creds.yaml", VAULT_CSI, old, new)


def kubeconfig_without(w: World, name: str, current: str | None) -> str:
    """The unreachable kubeconfig with its current-context set to `current` (None: left out)."""
    config = yaml.safe_load(w.unreachable.read_text())
    config.pop("current-context")
    if current is not None:
        config["current-context"] = current
    path = w.root / name
    path.write_text(yaml.safe_dump(config))
    return str(path)


REFUSALS: dict[str, Refusal] = {
    "seal, kubeconfig current-context gone": Refusal(
        lambda w: ["seal", "--kubeconfig", kubeconfig_without(w, "gone-kubeconfig", "gone")],
        lambda w: f"error: current-context 'gone' is not one of its contexts: kubeconfig {w.root / 'gone-kubeconfig'}",
    ),
    "seal, kubeconfig without current-context": Refusal(
        lambda w: ["seal", "--kubeconfig", kubeconfig_without(w, "no-current-kubeconfig", None)],
        lambda w: (
            "error: no server: the kubeconfig context names no cluster with a server (give --server): "
            f"kubeconfig {w.root / 'no-current-kubeconfig'}"
        ),
    ),
    "seal --cert URL with credentials": Refusal(
        lambda w: ["seal", "--cert", f"https://ci:{PLANTED}@127.0.0.1:99999/cert.pem?sig={PLANTED}"],
        lambda w: "error: not a valid http(s) URL: https://***@127.0.0.1:99999/cert.pem?***",
    ),
    "csi generate, vaultAddress with credentials": Refusal(
        lambda w: ["csi", "generate", "--check", "--spec", vault_spec_with_credentials(w)],
        lambda w: (
            "error: environments.dev.hashicorpVault.address: "
            "vaultAddress 'https://***@vault.dev.example.internal:8200' "
            f"must not carry credentials: {w.root / 'vault-creds.yaml'}:12"
        ),
    ),
    "csi verify --pin --unpin": Refusal(
        lambda w: ["csi", "verify", "--pin", "--unpin"], lambda w: f"{ONLY_ONE}: --pin, --repin, --unpin"
    ),
    "csi verify --unpin --env qa": Refusal(
        lambda w: ["csi", "verify", "--spec", spec(w), "--unpin", "--env", "qa"],
        lambda w: "error: unknown environment 'qa' (the spec has: dev, prod): --env qa",
    ),
    "csi verify --pin, no Key Vault object": Refusal(
        lambda w: ["csi", "verify", "--spec", VAULT_CSI, "--pin"],
        lambda w: "error: nothing to pin: the chosen applications read no Key Vault objects: --pin",
    ),
    "csi seal-creds, no credentials": Refusal(
        lambda w: ["csi", "seal-creds", "--spec", spec(w), "--env", "prod"],
        lambda w: (
            f"error: no client id or secret {NO_CLIENT}: "
            "SEALKIT_CSI_CLIENT_ID or AZURE_CLIENT_ID, SEALKIT_CSI_CLIENT_SECRET or AZURE_CLIENT_SECRET"
        ),
    ),
    "csi seal-creds, no client secret": Refusal(
        lambda w: ["csi", "seal-creds", "--spec", spec(w), "--env", "prod"],
        lambda w: f"error: no client secret {NO_CLIENT}: SEALKIT_CSI_CLIENT_SECRET or AZURE_CLIENT_SECRET",
        env={"AZURE_CLIENT_ID": "an-id"},
    ),
    "lint --online --private-key": Refusal(
        lambda w: ["lint", "--online", "--private-key", str(w.key), str(w.sealed_repo)],
        lambda w: f"{ONLY_ONE}: --online, --private-key",
    ),
    "csi seal-creds --from-stdin on a terminal": Refusal(  # typed there, the secret would show as it is typed
        lambda w: ["csi", "seal-creds", "--spec", spec(w), "--env", "prod", "--from-stdin"],
        lambda w: (
            "error: no input: pipe the id and secret to --from-stdin (must hold two lines: the client id, "
            "then the client secret): stdin"
        ),
        terminal=True,
    ),
    "lint - on a terminal": Refusal(
        lambda w: ["lint", "-"],
        lambda w: "error: nothing is piped in (`-` reads manifests from stdin): stdin",
        terminal=True,
    ),
    "keys wrap without --kek": Refusal(lambda w: ["keys", "wrap"], lambda w: f"error: keys wrap {KEK}"),
    "keys rewrap without --kek": Refusal(lambda w: ["keys", "rewrap"], lambda w: f"error: keys rewrap {KEK}"),
    "keys backup --vault": Refusal(
        lambda w: ["keys", "backup", "--vault", "kv-x"], lambda w: f"{ESCROW}: --cluster-name"
    ),
    "keys backup --cluster-name": Refusal(
        lambda w: ["keys", "backup", "--cluster-name", "dev"], lambda w: f"{ESCROW}: --vault"
    ),
    "keys backup to nowhere": Refusal(
        lambda w: ["keys", "backup"],
        lambda w: "error: backup needs a file or an escrow vault (or both): --to-file, or --vault and --cluster-name",
    ),
    "set NAMESPACE-NAME": Refusal(
        lambda w: ["set", "shop-db", "token", "--spec", spec(w), "--all-envs", "--from-literal", "x"],
        lambda w: "error: give the SealedSecret as NAMESPACE/NAME: shop-db",
    ),
    "unseal without keys": Refusal(
        lambda w: ["unseal", "-f", str(w.sealed)],
        lambda w: "error: no private keys (give a PEM file, key Secret backup or v1 List): --private-key",
    ),
    "seal --env --cert": Refusal(
        lambda w: ["seal", "--spec", spec(w), "--env", "dev", "--cert", str(w.cert)],
        lambda w: "error: --env writes each environment's own files and uses its own certificate: --cert",
    ),
    "certs pull --env, kubeconfig an alias bomb": Refusal(
        lambda w: ["certs", "pull", "--spec", spec(w), "--env", "dev", "--kubeconfig", str(w.bad("alias bomb"))],
        lambda w: (
            "error: environment dev: excessive aliasing: aliases expand to 2549 of the document's 2567 nodes: "
            f"kubeconfig {w.bad('alias bomb')} document 1 line 4"
        ),
    ),
    "dev down without --dir": Refusal(
        lambda w: ["dev", "down"],
        lambda w: (
            "error: which local cluster? give its directory (sealkit dev up --detach exports it): "
            "--dir or SEALKIT_DEV_DIR"
        ),
    ),
    "dev down --dir, no cluster": Refusal(
        lambda w: ["dev", "down", "--dir", str(w.bad("directory"))],
        lambda w: f"error: no local cluster runs from this directory: {w.bad('directory')}",
    ),
    "seal --raw --name, not a name": Refusal(
        lambda w: ["seal", "--raw", "--cert", str(w.cert), "--name", "Bad_Name", "-n", "team-a"],
        lambda w: (
            "error: is not a valid Kubernetes name (lower-case letters, digits, '-' and '.', starting and ending "
            "with a letter or digit, at most 253 characters): --name"
        ),
    ),
    "seal --name, not a name": Refusal(
        lambda w: ["seal", "--cert", str(w.cert), "-f", secret_file(w), "--name", "DB"],
        lambda w: (
            "error: is not a valid Kubernetes name (lower-case letters, digits, '-' and '.', starting and ending "
            "with a letter or digit, at most 253 characters): --name"
        ),
    ),
    "seal --env -n, not a namespace": Refusal(
        lambda w: ["seal", "--spec", spec(w), "--env", "dev", "-f", secret_file(w), "-n", "Team_A"],
        lambda w: (
            "error: is not a valid namespace name (lower-case letters, digits and '-', starting and ending with a "
            "letter or digit, at most 63 characters): --namespace"
        ),
    ),
    "seal, SEALKIT_MAX_INPUT_BYTES not a number": Refusal(
        lambda w: ["seal", "--cert", str(w.cert)],
        lambda w: "error: not a positive whole number of bytes: environment variable SEALKIT_MAX_INPUT_BYTES",
        env={"SEALKIT_MAX_INPUT_BYTES": "8MiB"},
    ),
    "keys restore -f DIR": Refusal(
        lambda w: ["keys", "restore", "-f", str(w.bad("directory"))],
        lambda w: f"error: file '{w.bad('directory')}' is a directory: --from-file",
    ),
    "seal -o xml": Refusal(
        lambda w: ["seal", "-o", "xml"], lambda w: "error: 'xml' is not one of 'yaml', 'json': --format"
    ),
    "verify, no PATHS": Refusal(
        lambda w: ["verify"],
        lambda w: "error: missing argument 'PATHS...': sealkit verify (see 'sealkit verify --help')",
    ),
    "dev up --workdir, not a key": Refusal(
        lambda w: ["dev", "up", "--key-size", "2048", "--workdir", str(dev_workdir_with_a_list_for_key(w))],
        lambda w: f"error: not a key Secret (one v1 Secret expected): {w.root / 'dev-workdir' / 'sealing-key.yaml'}",
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refusal_names_its_where(world: World, name: str) -> None:
    """Each line is exactly `error: <what is wrong>: <where>`, the where being the flag(s), variables, argument or
    file to change (a message that lost its where, or carried it in the middle of the text, fails here)."""
    case = REFUSALS[name]
    result = run(case.args(world), "", extra_env=case.env, terminal=case.terminal)
    assert (result.returncode, result.stderr, result.stdout) == (2, case.line(world) + "\n", "")
