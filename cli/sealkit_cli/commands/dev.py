"""`sealkit dev up|down`: a local cluster to try sealkit by hand, with kubectl and sealkit as on a real one.

`up` starts the Kubernetes API emulator (SealedSecret CRD, the usual namespaces; threads of this process)
and the real controller as its own process (`sealkit controller`, as in a cluster) with a throwaway key
(`localcluster.LocalCluster`), prints the KUBECONFIG to export and the certificate's path, and runs until
Ctrl-C, SIGTERM or SIGHUP, which stop everything (the controller first) and remove the temporary files,
key included (`devdir`), unless --keep or --workdir keeps them. `--detach` runs it in the background and
prints shell `export` lines (`eval "$(sealkit dev up --detach)"`), as ssh-agent does;
`down` stops it and returns once everything is stopped and removed.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.errors import InputError, SealkitError
from sealkit_cli import completers, devdir

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
DIR_ENV = "SEALKIT_DEV_DIR"
CERT_ENV = "SEALKIT_DEV_CERT"


@click.group("dev")
def dev() -> None:
    """A local cluster to try sealkit by hand: `sealkit dev up`, then kubectl and sealkit as on a real one.

    \b
    sealkit dev up                          # in a terminal of its own; Ctrl-C stops it
    eval "$(sealkit dev up --detach)"       # or in the background; sets KUBECONFIG, SEALKIT_DEV_DIR, ...
    sealkit dev down                        # stops the background one, removes its files

    It needs the test servers (the distribution sealkit-testservers: pip install -e ./testservers).
    """


@dev.command("up")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    shell_complete=completers.directories,
    help="Keep the cluster's files here (kubeconfig, cert.pem, sealing-key.yaml, dev.log); a key kept here "
    "is used again. Default: a temporary directory, removed on stop.",
)
@click.option("--keep", is_flag=True, help="Keep the temporary directory (key included) after stopping.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="The API server's port (default: a free one).")
@click.option("--key-size", type=click.IntRange(2048, 8192), default=4096, show_default=True)
@click.option(
    "--detach",
    is_flag=True,
    help='Run in the background; print `export` lines for the shell: eval "$(sealkit dev up --detach)".',
)
@click.option("--ready-fd", type=int, default=None, hidden=True)
def up(workdir: Path | None, keep: bool, port: int, key_size: int, detach: bool, ready_fd: int | None) -> None:
    """Start the Kubernetes API emulator and the controller; print the KUBECONFIG to export.

    kubectl (create namespace, apply, get), `sealkit cert`, `seal` and `verify` then work as against a
    real cluster: the controller's Service (sealed-secrets-controller in kube-system) is reached through
    the API server's service proxy. Ctrl-C or SIGTERM stops everything and removes the temporary files,
    the throwaway private key included, unless --keep or --workdir keeps them.
    """
    from sealkit_cli.localcluster import kube_server_class

    kube_server_class()  # before anything else, detached or not: without the test servers, say how to install them
    if detach:
        _detach(workdir, keep, port, key_size)
        return
    _run(workdir, keep, port, key_size, ready_fd)


@dev.command("down")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DIR_ENV,
    show_envvar=True,
    shell_complete=completers.directories,
    help="The directory of the cluster to stop (what `up` printed).",
)
def down(directory: Path | None) -> None:
    """Stop a local cluster started by `sealkit dev up` and wait until it has removed its files."""
    if directory is None:
        raise InputError(
            "which local cluster? give its directory (sealkit dev up --detach exports it)",
            where=f"--dir or {DIR_ENV}",
        )
    stopped = devdir.stop(directory)
    what = f"stopped the local cluster (pid {stopped.pid})" if stopped.pid else "no process ran any more"
    click.echo(f"{what}; {'removed' if stopped.removed else 'kept'} {directory}")


def _run(workdir: Path | None, keep: bool, port: int, key_size: int, ready_fd: int | None) -> None:
    """Run the cluster in this process until a stop signal, then clean up (signals are taken with sigwait:
    blocked before any thread starts, so every thread inherits the block and none is interrupted)."""
    from sealkit.keygen import generate_key_pair
    from sealkit.keysecrets import keys_from_secret
    from sealkit_cli.localcluster import LocalCluster

    detached = ready_fd is not None
    if ready_fd is not None:
        os.set_inheritable(ready_fd, False)  # the controller process must not hold the parent's pipe open
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # read first: put back even if a handler raises
    directory = None
    handler: logging.Handler | None = None
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        directory = devdir.DevDir.claim(workdir, keep=keep)
        log = directory.file(devdir.LOG)
        handler = _log_to(log, detached=detached)
        manifest = directory.key_secret(lambda: generate_key_pair(bits=key_size))
        (key,) = keys_from_secret(manifest, str(directory.file(devdir.KEY)))[:1]
        cert_path = directory.file(devdir.CERT)
        cert_path.write_bytes(key.certificate_pem or b"")
        cluster = LocalCluster(directory.path, key_size=key_size, keys=(manifest,), port=port, log=log)
        with cluster:
            assert cluster.controller is not None and cluster.controller.pid is not None
            directory.note(controller=cluster.controller.pid)  # for `dev down` after a killed `up`
            facts = {
                "kubeconfig": str(cluster.kubeconfig),
                "dir": str(directory.path),
                "cert": str(cert_path),
                "key": str(directory.file(devdir.KEY)),
                "log": str(log),
                "url": cluster.url,
                "pid": os.getpid(),
                "controller": cluster.controller.pid,
                "fingerprint": key.fingerprint,
                "keep": directory.keep,
            }
            if ready_fd is not None:
                _tell(ready_fd, {"ready": facts})
                ready_fd = None
            else:
                _announce(facts)
            signal.sigwait(STOP_SIGNALS)
    except Exception as exc:
        error = exc if isinstance(exc, SealkitError) else _failure(exc, port)
        if ready_fd is None:
            raise error from None
        _tell(ready_fd, {"error": error.what, "where": error.where})
        ready_fd = None
        sys.exit(2)
    finally:
        if handler is not None:  # before its file goes: nothing may log into the removed directory
            logging.getLogger().removeHandler(handler)
            logging.getLogger().addHandler(logging.NullHandler())  # late asyncio noise: not on stderr
            handler.close()
        if directory is not None:
            directory.release()
        if ready_fd is not None:
            os.close(ready_fd)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    if not detached and directory is not None:
        click.echo(f"Stopped the local cluster; {'kept' if directory.keep else 'removed'} {directory.path}")


def _failure(exc: Exception, port: int) -> InputError:
    """One line for an unexpected failure to start (the details go to dev.log, kept with --keep)."""
    logging.getLogger(__name__).error("the local cluster did not start", exc_info=exc)
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return InputError(f"the local cluster did not start (port {port} is in use)", where="--port")
    return InputError("the local cluster did not start (run it again with --keep and read its log)", where=devdir.LOG)


def _log_to(path: Path, *, detached: bool) -> logging.Handler:
    """Every log line (the controller's, the emulator's) into `path`; a detached run's stderr there too."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("kopf", "aiohttp.access", "kmock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if detached:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(fd, sys.stderr.fileno())
        os.close(fd)
    return handler


def _tell(fd: int, message: dict[str, Any]) -> None:
    with os.fdopen(fd, "w", encoding="utf-8") as pipe:
        pipe.write(json.dumps(message) + "\n")


def _announce(facts: dict[str, Any]) -> None:
    click.echo(
        f"A local cluster is up: the Kubernetes API emulator at {facts['url']} and the sealkit controller\n"
        f"(Service {DEFAULT_CONTROLLER_NAMESPACE}/{DEFAULT_CONTROLLER_NAME}, key {facts['fingerprint']}).\n\n"
        f"In another terminal:\n\n"
        f"  export KUBECONFIG={shlex.quote(facts['kubeconfig'])}\n\n"
        f"certificate:  {facts['cert']}\n"
        f"private key:  {facts['key']} (throwaway)\n"
        f"controller:   pid {facts['controller']} (sealkit controller)\n"
        f"log:          {facts['log']}\n\n"
        f"Ctrl-C stops everything and {'keeps' if facts['keep'] else 'removes'} {facts['dir']}."
    )


def exports(facts: dict[str, Any]) -> str:
    """Shell lines that point kubectl and sealkit at the cluster (for `eval`)."""
    pairs = [("KUBECONFIG", facts["kubeconfig"]), (DIR_ENV, facts["dir"]), (CERT_ENV, facts["cert"])]
    return "".join(f"export {name}={shlex.quote(value)};\n" for name, value in pairs)


def _detach(workdir: Path | None, keep: bool, port: int, key_size: int) -> None:
    """Start `dev up` as a background process of its own session and return once it is ready."""
    read_end, write_end = os.pipe()
    command = [sys.executable, "-m", "sealkit_cli.main", "dev", "up", "--ready-fd", str(write_end)]
    command += ["--port", str(port), "--key-size", str(key_size)] + (["--keep"] if keep else [])
    command += ["--workdir", str(workdir.resolve())] if workdir is not None else []
    try:
        child = subprocess.Popen(
            command,
            pass_fds=(write_end,),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as pipe:
        answer = pipe.readline()  # until the child says ready (or failed), or ends
    try:
        message = json.loads(answer) if answer else {}
    except ValueError:
        message = {}
    if "ready" not in message:
        status = child.wait()
        if message.get("error"):
            raise InputError(message["error"], where=message.get("where"))
        raise InputError(f"the local cluster did not start (exit status {status})", where="sealkit dev up --detach")
    facts = message["ready"]
    click.echo(exports(facts), nl=False)
    click.echo(
        f"sealkit dev: a local cluster runs in the background (pid {facts['pid']}, log {facts['log']}); "
        "`sealkit dev down` stops it",
        err=True,
    )
