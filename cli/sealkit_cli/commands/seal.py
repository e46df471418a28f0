"""`sealkit seal`: Secret in, SealedSecret out (or one raw sealed value, or merged into a file).

YAML-first (config repos are YAML); every flag also answers to kubeseal's spelling (`--secret-file`,
`--sealed-secret-file`, kubectl's client flags, ...: see `sealkit_cli.options`). `sealkit kubeseal` is the
command with kubeseal's defaults.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from sealkit import provenance
from sealkit.documents import dump, load_documents
from sealkit.errors import InputError
from sealkit.scope import Scope
from sealkit.sealing import resolve_target, seal_secret
from sealkit_cli import io
from sealkit_cli.certsource import resolve_certificate
from sealkit_cli.options import cluster_options, flatten, option, with_namespace

if TYPE_CHECKING:
    from sealkit.clients.kube.config import ClusterOptions


@click.command("seal")
@option("input_path", help="Secret manifest(s) to seal: YAML (multi-document) or JSON; - for stdin.", show_default=True)
@option("output_path", help="Write the SealedSecret(s) here atomically instead of stdout.")
@option("fmt", default=None, help="Output format: yaml or json (default: from the -w file's extension, else yaml).")
@option("cert", envvar="SEALED_SECRETS_CERT")
@option("scope", default=None, help="Override the scope (default: the Secret's annotations, else strict).")
@option("name", help="Name of the SealedSecret (overrides the Secret's).")
@option(
    "namespace",
    help="Namespace when the Secret has none (default: the kubeconfig context's); must match when it has one.",
)
@option("allow_empty_data")
@option("raw")
@option("from_file", help="With --raw: the file holding the value ([key=]path; one; default stdin).")
@option("merge_into")
@option("spec_file")
@option("envs", help="Seal for this environment of the spec, into its sealedSecrets directory (repeatable).")
@option("all_envs", help="Seal for every environment of the spec.")
@cluster_options(lazy=True)
@click.pass_context
def seal(
    ctx: click.Context,
    input_path: str,
    output_path: str | None,
    fmt: str | None,
    cert: str | None,
    scope: str | None,
    name: str | None,
    namespace: str | None,
    allow_empty_data: bool,
    raw: bool,
    from_file: tuple[Any, ...],
    merge_into: str | None,
    spec_file: str | None,
    envs: tuple[str, ...],
    all_envs: bool,
    cluster: Callable[[], ClusterOptions],
) -> None:
    """Seal Kubernetes Secret(s) with the cluster's certificate into SealedSecret(s) safe to commit.

    \b
    sealkit seal --cert cert.pem -f secret.yaml -w sealed-secret.yaml
    kubectl create secret generic db --from-literal=password=... --dry-run=client -o yaml \\
      | sealkit seal -n team-a > db.sealed.yaml        # cert fetched from the controller
    echo -n s3cret | sealkit seal --raw --cert cert.pem --namespace team-a --name db
    sealkit seal --cert cert.pem -f extra-item.yaml --merge-into db.sealed.yaml

    \b
    sealkit seal --env dev --env prod -f secret.yaml   # each environment's file, from sealkit-csi.yaml
    sealkit seal --all-envs -f secrets.yaml

    Unlike `sealkit kubeseal` (kubeseal's defaults), a Secret with no namespace, no -n and no namespace
    in the kubeconfig context is an error here, not sealed for "default". Every SealedSecret written
    carries its provenance (`sealkit.io/certificate-sha256`, see docs/environments.md).

    With --env/--all-envs each Secret is sealed for each environment into
    <sealedSecrets>/<namespace>.<name>.sealedsecret.yaml (an existing file gets its items replaced or
    added in place; a new one is listed in the directory's kustomization.yaml). Nothing is written
    unless every file of every environment can be.
    """
    if envs or all_envs:
        from sealkit_cli.environments import refuse_with_env
        from sealkit_cli.envseal import seal_environments

        refuse_with_env(
            ctx,
            {
                "output_path": "-w/--output-file",
                "cert": "--cert",
                "merge_into": "--merge-into",
                "raw": "--raw",
                "fmt": "-o/--format",
                "context": "--context",
                "controller_name": "--controller-name",
                "controller_namespace": "--controller-namespace",
            },
        )
        seal_environments(
            spec_file,
            envs,
            all_envs,
            input_path,
            scope=Scope(scope) if scope else None,
            name=name,
            namespace=namespace,
            allow_empty_data=allow_empty_data,
            kubeconfig=cluster().kubeconfig,
        )
        return
    # Built only when needed: with --cert and namespaced Secrets, no Kubernetes client module is loaded.
    clusters = functools.cache(lambda: with_namespace(cluster(), namespace))
    certificate = resolve_certificate(cert, clusters)
    if merge_into:
        from sealkit_cli import sealflow

        sealflow.merge_into(merge_into, input_path, certificate, stamp=True)
        return
    chosen_scope = Scope(scope) if scope else None
    if raw:
        from sealkit.clients.kube.config import context_namespace
        from sealkit_cli import sealflow

        raw_namespace = namespace or context_namespace(clusters().kubeconfig, clusters().context)
        target = resolve_target(chosen_scope or Scope.STRICT, name, raw_namespace, "--raw")
        io.write_output(sealflow.seal_raw(certificate, flatten(from_file), target), output_path)
        return
    if from_file:
        raise InputError("--from-file requires --raw", where="--from-file")
    data, source = io.read_input(input_path)
    documents = load_documents(data, source)
    if not documents:
        raise InputError("no Secret in the input", where=source)
    if name and len(documents) > 1:
        raise InputError(f"--name applies to one Secret, the input has {len(documents)}", where=source)
    # kubeseal's rule: a Secret without a namespace gets -n, else the kubeconfig context's (read once).
    fallback = functools.cache(lambda: namespace or _context_namespace(clusters().kubeconfig, clusters().context))
    sealed_objects = []
    for doc in documents:
        meta = doc.obj.get("metadata") if isinstance(doc.obj, dict) else None
        has_namespace = isinstance(meta, dict) and bool(meta.get("namespace"))
        sealed_object = seal_secret(
            doc.obj,
            certificate,
            scope=chosen_scope,
            name=name,
            namespace=namespace if has_namespace else fallback(),
            allow_empty_data=allow_empty_data,
            where=doc.where,
        )
        sealed_objects.append(provenance.stamp(sealed_object, provenance.of_certificate(certificate)))
    io.write_output(dump(sealed_objects, io.output_format(fmt, output_path)), output_path)


def _context_namespace(kubeconfig: str | None, context: str | None) -> str | None:
    """The kubeconfig context's namespace (read only when a Secret has none and no -n is given)."""
    from sealkit.clients.kube.config import context_namespace

    return context_namespace(kubeconfig, context)
