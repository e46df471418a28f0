"""One canonical name per option across all commands, every other spelling an alias of it
(`sealkit_cli.options`): kubeseal's and kubectl's spellings work on sealkit's own commands too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit_cli.main import COMMANDS, cli
from sealkit_cli.options import CLUSTER_SPECS, SPECS
from tests.support.sealed import opened, opened_raw, ring

ALL_SPECS = {**SPECS, **{spec.dest: spec for spec in CLUSTER_SPECS}}
# Spellings kept with their older meaning (they keep working): `sealkit unseal --sealed-secret-file` was
# its input before kubeseal's meaning (the output file) was adopted everywhere (it warns); `keys backup -o`
# names the backup file; `keys restore -f/--from-file` the file to restore from (an input file, as -f is).
OLD_MEANINGS = {
    ("unseal", "--sealed-secret-file"),
    ("keys backup", "-o"),
    ("keys restore", "-f"),
    ("keys restore", "--from-file"),
    ("lint", "--cert"),  # the same --cert, repeatable there (one per target cluster)
}


def commands() -> dict[str, click.Command]:
    out: dict[str, click.Command] = {}
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                out[f"{name} {sub.name}"] = sub
        else:
            out[name] = command
    return out


def test_a_spelling_means_one_option_everywhere() -> None:
    meaning: dict[str, str] = {}
    for spec in ALL_SPECS.values():
        for name in spec.names:
            assert meaning.setdefault(name, spec.dest) == spec.dest, name
    for command_name, command in commands().items():
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            shared = [o for o in param.opts if o in meaning]
            for opt in shared:
                if (command_name, opt) in OLD_MEANINGS:
                    continue
                assert meaning[opt] == param.name, (command_name, opt, param.name)
            if param.name in ALL_SPECS and shared and not any((command_name, o) in OLD_MEANINGS for o in param.opts):
                extra = set(param.opts) - set(ALL_SPECS[param.name].names)
                assert not extra, (command_name, param.name, extra)


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None})


@pytest.fixture()
def files(tmp_path: Path, vectors: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for i in (0, 1):
        (tmp_path / f"cert{i}.pem").write_text(vectors["keys"][i]["cert_pem"])
        (tmp_path / f"key{i}.pem").write_text(vectors["keys"][i]["private_pem"])
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "a"}, "data": {"k": "dg=="}}
    (tmp_path / "secret.yaml").write_text(yaml.safe_dump(secret))
    return tmp_path


def test_seal_takes_kubeseals_spellings_and_stays_yaml_first(files: Path, vectors: dict[str, Any]) -> None:
    result = run("seal", "--cert", "cert1.pem", "--secret-file", "secret.yaml")
    assert result.exit_code == 0 and result.stdout.startswith("---\napiVersion"), "YAML by default"
    assert (
        run("seal", "--cert", "cert1.pem", "--secret-file", "secret.yaml", "--sealed-secret-file", "s.json").exit_code
        == 0
    )
    assert opened(json.loads((files / "s.json").read_text()), ring(vectors["keys"][1]["private_pem"])) == {"k": b"v"}
    (files / "v.txt").write_text("raw value")
    raw = run("seal", "--cert", "cert1.pem", "--raw", "--scope=cluster-wide", "--from-file=item=v.txt")
    assert raw.exit_code == 0 and opened_raw(raw.stdout, ring(vectors["keys"][1]["private_pem"]), b"") == b"raw value"
    assert "--from-file requires --raw" in run("seal", "--cert", "cert1.pem", "--from-file", "v.txt").output
    assert run("seal", "--cert", "cert1.pem", "-f", "secret.yaml", "--allow-empty-data=true").exit_code == 0


def test_key_lists_are_repeatable_or_comma_separated_everywhere(files: Path) -> None:
    assert run("seal", "--cert", "cert1.pem", "-f", "secret.yaml", "-w", "s.yaml").exit_code == 0
    for args in (
        ["--private-key", "key0.pem,key1.pem"],
        ["--recovery-private-key", "key0.pem", "--private-key", "key1.pem"],
    ):
        opened_ = run("unseal", *args, "-f", "s.yaml")
        assert opened_.exit_code == 0 and yaml.safe_load(opened_.stdout)["data"] == {"k": "dg=="}
        checked = run("verify", *args, "s.yaml")
        assert checked.exit_code == 0 and "1 open" in checked.stdout


def test_unseals_old_input_spelling_still_works_with_a_warning(files: Path) -> None:
    assert run("seal", "--cert", "cert1.pem", "-f", "secret.yaml", "-w", "s.yaml").exit_code == 0
    result = run("unseal", "--private-key", "key1.pem", "--sealed-secret-file", "s.yaml")
    assert result.exit_code == 0 and yaml.safe_load(result.stdout)["kind"] == "Secret"
    assert "warning: --sealed-secret-file names the input of `sealkit unseal`" in result.stderr


def test_cluster_flags_on_every_cluster_command() -> None:
    for name in ("seal", "cert", "verify", "reencrypt", "lint", "kubeseal", "keys list"):
        command = commands()[name]
        flags = {o for p in command.params for o in p.opts}
        for spec in CLUSTER_SPECS:
            assert set(spec.names) <= flags, (name, spec.names)


EXAMPLE_STARTS = ("sealkit ", "echo ", "eval ", "export ", "helm ", "| ")  # a command line, not prose


def test_help_examples_keep_their_lines() -> None:
    """A paragraph of example commands in a command's help is marked `\\b`, or Click re-wraps it and runs
    two commands together on one line (seal's --env examples did)."""
    for name, command in commands().items():
        for paragraph in (command.help or "").split("\n\n"):
            lines = [line.strip() for line in paragraph.strip().splitlines()]
            if any(line.startswith(EXAMPLE_STARTS) for line in lines):
                assert lines[0] == "\b", (name, lines[0])
