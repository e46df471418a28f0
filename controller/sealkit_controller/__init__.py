"""sealkit's controller: SealedSecrets in, Secrets out (Kopf), a drop-in for Bitnami's.

This module is the controller's public entry point, and the only part of it the CLI imports: the
settings (and the parsers of Bitnami's flag values), `run` for `sealkit controller`, and `in_thread` for
`sealkit demo`. Importing it is cheap: Kopf, the Kubernetes client and aiohttp load when a run starts.

Inside, one folder per activity (see docs/architecture.md): `reconciling/`, `keys/` (key lifecycle),
`serving/` (HTTP API and metrics), `plumbing/` (work queue, events, loops, logs, leader election), and `wiring.py`,
the one module that builds the running controller from `settings.Settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealkit.durations import parse_duration
from sealkit_controller.settings import (
    Settings,
    default_namespace,
    default_workers,
    parse_cutoff,
    parse_list,
    parse_map,
)

if TYPE_CHECKING:
    from sealkit_controller.wiring import ControllerThread

__all__ = [
    "Settings",
    "configure_logging",
    "default_namespace",
    "default_workers",
    "in_thread",
    "parse_cutoff",
    "parse_duration",
    "parse_list",
    "parse_map",
    "run",
]


def configure_logging(settings: Settings) -> None:
    """Root logging as `--log-level`/`--log-format`/`--log-info-stdout` say (JSON keeps tracebacks in `exc_info`)."""
    from sealkit_controller.plumbing.logs import configure_logging as configure

    configure(settings.log_level, settings.log_format, settings.log_info_stdout)


def run(settings: Settings, *, escrow_credential: object = None, kek_credential: object = None) -> None:
    """Run the controller in the foreground until a signal (`sealkit controller`).

    With escrow on and no `escrow_credential`, the credential `settings.escrow_auth` names is built (and
    `settings.kek_auth`'s for the KEK, when one is needed).
    """
    from sealkit_controller.wiring import run as run_foreground

    run_foreground(settings, escrow_credential=escrow_credential, kek_credential=kek_credential)


def in_thread(
    settings: Settings, *, escrow_credential: object = None, kek_credential: object = None
) -> ControllerThread:
    """The controller on its own thread (not yet started): `with in_thread(s) as running: running.api_url`."""
    from sealkit_controller.wiring import ControllerThread

    return ControllerThread(settings, escrow_credential=escrow_credential, kek_credential=kek_credential)
