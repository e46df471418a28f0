"""Manifests for one application in one environment: the class, the workload patches, the account.

Pure functions from the validated spec to plain dicts, built in a fixed key order so the dumped
YAML is byte-identical run after run.
"""

from __future__ import annotations

from typing import Any

from sealkit.csi.hashicorp import render as vault_render
from sealkit.csi.model import Application, Environment, Identity, IdentityMode, KeyVaultObject, Store, Workload
from sealkit.csi.rules import CSI_DRIVER, SPC_API_VERSION, SPC_KIND
from sealkit.csi.spec import VOLUME_NAME
from sealkit.csi.yamlio import flow_scalar

MANAGED_BY = {"app.kubernetes.io/managed-by": "sealkit"}
WORKLOAD_IDENTITY_ANNOTATION = "azure.workload.identity/client-id"


def _object_item(obj: KeyVaultObject, env: str) -> str:
    """One `objects` entry as the provider reads it: a YAML map serialised into a string."""
    fields: list[tuple[str, Any]] = [("objectName", obj.name), ("objectType", obj.type)]
    if obj.alias:
        fields.append(("objectAlias", obj.alias))
    fields.append(("objectVersion", obj.version_for(env)))
    if obj.version_history is not None:
        fields.append(("objectVersionHistory", obj.version_history))
    if obj.format:
        fields.append(("objectFormat", obj.format))
    if obj.encoding:
        fields.append(("objectEncoding", obj.encoding))
    if obj.file_permission:
        fields.append(("filePermission", obj.file_permission))
    # Quoted wherever a YAML reader could take a string for something else ("0440", "", "true").
    return "".join(f"{key}: {flow_scalar(value)}\n" for key, value in fields)


def objects_parameter(objects: tuple[KeyVaultObject, ...], env: str) -> str:
    """The provider's `objects` parameter: `array:` of YAML strings, one per object."""
    lines = ["array:\n"]
    for obj in objects:
        lines.append("  - |\n")
        lines.extend(f"    {line}\n" for line in _object_item(obj, env).splitlines())
    return "".join(lines)


def _identity_parameters(identity: Identity) -> dict[str, str]:
    if identity.mode is IdentityMode.WORKLOAD_IDENTITY:
        return {"clientID": identity.client_id or ""}
    if identity.mode is IdentityMode.VM_MANAGED_IDENTITY:
        # Empty userAssignedIdentityID = the node's system-assigned identity.
        return {"useVMManagedIdentity": "true", "userAssignedIdentityID": identity.user_assigned_identity_id or ""}
    return {}  # service principal: keys clientid/clientsecret of the nodePublishSecretRef Secret


def _key_vault_parameters(app: Application, env: Environment) -> dict[str, str]:
    parameters: dict[str, str] = {"keyvaultName": app.vault_for(env), "tenantID": env.tenant or ""}
    if env.cloud:
        parameters["cloudName"] = env.cloud
    if env.cloud_env_file:
        parameters["cloudEnvFileName"] = env.cloud_env_file
    parameters.update(_identity_parameters(app.identity_for(env)))
    parameters["objects"] = objects_parameter(app.objects, env.name)
    return parameters


def secret_provider_class(app: Application, env: Environment) -> dict[str, Any]:
    """The class for the store the app reads in `env`: provider `azure` or `vault`."""
    if app.store_for(env) is Store.HASHICORP_VAULT:
        vault = app.hashicorp_vault_for(env)
        spec: dict[str, Any] = {
            "provider": vault_render.PROVIDER,
            "parameters": vault_render.parameters(vault, app.vault_objects, env.name),
        }
    else:
        spec = {"provider": "azure", "parameters": _key_vault_parameters(app, env)}
    if app.sync:
        spec["secretObjects"] = [
            {
                "secretName": secret.name,
                "type": secret.type,
                **({"labels": dict(secret.labels)} if secret.labels else {}),
                **({"annotations": dict(secret.annotations)} if secret.annotations else {}),
                "data": [{"objectName": row.object_name, "key": row.key} for row in secret.data],
            }
            for secret in app.sync
        ]
    return {
        "apiVersion": SPC_API_VERSION,
        "kind": SPC_KIND,
        "metadata": {"name": app.class_name, "namespace": app.namespace, "labels": dict(MANAGED_BY)},
        "spec": spec,
    }


def csi_volume(app: Application, identity: Identity | None) -> dict[str, Any]:
    """The CSI volume; `identity` None for HashiCorp Vault (the pod's own service account logs in)."""
    csi: dict[str, Any] = {
        "driver": CSI_DRIVER,
        "readOnly": True,
        "volumeAttributes": {"secretProviderClass": app.class_name},
    }
    if identity is not None and identity.mode is IdentityMode.SERVICE_PRINCIPAL:
        csi["nodePublishSecretRef"] = {"name": identity.secret_name}
    return {"name": VOLUME_NAME, "csi": csi}


def workload_patch(app: Application, env: Environment, workload: Workload) -> dict[str, Any]:
    """A strategic-merge patch adding the volume, mounts, env vars and service account."""
    identity = app.identity_for(env) if app.store_for(env) is Store.KEY_VAULT else None
    containers = []
    for name in workload.containers:
        container: dict[str, Any] = {
            "name": name,
            "volumeMounts": [{"name": VOLUME_NAME, "mountPath": workload.mount_path, "readOnly": True}],
        }
        if workload.env:
            container["env"] = [
                {"name": var.name, "valueFrom": {"secretKeyRef": {"name": var.secret, "key": var.key}}}
                for var in workload.env
            ]
        containers.append(container)
    pod: dict[str, Any] = {}
    if identity is None or identity.mode is IdentityMode.WORKLOAD_IDENTITY:  # the account the role/credential names
        pod["serviceAccountName"] = app.service_account.name
    pod["containers"] = containers
    pod["volumes"] = [csi_volume(app, identity)]
    template_spec: dict[str, Any] = {"template": {"spec": pod}}
    spec = {"jobTemplate": {"spec": template_spec}} if workload.kind == "CronJob" else template_spec
    return {
        "apiVersion": workload.api_version,
        "kind": workload.kind,
        "metadata": {"name": workload.name, "namespace": app.namespace},
        "spec": spec,
    }


def service_account(app: Application, identity: Identity | None) -> dict[str, Any]:
    """The workload-identity account (a new object, or a patch annotating the base's), or with `identity`
    None the account a Vault role is bound to (a new object, no annotation)."""
    metadata: dict[str, Any] = {"name": app.service_account.name, "namespace": app.namespace}
    if app.service_account.create:
        metadata["labels"] = dict(MANAGED_BY)
    if identity is not None:
        metadata["annotations"] = {WORKLOAD_IDENTITY_ANNOTATION: identity.client_id or ""}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}
