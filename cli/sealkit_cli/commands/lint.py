"""`sealkit lint`: check a config repo before merge (no committed keys or plaintext secrets,
SealedSecrets that open, valid SecretProviderClasses). The rules live in `sealkit.lint`; this
adapter reads options and keys, reaches the controller for `--online`, and sets the exit status:
0 clean (or findings below --fail-on), 1 findings at or above --fail-on, 2 usage or input errors."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import click

from sealkit.clients.kube.api import ClusterError, Unreachable
from sealkit.clients.kube.config import ClusterOptions
from sealkit.clients.kube.proxy import ControllerProxy, RateLimitedCaller
from sealkit.errors import InputError, SealkitError, os_reason
from sealkit.lint import output
from sealkit.lint.catalog import RULES
from sealkit.lint.config import LintConfig, find_config, load_config, parse_fail_on
from sealkit.lint.discovery import Discovery, Source, discover
from sealkit.lint.envs import EnvironmentIndex
from sealkit.lint.model import Severity
from sealkit.lint.scanner import Scanner
from sealkit.lint.sealed import Opener, SealedChecks, offline_opener
from sealkit.reading import max_input_bytes
from sealkit_cli import completers, io
from sealkit_cli.options import cluster_options, option

FAIL_ON = click.Choice([*(s.label for s in Severity), "never"], case_sensitive=False)
EXIT_FINDINGS = 1
EXIT_USAGE = 2


def _usage_error(message: str) -> NoReturn:
    """A usage or input error (missing path, bad config, unusable key): one line, exit status 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def online_opener(proxy: ControllerProxy, caller: RateLimitedCaller) -> Opener:
    """Ask the controller (POST /v1/verify: 200 opens, 409 does not), paced below its rate limit."""

    def opens(obj: Mapping[str, Any], where: str) -> str | None:
        response = caller.call(lambda: proxy.request("POST", "v1/verify", dict(obj), "application/json"))
        if response.status == 200:
            return None
        if response.status == 404:  # not a sealing controller: every object would fail the same way
            raise Unreachable(f"{proxy.service} does not serve /v1/verify (HTTP 404)", where=proxy.endpoint)
        if response.status == 409:
            lines = response.body.decode(errors="replace").strip().splitlines()
            reason = " ".join(lines[0].split())[:300] if lines else ""
            return f"SealedSecret {where} does not open in the cluster" + (f": {reason}" if reason else "")
        raise ClusterError(f"the controller answered HTTP {response.status} to verify", where=f"SealedSecret {where}")

    return opens


def _config(explicit: str | None, paths: tuple[str, ...]) -> LintConfig:
    if explicit:
        return load_config(Path(explicit))
    directories = [Path(p) for p in paths if p != "-" and Path(p).is_dir()]
    return load_config(find_config([*directories, Path.cwd()]))


def _sources(paths: tuple[str, ...], all_files: bool) -> Discovery:
    named = [p for p in paths if p != "-"]
    found = discover(named, all_files=all_files)
    if "-" in paths:
        if sys.stdin.isatty():
            raise InputError("nothing is piped in (`-` reads manifests from stdin)", where="stdin")
        # One byte past the cap is enough to know it is too large (SK004), without holding more.
        found.sources.insert(0, Source("stdin", None, sys.stdin.buffer.read(max_input_bytes() + 1)))
    return found


def _checks(
    certs: tuple[str, ...], private_keys: tuple[str, ...], online: bool, cluster: ClusterOptions, rate: float
) -> SealedChecks:
    from sealkit_cli.certsource import resolve_certificate

    if online and private_keys:
        raise InputError("give only one of these", where="--online, --private-key")
    bits = frozenset(resolve_certificate(cert, cluster).public_key.key_size for cert in certs)
    opener: Opener | None = None
    if private_keys:
        from sealkit_cli.commands.unseal import load_keyring

        opener = offline_opener(load_keyring(private_keys))
    elif online:
        opener = online_opener(ControllerProxy(cluster).configure().require_controller(), RateLimitedCaller(rate))
    return SealedChecks(bits, opener)


def _environments(spec_file: str | None, private_keys: tuple[str, ...]) -> EnvironmentIndex | None:
    """The spec's environments (found as `sealkit csi` finds the spec), for the wrong-cluster rules."""
    from sealkit_cli import environments

    spec = environments.find_for_lint(spec_file)
    if spec is None:
        return None
    keys = None
    if private_keys:
        from sealkit_cli.commands.unseal import load_keyring

        keys = load_keyring(private_keys)
    return EnvironmentIndex.from_spec(spec, keys)


def _rules_table() -> str:
    rows = [f"{r.id}  {r.severity.label:<8}  {r.name:<30}  {r.summary}" for r in RULES]
    return "\n".join(rows) + "\n"


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option(
    "--output",
    "output_path",
    default=None,
    help="Write the report to this file instead of stdout.",
    shell_complete=completers.files,
)
@click.option("--fail-on", type=FAIL_ON, default=None, help="Exit 1 when a finding is this severe [default: error].")
@click.option("--all-files", is_flag=True, help="Walk every file, not only what git tracks (and has staged).")
@click.option(
    "--config",
    "config_path",
    default=None,
    help="Lint config (default: .sealkit-lint.yaml in PATH or .).",
    shell_complete=completers.files,
)
@click.option(
    "--cert",
    "certs",
    multiple=True,
    help="Target cluster certificate (FILE|URL): checks key sizes.",
    shell_complete=completers.files,
)
@option("private_keys", help="Open every SealedSecret offline with these keys (repeatable or comma-separated).")
@click.option("--online", is_flag=True, help="Ask the controller whether every SealedSecret opens.")
@click.option("--rate", type=float, default=2.0, show_default=True, help="--online requests per second.")
@click.option("--list-rules", is_flag=True, help="Print the rules and exit.")
@option(
    "spec_file",
    help="The environments' spec for the wrong-cluster rules (default: $SEALKIT_CSI_SPEC, else "
    "sealkit-csi.yaml in the current directory, when there is one).",
)
@cluster_options
def lint(
    paths: tuple[str, ...],
    fmt: str,
    output_path: str | None,
    fail_on: str | None,
    all_files: bool,
    config_path: str | None,
    certs: tuple[str, ...],
    private_keys: tuple[str, ...],
    online: bool,
    rate: float,
    list_rules: bool,
    spec_file: str | None,
    cluster: ClusterOptions,
) -> None:
    """Check a config repo: every file under PATHS (default: .), `-` for stdin (YAML).

    Inside a git work tree, directories mean what git tracks plus staged files (--all-files: every
    file). Every file is checked for private keys; YAML, JSON and .env files are parsed.

    Exit status: 0 no finding at or above --fail-on (default: error; warnings and info are
    printed and counted), 1 findings at or above it, 2 usage or input errors.

    \b
    sealkit lint                                  # the current repo
    sealkit lint --cert clusters/prod/cert.pem clusters/prod
    sealkit lint --format sarif --output lint.sarif .
    helm template charts/app | sealkit lint -

    With a spec (--spec, $SEALKIT_CSI_SPEC, or sealkit-csi.yaml in the current directory), every
    SealedSecret in an environment's directories is checked against that environment's certificates.
    """
    if list_rules:
        click.echo(_rules_table(), nl=False)
        return
    paths = paths or (".",)
    try:
        config = _config(config_path, paths)
        threshold = parse_fail_on(fail_on) if fail_on else config.fail_on
        checks = _checks(certs, private_keys, online, cluster, rate)
        index = _environments(spec_file, private_keys)
        sources = _sources(paths, all_files)
        scanner = Scanner(config, checks, environments=index)
    except SealkitError as exc:
        _usage_error(str(exc))
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        _usage_error(f"{os_reason(exc)}{where}")
    report = scanner.run(sources)
    if fmt == "json":
        text = output.to_json(report, threshold)
    elif fmt == "sarif":
        text = output.to_sarif(report, Path.cwd())
    else:
        text = output.to_text(report)
    io.write_output(text, output_path)
    if fmt != "text" or output_path:
        click.echo(output.summary_line(report), err=True)
    if report.failed(threshold):
        sys.exit(EXIT_FINDINGS)
