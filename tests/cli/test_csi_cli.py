"""`sealkit csi generate` / `seal-creds` through click, on a copy of the example config repo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit_cli.commands.csi import csi

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gitops"
SECRET = "cli-secret-never-printed"
CLIENT = "0a1b2c3d-0000-4000-8000-00000000c001"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(csi, list(args), input=input, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "gitops"
    shutil.copytree(EXAMPLE, target)
    return target


def test_check_passes_on_the_committed_example(repo: Path) -> None:
    result = run("generate", "--spec", str(repo / "sealkit-csi.yaml"), "--check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("up to date: 22 generated files, 1 sealed credentials")


def test_default_spec_is_found_in_the_working_directory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    assert run("generate", "--check").exit_code == 0


def test_stale_output_fails_check_with_a_diff_then_generate_fixes_it(repo: Path) -> None:
    spec = repo / "sealkit-csi.yaml"
    spec.write_text(spec.read_text().replace("vault: sealkit-dev-kv", "vault: sealkit-dev2-kv"))
    stale = run("generate", "--spec", str(spec), "--check")
    assert stale.exit_code == 1
    assert "+    keyvaultName: sealkit-dev2-kv" in stale.output
    assert "-    keyvaultName: sealkit-dev-kv" in stale.output
    assert "error: 2 generated file(s) are stale: run `sealkit csi generate" in stale.output
    fixed = run("generate", "--spec", str(spec))
    assert fixed.exit_code == 0
    assert "wrote 2 file(s), 20 unchanged, 0 stale deleted" in fixed.output
    assert run("generate", "--spec", str(spec), "--check").exit_code == 0


def test_env_filter_checks_one_environment(repo: Path) -> None:
    (repo / "clusters/prod/apps/orders/secretproviderclass.yaml").write_text("edited\n")
    assert run("generate", "--spec", str(repo / "sealkit-csi.yaml"), "--check", "--env", "dev").exit_code == 0
    assert run("generate", "--spec", str(repo / "sealkit-csi.yaml"), "--check", "--env", "prod").exit_code == 1


def test_spec_problems_are_error_lines_not_tracebacks(repo: Path) -> None:
    spec = repo / "sealkit-csi.yaml"
    text = spec.read_text().replace("type: key", "type: keys").replace("alias: db-password", "alias: /db-password")
    spec.write_text(text)
    result = run("generate", "--spec", str(spec))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    line_of = {
        w: text.splitlines().index(next(x for x in text.splitlines() if w in x)) + 1
        for w in ("type: keys", "alias: /db")
    }
    assert (
        "error: applications.orders.objects[0].alias: objectAlias '/db-password' must be relative, not absolute: "
        f"{spec}:{line_of['alias: /db']}" in lines
    )
    assert (
        "error: applications.orders.objects[2].type: objectType 'keys' must be one of secret, key, cert "
        f"(lowercase): {spec}:{line_of['type: keys']}" in lines
    )
    assert "Traceback" not in result.output


def test_missing_spec(tmp_path: Path) -> None:
    result = run("generate", "--spec", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2
    assert result.output.strip() == f"error: no such spec file: {tmp_path / 'none.yaml'}"


def test_missing_credentials_fail_check_and_warn_on_generate(repo: Path) -> None:
    (repo / "clusters/prod/apps/credentials/payments.secrets-store-creds.sealedsecret.yaml").unlink()
    spec = str(repo / "sealkit-csi.yaml")
    check = run("generate", "--spec", spec, "--check")
    assert check.exit_code == 1
    assert "is missing: run `sealkit csi seal-creds --env prod`" in check.output
    generated = run("generate", "--spec", spec)
    assert generated.exit_code == 0
    assert (
        "warning: clusters/prod/apps/credentials/payments.secrets-store-creds.sealedsecret.yaml is missing"
        in generated.output
    )


def test_check_names_a_generated_file_it_cannot_read(repo: Path) -> None:
    """A directory where a generated file must be (EISDIR, also as root) is an error naming it, not a file
    taken for missing (a diff from /dev/null)."""
    relpath = "clusters/dev/apps/orders/secretproviderclass.yaml"
    (repo / relpath).unlink()
    (repo / relpath).mkdir()
    result = run("generate", "--spec", str(repo / "sealkit-csi.yaml"), "--check")
    assert result.exit_code == 2
    assert result.output == f"error: cannot read (is a directory): {relpath}\n"


def test_credentials_whose_file_cannot_be_looked_up_are_named(repo: Path) -> None:
    """A sealed credentials file whose name no file system takes (ENAMETOOLONG, also as root): a problem
    naming it, not a bare 'file name too long'."""
    spec = repo / "sealkit-csi.yaml"
    name = "c" * 240
    spec.write_text(spec.read_text().replace("secretName: secrets-store-creds", f"secretName: {name}"))
    relpath = f"clusters/prod/apps/credentials/payments.{name}.sealedsecret.yaml"
    check = run("generate", "--spec", str(spec), "--check")
    assert check.exit_code == 1
    assert f"error: {relpath} cannot be read (file name too long)\n" in check.output
    generated = run("generate", "--spec", str(spec))
    assert generated.exit_code == 0
    assert f"warning: {relpath} cannot be read (file name too long)\n" in generated.output


def test_seal_creds_from_stdin(repo: Path, data_dir: Path) -> None:
    spec = str(repo / "sealkit-csi.yaml")
    result = run("seal-creds", "--spec", spec, "--env", "prod", "--from-stdin", input=f"{CLIENT}\n{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "sealed payments/secrets-store-creds -> "
        "clusters/prod/apps/credentials/payments.secrets-store-creds.sealedsecret.yaml\n"
    )
    written = (repo / "clusters/prod/apps/credentials/payments.secrets-store-creds.sealedsecret.yaml").read_text()
    assert SECRET not in written and yaml.safe_load(written)["kind"] == "SealedSecret"
    assert run("generate", "--spec", spec, "--check").exit_code == 0


def test_seal_creds_from_environment(repo: Path) -> None:
    env = {"SEALKIT_CSI_CLIENT_ID": CLIENT, "SEALKIT_CSI_CLIENT_SECRET": SECRET}
    result = run("seal-creds", "--spec", str(repo / "sealkit-csi.yaml"), "--env", "prod", env=env)
    assert result.exit_code == 0 and SECRET not in result.output


def test_seal_creds_without_credentials(repo: Path) -> None:
    env = {
        name: ""
        for name in ("SEALKIT_CSI_CLIENT_ID", "SEALKIT_CSI_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
    }
    result = run("seal-creds", "--spec", str(repo / "sealkit-csi.yaml"), "--env", "prod", env=env)
    assert result.exit_code == 2
    assert result.output == (
        "error: no client id or secret set (or pipe the id and secret to --from-stdin, one a line): "
        "SEALKIT_CSI_CLIENT_ID or AZURE_CLIENT_ID, SEALKIT_CSI_CLIENT_SECRET or AZURE_CLIENT_SECRET\n"
    )
    short = run("seal-creds", "--spec", str(repo / "sealkit-csi.yaml"), "--env", "prod", "--from-stdin", input=SECRET)
    assert short.exit_code == 2 and SECRET not in short.output


def test_registered_in_the_main_cli(repo: Path) -> None:
    from sealkit_cli.main import cli

    result = CliRunner().invoke(cli, ["csi", "generate", "--check", "--spec", str(repo / "sealkit-csi.yaml")])
    assert result.exit_code == 0 and result.output.startswith("up to date")


CREDENTIALS = "clusters/prod/apps/credentials/payments.secrets-store-creds.sealedsecret.yaml"


@pytest.mark.parametrize(
    ("stdin", "line"),
    [
        (
            f"{SECRET}\n{CLIENT}\n",
            "error: the service principal's client id must be a GUID like "
            "00000000-0000-0000-0000-000000000000 (the value is not shown): stdin line 1",
        ),
        (
            f"{CLIENT}\n{SECRET}\n{SECRET}-2\n",
            "error: must hold two lines: the client id, then the client secret (it holds 3): stdin",
        ),
        (f"{CLIENT}\n\n", "error: must hold two lines: the client id, then the client secret (it holds 1): stdin"),
        (f"{CLIENT}\n {SECRET}\n\n\n", None),  # trailing blank lines are no third value; the secret as given
        (f"{CLIENT}\r\n{SECRET}\r\n", None),
    ],
)
def test_seal_creds_stdin_holds_exactly_an_id_and_a_secret(repo: Path, stdin: str, line: str | None) -> None:
    before = (repo / CREDENTIALS).read_bytes()
    result = run("seal-creds", "--spec", str(repo / "sealkit-csi.yaml"), "--env", "prod", "--from-stdin", input=stdin)
    assert SECRET not in result.output
    if line is None:
        assert result.exit_code == 0, result.output
        assert (repo / CREDENTIALS).read_bytes() != before
        return
    assert result.exit_code == 2
    assert result.output == line + "\n"
    assert (repo / CREDENTIALS).read_bytes() == before


def test_seal_creds_stdin_is_bounded_and_text(repo: Path) -> None:
    args = ("seal-creds", "--spec", str(repo / "sealkit-csi.yaml"), "--env", "prod", "--from-stdin")
    binary = CliRunner().invoke(csi, list(args), input=b"\xff\xfe\n\xff\n")
    assert binary.exit_code == 2 and binary.output == "error: not UTF-8 text: stdin\n"
    huge = run(*args, input=f"{CLIENT}\n{SECRET}\n", env={"SEALKIT_MAX_INPUT_BYTES": "40"})
    assert huge.exit_code == 2 and huge.output.startswith("error: larger than the ") and SECRET not in huge.output


def test_seal_creds_from_the_environment_names_the_variable(repo: Path) -> None:
    env = {"SEALKIT_CSI_CLIENT_ID": "", "AZURE_CLIENT_ID": SECRET, "AZURE_CLIENT_SECRET": CLIENT}
    result = run("seal-creds", "--spec", str(repo / "sealkit-csi.yaml"), "--env", "prod", env=env)
    assert result.exit_code == 2 and SECRET not in result.output
    assert result.output.endswith("(the value is not shown): AZURE_CLIENT_ID\n")


@pytest.mark.parametrize(
    ("envs", "line"),
    [
        (["prod", "qa"], "error: unknown environment 'qa' (the spec has: dev, prod): --env qa"),
        (["prod", "dev"], "error: no application uses the servicePrincipal identity: environment dev"),
    ],
)
def test_seal_creds_writes_every_environment_or_none(repo: Path, envs: list[str], line: str) -> None:
    """A later --env that fails left the earlier environments' files rewritten (and exit 2)."""
    before = (repo / CREDENTIALS).read_bytes()
    args = [a for env in envs for a in ("--env", env)]
    result = run(
        "seal-creds", "--spec", str(repo / "sealkit-csi.yaml"), *args, "--from-stdin", input=f"{CLIENT}\n{SECRET}\n"
    )
    assert result.exit_code == 2
    assert result.output == line + "\n"
    assert (repo / CREDENTIALS).read_bytes() == before
