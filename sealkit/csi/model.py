"""The CSI spec as typed values: environments, applications, the objects they read and their wiring.

Two secret stores sit behind the Secrets Store CSI driver here: Azure Key Vault (provider `azure`)
and HashiCorp Vault (provider `vault`). An environment names one of them; an application may name
another per environment (`EnvironmentOverride`). Built only by `sealkit.csi.spec.load_spec`, which
has already refused anything the driver or a provider would reject, so renderers can trust these values.
Environments also say how to seal for their cluster (`CertSource`, `sealed_secrets`): `sealkit seal --env`,
`set`, `reencrypt --env`, `certs pull` and lint's wrong-cluster rule read them (docs/environments.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.errors import InputError, shown_url

DEFAULT_CREDENTIALS_SECRET = "secrets-store-creds"  # noqa: S105 - a Secret name (the Arc default)
DEFAULT_MOUNT_PATH = "/mnt/secrets-store"
LATEST = "latest"


class Store(StrEnum):
    """Which secret store (and so which CSI provider) an application reads in an environment."""

    KEY_VAULT = "keyVault"  # provider azure
    HASHICORP_VAULT = "hashicorpVault"  # provider vault


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


# --- HashiCorp Vault ------------------------------------------------------------------------------

DEFAULT_AUTH_MOUNT = "kubernetes"  # the provider's -vault-mount default


@dataclass(frozen=True)
class CaCert:
    """Where the vault-csi-provider pods read the Vault CA: a Secret or ConfigMap key they mount.

    `vaultCACertPath` is a path in the provider's own pods (not the application's), so the spec
    names the object the provider mounts and where (Vault Helm chart: `csi.volumes`/`csi.volumeMounts`).
    """

    source: str  # "secret" | "configMap"
    name: str
    key: str
    mount_path: str  # the directory the provider mounts it at

    @property
    def path(self) -> str:
        return f"{self.mount_path.rstrip('/')}/{self.key}"


@dataclass(frozen=True)
class VaultTls:
    ca_cert: CaCert | None = None
    server_name: str | None = None  # vaultTLSServerName (SNI)
    insecure_skip_verify: bool = False  # the explicit flag: vaultSkipTLSVerify "true", or plain http://


@dataclass(frozen=True)
class VaultRole:
    """The Kubernetes auth role pods log in with; the bindings, when the spec states them, are checked."""

    name: str
    service_account_names: tuple[str, ...] = ()  # () = not stated in the spec
    service_account_namespaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class HashiVault:
    """One HashiCorp Vault as pods of one environment reach it."""

    address: str  # http(s)://host[:port], no path
    auth_mount_path: str = DEFAULT_AUTH_MOUNT  # vaultKubernetesMountPath (auth/<this>/login)
    namespace: str | None = None  # Vault Enterprise namespace (vaultNamespace)
    role: VaultRole | None = None  # None here means: the application names it
    audience: str | None = None  # the service-account token's audience (`audience`)
    tls: VaultTls = field(default_factory=VaultTls)


@dataclass(frozen=True)
class HashiVaultOverride:
    """Per-application, per-environment changes to the environment's Vault; None fields are kept."""

    address: str | None = None
    auth_mount_path: str | None = None
    namespace: str | None = None
    role: VaultRole | None = None
    audience: str | None = None
    tls: VaultTls | None = None

    def applied_to(self, base: HashiVault | None) -> HashiVault:
        """`base` with these fields replaced (the spec guarantees an address when `base` is None)."""
        if base is None:
            assert self.address is not None
            base = HashiVault(self.address)
        return HashiVault(
            address=self.address or base.address,
            auth_mount_path=self.auth_mount_path or base.auth_mount_path,
            namespace=self.namespace if self.namespace is not None else base.namespace,
            role=self.role or base.role,
            audience=self.audience if self.audience is not None else base.audience,
            tls=self.tls or base.tls,
        )


@dataclass(frozen=True)
class VaultObject:
    """One file the Vault provider writes: a key of a secret at a path (`objects` item)."""

    file: str  # objectName: the file name in the volume
    path: str  # KV: the secret's path inside `mount` (never with data/); otherwise the full API path
    mount: str | None = None  # KV mount path (KV only)
    kv: int | None = None  # 1 or 2 for KV, None for another secrets engine
    key: str | None = None  # secretKey; None only for other engines (the provider writes the whole JSON)
    method: str | None = None  # other engines: GET (default), PUT or POST
    args: Mapping[str, object] = field(default_factory=dict)  # secretArgs (PUT/POST body)
    versions: Mapping[str, int] = field(default_factory=dict)  # KV v2: environment -> version (0 = latest)
    default_version: int = 0
    encoding: str | None = None  # utf-8 | base64 | hex
    file_permission: str | None = None  # octal text such as "0440" (rendered as a YAML octal int)

    def version_for(self, environment: str) -> int:
        return self.versions.get(environment, self.default_version)

    def api_path(self, environment: str) -> str:
        """The path the provider requests (`secretPath`), with KV v2's `data/` and pinned `?version=`."""
        if self.kv == 2:
            version = self.version_for(environment)
            query = f"?version={version}" if version else ""
            return f"{self.mount}/data/{self.path}{query}"
        if self.kv == 1:
            return f"{self.mount}/{self.path}"
        return self.path


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
            return shown_url(self.url)
        return f"context {self.context} ({self.controller_namespace}/{self.controller_name})"


@dataclass(frozen=True)
class Environment:
    name: str
    vault: str | None  # Key Vault name; None for a HashiCorp Vault environment or one only sealed for
    tenant: str | None
    cloud: str | None
    identity: Identity | None
    overlay: str | None  # POSIX path relative to the spec's directory; None only in a spec without applications
    sealing_cert: str  # path relative to the spec's directory, or an http(s) URL ("" when only a context names it)
    sealed_secrets: str | None = None  # POSIX path relative to the spec's directory: `seal --env` writes here
    cert_source: CertSource = field(default_factory=CertSource)
    hashicorp_vault: HashiVault | None = None  # set instead of vault/tenant/identity
    cloud_env_file: str | None = None  # the provider's cloudEnvFileName: set exactly when cloud is AzureStackCloud

    @property
    def store(self) -> Store:
        return Store.HASHICORP_VAULT if self.hashicorp_vault is not None else Store.KEY_VAULT


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
    hashicorp_vault: HashiVaultOverride | None = None  # read this app from HashiCorp Vault here


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
    vault_objects: tuple[VaultObject, ...] = ()  # HashiCorp Vault objects (`hashicorpVault.objects`)
    vault_role: VaultRole | None = None  # `hashicorpVault.role`: the app's role in every Vault environment

    def store_for(self, env: Environment) -> Store:
        override = self.overrides.get(env.name)
        if override is not None and override.hashicorp_vault is not None:
            return Store.HASHICORP_VAULT
        return env.store

    def vault_for(self, env: Environment) -> str:
        """The Key Vault name (Key Vault environments only)."""
        override = self.overrides.get(env.name)
        vault = override.vault if override and override.vault else env.vault
        if vault is None:
            raise ValueError(f"environment {env.name} names no Key Vault for application {self.name}")
        return vault

    def identity_for(self, env: Environment) -> Identity:
        """The Key Vault identity (Key Vault environments only)."""
        override = self.overrides.get(env.name)
        identity = override.identity if override and override.identity else env.identity
        if identity is None:
            raise ValueError(f"environment {env.name} names no identity for application {self.name}")
        return identity

    def hashicorp_vault_for(self, env: Environment) -> HashiVault:
        """The Vault, auth mount, role and TLS this app's pods use in `env` (Vault environments only).

        The role is the override's, else the application's (`hashicorpVault.role`), else the environment's.
        """
        override = self.overrides.get(env.name)
        change = override.hashicorp_vault if override is not None else None
        vault = change.applied_to(env.hashicorp_vault) if change is not None else env.hashicorp_vault
        if vault is None:
            raise ValueError(f"application {self.name} reads Key Vault in {env.name}, not HashiCorp Vault")
        role = (change.role if change is not None else None) or self.vault_role or vault.role
        return vault if role is vault.role else dataclasses.replace(vault, role=role)

    def stores(self, envs: Iterable[Environment]) -> set[Store]:
        return {self.store_for(env) for env in envs}


@dataclass(frozen=True)
class Spec:
    path: Path  # the spec file
    environments: Mapping[str, Environment]
    applications: Mapping[str, Application]

    @property
    def root(self) -> Path:
        """Paths in the spec are relative to the directory holding it (the config repo)."""
        return self.path.parent

    def reading(
        self, store: Store, environments: Iterable[str] | None = None, applications: Iterable[str] | None = None
    ) -> list[tuple[Environment, Application]]:
        """Each (environment, application) pair in which the application reads `store`, environments first,
        in spec order: of the environments and applications named (none named: all), an unknown name refused."""
        envs = list(environments) if environments else list(self.environments)
        apps = list(applications) if applications else list(self.applications)
        for names, known, what in ((envs, self.environments, "environment"), (apps, self.applications, "application")):
            unknown = [n for n in names if n not in known]
            if unknown:
                raise InputError(f"unknown {what} {unknown[0]!r} (the spec has: {', '.join(known)})")
        pairs = ((self.environments[env], self.applications[app]) for env in envs for app in apps)
        return [(env, app) for env, app in pairs if app.store_for(env) is store]
