"""`sealkit completion bash|zsh|fish`: print the shell completion script, as kubectl and helm do.

The script asks sealkit itself for candidates (click's protocol, through `_SEALKIT_COMPLETE`), so
commands, options and their values (file names, kubeconfig contexts, scopes, formats, environments; see
`sealkit_cli.completers`) complete as the installed sealkit defines them.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

PROG_NAME = "sealkit"
COMPLETE_VAR = "_SEALKIT_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


def script(shell: str) -> str:
    """The completion script of `shell` for the `sealkit` command."""
    from sealkit_cli.main import cli

    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - SHELLS are click's own
        raise click.BadParameter(f"unknown shell {shell!r}")
    return completion_class(cli, {}, PROG_NAME, COMPLETE_VAR).source()


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash (4.4+; needs the bash-completion package):
      source <(sealkit completion bash)                   # this shell; add the line to ~/.bashrc to keep it
      sealkit completion bash > ~/.local/share/bash-completion/completions/sealkit
    zsh:
      autoload -U compinit && compinit                    # once, if your ~/.zshrc does not already
      source <(sealkit completion zsh)                    # or save it as _sealkit in a directory of $fpath
    fish:
      sealkit completion fish | source                    # or:
      sealkit completion fish > ~/.config/fish/completions/sealkit.fish
    """
    click.echo(script(shell), nl=False)
