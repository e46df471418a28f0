"""Service-principal credentials for the provider, sealed for an environment's cluster.

The provider reads keys `clientid` and `clientsecret` from the Secret a CSI volume names in
`nodePublishSecretRef`; the driver only passes Secrets labelled `secrets-store.csi.k8s.io/used`.
The values never enter the spec: they arrive here, are sealed at once and only ciphertext is
written into the overlay, where `generate` has already wired the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sealkit import provenance
from sealkit.csi.generate import CredentialsFile, credentials_files
from sealkit.csi.model import Spec
from sealkit.csi.rules import USED_LABEL, uuid_problem
from sealkit.csi.yamlio import dump_document
from sealkit.envs.certs import sealing_certificate
from sealkit.errors import InputError
from sealkit.files import refuse_link_out_of_repo
from sealkit.filewrites import FileChange, current_text, write_all
from sealkit.keys import SealingCertificate
from sealkit.scope import Scope
from sealkit.sealing import seal_secret

HEADER = "# Sealed by `sealkit csi seal-creds --env {env}`: re-run it to rotate; never edit by hand.\n"


@dataclass(frozen=True)
class ServicePrincipal:
    """A client id and secret held only in memory; repr hides the secret."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"ServicePrincipal(client_id={self.client_id!r}, client_secret=<hidden>)"

    def __post_init__(self) -> None:
        check_principal(self.client_id, self.client_secret)


def check_principal(client_id: str, client_secret: str, where: tuple[str, str] = ("", "")) -> None:
    """A client id that is a GUID (an Azure application id; a pasted secret is never shown) and a client
    secret that is not empty; `where` says where each came from (a variable, a line of stdin)."""
    if not client_id.strip():
        raise InputError("the service principal's client id is empty", where=where[0])
    if problem := uuid_problem(client_id.strip(), "the service principal's client id"):
        raise InputError(problem, where=where[0])
    if not client_secret:
        raise InputError("the service principal's client secret is empty", where=where[1])


def sealed_credentials(target: CredentialsFile, principal: ServicePrincipal, cert: SealingCertificate) -> str:
    """The file text: a strict-scope SealedSecret whose Secret carries the driver's `used` label."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": target.secret_name, "namespace": target.namespace, "labels": {USED_LABEL: "true"}},
        "stringData": {"clientid": principal.client_id.strip(), "clientsecret": principal.client_secret},
    }
    sealed = seal_secret(secret, cert, scope=Scope.STRICT, where=target.path)
    stamped = provenance.stamp(sealed, provenance.of_certificate(cert, target.env))
    return HEADER.format(env=target.env) + dump_document(stamped)


def unknown_environment(spec: Spec, env_name: str) -> InputError | None:
    """The error for an --env the spec does not have (None when it has it)."""
    if env_name in spec.environments:
        return None
    have = ", ".join(spec.environments)
    return InputError(f"unknown environment {env_name!r} (the spec has: {have})", where=f"--env {env_name}")


def plan_credentials(
    spec: Spec, env_name: str, principal: ServicePrincipal, cert: SealingCertificate | None = None
) -> list[tuple[CredentialsFile, FileChange]]:
    """The sealed files every service-principal namespace of `env_name` needs, nothing written yet. `cert` is
    the environment's certificate; without it, the committed file its spec names (an environment whose
    certificate is fetched needs the caller's)."""
    if error := unknown_environment(spec, env_name):
        raise error
    targets = credentials_files(spec, spec.environments[env_name])
    if not targets:
        raise InputError("no application uses the servicePrincipal identity", where=f"environment {env_name}")
    cert = cert or sealing_certificate(spec, spec.environments[env_name], None)  # a file; a URL: the caller's
    planned = []
    root = spec.root.resolve()
    for target in targets:
        path: Path = spec.root / target.path
        refuse_link_out_of_repo(path, root, target.path)  # the sealed file must land in the repo
        planned.append((target, FileChange(path, sealed_credentials(target, principal, cert), current_text(path))))
    return planned


def seal_credentials(
    spec: Spec, env_name: str, principal: ServicePrincipal, cert: SealingCertificate | None = None
) -> list[CredentialsFile]:
    """Seal and write the credentials every service-principal namespace of `env_name` needs: all of them or,
    when one cannot be written, none (the files as they were)."""
    planned = plan_credentials(spec, env_name, principal, cert)
    write_all([change for _, change in planned])  # every file or none: 'cannot write (why): path'
    return [target for target, _ in planned]
