"""Entry point: a click group whose subcommands are imported only when invoked."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import click

from sealkit import __version__
from sealkit.errors import SealkitError
from sealkit_cli import terminal

# name -> (module, attribute, one-line help). Help is here so `sealkit --help` imports nothing.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "seal": ("sealkit_cli.commands.seal", "seal", "Seal a Secret into a SealedSecret."),
    "unseal": ("sealkit_cli.commands.unseal", "unseal", "Open SealedSecrets with private keys (recovery)."),
    "kubeseal": (
        "sealkit_cli.commands.kubeseal",
        "kubeseal",
        "kubeseal's command line, flag for flag (alias kubeseal='sealkit kubeseal').",
    ),
    "demo": ("sealkit_cli.commands.demo", "demo", "Run the whole flow on a throwaway key."),
    "dev": (
        "sealkit_cli.commands.dev",
        "dev",
        "A local cluster to try sealkit by hand (emulated API server + controller).",
    ),
    "completion": (
        "sealkit_cli.commands.completion",
        "completion",
        "Print the shell completion script (bash, zsh, fish).",
    ),
    "controller": ("sealkit_cli.commands.controller", "controller", "Run the in-cluster controller (Kopf)."),
    "cert": ("sealkit_cli.commands.cert", "cert", "Fetch the cluster's sealing certificate."),
    "certs": (
        "sealkit_cli.commands.certs",
        "certs",
        "Environments' certificates: pull them into the repo, check them.",
    ),
    "set": ("sealkit_cli.commands.setitem", "set_item", "Add or replace one item in environments' SealedSecrets."),
    "verify": ("sealkit_cli.commands.verify", "verify", "Check that SealedSecrets open (files, directories)."),
    "reencrypt": ("sealkit_cli.commands.verify", "reencrypt", "Re-seal SealedSecrets with the newest key in place."),
    "csi": ("sealkit_cli.commands.csi", "csi", "Key Vault CSI: generate SecretProviderClasses and workload wiring."),
    "keys": (
        "sealkit_cli.commands.keys",
        "keys",
        "Key Secrets and escrowed keys: list, back up, restore, wrap, check recovery.",
    ),
    "lint": (
        "sealkit_cli.commands.lint",
        "lint",
        "Check a config repo: no committed keys or plaintext secrets, SealedSecrets that open, valid SPCs.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        command = getattr(_import(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Turn sealkit's own errors into one line and exit 1; hide tracebacks unless SEALKIT_DEBUG is set."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except SealkitError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            if os.environ.get("SEALKIT_DEBUG"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or type(exc).__name__}") from None
        except Exception as exc:
            if os.environ.get("SEALKIT_DEBUG"):
                raise
            # The message of an unexpected error could quote input: name only its type.
            raise click.ClickException(
                f"internal error ({type(exc).__name__}); rerun with SEALKIT_DEBUG=1 for details"
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _import(module_name: str) -> Any:
    """Import a command's module with the cyclic garbage collector paused (and then as it was).

    An import makes objects that live as long as the process: the collections it would trigger find no
    garbage and cost a few milliseconds of every start (docs/benchmarks.md, CLI start-up).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(module_name)
    finally:
        if enabled:
            gc.enable()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sealkit")
def cli() -> None:
    """sealkit: keep Kubernetes secrets safe in GitOps config repos.

    Shell completion: source <(sealkit completion bash)   (zsh, fish: see `sealkit completion --help`).
    """


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; a SealkitError becomes one line on stderr and exit status 1, never a traceback."""
    terminal.line_buffer_stdout()
    try:
        return cli.main(args=argv, prog_name="sealkit", standalone_mode=True)
    except SealkitError as exc:  # raised outside click's own handling (e.g. in result callbacks)
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
