"""The CSI spec as typed values: environments, applications, their Key Vault objects and wiring.

Built only by `sealkit.csi.spec.load_spec`, which has already refused anything the driver or
provider would reject, so renderers can trust these values. Environments also say how to seal for
their cluster (`CertSource`, `sealed_secrets`): `sealkit seal --env`, `set`, `reencrypt --env`,
`certs pull` and lint's wrong-cluster rule read them (docs/environments.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE

DEFAULT_CREDENTIALS_SECRET = "secrets-store-creds"  # noqa: S105 - a Secret name (the Arc default)
DEFAULT_MOUNT_PATH = "/mnt/secrets-store"
LATEST = "latest"


class IdentityMode(StrEnum):
    """How the provider authenticates to Key Vault (the spec's key under `identity`)."""

    WORKLOAD_IDENTITY = "workloadIdentity"
    VM_MANAGED_IDENTITY = "vmManagedIdentity"
    SERVICE_PRINCIPAL = "servicePrincipal"


@dataclass(frozen=True)
class Identity:
    """One identity mode with its settings; only the fields of `mode` are set."""

    mode: IdentityMode
    client_id: str | None = None  # workload identity
    user_assigned_identity_id: str | None = None  # VM managed identity; None = system-assigned
    secret_name: str = DEFAULT_CREDENTIALS_SECRET  # service principal: the nodePublishSecretRef Secret


@dataclass(frozen=True)
class CertSource:
    """Where an environment's sealing certificate comes from (`sealingCert`), and its history.

    `file` is the committed copy (sealing reads it when set; `certs pull` refreshes it from `url` or
    `context`); without it the certificate is fetched from `url` or the cluster at each run. `previous`
    is a PEM file of the environment's older certificates (`certs pull` adds a replaced one there).
    """

    file: str | None = None  # POSIX path relative to the spec's directory
    url: str | None = None  # http(s) URL of the PEM
    context: str | None = None  # kubeconfig context of the environment's cluster
    controller_name: str = DEFAULT_CONTROLLER_NAME
    controller_namespace: str = DEFAULT_CONTROLLER_NAMESPACE
    previous: str | None = None  # POSIX path relative to the spec's directory

    def describe(self) -> str:
        """The source for messages: the file, else the URL, else the context."""
        if self.file:
            return self.file
        if self.url:
            return self.url
        return f"context {self.context} ({self.controller_namespace}/{self.controller_name})"


@dataclass(frozen=True)
class Environment:
    name: str
    vault: str | None  # Key Vault name; None for an environment only sealed for (a spec without applications)
    tenant: str | None
    cloud: str | None
    identity: Identity | None
    overlay: str | None  # POSIX path relative to the spec's directory; None only in a spec without applications
    sealing_cert: str  # path relative to the spec's directory, or an http(s) URL ("" when only a context names it)
    sealed_secrets: str | None = None  # POSIX path relative to the spec's directory: `seal --env` writes here
    cert_source: CertSource = field(default_factory=CertSource)


@dataclass(frozen=True)
class KeyVaultObject:
    name: str
    type: str
    alias: str | None = None
    versions: Mapping[str, str] = field(default_factory=dict)  # environment -> version ("" = latest)
    default_version: str = ""
    format: str | None = None
    encoding: str | None = None
    file_permission: str | None = None
    version_history: int | None = None

    @property
    def file_name(self) -> str:
        """The file the provider writes: the alias when set, else the object name."""
        return self.alias or self.name

    def version_for(self, environment: str) -> str:
        return self.versions.get(environment, self.default_version)


@dataclass(frozen=True)
class SyncKey:
    key: str
    object_name: str  # the mounted file name


@dataclass(frozen=True)
class SyncedSecret:
    name: str
    type: str
    data: tuple[SyncKey, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvVar:
    name: str
    secret: str
    key: str


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    containers: tuple[str, ...]  # resolved against the base: never empty after loading
    mount_path: str
    env: tuple[EnvVar, ...] = ()
    api_version: str = "apps/v1"  # copied from the base so the patch targets the same object


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    create: bool  # False: annotate the one the base already has


@dataclass(frozen=True)
class EnvironmentOverride:
    vault: str | None = None
    identity: Identity | None = None


@dataclass(frozen=True)
class Application:
    name: str
    namespace: str
    base: str  # POSIX path relative to the spec's directory
    class_name: str
    service_account: ServiceAccount
    objects: tuple[KeyVaultObject, ...]
    sync: tuple[SyncedSecret, ...]
    workloads: tuple[Workload, ...]
    overrides: Mapping[str, EnvironmentOverride] = field(default_factory=dict)

    def vault_for(self, env: Environment) -> str:
        override = self.overrides.get(env.name)
        vault = override.vault if override and override.vault else env.vault
        if vault is None:
            raise ValueError(f"environment {env.name} names no Key Vault for application {self.name}")
        return vault

    def identity_for(self, env: Environment) -> Identity:
        override = self.overrides.get(env.name)
        identity = override.identity if override and override.identity else env.identity
        if identity is None:
            raise ValueError(f"environment {env.name} names no identity for application {self.name}")
        return identity


@dataclass(frozen=True)
class Spec:
    path: Path  # the spec file
    environments: Mapping[str, Environment]
    applications: Mapping[str, Application]

    @property
    def root(self) -> Path:
        """Paths in the spec are relative to the directory holding it (the config repo)."""
        return self.path.parent
