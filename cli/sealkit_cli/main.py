"""Entry point: a click group whose subcommands are imported only when invoked.

Every failure leaves as one line `error: <what is wrong>: <where>` on stderr with a documented exit
status (docs/errors.md): 0 ok, 1 a check failed, 2 usage, input or connection error. Click's own
usage errors are reworded the same way; no traceback, exception name or temporary path is printed
unless SEALKIT_DEBUG is set.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import warnings
from typing import Any, NoReturn

import click

from sealkit import __version__
from sealkit.errors import EXIT_USAGE, SealkitError, one_line, os_reason
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
    "verify": ("sealkit_cli.commands.verify", "verify", "Check that SealedSecrets unseal (files, directories)."),
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

    # Set by `main()` (the process's entry point, never a test runner's): see `_import`.
    freeze_imports = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        command = getattr(_import(module_name, freeze=self.freeze_imports), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """A subcommand's failure as one line and its exit status (also under click's test runner)."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            report(exc)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _import(module_name: str, *, freeze: bool = False) -> Any:
    """Import a command's module with the cyclic garbage collector paused (and then as it was).

    An import makes objects that live as long as the process: the collections it would trigger find no
    garbage and cost a few milliseconds of every start (docs/benchmarks.md, CLI start-up). With `freeze`
    (the `sealkit` process itself, not a test runner's process), everything made so far (the modules, click,
    the command) is then moved out of the collector's sight (`gc.freeze()`): otherwise the next collection
    and the interpreter's exit walk those objects once more, for nothing. Objects made afterwards, by the
    command, are collected as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(module_name)
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sealkit")
def cli() -> None:
    """sealkit: keep Kubernetes secrets safe in GitOps config repos.

    Exit status: 0 ok, 1 a check failed (verify, reencrypt, lint --fail-on, csi generate --check,
    csi verify), 2 usage, input or connection error (see docs/errors.md).

    Shell completion: source <(sealkit completion bash)   (zsh, fish: see `sealkit completion --help`).
    """


def fail(what: str, where: str | None = None, status: int = EXIT_USAGE) -> NoReturn:
    """Print one `error: what: where` line on stderr and exit with `status`."""
    line = one_line(what) + (f": {one_line(where)}" if where else "")
    click.echo(f"error: {line}", err=True)
    sys.exit(status)


def usage_error(exc: click.UsageError) -> tuple[str, str]:
    """Click's usage error as `what` (lower-case, no trailing dot) and `where`: the flag or argument for a bad
    value (`--format`, `PATHS`), else the command and its help."""
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter) and exc.param is not None:
        param = exc.param
        where = max(param.opts, key=len) if isinstance(param, click.Option) else str(param.name).upper()
        return _lower_first(one_line(exc.message).rstrip(".")), where
    path = exc.ctx.command_path if exc.ctx is not None else "sealkit"
    return _lower_first(one_line(exc.format_message()).rstrip(".")), f"{path} (see '{path} --help')"


def _lower_first(message: str) -> str:
    """A sentence's first letter in lower case, unless the first word is an abbreviation (`PATHS`, `URL`)."""
    return message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message


def _given(filename: Any) -> str | None:
    """A file name for an OS error only when the user typed it (never a temporary file of ours): a word of the
    command line, or the value glued to its flag (`--flag=PATH`, `-fPATH`)."""
    name = os.fsdecode(filename) if isinstance(filename, str | bytes) else None
    if not name:
        return None
    for word in sys.argv:
        if word == name:
            return name
        if word.startswith("--") and "=" in word and word.partition("=")[2] == name:
            return name
        if len(word) > 2 and word[0] == "-" and word[1].isascii() and word[1].isalpha() and word[2:] == name:
            return name
    return None


class Terminated(BaseException):
    """SIGTERM (a CI job cancelled, `kill`), raised like Ctrl-C's KeyboardInterrupt so that what a command
    began is undone on the way out (staged files removed, files already rewritten put back) instead of the
    process vanishing mid-write. A BaseException: no `except Exception` takes it for an error to handle."""


def _terminated(signum: int, frame: object) -> NoReturn:
    raise Terminated


def stop_on_sigterm() -> None:
    """SIGTERM raises Terminated in the main thread, unless the caller set it to be ignored. Commands that
    take signals themselves (the controller's Kopf loop, `dev up`'s sigwait) replace or block this."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)


def report(exc: BaseException) -> NoReturn:
    """End the command for an exception that is not click's: one line, the documented status."""
    if isinstance(exc, KeyboardInterrupt):
        fail("interrupted", status=130)
    if isinstance(exc, Terminated):
        fail("terminated", status=143)
    if os.environ.get("SEALKIT_DEBUG"):
        raise exc
    if isinstance(exc, SealkitError):
        fail(str(exc), status=exc.exit_status)
    if isinstance(exc, BrokenPipeError):
        # The reader of our output went away (e.g. `| head`): nothing more to say to anyone.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)
    if isinstance(exc, OSError):
        fail(os_reason(exc), _given(exc.filename))
    # An unexpected error's message or type could quote input: say only that it happened.
    fail("internal error: sealkit could not finish (rerun with SEALKIT_DEBUG=1 for details)")


def quiet_python_warnings() -> None:
    """Python's warnings are for developers, not in a command's output: a library's notice about an input it
    parsed (cryptography's about a certificate's serial number) printed two lines on stderr, one naming a
    source file. `-W`/PYTHONWARNINGS and SEALKIT_DEBUG keep them; the controller logs them (its logging)."""
    if not sys.warnoptions and not os.environ.get("SEALKIT_DEBUG"):
        warnings.simplefilter("ignore")


def main(argv: list[str] | None = None) -> NoReturn:
    """Run the CLI; every failure becomes one line on stderr and a documented exit status."""
    quiet_python_warnings()
    terminal.line_buffer_stdout()
    stop_on_sigterm()
    LazyGroup.freeze_imports = True
    try:
        result = cli.main(args=argv, prog_name="sealkit", standalone_mode=False)
    except click.UsageError as exc:
        fail(*usage_error(exc), status=EXIT_USAGE)
    except click.ClickException as exc:
        fail(exc.format_message(), status=exc.exit_code if exc.exit_code else EXIT_USAGE)
    except click.Abort:
        fail("interrupted", status=130)
    except Exception as exc:  # raised outside a subcommand (e.g. in a result callback)
        report(exc)
    except (KeyboardInterrupt, Terminated) as exc:
        report(exc)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
