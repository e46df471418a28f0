"""`sealkit demo`: the whole flow on a throwaway key, no cluster or Azure needed.

Its files live in a temporary directory removed at the end (also on Ctrl-C and SIGTERM) unless --keep or
--workdir keeps them; the cluster step runs `localcluster.LocalCluster` (the emulator and the controller).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from sealkit.documents import dump_yaml
from sealkit.errors import InputError, SealkitError, os_reason
from sealkit.keygen import generate_key_pair
from sealkit.keys import KeyRing, load_certificate
from sealkit.sealing import seal_secret
from sealkit.unsealing import unseal

EXAMPLE_SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db-credentials", "namespace": "demo", "labels": {"app": "db"}},
    "type": "Opaque",
    "stringData": {"username": "app", "password": "demo-only-not-a-real-password"},
}


def _step(title: str) -> None:
    click.secho(f"\n== {title}", bold=True)


def _masked(secret: dict[str, object]) -> dict[str, object]:
    """The Secret with its values replaced by their lengths: the demo shows no plaintext either."""
    data = secret.get("data")
    shown = dict(secret)
    if isinstance(data, dict):
        shown["data"] = {k: f"<{len(base64.b64decode(v))} bytes>" for k, v in data.items()}
    return shown


def _csi_step(example: Path, folder: Path) -> None:
    """Generate the example config repo's SecretProviderClasses and wiring from its spec, in a copy."""
    from sealkit.csi import generate as gen
    from sealkit.csi.spec import load_spec

    copy = folder / "gitops"
    _copy_tree(example, copy)
    spec_path = copy / "sealkit-csi.yaml"
    with _named_in_example(copy, example):  # the file to mend is the example's, not the (temporary) copy's
        plan = gen.plan(load_spec(spec_path))
    for relpath in plan.files:
        try:
            (copy / relpath).unlink(missing_ok=True)  # start from nothing, as a new repo would
        except OSError as exc:
            raise InputError(f"cannot remove ({os_reason(exc)})", where=copy / relpath) from None
    try:
        written = gen.write(plan)
    except InputError as exc:  # it names a file by its path in the repo: here, the copy's
        raise InputError(exc.what, where=copy / exc.where if exc.where else copy) from None
    click.echo(f"sealkit csi generate --spec {spec_path}: wrote {len(written.written)} files")
    spc = next(rel for rel in sorted(plan.files) if "secretproviderclass" in rel.lower())
    click.echo(f"\n{spc}:\n{plan.files[spc]}")
    with _named_in_example(copy, example):
        checked = gen.check(gen.plan(load_spec(spec_path)))
    click.echo(f"sealkit csi generate --check: {'up to date' if checked.ok else 'STALE'}")
    if not checked.ok:
        raise SystemExit(1)


@contextlib.contextmanager
def _named_in_example(copy: Path, example: Path) -> Iterator[None]:
    """An error about a file of the copy named as the example's file it was copied from."""
    try:
        yield
    except SealkitError as exc:
        where, inside = exc.where, str(copy)
        if where == inside or where.startswith(inside + os.sep):
            SealkitError.__init__(exc, exc.what, where=str(example) + where[len(inside) :])
        raise exc.with_traceback(None) from None


def _copy_tree(source: Path, target: Path) -> None:
    """The example repo copied into the work directory (symlinks followed, as shutil.copytree does); what
    cannot be read or written is one line naming it (copytree's collected errors named nothing). A link
    leading back to a directory already on the way is refused at once (followed, it copied the tree again
    at every level until the system's link limit)."""

    def refuse(exc: OSError) -> None:
        where = os.fsdecode(exc.filename) if exc.filename is not None else str(source)
        raise InputError(f"cannot read directory ({os_reason(exc)})", where=where) from None

    for root, dirs, names in os.walk(source, onerror=refuse, followlinks=True):
        _refuse_loops(Path(root), dirs)
        here = target / os.path.relpath(root, source)
        try:
            here.mkdir(exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create directory ({_why(exc)})", where=here) from None
        for name in sorted(names):
            try:
                shutil.copyfile(Path(root) / name, here / name)
            except OSError as exc:  # the file it names: the example's (a read) or the copy's (a write)
                where = os.fsdecode(exc.filename) if exc.filename is not None else str(here / name)
                raise InputError(f"cannot copy ({os_reason(exc)})", where=where) from None


def _refuse_loops(root: Path, dirs: list[str]) -> None:
    """A directory below `root` that is `root` or one above it (a symbolic link loop) is an error naming it."""
    try:
        above = set()
        for level in (root, *root.parents):
            info = level.stat()
            above.add((info.st_dev, info.st_ino))
        for name in dirs:
            info = (root / name).stat()
            if (info.st_dev, info.st_ino) in above:
                raise InputError("a symbolic link loop (it leads back to a directory above it)", where=root / name)
    except OSError as exc:
        where = os.fsdecode(exc.filename) if exc.filename is not None else str(root)
        raise InputError(f"cannot read directory ({os_reason(exc)})", where=where) from None


def _why(exc: OSError) -> str:
    """Why a directory cannot be made: a file where it goes or above it, else the system's words."""
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a file is in the way"
    return os_reason(exc)


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """`data` written to `path` in the work directory (mode 0600 from the first byte when `private`); a
    failure names the file."""
    try:
        if private:
            path.touch(mode=0o600)
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write ({os_reason(exc)})", where=path) from None


def _shown_secret(secret: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Secret worth showing (server bookkeeping left out), values masked."""
    meta = secret.get("metadata") or {}
    kept = {k: meta[k] for k in ("name", "namespace", "labels", "annotations", "ownerReferences") if meta.get(k)}
    shown = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": kept,
        "type": secret.get("type", "Opaque"),
        "data": secret.get("data") or {},
    }
    return _masked(shown)


def _wait(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise click.ClickException(f"the controller did not finish within {timeout:.0f} s")


def _controller_step(key_size: int, folder: Path) -> None:
    """The real controller against the Kubernetes emulator: cert via the service proxy, apply, unseal."""
    from sealkit.clients.kube.config import ClusterOptions
    from sealkit.clients.kube.proxy import ControllerProxy
    from sealkit_cli.localcluster import LocalCluster, TestServersMissing

    cluster = LocalCluster(folder, key_size=key_size)
    click.echo(f"Starting the Kubernetes emulator and the controller (it makes a {key_size}-bit key)")
    try:
        cluster.start()
    except TestServersMissing as exc:
        click.echo(f"skipped: {exc}")
        return
    try:
        kube = cluster.kube
        assert kube is not None
        kubeconfig = cluster.kubeconfig
        click.echo(f"Kubernetes emulator at {cluster.url}")
        proxy = ControllerProxy(ClusterOptions(str(kubeconfig)))
        cert = load_certificate(proxy.cert_pem(), "the controller's certificate")
        click.echo(
            f"sealkit cert --kubeconfig {kubeconfig}: fingerprint {cert.fingerprint} "
            "(fetched through the API server's service proxy)"
        )
        kube.create_namespace("demo")
        sealed = seal_secret(EXAMPLE_SECRET, cert)
        applied = folder / "db-credentials.cluster.sealed.yaml"
        _write(applied, dump_yaml([sealed]).encode())
        kube.create(sealed)
        click.echo(f"sealkit seal -f secret.yaml -w {applied.name}; kubectl apply -f {applied.name}")
        name, namespace = EXAMPLE_SECRET["metadata"]["name"], EXAMPLE_SECRET["metadata"]["namespace"]  # type: ignore[index]
        secret = _wait(lambda: kube.get("v1", "Secret", name, namespace))
        status = _wait(lambda: (kube.get("bitnami.com/v1alpha1", "SealedSecret", name, namespace) or {}).get("status"))
        click.echo(f"\nThe Secret the controller made (values hidden):\n{dump_yaml([_shown_secret(secret)])}")
        click.echo(f"SealedSecret {namespace}/{name} status (observedGeneration {status.get('observedGeneration')}):")
        for condition in status.get("conditions") or []:
            message = f" ({condition['message']})" if condition.get("message") else ""
            click.echo(f"  {condition['type']}={condition['status']} reason={condition['reason']}{message}")
    finally:
        cluster.stop()


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM ends the demo like Ctrl-C does: through the `finally` that removes its files."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _default_example() -> Path | None:
    candidate = Path(__file__).resolve().parents[3] / "examples" / "gitops"
    return candidate if (candidate / "sealkit-csi.yaml").is_file() else None


@click.command("demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the demo's files here and keep them (default: a temporary directory, removed at the end).",
)
@click.option("--keep", is_flag=True, help="Keep the temporary directory (key included) and say where it is.")
@click.option("--key-size", type=click.IntRange(2048, 8192), default=4096, show_default=True)
@click.option(
    "--example",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The example config repo for the CSI step (default: examples/gitops of this checkout).",
)
def demo(workdir: Path | None, keep: bool, key_size: int, example: Path | None) -> None:
    """Make a throwaway key pair, seal an example Secret, show the SealedSecret, open it again.

    Its files (the throwaway private key among them) go to a temporary directory that is removed at the
    end, also after Ctrl-C or SIGTERM, unless --keep or --workdir asks to keep them.
    """
    folder = workdir or Path(tempfile.mkdtemp(prefix="sealkit-demo-"))
    keep = keep or workdir is not None
    try:
        with _sigterm_unwinds():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # --workdir=DIR: not a word of the command line the last resort sees
                raise InputError(f"cannot create directory ({_why(exc)})", where=folder) from None
            _run(folder, key_size, example)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    if keep:
        click.secho(f"\nDemo files are in {folder} (the private key too: delete it when done)", fg="green")
    else:
        click.secho("\nRemoved the demo's temporary files, the throwaway key with them (--keep keeps them)", fg="green")


def _run(folder: Path, key_size: int, example: Path | None) -> None:
    _step(f"1. A throwaway sealing key ({key_size}-bit RSA), as the controller would make it")
    generated = generate_key_pair(bits=key_size)
    cert_path = folder / "cert.pem"
    _write(cert_path, generated.certificate_pem)
    key_path = folder / "key.pem"
    _write(key_path, generated.private_pem, private=True)
    cert = load_certificate(generated.certificate_pem, str(cert_path))
    click.echo(f"certificate {cert_path}  fingerprint {cert.fingerprint}")

    _step("2. Seal an example Secret (sealkit seal --cert cert.pem -f secret.yaml)")
    sealed = seal_secret(EXAMPLE_SECRET, cert)
    sealed_path = folder / "db-credentials.sealed.yaml"
    _write(sealed_path, dump_yaml([sealed]).encode())
    click.echo(f"wrote {sealed_path}; safe to commit:\n")
    click.echo(dump_yaml([sealed]))

    _step("3. Open it again with the private key (sealkit unseal --private-key key.pem)")
    opened = unseal(sealed, KeyRing([generated.key]), where=str(sealed_path))
    matches = {k: opened.items[k] == v.encode() for k, v in EXAMPLE_SECRET["stringData"].items()}  # type: ignore[attr-defined]
    click.echo(dump_yaml([_masked(opened.secret)]))
    verdict = "every value came back byte for byte" if all(matches.values()) else f"MISMATCH: {matches}"
    click.echo(f"{verdict} (values hidden here; `sealkit unseal` prints them)")
    if not all(matches.values()):
        raise SystemExit(1)
    example = example or _default_example()
    if example is not None:
        _step("4. Key Vault CSI: SecretProviderClasses and workload wiring from one spec")
        _csi_step(example, folder)
    _step("5. The controller in a (emulated) cluster: seal with its certificate, apply, get the Secret")
    _controller_step(key_size, folder)
