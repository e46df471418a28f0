"""`sealkit cert`: the cluster's current sealing certificate (kubeseal --fetch-cert)."""

from __future__ import annotations

import click

from sealkit.clients.kube.config import ClusterOptions
from sealkit.keys import load_certificate
from sealkit_cli import io
from sealkit_cli.certsource import certificate_bytes
from sealkit_cli.options import cluster_options, option


@click.command("cert")
@option("cert", envvar="SEALED_SECRETS_CERT", help="Read it from a file or http(s) URL instead.")
@cluster_options
@option("output_path", help="Write the certificate here instead of stdout.")
@click.option("--fingerprint", is_flag=True, help="Print the key fingerprint (as kubeseal shows it) instead.")
def cert(cert: str | None, cluster: ClusterOptions, output_path: str | None, fingerprint: bool) -> None:
    """Fetch the newest sealing certificate from the controller through the API server.

    \b
    sealkit cert > cert.pem
    sealkit cert --controller-name sealkit --controller-namespace sealkit -w cert.pem
    sealkit cert --cert https://example.test/v1/cert.pem --fingerprint
    """
    data, source = certificate_bytes(cert, cluster)
    certificate = load_certificate(data, source)
    text = certificate.fingerprint + "\n" if fingerprint else certificate.pem.decode()
    io.write_output(text, output_path)
