"""Shell completion of option values: file names, kubeconfig names, environment names.

Where it sits: the CLI; `options.py` and the commands attach these as `shell_complete=` to their options,
and `sealkit completion bash|zsh|fish` prints the script that asks for them (click's protocol, variable
`_SEALKIT_COMPLETE`). Choices (`--scope`, `-o/--format`) complete through their click.Choice type. Each
completer is cheap and never fails: kubeconfigs and the spec are read with PyYAML only (no `kubernetes`),
and an unreadable file completes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # click's completion module is imported only when a shell asks (not at every start)
    from click.shell_completion import CompletionItem

Completer = Callable[[click.Context, click.Parameter, str], "list[CompletionItem]"]


def _item(value: str, type: str = "plain") -> CompletionItem:
    from click.shell_completion import CompletionItem

    return CompletionItem(value, type=type)


def files(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Let the shell complete a file name (click's "file" item: bash `-o default`, zsh `_files`, fish's own)."""
    return [_item(incomplete, type="file")]


def directories(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Let the shell complete a directory name."""
    return [_item(incomplete, type="dir")]


def _root_param(ctx: click.Context, name: str) -> object:
    """A value given earlier on the command line, in this command or a parent group."""
    current: click.Context | None = ctx
    while current is not None:
        value = current.params.get(name)
        if value:
            return value
        current = current.parent
    return None


def kubeconfig_section(section: str) -> Completer:
    """Names of a kubeconfig section ("contexts", "clusters", "users") of --kubeconfig, else $KUBECONFIG,
    else ~/.kube/config, as kubectl merges them."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from sealkit.clients.kube.config import kubeconfig_names

        kubeconfig = _root_param(ctx, "kubeconfig")
        names = kubeconfig_names(str(kubeconfig) if kubeconfig else None, section)
        return [_item(name) for name in names if name.startswith(incomplete)]

    return complete


contexts = kubeconfig_section("contexts")
clusters = kubeconfig_section("clusters")
users = kubeconfig_section("users")


def environments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`--env` values: the environments of the spec the command line names (--spec), else
    $SEALKIT_CSI_SPEC, else sealkit-csi.yaml in the current directory."""
    from sealkit.envs import environment_names
    from sealkit_cli.environments import spec_path

    spec = _root_param(ctx, "spec_file") or _root_param(ctx, "spec_arg")
    if not spec and "spec_arg" in ctx.params and ctx.args:
        spec = ctx.args[0]  # `csi verify SPEC --env <TAB>`: click leaves the positional unparsed meanwhile
    names = environment_names(spec_path(str(spec) if spec else None))
    return [_item(name) for name in names if name.startswith(incomplete)]
