"""Which environments a run means, and where each one's SealedSecrets live.

Where it sits: the core, the first step of `seal --env`, `set`, `reencrypt --env` and `certs pull`. A
SealedSecret for namespace `ns` and name `n` is `<sealedSecrets>/ns.n.sealedsecret.yaml`; the directory
must resolve inside the repo (the spec's directory), symlinks included, so a spec cannot make sealkit
write elsewhere.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from sealkit.csi.model import Environment, Spec
from sealkit.errors import InputError, os_reason

SUFFIX = ".sealedsecret.yaml"


def file_name(namespace: str, name: str) -> str:
    return f"{namespace}.{name}{SUFFIX}"


def choose(spec: Spec, names: Iterable[str], all_envs: bool, flag: str = "--env") -> list[Environment]:
    """The environments named (in the order given, each once), or every one with `all_envs`."""
    names = list(dict.fromkeys(names))
    if all_envs and names:
        raise InputError(f"give {flag} NAME or --all-envs, not both: {flag}")
    if all_envs:
        return list(spec.environments.values())
    if not names:
        raise InputError(f"choose environments: {flag} NAME (repeatable) or --all-envs: {flag}")
    unknown = [n for n in names if n not in spec.environments]
    if unknown:
        have = ", ".join(spec.environments) or "none"
        raise InputError(f"unknown environment {unknown[0]!r} (the spec has: {have}): {flag} {unknown[0]}")
    return [spec.environments[n] for n in names]


def _resolved_root(spec: Spec) -> Path:
    return spec.root.resolve()


def inside_repo(spec: Spec, relpath: str, what: str) -> Path:
    """`relpath` under the spec's directory, refused when it resolves (through symlinks) outside it."""
    root = _resolved_root(spec)
    target = (spec.root / relpath).resolve()
    if target != root and root not in target.parents:
        raise InputError(f"{what} resolves outside the repo ({root}): {relpath}")
    return spec.root / relpath


def sealed_dir(spec: Spec, env: Environment) -> Path:
    """The environment's SealedSecrets directory (it may not exist yet: sealing creates it)."""
    if env.sealed_secrets is None:
        raise InputError(
            f"environment {env.name} has no sealedSecrets directory in the spec: environments.{env.name}.sealedSecrets"
        )
    path = inside_repo(spec, env.sealed_secrets, f"environment {env.name}'s sealedSecrets")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:  # a file above it, a name too long, no permission: nothing can be read or written there
        why = os_reason(exc)
        raise InputError(
            f"environment {env.name}'s sealedSecrets cannot be read ({why})", where=env.sealed_secrets
        ) from None
    if not stat.S_ISDIR(mode):
        raise InputError(f"environment {env.name}'s sealedSecrets is not a directory: {env.sealed_secrets}")
    return path


def env_dirs(spec: Spec, env: Environment) -> list[Path]:
    """Where the environment's SealedSecrets may sit: its sealedSecrets directory and its overlay."""
    out = []
    for relpath in (env.sealed_secrets, env.overlay):
        if relpath is not None:
            path = spec.root / relpath
            if path not in out:
                out.append(path)
    return out


def existing_dirs(spec: Spec, env: Environment) -> list[Path]:
    """The environment's directories (`env_dirs`) that are there. One that cannot be looked up (a file above
    it, a name too long, no permission) is an error naming it as the spec does, never taken for absent."""
    out = []
    for path in env_dirs(spec, env):
        try:
            path.stat()
        except FileNotFoundError:
            continue
        except OSError as exc:
            why = os_reason(exc)
            where = path.relative_to(spec.root).as_posix()
            raise InputError(f"environment {env.name}'s directory cannot be read ({why})", where=where) from None
        out.append(path)
    return out


def absolute(path: Path) -> str:
    """A normalised absolute path (symlinks kept), as lint keys files."""
    return os.path.normpath(os.path.abspath(path))  # noqa: PTH100
