"""`sealkit completion bash|zsh|fish` and what completes: click's entry point (`_SEALKIT_COMPLETE`) asked with
partial command lines as each shell's script asks it, every file, context and environment option of every
command, and the bash script sourced into a real bash (`complete -p`, COMPREPLY).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.shell_completion import CompletionItem, get_completion_class
from click.testing import CliRunner

from sealkit_cli import completers
from sealkit_cli.main import COMMANDS, cli

SHELLS = ("bash", "zsh", "fish")


def kubeconfig(
    path: Path, *contexts: str, clusters: tuple[str, ...] = ("c1",), users: tuple[str, ...] = ("u1",)
) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": c, "cluster": {"server": "https://127.0.0.1:6443"}} for c in clusters],
                "users": [{"name": u, "user": {}} for u in users],
                "contexts": [{"name": n, "context": {"cluster": clusters[0], "user": users[0]}} for n in contexts],
                "current-context": contexts[0],
            }
        )
    )
    return path


def complete(shell: str, line: str, env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(type, value) pairs the entry point answers for `line` (its last word is the one being completed),
    with COMP_WORDS/COMP_CWORD set as that shell's script sets them."""
    words = line.split(" ")
    if shell == "fish":  # the whole line up to the cursor, and the token under it
        variables = {"COMP_WORDS": line, "COMP_CWORD": words[-1]}
    else:
        variables = {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    result = CliRunner().invoke(
        cli, [], prog_name="sealkit", env={"_SEALKIT_COMPLETE": f"{shell}_complete", **variables, **(env or {})}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    if shell == "zsh":  # type, value, help: three lines per item
        parts = out.strip("\n").split("\n") if out.strip("\n") else []
        return [(parts[i], parts[i + 1]) for i in range(0, len(parts), 3)]
    return [tuple(item.split(",", 1)) for item in out.splitlines() if item]  # type: ignore[misc]


def values(shell: str, line: str, env: dict[str, str] | None = None) -> list[str]:
    """The plain values offered (fish appends a tab and the help to each)."""
    return [value.split("\t")[0] for kind, value in complete(shell, line, env) if kind == "plain"]


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_each_shells_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    expected = get_completion_class(shell)(cli, {}, "sealkit", "_SEALKIT_COMPLETE").source()  # type: ignore[misc]
    assert result.output == expected
    assert f"_SEALKIT_COMPLETE={shell}_complete" in result.output
    assert CliRunner().invoke(cli, ["completion", "tcsh"]).exit_code == 2


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_and_choices_complete(shell: str) -> None:
    assert set(values(shell, "sealkit ")) == set(COMMANDS)
    assert values(shell, "sealkit se") == ["seal", "set"]
    assert values(shell, "sealkit completion ") == ["bash", "zsh", "fish"]
    assert values(shell, "sealkit seal --scope ") == ["strict", "namespace-wide", "cluster-wide"]
    assert values(shell, "sealkit seal --scope n") == ["namespace-wide"]
    assert values(shell, "sealkit seal -o ") == ["yaml", "json"]
    assert values(shell, "sealkit kubeseal --format j") == ["json"]
    assert values(shell, "sealkit verify --format ") == ["text", "json"]
    assert "up" in values(shell, "sealkit dev ")


@pytest.mark.parametrize("shell", SHELLS)
def test_file_options_complete_file_names(shell: str) -> None:
    for line in (
        "sealkit seal -f ",
        "sealkit seal -w sealed/x",
        "sealkit seal --cert ",
        "sealkit seal --merge-into ",
        "sealkit unseal --private-key ",
        "sealkit cert --kubeconfig ",
        "sealkit verify ",
        "sealkit lint --output ",
        "sealkit csi generate --spec ",
    ):
        kind, value = complete(shell, line)[0]
        assert kind == "file" and value == line.split(" ")[-1], line
    assert complete(shell, "sealkit dev up --workdir ") == [("dir", "")]


@pytest.mark.parametrize("shell", SHELLS)
def test_context_cluster_and_user_come_from_the_kubeconfig(shell: str, tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "a", "dev", "prod-eu", clusters=("aks-dev",), users=("me",))
    second = kubeconfig(tmp_path / "b", "prod-us", "dev", clusters=("aks-prod",), users=("ci",))
    merged = {"KUBECONFIG": f"{first}{os.pathsep}{second}"}
    assert values(shell, "sealkit seal --context ", merged) == ["dev", "prod-eu", "prod-us"]
    assert values(shell, "sealkit cert --context prod", merged) == ["prod-eu", "prod-us"]
    assert values(shell, "sealkit verify --cluster ", merged) == ["aks-dev", "aks-prod"]
    assert values(shell, "sealkit keys list --user ", merged) == ["ci", "me"]
    assert values(shell, "sealkit controller --context ", merged) == ["dev", "prod-eu", "prod-us"]
    # --kubeconfig earlier on the line wins over $KUBECONFIG, as for kubectl.
    assert values(shell, f"sealkit cert --kubeconfig {second} --context ", merged) == ["dev", "prod-us"]
    # No kubeconfig, or a broken one: nothing to offer, and no error.
    (tmp_path / "broken").write_text("{not: [yaml")
    assert values(shell, "sealkit cert --context ", {"KUBECONFIG": str(tmp_path / "broken")}) == []
    assert values(shell, "sealkit cert --context ", {"KUBECONFIG": str(tmp_path / "missing")}) == []


@pytest.mark.parametrize("shell", SHELLS)
def test_env_completes_the_specs_environments(shell: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"environments": {"prod": {}, "dev": {}, "staging": {}}}))
    assert values(shell, f"sealkit seal --spec {spec} --env ") == ["dev", "prod", "staging"]
    assert values(shell, "sealkit seal --env p", {"SEALKIT_CSI_SPEC": str(spec)}) == ["prod"]
    assert values(shell, f"sealkit reencrypt --spec {spec} --env s") == ["staging"]
    assert values(shell, f"sealkit csi generate --spec {spec} --env ") == ["dev", "prod", "staging"]
    assert values(shell, f"sealkit csi verify {spec} --env d") == ["dev"]
    assert values(shell, "sealkit seal --env ", {"SEALKIT_CSI_SPEC": str(tmp_path / "none.yaml")}) == []


def all_options() -> list[tuple[str, click.Parameter]]:
    """(command path, parameter) for every parameter of every command and subcommand."""
    found: list[tuple[str, click.Parameter]] = []

    def walk(command: click.Command, path: str, ctx: click.Context) -> None:
        found.extend((path, param) for param in command.params)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, f"{path} {name}", click.Context(sub, parent=ctx, info_name=name))

    walk(cli, "sealkit", click.Context(cli, info_name="sealkit"))
    return found


FILE_OPTIONS = {
    "-f", "--file", "-w", "--output-file", "--cert", "--kubeconfig", "--private-key", "--spec", "--merge-into",
    "--from-file", "--certificate-authority", "--client-certificate", "--client-key", "--output", "--config",
    "--to-file", "--federated-token-file", "--example",
}  # fmt: skip


def offered(param: click.Parameter, incomplete: str = "") -> list[CompletionItem]:
    ctx = click.Context(click.Command("x"), info_name="x")
    return param.shell_complete(ctx, incomplete)


def test_every_file_context_and_env_option_of_every_command_completes() -> None:
    checked = {"file": 0, "context": 0, "env": 0}
    for path, param in all_options():
        names = set(getattr(param, "opts", [])) | set(getattr(param, "secondary_opts", []))
        if isinstance(param, click.Option) and names & FILE_OPTIONS and not param.is_flag:
            items = offered(param, "x")
            assert [(i.type, i.value) for i in items] in ([("file", "x")], [("dir", "x")]), (path, param.opts)
            checked["file"] += 1
        if "--context" in names:
            assert param._custom_shell_complete is completers.contexts, path
            checked["context"] += 1
        if "--env" in names:
            assert param._custom_shell_complete is completers.environments, path
            checked["env"] += 1
    assert checked["file"] > 40 and checked["context"] >= 10 and checked["env"] >= 6, checked


def sealkit_on_path() -> dict[str, Any]:
    """An environment whose PATH finds this checkout's `sealkit` (the script runs it for each TAB)."""
    bindir = Path(sys.executable).parent
    if not (bindir / "sealkit").exists():
        pytest.fail(f"no sealkit beside {sys.executable}: install the checkout (scripts/bootstrap.sh)")
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_the_bash_script_works_in_a_real_bash(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    assert bash, "bash is part of the supported platforms"
    script = tmp_path / "sealkit.bash"
    script.write_text(CliRunner().invoke(cli, ["completion", "bash"]).output)
    config = kubeconfig(tmp_path / "kubeconfig", "kind-dev", "aks-prod")
    probe = f"""
source {script}
complete -p sealkit
reply() {{
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
    _sealkit_completion sealkit
    echo "${{COMPREPLY[*]}}"
}}
reply sealkit seal --scope ""
reply sealkit seal --context ""
reply sealkit ver
"""
    env = {**sealkit_on_path(), "KUBECONFIG": str(config)}
    result = subprocess.run([bash, "--norc", "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "complete -o nosort -F _sealkit_completion sealkit",
        "strict namespace-wide cluster-wide",
        "aks-prod kind-dev",
        "verify",
    ]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_the_zsh_and_fish_scripts_parse_in_their_shell(shell: str, tmp_path: Path) -> None:
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} is not installed here (its entry point is tested above)")
    script = tmp_path / f"sealkit.{shell}"
    script.write_text(CliRunner().invoke(cli, ["completion", shell]).output)
    result = subprocess.run([binary, "-n", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
