"""`sealkit unseal`: disaster recovery without a cluster, from backed-up private keys."""

from __future__ import annotations

import click

from sealkit.documents import dump, load_documents
from sealkit.errors import InputError
from sealkit.keys import KeyRing, load_private_keys
from sealkit.unsealing import unseal as unseal_object
from sealkit_cli import io, options


def load_keyring(paths: tuple[str, ...]) -> KeyRing:
    if not paths:
        raise InputError("no private keys: give --private-key FILE (PEM, key Secret backup or v1 List)")
    ring = KeyRing()
    for path in paths:
        data, source = io.read_input(path)
        for key in load_private_keys(data, source):
            ring.add(key)
    return ring


@click.command("unseal")
@options.input_file("SealedSecret manifest(s): YAML (multi-document) or JSON; - for stdin.", "--sealed-secret-file")
@options.output_file("Write the Secret(s) here (mode 0600, atomically) instead of stdout.")
@options.output_format
@click.option(
    "--private-key",
    "--recovery-private-key",
    "private_keys",
    multiple=True,
    required=False,
    help="Private key file: PEM (PKCS#1/PKCS#8), a key Secret backup, or a v1 List of them. Repeatable.",
)
@options.namespace("Namespace for SealedSecrets that have none.")
def unseal(
    input_path: str, output_path: str | None, fmt: str | None, private_keys: tuple[str, ...], namespace: str | None
) -> None:
    """Open SealedSecret(s) with private keys: one Secret per input document, in order.

    \b
    kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml
    sealkit unseal --private-key keys.yaml -f sealed-secret.yaml -w secret.yaml
    """
    ring = load_keyring(private_keys)
    data, source = io.read_input(input_path)
    documents = load_documents(data, source)
    if not documents:
        raise InputError(f"{source}: no SealedSecret in the input")
    secrets = [unseal_object(doc.obj, ring, where=doc.where, default_namespace=namespace).secret for doc in documents]
    io.write_output(dump(secrets, io.output_format(fmt, output_path)), output_path, mode=0o600)
