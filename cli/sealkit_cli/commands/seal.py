"""`sealkit seal`: Secret in, SealedSecret out (or one raw sealed value, or merged into a file)."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from sealkit.clients.kube.config import ClusterOptions, context_namespace
from sealkit.documents import dump, load_documents
from sealkit.errors import InputError
from sealkit.keys import SealingCertificate
from sealkit.scope import Scope
from sealkit.sealedsecret import is_sealed_secret, parse_sealed_secret
from sealkit.sealing import resolve_target, seal_secret, seal_value, secret_items
from sealkit.yamledit import merge_values
from sealkit_cli import io, options
from sealkit_cli.certsource import resolve_certificate
from sealkit_cli.options import cluster_options

SCOPES = click.Choice([s.value for s in Scope])


def _seal_raw(cert: SealingCertificate, scope: Scope, name: str | None, namespace: str | None, from_file: str) -> str:
    value, _ = io.read_input(from_file)
    target = resolve_target(scope, name, namespace, "--raw")
    return seal_value(cert, value, target)


def _merge_into(path: str, input_path: str, cert: SealingCertificate) -> None:
    """Add or replace items of the one SealedSecret in `path`, with its name, namespace and scope."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (--merge-into needs an existing SealedSecret file)") from None
    sealed_docs = [d for d in load_documents(text, path) if is_sealed_secret(d.obj)]
    if len(sealed_docs) != 1:
        raise InputError(f"{path}: --merge-into needs exactly one SealedSecret in the file, found {len(sealed_docs)}")
    view = parse_sealed_secret(sealed_docs[0].obj, sealed_docs[0].where)
    data, source = io.read_input(input_path)
    secrets = load_documents(data, source)
    if len(secrets) != 1:
        raise InputError(f"{source}: --merge-into takes one Secret, the input has {len(secrets)}")
    items = secret_items(secrets[0].obj, secrets[0].where)
    if not items:
        raise InputError(f"{secrets[0].where}: the Secret has no data or stringData to merge")
    sealed = {key: seal_value(cert, value, view.target) for key, value in items.items()}
    merged = merge_values(text, sealed_docs[0].index, sealed, path)
    io.write_output(merged, path, mode=Path(path).stat().st_mode & 0o777)


@click.command("seal")
@options.input_file("Secret manifest(s) to seal: YAML (multi-document) or JSON; - for stdin.", "--secret-file")
@options.output_file("Write the SealedSecret(s) here atomically instead of stdout.", "--sealed-secret-file")
@options.output_format
@click.option(
    "--cert",
    envvar="SEALED_SECRETS_CERT",
    help="The sealing certificate: a PEM file or http(s) URL (default: fetched from the controller).",
)
@click.option(
    "--scope", type=SCOPES, default=None, help="Override the scope (default: the Secret's annotations, else strict)."
)
@click.option("--name", default=None, help="Name of the SealedSecret (overrides the Secret's).")
@options.namespace(
    "Namespace when the Secret has none (default: the kubeconfig context's); must match when it has one."
)
@click.option("--allow-empty-data", is_flag=True, help="Seal a Secret with no data.")
@click.option("--raw", is_flag=True, help="Seal one value (from --from-file or stdin) and print bare base64.")
@click.option("--from-file", default="-", show_default=True, help="With --raw: the file holding the value.")
@click.option(
    "--merge-into",
    default=None,
    help="Add/replace the Secret's items in this SealedSecret file, keeping its name, namespace, scope and layout.",
)
@cluster_options
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
    merge_into: str | None,
    kubeconfig: str | None,
    context: str | None,
    controller_name: str,
    controller_namespace: str,
) -> None:
    """Seal Kubernetes Secret(s) with the cluster's certificate into SealedSecret(s) safe to commit.

    \b
    sealkit seal --cert cert.pem -f secret.yaml -w sealed-secret.yaml
    kubectl create secret generic db --from-literal=password=... --dry-run=client -o yaml \\
      | sealkit seal -n team-a > db.sealed.yaml        # cert fetched from the controller
    echo -n s3cret | sealkit seal --raw --cert cert.pem --namespace team-a --name db
    sealkit seal --cert cert.pem -f extra-item.yaml --merge-into db.sealed.yaml
    """
    cluster = ClusterOptions(kubeconfig, context, controller_name, controller_namespace)
    certificate = resolve_certificate(cert, cluster)
    if merge_into:
        _merge_into(merge_into, input_path, certificate)
        return
    chosen_scope = Scope(scope) if scope else None
    if raw:
        raw_namespace = namespace or context_namespace(kubeconfig, context)
        sealed = _seal_raw(certificate, chosen_scope or Scope.STRICT, name, raw_namespace, from_file)
        io.write_output(sealed, output_path)
        return
    data, source = io.read_input(input_path)
    documents = load_documents(data, source)
    if not documents:
        raise InputError(f"{source}: no Secret in the input")
    if name and len(documents) > 1:
        raise InputError(f"{source}: --name applies to one Secret, the input has {len(documents)}")
    # kubeseal's rule: a Secret without a namespace gets -n, else the kubeconfig context's (read once).
    fallback = functools.cache(lambda: namespace or context_namespace(kubeconfig, context))
    sealed_objects = []
    for doc in documents:
        has_namespace = isinstance(doc.obj, dict) and bool((doc.obj.get("metadata") or {}).get("namespace"))
        sealed_objects.append(
            seal_secret(
                doc.obj,
                certificate,
                scope=chosen_scope,
                name=name,
                namespace=namespace if has_namespace else fallback(),
                allow_empty_data=allow_empty_data,
                where=doc.where,
            )
        )
    io.write_output(dump(sealed_objects, io.output_format(fmt, output_path)), output_path)
