"""`sealkit demo`: the whole flow on a throwaway key, no cluster or Azure needed."""

from __future__ import annotations

import base64
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sealkit.documents import dump_yaml
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
    shutil.copytree(example, copy, dirs_exist_ok=True)
    spec_path = copy / "sealkit-csi.yaml"
    plan = gen.plan(load_spec(spec_path))
    for relpath in plan.files:
        (copy / relpath).unlink(missing_ok=True)  # start from nothing, as a new repo would
    written = gen.write(plan)
    click.echo(f"sealkit csi generate --spec {spec_path}: wrote {len(written.written)} files")
    spc = next(rel for rel in sorted(plan.files) if "secretproviderclass" in rel.lower())
    click.echo(f"\n{spc}:\n{plan.files[spc]}")
    checked = gen.check(gen.plan(load_spec(spec_path)))
    click.echo(f"sealkit csi generate --check: {'up to date' if checked.ok else 'STALE'}")
    if not checked.ok:
        raise SystemExit(1)


INSTALL_TESTSERVERS = "pip install -e ./testservers in a sealkit checkout"
CONTROLLER_SERVICE = "sealed-secrets-controller"
CONTROLLER_NAMESPACE = "kube-system"


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
    try:
        # The test servers are a distribution of their own (not in sealkit's wheel), loaded only here.
        from sealkit_testservers.kube import KubeServer
    except ImportError:
        click.echo(
            f"skipped: the Kubernetes emulator is not installed ({INSTALL_TESTSERVERS}, as scripts/demo.sh does)"
        )
        return
    from sealkit.clients.kube.config import ClusterOptions
    from sealkit.clients.kube.proxy import ControllerProxy
    from sealkit.data import crd_path
    from sealkit_controller import Settings, in_thread

    kopf_logger = logging.getLogger("kopf")
    level = kopf_logger.level
    kopf_logger.setLevel(logging.ERROR)  # Kopf warns that it runs off the main thread: true, and expected here
    try:
        with KubeServer(crds=[crd_path("bitnami.com_sealedsecrets.yaml")]) as kube:
            kubeconfig = kube.write_kubeconfig(folder / "kubeconfig")
            settings = Settings(
                kubeconfig=str(kubeconfig),
                namespace=CONTROLLER_NAMESPACE,
                key_size=key_size,
                listen_addr="127.0.0.1:0",
                listen_metrics_addr="127.0.0.1:0",
                log_level="WARNING",
            )
            click.echo(f"Kubernetes emulator at {kube.url}; starting the controller (it makes a {key_size}-bit key)")
            with in_thread(settings) as running:
                kube.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": CONTROLLER_SERVICE, "namespace": CONTROLLER_NAMESPACE},
                        "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
                    }
                )
                kube.register_service_backend(CONTROLLER_NAMESPACE, CONTROLLER_SERVICE, "http", running.api_url)
                proxy = ControllerProxy(ClusterOptions(str(kubeconfig), None, CONTROLLER_SERVICE, CONTROLLER_NAMESPACE))
                cert = load_certificate(proxy.cert_pem(), "the controller's certificate")
                click.echo(
                    f"sealkit cert --kubeconfig {kubeconfig}: fingerprint {cert.fingerprint} "
                    "(fetched through the API server's service proxy)"
                )
                kube.create_namespace("demo")
                sealed = seal_secret(EXAMPLE_SECRET, cert)
                applied = folder / "db-credentials.cluster.sealed.yaml"
                applied.write_text(dump_yaml([sealed]))
                kube.create(sealed)
                click.echo(f"sealkit seal -f secret.yaml -w {applied.name}; kubectl apply -f {applied.name}")
                name, namespace = EXAMPLE_SECRET["metadata"]["name"], EXAMPLE_SECRET["metadata"]["namespace"]  # type: ignore[index]
                secret = _wait(lambda: kube.get("v1", "Secret", name, namespace))
                status = _wait(
                    lambda: (kube.get("bitnami.com/v1alpha1", "SealedSecret", name, namespace) or {}).get("status")
                )
                click.echo(f"\nThe Secret the controller made (values hidden):\n{dump_yaml([_shown_secret(secret)])}")
                click.echo(
                    f"SealedSecret {namespace}/{name} status (observedGeneration {status.get('observedGeneration')}):"
                )
                for condition in status.get("conditions") or []:
                    message = f" ({condition['message']})" if condition.get("message") else ""
                    click.echo(f"  {condition['type']}={condition['status']} reason={condition['reason']}{message}")
    finally:
        kopf_logger.setLevel(level)


def _default_example() -> Path | None:
    candidate = Path(__file__).resolve().parents[3] / "examples" / "gitops"
    return candidate if (candidate / "sealkit-csi.yaml").is_file() else None


@click.command("demo")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Keep files here.")
@click.option("--key-size", type=click.IntRange(2048, 8192), default=4096, show_default=True)
@click.option(
    "--example",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The example config repo for the CSI step (default: examples/gitops of this checkout).",
)
def demo(workdir: Path | None, key_size: int, example: Path | None) -> None:
    """Make a throwaway key pair, seal an example Secret, show the SealedSecret, open it again."""
    folder = workdir or Path(tempfile.mkdtemp(prefix="sealkit-demo-"))
    folder.mkdir(parents=True, exist_ok=True)

    _step(f"1. A throwaway sealing key ({key_size}-bit RSA), as the controller would make it")
    generated = generate_key_pair(bits=key_size)
    cert_path = folder / "cert.pem"
    cert_path.write_bytes(generated.certificate_pem)
    key_path = folder / "key.pem"
    key_path.touch(mode=0o600)
    key_path.write_bytes(generated.private_pem)
    cert = load_certificate(generated.certificate_pem, str(cert_path))
    click.echo(f"certificate {cert_path}  fingerprint {cert.fingerprint}")

    _step("2. Seal an example Secret (sealkit seal --cert cert.pem -f secret.yaml)")
    sealed = seal_secret(EXAMPLE_SECRET, cert)
    sealed_path = folder / "db-credentials.sealed.yaml"
    sealed_path.write_text(dump_yaml([sealed]))
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
    click.secho(f"\nDemo files are in {folder}", fg="green")
