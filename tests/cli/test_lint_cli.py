"""`sealkit lint` end to end: exit status, formats, stdin, config, keys, and the controller."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from click.testing import CliRunner, Result

from sealkit.certificates import certificate_not_before
from sealkit.keys import KeyRing, PrivateKey, load_private_keys
from sealkit_cli.main import cli
from sealkit_controller.serving.httpapi import make_app
from tests.support.keys import StaticKeys

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "gitops"
EXAMPLE_CERT = EXAMPLE / "clusters" / "example-cluster-cert.pem"
EXAMPLE_KEY = ROOT / "tests" / "data" / "example-cluster-key.pem"
RULES = ROOT / "tests" / "data" / "lint" / "rules"
VALUE = "hunter2-sekret-value"
PLAIN = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  password: {VALUE}\n"


def run(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["lint", *args], input=input, env={"KUBECONFIG": None})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "secret.yaml").write_text(PLAIN)
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {LOG: info}\n")
    return tmp_path


def test_example_is_clean_with_cert_and_key() -> None:
    prod_key = ROOT / "tests" / "data" / "example-prod-key.pem"
    spec = EXAMPLE / "sealkit-csi.yaml"  # its environments too: each SealedSecret where it was sealed for
    args = ("--spec", str(spec), "--cert", str(EXAMPLE_CERT), "--private-key", str(EXAMPLE_KEY))
    result = run(*args, "--private-key", str(prod_key), str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("no findings (")


def test_plaintext_secret_fails_and_never_prints_the_value(repo: Path) -> None:
    result = run(str(repo))
    assert result.exit_code == 1
    assert f"{repo / 'secret.yaml'}:6: error SK101 plaintext-secret: Secret db has stringData" in result.output
    assert "fix: Seal it" in result.output
    for fmt in ("text", "json", "sarif"):
        assert VALUE not in run("--format", fmt, str(repo)).output


def test_fail_on_threshold(repo: Path) -> None:
    assert run("--fail-on", "critical", str(repo)).exit_code == 0
    assert run("--fail-on", "never", str(repo)).exit_code == 0
    assert run("--fail-on", "warning", str(repo)).exit_code == 1
    (repo / "secret.yaml").unlink()
    assert run("--fail-on", "info", str(repo)).exit_code == 0


def test_json_and_sarif_to_a_file(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "lint.json"
    out.parent.mkdir()
    result = run("--format", "json", "--output", str(out), str(repo))
    assert result.exit_code == 1
    body = json.loads(out.read_text())
    assert body["summary"]["failed"] is True and body["findings"][0]["rule"] == "SK101"
    assert "1 finding: 1 error" in result.output  # the summary goes to stderr
    sarif = json.loads(run("--format", "sarif", str(repo)).stdout)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"][0]["ruleId"] == "SK101"


def test_stdin(tmp_path: Path) -> None:
    result = run("-", input=PLAIN)
    assert result.exit_code == 1
    assert "stdin:6: error SK101" in result.output
    assert run("-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n").exit_code == 0


def test_config_file_is_found_in_the_linted_directory(repo: Path) -> None:
    (repo / ".sealkit-lint.yaml").write_text("rules:\n  SK101: warning\n")
    result = run(str(repo))
    assert result.exit_code == 0, result.output
    assert "warning SK101" in result.output
    explicit = repo / "strict.yaml"
    explicit.write_text("fail-on: warning\n")
    assert run("--config", str(explicit), str(repo)).exit_code == 1


def test_bad_config_is_one_error_line(repo: Path) -> None:
    (repo / ".sealkit-lint.yaml").write_text("rules: {SK999: off}\n")
    result = run(str(repo))
    assert result.exit_code == 2
    config = repo / ".sealkit-lint.yaml"
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and str(config) in line
    assert "rules.SK999: unknown lint rule 'SK999' (see `sealkit lint --list-rules`)" in line


def test_cert_checks_key_sizes() -> None:
    case = RULES / "SK203-sealed-key-size" / "bad"
    assert run(str(case)).exit_code == 0, "without --cert the size is not known"
    result = run("--cert", str(EXAMPLE_CERT), str(case))
    assert result.exit_code == 1
    assert "SK203" in result.output and "2048-bit key, but the certificate's key is 4096-bit" in result.output


def test_private_key_opens_every_sealed_secret() -> None:
    case = RULES / "SK208-sealed-does-not-open"
    bad = run("--private-key", str(EXAMPLE_KEY), str(case / "bad"))
    assert bad.exit_code == 1 and "SK208" in bad.output
    assert run("--private-key", str(EXAMPLE_KEY), str(case / "good")).exit_code == 0


def test_online_and_private_key_are_exclusive(repo: Path) -> None:
    result = run("--online", "--private-key", str(EXAMPLE_KEY), str(repo))
    assert result.exit_code == 2 and "error: give only one of these: --online, --private-key" in result.output


def test_missing_path() -> None:
    result = run("/no/such/dir")
    assert result.exit_code == 2 and "no such file or directory" in result.output


def test_list_rules() -> None:
    result = run("--list-rules")
    assert result.exit_code == 0
    assert "SK101  error     plaintext-secret" in result.output
    assert "SK102  critical  sealing-key-committed" in result.output


class ControllerHTTP:
    """The controller's real HTTP API on its own loop and a free loopback port."""

    def __init__(self, ring: KeyRing) -> None:
        self.runner = web.AppRunner(make_app(StaticKeys(ring), rate=100.0, burst=100))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    def __enter__(self) -> ControllerHTTP:
        self.thread.start()

        async def start() -> str:
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

        self.url = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def controller(kube: Any) -> Iterator[ControllerHTTP]:
    (key,) = load_private_keys(EXAMPLE_KEY.read_bytes())
    cert = (ROOT / "examples" / "gitops" / "clusters" / "example-cluster-cert.pem").read_bytes()
    served = PrivateKey(key.key, key.fingerprint, "example", certificate_not_before(cert), cert)
    with ControllerHTTP(KeyRing([served])) as http:  # with its certificate: lint asks for it first
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "sealed-secrets-controller", "namespace": "kube-system"},
                "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
            }
        )
        kube.register_service_backend("kube-system", "sealed-secrets-controller", "http", http.url)
        yield http


def test_online_asks_the_controller(kube: Any, kubeconfig: Path, controller: ControllerHTTP, tmp_path: Path) -> None:
    case = RULES / "SK208-sealed-does-not-open"
    good = run("--online", "--kubeconfig", str(kubeconfig), str(case / "good"))
    assert good.exit_code == 0, good.output
    bad = run("--online", "--kubeconfig", str(kubeconfig), str(case / "bad"))
    assert bad.exit_code == 1
    assert "SK208" in bad.output and "does not open in the cluster" in bad.output
    verified = [r for r in kube.request_log if "/proxy/v1/verify" in str(r)]
    assert len(verified) == 4, "one POST /v1/verify per SealedSecret"
    # sent in the namespace its kustomization.yaml sets, where kustomize build puts it
    assert "kustomized/sealed.yaml:4: error SK208" in bad.output
    # kustomize's namespace is sent along when the SealedSecret has none of its own
    nons = tmp_path / "app"
    shutil.copytree(RULES / "SK204-sealed-no-namespace" / "good" / "app", nons)
    sealed = yaml.safe_load((nons / "sealed.yaml").read_text())
    assert "namespace" not in sealed["metadata"]
    assert run("--online", "--kubeconfig", str(kubeconfig), str(nons)).exit_code == 0


def test_warnings_and_info_are_printed_and_counted_but_exit_0(tmp_path: Path) -> None:
    spc = RULES.parent.parent / "legit" / "spc" / "upstream-pod-identity.yaml"
    shutil.copy(spc, tmp_path / "spc.yaml")
    result = run(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "warning SK305" in result.output
    assert result.output.strip().splitlines()[-1].startswith("2 findings: 2 warnings (1 file read, 0 skipped")
    assert run("--fail-on", "warning", str(tmp_path)).exit_code == 1


def test_all_files_flag_reads_untracked_files(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "-C", str(tmp_path), "init", "-q"], check=True)
    (tmp_path / "secret.yaml").write_text(PLAIN)
    assert run(str(tmp_path)).output.startswith("no findings (0 files read")
    assert run("--all-files", str(tmp_path)).exit_code == 1


def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("--fail-on", "sometimes", str(tmp_path)).exit_code == 2
    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "-1")
    result = run(str(tmp_path))
    assert result.exit_code == 2 and result.output.endswith(": environment variable SEALKIT_MAX_INPUT_BYTES\n")


def test_stdin_over_the_cap_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "100")
    result = run("-", input="apiVersion: v1\nkind: ConfigMap\n" + "# padding\n" * 50)
    assert result.exit_code == 1 and "stdin:1: error SK004 file-too-large" in result.output


def test_example_lints_clean_from_its_own_directory_as_ci_runs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs `sealkit lint` at the config repo's root: sealkit-csi.yaml there names the environments."""
    monkeypatch.chdir(EXAMPLE)
    result = run("--all-files", ".")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("no findings ("), result.output


def test_a_prod_file_in_devs_directory_fails_lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    copy = tmp_path / "gitops"
    shutil.copytree(EXAMPLE, copy)
    moved = copy / "clusters/dev/secrets/shop.orders-registry.sealedsecret.yaml"
    shutil.copy(copy / "clusters/prod/secrets/shop.orders-registry.sealedsecret.yaml", moved)
    monkeypatch.chdir(copy)
    result = run("--all-files", ".")
    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if "SK210" in line]
    assert line.startswith("clusters/dev/secrets/shop.orders-registry.sealedsecret.yaml:")
    assert "error SK210 sealed-wrong-cluster" in line
    assert "sealed for environment prod" in line and "sits in environment dev's directory clusters/dev/secrets" in line
    # An explicit --spec elsewhere, or $SEALKIT_CSI_SPEC, finds it the same way.
    monkeypatch.chdir(tmp_path)
    assert run("--all-files", "--spec", str(copy / "sealkit-csi.yaml"), str(copy)).exit_code == 1
    monkeypatch.setenv("SEALKIT_CSI_SPEC", str(copy / "sealkit-csi.yaml"))
    assert "SK210" in run("--all-files", str(copy)).output


def test_a_spec_that_does_not_load_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--spec", str(tmp_path / "missing.yaml"), str(tmp_path))
    assert result.exit_code == 2 and "no such spec file" in result.output


def test_a_directory_lint_cannot_read_is_an_error_finding(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.sealkit.test_files import refuse_listing

    hidden = repo / "overlays" / "prod"
    hidden.mkdir(parents=True)
    (hidden / "secret.yaml").write_text(PLAIN)
    refuse_listing(monkeypatch, hidden)
    result = run("--all-files", str(repo))
    assert result.exit_code == 1
    assert f"{hidden}:1: error SK007 file-unreadable: directory cannot be read (permission denied): its files" in (
        result.output
    )
    assert f"{repo / 'secret.yaml'}:6: error SK101" in result.output, "the rest of the repo is still checked"


def test_a_file_lint_cannot_look_up_is_checked_not_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose lstat is refused (EACCES: a directory above it without search permission, simulated: CI runs
    as root) was counted as skipped, as a symlink is, and the run passed; its read now decides."""
    import errno
    import os

    hidden = tmp_path / "secret.yaml"
    hidden.write_text(PLAIN)
    real = os.stat

    def stat(path: Any, *args: Any, follow_symlinks: bool = True, **kwargs: Any) -> os.stat_result:
        if not follow_symlinks and isinstance(path, str | os.PathLike) and Path(path) == hidden:  # Path.lstat
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real(path, *args, follow_symlinks=follow_symlinks, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    result = run("--all-files", str(tmp_path))
    assert result.exit_code == 1
    assert f"{hidden}:6: error SK101" in result.output


@pytest.mark.parametrize("name", [".sealkit-lint.yaml", ".sealkit-lint.yml"])
def test_a_config_that_is_not_a_file_is_one_error_line(repo: Path, name: str) -> None:
    """A directory, or a symlink to nothing, where the config goes: an error naming it (it was passed over,
    and the repo linted with the default config)."""
    config = repo / name
    config.mkdir()
    result = run(str(repo))
    assert result.exit_code == 2
    assert result.output == f"error: is a directory, not a file: {config}\n"
    config.rmdir()
    config.symlink_to(repo / "missing.yaml")
    result = run(str(repo))
    assert result.exit_code == 2
    assert result.output == f"error: a symbolic link to nothing: {config}\n"


def test_a_config_reached_through_a_symlink_is_read(repo: Path) -> None:
    (repo / "lint-config.yaml").write_text("rules: {SK101: off}\n")
    (repo / ".sealkit-lint.yaml").symlink_to("lint-config.yaml")
    assert run(str(repo)).exit_code == 0


def test_a_default_spec_that_is_not_a_file_is_one_error_line(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory named sealkit-csi.yaml where lint looks for the spec: an error naming it (it was passed
    over: no environment checks, and the run passed on them)."""
    monkeypatch.chdir(repo)
    monkeypatch.delenv("SEALKIT_CSI_SPEC", raising=False)
    Path("sealkit-csi.yaml").mkdir()
    result = run("cm.yaml")
    assert result.exit_code == 2
    assert result.output == "error: is a directory, not a file: sealkit-csi.yaml\n"
    Path("sealkit-csi.yaml").rmdir()
    Path("sealkit-csi.yaml").symlink_to(EXAMPLE / "sealkit-csi.yaml")
    assert run("cm.yaml").exit_code == 0, "a symlink to the spec is followed"
