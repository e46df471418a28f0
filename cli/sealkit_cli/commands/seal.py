"""`sealkit seal`: Secret in, SealedSecret out (or one raw sealed value)."""

from __future__ import annotations

import click

from sealkit.documents import dump, load_documents
from sealkit.errors import InputError
from sealkit.keys import SealingCertificate, load_certificate
from sealkit.scope import Scope
from sealkit.sealing import resolve_target, seal_secret, seal_value
from sealkit_cli import io, options

SCOPES = click.Choice([s.value for s in Scope])


def load_cert(cert: str | None) -> SealingCertificate:
    if not cert:
        raise InputError("no certificate: give --cert FILE (or set SEALED_SECRETS_CERT)")
    data, source = io.read_input(cert)
    return load_certificate(data, source)


def _seal_raw(cert: SealingCertificate, scope: Scope, name: str | None, namespace: str | None, from_file: str) -> str:
    value, _ = io.read_input(from_file)
    target = resolve_target(scope, name, namespace, "--raw")
    return seal_value(cert, value, target)


@click.command("seal")
@options.input_file("Secret manifest(s) to seal: YAML (multi-document) or JSON; - for stdin.", "--secret-file")
@options.output_file("Write the SealedSecret(s) here atomically instead of stdout.", "--sealed-secret-file")
@options.output_format
@click.option("--cert", envvar="SEALED_SECRETS_CERT", help="The cluster's sealing certificate (PEM file).")
@click.option(
    "--scope", type=SCOPES, default=None, help="Override the scope (default: the Secret's annotations, else strict)."
)
@click.option("--name", default=None, help="Name of the SealedSecret (overrides the Secret's).")
@options.namespace("Namespace when the Secret has none (must match when it has one).")
@click.option("--allow-empty-data", is_flag=True, help="Seal a Secret with no data.")
@click.option("--raw", is_flag=True, help="Seal one value (from --from-file or stdin) and print bare base64.")
@click.option("--from-file", default="-", show_default=True, help="With --raw: the file holding the value.")
def seal(
    input_path: str,
    output_path: str | None,
    fmt: str | None,
    cert: str | None,
    scope: str | None,
    name: str | None,
    namespace: str | None,
    allow_empty_data: bool,
    raw: bool,
    from_file: str,
) -> None:
    """Seal Kubernetes Secret(s) with the cluster's certificate into SealedSecret(s) safe to commit.

    \b
    sealkit seal --cert cert.pem -f secret.yaml -w sealed-secret.yaml
    kubectl create secret generic db --from-literal=password=... --dry-run=client -o yaml \\
      | sealkit seal --cert cert.pem -n team-a > db.sealed.yaml
    echo -n s3cret | sealkit seal --raw --cert cert.pem --namespace team-a --name db
    """
    certificate = load_cert(cert)
    chosen_scope = Scope(scope) if scope else None
    if raw:
        sealed = _seal_raw(certificate, chosen_scope or Scope.STRICT, name, namespace, from_file)
        io.write_output(sealed, output_path)
        return
    data, source = io.read_input(input_path)
    documents = load_documents(data, source)
    if not documents:
        raise InputError(f"{source}: no Secret in the input")
    if name and len(documents) > 1:
        raise InputError(f"{source}: --name applies to one Secret, the input has {len(documents)}")
    sealed_objects = [
        seal_secret(
            doc.obj,
            certificate,
            scope=chosen_scope,
            name=name,
            namespace=namespace,
            allow_empty_data=allow_empty_data,
            where=doc.where,
        )
        for doc in documents
    ]
    io.write_output(dump(sealed_objects, io.output_format(fmt, output_path)), output_path)
