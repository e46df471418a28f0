"""`sealkit kubeseal` flag by flag, offline: defaults, formats, the namespace rule, raw values, every flag
from its SEALED_SECRETS_<FLAG> variable, one-line errors, and no plaintext anywhere but --recovery-unseal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit_cli.commands.kubeseal import kubeseal as kubeseal_command
from sealkit_cli.main import cli
from sealkit_cli.options import kubeseal_env
from tests.support.sealed import opened, opened_raw, ring

PLAINTEXT = "Pl41ntext-Marker-7781"


@pytest.fixture()
def work(tmp_path: Path, vectors: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with cert.pem/key.pem (vectors' key 0), secret.yaml, and no kubeconfig."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cert.pem").write_text(vectors["keys"][0]["cert_pem"])
    (tmp_path / "key.pem").write_text(vectors["keys"][0]["private_pem"])
    (tmp_path / "cert1.pem").write_text(vectors["keys"][1]["cert_pem"])
    (tmp_path / "key1.pem").write_text(vectors["keys"][1]["private_pem"])
    write_secret(tmp_path / "secret.yaml", namespace="myns")
    write_secret(tmp_path / "bare.yaml", namespace=None)
    return tmp_path


def write_secret(path: Path, name: str = "db", namespace: str | None = "myns", **extra: Any) -> Path:
    meta: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": {"password": PLAINTEXT}, **extra}
    path.write_text(yaml.safe_dump(secret))
    return path


def ks(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """`sealkit kubeseal` in-process, with no kubeconfig and no SEALED_SECRETS_ variable but `env`."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SEALED_SECRETS_")}
    clean.update({"KUBECONFIG": str(Path.cwd() / "no-kubeconfig"), "HOME": str(Path.cwd()), "POD_NAMESPACE": None})
    clean.update(env or {})
    return CliRunner().invoke(cli, ["kubeseal", *args], env=clean, input=input)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def key0(vectors: dict[str, Any]) -> Any:
    return ring(vectors["keys"][0]["private_pem"])


# --- output format ------------------------------------------------------------------------------------


def test_json_unless_yaml_is_asked_for(work: Path) -> None:
    assert ok(ks("--cert", "cert.pem", "-f", "secret.yaml")).stdout.startswith("{\n")
    for args in (["-o", "yaml"], ["--format", "YAML"]):
        out = ok(ks("--cert", "cert.pem", "-f", "secret.yaml", *args)).stdout
        assert out.startswith("---\napiVersion: bitnami.com/v1alpha1\n"), args
    bad = ks("--cert", "cert.pem", "-f", "secret.yaml", "-o", "xml")
    assert bad.exit_code == 2 and "xml" in bad.output


@pytest.mark.parametrize(
    ("name", "args", "fmt"),
    [
        ("out.yaml", [], "yaml"),
        ("out.yml", [], "yaml"),
        ("out.yaml", ["-o", "json"], "yaml"),  # kubeseal: the .yaml/.yml name wins over -o
        ("out.json", [], "json"),
        ("sealed", [], "json"),
        ("out.json", ["-o", "yaml"], "yaml"),
    ],
)
def test_output_file_format(work: Path, vectors: dict[str, Any], name: str, args: list[str], fmt: str) -> None:
    result = ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "-w", name, *args))
    assert result.stdout == ""
    text = (work / name).read_text()
    assert text.startswith("---\n" if fmt == "yaml" else "{\n")
    assert opened(yaml.safe_load(text), key0(vectors)) == {"password": PLAINTEXT.encode()}


def test_failed_run_leaves_the_output_file_alone(work: Path) -> None:
    (work / "out.json").write_text("previous content")
    (work / "broken.yaml").write_text("apiVersion: v1\nkind: BadInput\nmetadata: {name: foo, namespace: bar}\n")
    assert ks("--cert", "cert.pem", "-f", "broken.yaml", "-w", "out.json").exit_code == 2
    assert (work / "out.json").read_text() == "previous content"


# --- the namespace of a Secret: its own, else -n, else the context's, else "default" ------------------


def kubeconfig_with_namespace(path: Path, namespace: str | None, *, extra_context: str | None = None) -> Path:
    contexts = [
        {"name": "main", "context": {"cluster": "c", "user": "u", **({"namespace": namespace} if namespace else {})}}
    ]
    if extra_context:
        contexts.append({"name": "other", "context": {"cluster": "c", "user": "u", "namespace": extra_context}})
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": contexts,
                "current-context": "main",
            }
        )
    )
    return path


def namespace_of(result: Result) -> str | None:
    return json.loads(ok(result).stdout)["metadata"].get("namespace")


def test_namespace_rule(work: Path, vectors: dict[str, Any]) -> None:
    seal = ("--cert", "cert.pem", "-f")
    assert namespace_of(ks(*seal, "bare.yaml")) == "default", "no -n, no context: default"
    kubeconfig = str(kubeconfig_with_namespace(work / "kc", "from-context", extra_context="other-ns"))
    assert namespace_of(ks(*seal, "bare.yaml", env={"KUBECONFIG": kubeconfig})) == "from-context"
    assert namespace_of(ks(*seal, "bare.yaml", "--context", "other", env={"KUBECONFIG": kubeconfig})) == "other-ns"
    assert namespace_of(ks(*seal, "bare.yaml", "-n", "given", env={"KUBECONFIG": kubeconfig})) == "given"
    assert namespace_of(ks(*seal, "bare.yaml", "-n", "namespaces/given")) == "given", "kubectl's prefix dropped"
    assert namespace_of(ks(*seal, "secret.yaml", env={"KUBECONFIG": kubeconfig})) == "myns", "its own first"
    no_ns_context = str(kubeconfig_with_namespace(work / "kc2", None))
    assert namespace_of(ks(*seal, "bare.yaml", "--kubeconfig", no_ns_context)) == "default"
    clash = ks(*seal, "secret.yaml", "-n", "other")
    assert clash.exit_code == 2 and "namespace mismatch" in clash.output and "'myns'" in clash.output
    sealed = json.loads(ok(ks(*seal, "bare.yaml", "-n", "given")).stdout)
    assert opened(sealed, key0(vectors)) == {"password": PLAINTEXT.encode()}


def test_cluster_wide_takes_no_namespace_from_the_context(work: Path, vectors: dict[str, Any]) -> None:
    kubeconfig = str(kubeconfig_with_namespace(work / "kc", "from-context"))
    result = ks("--cert", "cert.pem", "-f", "bare.yaml", "--scope", "cluster-wide", env={"KUBECONFIG": kubeconfig})
    sealed = json.loads(ok(result).stdout)
    assert "namespace" not in sealed["metadata"]
    assert opened(sealed, key0(vectors), namespace="anywhere") == {"password": PLAINTEXT.encode()}


# --- --raw, --from-file, --name, --scope --------------------------------------------------------------


def test_raw(work: Path, vectors: dict[str, Any]) -> None:
    (work / "v.txt").write_text("value")
    strict = ok(ks("--cert", "cert.pem", "--raw", "--from-file", "v.txt", "-n", "bar", "--name", "s")).stdout
    assert opened_raw(strict, key0(vectors), b"bar/s") == b"value"
    defaulted = ok(ks("--cert", "cert.pem", "--raw", "--from-file", "k=v.txt", "--name", "s")).stdout
    assert opened_raw(defaulted, key0(vectors), b"default/s") == b"value", "the namespace rule applies to --raw"
    piped = ok(ks("--cert", "cert.pem", "--raw", "--scope", "cluster-wide", input="from stdin")).stdout
    assert opened_raw(piped, key0(vectors), b"") == b"from stdin"
    written = ok(ks("--cert", "cert.pem", "--raw", "--scope", "cluster-wide", "-w", "v.sealed", input="x"))
    assert written.stdout == "" and opened_raw((work / "v.sealed").read_text(), key0(vectors), b"") == b"x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-file", "v.txt"], "--from-file requires --raw"),
        (["--raw", "--from-file", "a.txt,b.txt", "--scope", "cluster-wide"], "exactly one file with --raw (got 2)"),
        (["--raw", "--from-file", "a", "--from-file", "b", "--scope", "cluster-wide"], "exactly one file"),
        (["--raw", "--from-file", "key=", "--scope", "cluster-wide"], "no file name after '='"),
        (["--raw", "--from-file", "missing.txt", "--scope", "cluster-wide"], "no such file: missing.txt"),
        (["--raw", "-n", "bar"], "must provide the --name flag with --raw and --scope strict"),
        (["--raw", "--scope", "wide"], "Invalid value for '--scope'"),
        (["--raw", "--validate"], "kubeseal does one of these per run; choose one: --validate and --raw"),
        (["-f", "many.yaml", "--name", "x"], "--name applies to one Secret, the input has 2"),
        (["-f", "empty.yaml"], "no data or stringData (pass --allow-empty-data"),
        (["-f", "nothing.yaml"], "no Secret in the input"),
        (
            ["--merge-into", "missing.json", "-f", "secret.yaml"],
            "no such file (--merge-into needs an existing SealedSecret file): missing.json",
        ),
        (["--merge-into", "two.yaml", "-f", "secret.yaml"], "exactly one SealedSecret in the file, found 2"),
        (["--recovery-unseal", "-f", "secret.yaml"], "no private keys: give --recovery-private-key"),
        (["--validate", "-f", "secret.yaml"], "not a bitnami.com/v1alpha1 SealedSecret"),
        (["-f", "secret.yaml", "--request-timeout", "soon"], "'soon' is not a timeout"),
        (["-f", "secret.yaml", "--insecure-skip-tls-verify", "--certificate-authority", "ca.pem"], "give one"),
        (["-f", "secret.yaml", "--as-group", "admins"], "impersonating needs a user name too (--as)"),
    ],
)
def test_bad_input_is_one_line(work: Path, args: list[str], message: str) -> None:
    (work / "v.txt").write_text("v")
    (work / "many.yaml").write_text(yaml.safe_dump_all([yaml.safe_load((work / "secret.yaml").read_text())] * 2))
    write_secret(work / "empty.yaml", stringData={})
    (work / "empty.yaml").write_text((work / "empty.yaml").read_text().replace(PLAINTEXT, ""))
    (work / "nothing.yaml").write_text("---\n")
    sealed = json.loads(ok(ks("--cert", "cert.pem", "-f", "secret.yaml")).stdout)
    (work / "two.yaml").write_text(yaml.safe_dump_all([sealed, sealed]))
    result = ks("--cert", "cert.pem", *args)
    assert result.exit_code in (1, 2), result.output
    assert message in result.output
    assert PLAINTEXT not in result.output
    assert "Traceback" not in result.output


def test_allow_empty_data(work: Path) -> None:
    write_secret(work / "empty.yaml", stringData={})
    sealed = json.loads(ok(ks("--cert", "cert.pem", "-f", "empty.yaml", "--allow-empty-data")).stdout)
    assert sealed["spec"]["encryptedData"] == {}


def test_merge_into_seals_for_the_files_own_target(work: Path, vectors: dict[str, Any]) -> None:
    ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "--scope", "namespace-wide", "-w", "db.json"))
    write_secret(work / "more.yaml", name="other-name", namespace="other-ns", data={"extra": "ZXh0cmE="})
    ok(ks("--cert", "cert.pem", "-f", "more.yaml", "--merge-into", "db.json"))
    merged = json.loads((work / "db.json").read_text())
    assert merged["metadata"]["name"] == "db" and merged["metadata"]["namespace"] == "myns"
    assert opened(merged, key0(vectors), name="renamed") == {"password": PLAINTEXT.encode(), "extra": b"extra"}


def test_recovery_private_key_without_recovery_unseal_warns(work: Path) -> None:
    result = ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "--recovery-private-key", "key.pem"))
    assert "warning: ignoring --recovery-private-key because unseal command not chosen with --recovery-unseal" in (
        result.stderr
    )
    assert json.loads(result.stdout)["kind"] == "SealedSecret"


def test_recovery_unseal_writes_a_private_file(work: Path) -> None:
    ok(ks("--cert", "cert1.pem", "-f", "secret.yaml", "-w", "sealed.json"))
    ok(ks("--recovery-unseal", "--recovery-private-key", "key.pem,key1.pem", "-f", "sealed.json", "-w", "out.yaml"))
    assert (work / "out.yaml").stat().st_mode & 0o777 == 0o600
    secret = yaml.safe_load((work / "out.yaml").read_text())
    assert secret["kind"] == "Secret" and secret["metadata"] == {"name": "db", "namespace": "myns"}


def test_recovery_unseal_never_writes_over_its_input(work: Path) -> None:
    """`kubeseal --recovery-unseal ... < sealed.json -w sealed.json` wrote the plaintext Secret over the
    SealedSecret it read; so did -f and -w naming one file, a link to it, or a file holding a SealedSecret."""
    ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "-w", "sealed.json"))
    (work / "copy.json").write_bytes((work / "sealed.json").read_bytes())
    (work / "link.json").symlink_to("sealed.json")
    before = (work / "sealed.json").read_bytes()
    recover = ("--recovery-unseal", "--recovery-private-key", "key.pem")
    with (work / "sealed.json").open() as stdin:
        piped = subprocess.run(
            [sys.executable, "-m", "sealkit_cli.main", "kubeseal", *recover, "-w", "sealed.json"],
            cwd=work,
            stdin=stdin,
            capture_output=True,
            text=True,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("SEALED_SECRETS_")} | {"HOME": str(work)},
        )
    assert (piped.returncode, piped.stdout) == (2, "")
    assert piped.stderr == (
        "error: the output file is the stdin input; the plaintext Secret would replace it (choose another -w): "
        "sealed.json\n"
    )
    for args, what in [
        (("-f", "sealed.json", "-w", "link.json"), "is the -f input"),
        (("-f", "sealed.json", "-w", "key.pem"), "is the --recovery-private-key input"),
        (("-f", "copy.json", "-w", "sealed.json"), "holds a SealedSecret"),
    ]:
        result = ks(*recover, *args)
        assert result.exit_code == 2 and result.output.startswith(f"error: the output file {what};"), args
    assert (work / "sealed.json").read_bytes() == before
    assert PLAINTEXT not in (work / "key.pem").read_text()


def test_recovery_unseal_names_the_keys_it_tried(work: Path) -> None:
    ok(ks("--cert", "cert1.pem", "-f", "secret.yaml", "-w", "sealed.json"))
    result = ks("--recovery-unseal", "--recovery-private-key", "key.pem", "-f", "sealed.json")
    assert result.exit_code == 2 and "SHA256:" in result.output and PLAINTEXT not in result.output


def test_cert_as_a_file_url(work: Path, vectors: dict[str, Any]) -> None:
    sealed = json.loads(ok(ks("--cert", f"file://{work / 'cert.pem'}", "-f", "secret.yaml")).stdout)
    assert opened(sealed, key0(vectors)) == {"password": PLAINTEXT.encode()}


def test_fetch_cert_copies_the_given_certificate(work: Path) -> None:
    assert ok(ks("--fetch-cert", "--cert", "cert.pem")).stdout == (work / "cert.pem").read_text()
    ok(ks("--fetch-cert", "--cert", "cert.pem", "-w", "copy.pem"))
    assert (work / "copy.pem").read_text() == (work / "cert.pem").read_text()


def test_go_style_booleans(work: Path) -> None:
    assert ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "--raw=false")).stdout.startswith("{")
    assert ok(ks("--cert", "cert.pem", "--raw=true", "--scope=cluster-wide", input="v")).stdout.startswith("Ag")


def test_klog_flags_are_accepted_with_one_warning(work: Path) -> None:
    result = ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "-v", "4", "--logtostderr=false", "--vmodule", "x=2"))
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert "--logtostderr, --v, --vmodule: klog's logging flags have no effect" in line
    assert json.loads(result.stdout)["kind"] == "SealedSecret"


def test_version_and_help() -> None:
    assert ok(ks("--version")).stdout == "kubeseal version: 0.1.0\n"
    assert ok(ks(env={"SEALED_SECRETS_VERSION": "true"})).stdout == "kubeseal version: 0.1.0\n"
    text = ok(ks("--help")).stdout
    assert "Where sealkit deliberately differs from kubeseal" in text
    for flag in ("--fetch-cert", "--validate", "--re-encrypt", "--recovery-unseal", "--recovery-private-key"):
        assert flag in text


# --- every flag from SEALED_SECRETS_<FLAG>, the flag winning ------------------------------------------

# Options without a kubeseal variable: --help (click's), --version (has one: tested above), klog's flags.
NO_VARIABLE = {"help", "version"}


def test_every_flag_has_its_sealed_secrets_variable() -> None:
    for param in kubeseal_command.params:
        if not isinstance(param, click.Option) or (param.hidden and (param.name or "").startswith("klog_")):
            continue
        if param.name in NO_VARIABLE:
            continue
        long_names = [o for o in param.opts if o.startswith("--")]
        envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or [])
        assert any(kubeseal_env(name) in envvars for name in long_names), (param.name, envvars)


def test_variables_set_what_their_flags_set(work: Path, vectors: dict[str, Any]) -> None:
    base = {"SEALED_SECRETS_CERT": "cert.pem"}
    as_yaml = ok(ks("-f", "secret.yaml", env=base | {"SEALED_SECRETS_FORMAT": "yaml"})).stdout
    assert as_yaml.startswith("---\n")
    flag_wins = ok(ks("-f", "secret.yaml", "-o", "json", env=base | {"SEALED_SECRETS_FORMAT": "yaml"})).stdout
    assert flag_wins.startswith("{")
    ok(ks(env=base | {"SEALED_SECRETS_SECRET_FILE": "secret.yaml", "SEALED_SECRETS_SEALED_SECRET_FILE": "o.json"}))
    assert json.loads((work / "o.json").read_text())["metadata"]["name"] == "db"
    scoped = json.loads(ok(ks("-f", "secret.yaml", env=base | {"SEALED_SECRETS_SCOPE": "cluster-wide"})).stdout)
    assert scoped["metadata"]["annotations"] == {"sealedsecrets.bitnami.com/cluster-wide": "true"}
    assert namespace_of(ks("-f", "bare.yaml", env=base | {"SEALED_SECRETS_NAMESPACE": "env-ns"})) == "env-ns"
    (work / "v.txt").write_text("value")
    raw_env = base | {
        "SEALED_SECRETS_RAW": "true",
        "SEALED_SECRETS_FROM_FILE": "v.txt",
        "SEALED_SECRETS_NAME": "n",
        "SEALED_SECRETS_NAMESPACE": "ns",
    }
    assert opened_raw(ok(ks(env=raw_env)).stdout, key0(vectors), b"ns/n") == b"value"
    write_secret(work / "empty.yaml", stringData={})
    assert ok(ks("-f", "empty.yaml", env=base | {"SEALED_SECRETS_ALLOW_EMPTY_DATA": "1"})).stdout.startswith("{")
    assert ok(ks(env=base | {"SEALED_SECRETS_FETCH_CERT": "true"})).stdout == (work / "cert.pem").read_text()
    ok(ks("-f", "secret.yaml", "-w", "m.json", env=base))
    write_secret(work / "more.yaml", data={"more": "bW9yZQ=="})
    ok(ks("-f", "more.yaml", env=base | {"SEALED_SECRETS_MERGE_INTO": "m.json"}))
    assert sorted(json.loads((work / "m.json").read_text())["spec"]["encryptedData"]) == ["more", "password"]
    unseal_env = {"SEALED_SECRETS_RECOVERY_UNSEAL": "true", "SEALED_SECRETS_RECOVERY_PRIVATE_KEY": "key1.pem,key.pem"}
    assert json.loads(ok(ks("-f", "m.json", env=unseal_env)).stdout)["kind"] == "Secret"
    # The modes that need a cluster: their variables select the mode (two modes at once is an error).
    for name, flag in (("VALIDATE", "--validate"), ("RE_ENCRYPT", "--re-encrypt"), ("ROTATE", "--re-encrypt")):
        result = ks("--raw", env=base | {f"SEALED_SECRETS_{name}": "true"})
        assert result.exit_code == 2 and f"{flag} and --raw" in result.output, name
    kubeconfig = str(kubeconfig_with_namespace(work / "kc", "ctx-ns", extra_context="other-ns"))
    env_kc = base | {"SEALED_SECRETS_KUBECONFIG": kubeconfig}
    assert namespace_of(ks("-f", "bare.yaml", env=env_kc)) == "ctx-ns"
    assert namespace_of(ks("-f", "bare.yaml", env=env_kc | {"SEALED_SECRETS_CONTEXT": "other"})) == "other-ns"
    bad = ks("-f", "secret.yaml", env=base | {"SEALED_SECRETS_RAW": "maybe"})
    assert bad.exit_code == 2 and "'maybe' is not a valid boolean" in bad.output


# --- the real entry point: one line on stderr, nothing secret anywhere ---------------------------------


def entry_point(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALED_SECRETS_") and k != "SEALKIT_DEBUG"}
    env |= {"HOME": str(cwd), "KUBECONFIG": str(cwd / "none")}
    return subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", "kubeseal", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_no_plaintext_anywhere_but_recovery_unseal(work: Path) -> None:
    runs = [
        entry_point("--cert", "cert.pem", "-f", "secret.yaml", "-w", "a.json", cwd=work),
        entry_point("--cert", "cert.pem", "-o", "yaml", cwd=work, stdin=(work / "secret.yaml").read_text()),
        entry_point("--cert", "cert.pem", "--raw", "--scope", "cluster-wide", cwd=work, stdin=PLAINTEXT),
        entry_point("--cert", "cert.pem", "-f", "secret.yaml", "--merge-into", "a.json", cwd=work),
        entry_point("--cert", "cert.pem", "-f", "secret.yaml", "-n", "clash", cwd=work),
        entry_point("--cert", "nope.pem", "-f", "secret.yaml", cwd=work),
        entry_point("--recovery-unseal", "--recovery-private-key", "key1.pem", "-f", "a.json", cwd=work),
        entry_point("--validate", "-f", "a.json", cwd=work),  # no cluster: one line
    ]
    for run in runs:
        assert PLAINTEXT not in run.stdout + run.stderr, run.args
        assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) <= 1, (run.args, run.stderr)
        assert run.returncode in (0, 2), (run.args, run.stderr)
    assert [r.returncode for r in runs] == [0, 0, 0, 0, 2, 2, 2, 2]
    assert PLAINTEXT not in (work / "a.json").read_text()
    recovered = entry_point("--recovery-unseal", "--recovery-private-key", "key.pem", "-f", "a.json", cwd=work)
    assert recovered.returncode == 0 and "kind" in json.loads(recovered.stdout)


# --- what kubeseal would ignore or write unchecked: refused, nothing written ---------------------------


def test_fetch_cert_writes_only_a_certificate_that_seals(work: Path) -> None:
    import datetime as dt

    from sealkit.keygen import generate_key_pair

    old = generate_key_pair(bits=2048, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3), validity=dt.timedelta(1))
    (work / "expired.pem").write_bytes(old.certificate_pem)
    (work / "junk.bin").write_bytes(b"\x00\xff<html>502 Bad Gateway</html>")
    for cert, message in (
        ("secret.yaml", "not a PEM or DER certificate: secret.yaml"),  # a plaintext Secret was copied out
        ("junk.bin", "not a PEM or DER certificate: junk.bin"),
        ("expired.pem", "the certificate expired on "),
    ):
        (work / "cert-out.pem").write_text("previous")
        result = ks("--fetch-cert", "--cert", cert, "-w", "cert-out.pem")
        assert result.exit_code == 2, cert
        (line,) = result.output.splitlines()
        assert line.startswith("error: ") and message in line, line
        assert PLAINTEXT not in result.output
        assert (work / "cert-out.pem").read_text() == "previous"
        assert ks("--fetch-cert", "--cert", cert).stdout == ""


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--scope", "cluster-wide", "--name", "Bad_Name"], "error: is not a valid Kubernetes name"),
        (["-n", "ns", "--name", "Bad_Name"], "error: is not a valid Kubernetes name"),
        (["-n", "Bad_NS", "--name", "s"], "error: is not a valid namespace name"),
        (["--scope", "namespace-wide", "-n", "x" * 64], "error: is not a valid namespace name"),
    ],
)
def test_raw_checks_the_name_and_namespace_it_seals_for(work: Path, args: list[str], line: str) -> None:
    (work / "v.txt").write_text("value")
    result = ks("--cert", "cert.pem", "--raw", "--from-file", "v.txt", *args)
    assert result.exit_code == 2
    (got,) = result.output.splitlines()
    assert got.startswith(line) and got.endswith(": --name" if "Kubernetes name" in line else ": --namespace")


def test_raw_checks_the_contexts_namespace(work: Path) -> None:
    (work / "v.txt").write_text("value")
    kubeconfig = str(kubeconfig_with_namespace(work / "kc", "Bad_NS"))
    for args in (["--raw", "--from-file", "v.txt", "--name", "s"], ["-f", "bare.yaml"]):
        result = ks("--cert", "cert.pem", *args, env={"KUBECONFIG": kubeconfig})
        assert result.exit_code == 2, args
        (line,) = result.output.splitlines()
        assert line.startswith("error: is not a valid namespace name")
        assert line.endswith(": the kubeconfig context's namespace (no -n given)")


def test_a_secrets_own_bad_namespace_is_named_at_the_document(work: Path) -> None:
    write_secret(work / "badns.yaml", namespace="Bad_NS")
    result = ks("--cert", "cert.pem", "-f", "badns.yaml")
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("error: metadata.namespace: is not a valid namespace name")
    assert line.endswith(": badns.yaml document 1")


def test_flags_kubeseal_would_ignore_are_errors(work: Path) -> None:
    (work / "v.txt").write_text("from the file")
    raw = ks("--cert", "cert.pem", "--raw", "-f", "v.txt", "--name", "s", "-n", "ns", input="from stdin")
    assert raw.exit_code == 2 and raw.stdout == ""
    assert raw.output == "error: --raw does not read -f: give the value with --from-file or on stdin: --secret-file\n"
    ok(ks("--cert", "cert.pem", "--raw", "-f", "-", "--name", "s", "-n", "ns", input="x"))  # -f - is stdin

    ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "-w", "db.json"))
    before = (work / "db.json").read_text()
    write_secret(work / "more.yaml", data={"extra": "ZXh0cmE="})
    merge = ks("--cert", "cert.pem", "-f", "more.yaml", "--merge-into", "db.json", "-w", "new.json")
    assert merge.exit_code == 2
    assert merge.output == "error: --merge-into rewrites its own file; -w is not written: --sealed-secret-file\n"
    assert (work / "db.json").read_text() == before and not (work / "new.json").exists()


@pytest.mark.parametrize("annotation", ["cluster-wide", "namespace-wide"])
def test_scope_strict_given_for_a_wider_annotated_secret_is_an_error(work: Path, annotation: str) -> None:
    annotations = {f"sealedsecrets.bitnami.com/{annotation}": "true"}
    write_secret(work / "wide.yaml", metadata={"name": "db", "namespace": "myns", "annotations": annotations})
    for given in (["--scope", "strict"], ["--scope=strict"]):
        result = ks("--cert", "cert.pem", "-f", "wide.yaml", "-w", "out.json", *given)
        assert result.exit_code == 2 and not (work / "out.json").exists()
        assert result.output == (
            f"error: --scope strict, but the Secret's annotation makes it {annotation}: remove one of them: "
            "wide.yaml document 1\n"
        )
    env = ks("--cert", "cert.pem", "-f", "wide.yaml", env={kubeseal_env("scope"): "strict"})
    assert env.exit_code == 2 and "--scope strict" in env.output
    # Without --scope the annotation decides, as in kubeseal; a wider or another --scope is taken as given.
    sealed = json.loads(ok(ks("--cert", "cert.pem", "-f", "wide.yaml")).stdout)
    assert sealed["metadata"]["annotations"] == annotations
    other = "namespace-wide" if annotation == "cluster-wide" else "cluster-wide"
    sealed = json.loads(ok(ks("--cert", "cert.pem", "-f", "wide.yaml", "--scope", other)).stdout)
    assert sealed["metadata"]["annotations"] == {f"sealedsecrets.bitnami.com/{other}": "true"}


def test_flags_a_mode_does_not_read_are_named_in_one_warning(work: Path) -> None:
    """kubeseal ignores them without a word (--cert with --recovery-unseal, --scope with --merge-into...)."""
    ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "-w", "db.json"))
    write_secret(work / "more.yaml", data={"extra": "ZXh0cmE="})
    merged = ok(ks("--cert", "cert.pem", "-f", "more.yaml", "--merge-into", "db.json", "--scope", "cluster-wide"))
    assert merged.stderr == (
        "warning: --scope: no effect with --merge-into (the file's own name, namespace and scope are used)\n"
    )
    args = ("--recovery-unseal", "--recovery-private-key", "key.pem", "-f", "db.json")
    unsealed = ok(ks(*args, "--cert", "cert.pem", "--name", "x", "--allow-empty-data"))
    assert unsealed.stderr == "warning: --cert, --allow-empty-data, --name: no effect with --recovery-unseal\n"
    fetched = ok(ks("--fetch-cert", "--cert", "cert.pem", "-f", "secret.yaml", "-o", "json"))
    assert fetched.stderr == "warning: --format, --secret-file: no effect with --fetch-cert\n"
    # Only what is given on the command line: a SEALED_SECRETS_* variable set for every run is not named.
    assert ok(ks(*args, env={kubeseal_env("cert"): "cert.pem"})).stderr == ""
    assert ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "--name", "db", "-o", "yaml")).stderr == ""


def test_recovery_unseal_refuses_a_key_file_whose_certificate_is_another_keys(work: Path) -> None:
    """kubeseal reads only the key (tls.crt, a certificate after the key, never looked at); sealkit refuses a
    backup put together from two keys, as `sealkit keys restore` refuses it, naming the file."""
    ok(ks("--cert", "cert.pem", "-f", "secret.yaml", "-w", "sealed.json"))
    (work / "crossed.pem").write_text((work / "key.pem").read_text() + (work / "cert1.pem").read_text())
    result = ks("--recovery-unseal", "--recovery-private-key", "crossed.pem", "-f", "sealed.json")
    assert result.exit_code == 2
    assert result.output == (
        "error: the certificate is the certificate of another key, not of the private key: crossed.pem\n"
    )


def test_recovery_unseal_refuses_stdin_for_both_keys_and_input(work: Path) -> None:
    result = ks("--recovery-unseal", "--recovery-private-key", "-", input=(work / "key.pem").read_text())
    assert result.exit_code == 2
    assert result.output == (
        "error: stdin can be read once: give all but one of these as files: -f and --recovery-private-key\n"
    )
