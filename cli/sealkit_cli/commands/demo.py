"""`sealkit demo`: the whole flow on a throwaway key, no cluster or Azure needed."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

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


@click.command("demo")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Keep files here.")
@click.option("--key-size", type=click.IntRange(2048, 8192), default=4096, show_default=True)
def demo(workdir: Path | None, key_size: int) -> None:
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
    click.secho(f"\nDemo files are in {folder}", fg="green")
