"""The `vault` provider's SecretProviderClass parameters for one application in one environment.

Pure functions from the validated spec to strings, in a fixed order, so output is byte-identical run
after run. `objects` is what the provider unmarshals with yaml.v3 into `[]Secret`: a YAML list of maps
in one string; `filePermission` goes in as a plain octal integer (yaml.v3 reads `0440` as octal and
refuses a quoted one), `secretArgs` as a JSON map (JSON is YAML).
"""

from __future__ import annotations

import json
from typing import Any

from sealkit.csi.model import HashiVault, VaultObject
from sealkit.csi.yamlio import flow_scalar

PROVIDER = "vault"


def _item(obj: VaultObject, env: str) -> list[str]:
    fields: list[tuple[str, str]] = [
        ("objectName", flow_scalar(obj.file)),
        ("secretPath", flow_scalar(obj.api_path(env))),
    ]
    if obj.key is not None:
        fields.append(("secretKey", flow_scalar(obj.key)))
    if obj.method:
        fields.append(("method", flow_scalar(obj.method)))
    if obj.args:
        fields.append(("secretArgs", json.dumps(dict(obj.args), ensure_ascii=False)))
    if obj.encoding:
        fields.append(("encoding", flow_scalar(obj.encoding)))
    if obj.file_permission:
        mode = obj.file_permission if obj.file_permission.startswith("0") else f"0{obj.file_permission}"
        fields.append(("filePermission", mode))  # a plain octal integer for yaml.v3
    lines = [f"{key}: {value}" for key, value in fields]
    return [f"- {lines[0]}", *(f"  {line}" for line in lines[1:])]


def objects_parameter(objects: tuple[VaultObject, ...], env: str) -> str:
    """The provider's `objects` parameter: a YAML list of maps, one per file."""
    return "".join(f"{line}\n" for obj in objects for line in _item(obj, env))


def parameters(vault: HashiVault, objects: tuple[VaultObject, ...], env: str) -> dict[str, str]:
    """Every parameter the provider reads for this Vault (all strings), `objects` last."""
    assert vault.role is not None  # the spec refuses a Vault application without a role
    out: dict[str, Any] = {
        "vaultAddress": vault.address,
        "roleName": vault.role.name,
        "vaultKubernetesMountPath": vault.auth_mount_path,
    }
    if vault.namespace:
        out["vaultNamespace"] = vault.namespace
    if vault.audience:
        out["audience"] = vault.audience
    if vault.tls.ca_cert is not None:
        out["vaultCACertPath"] = vault.tls.ca_cert.path
    if vault.tls.server_name:
        out["vaultTLSServerName"] = vault.tls.server_name
    if vault.tls.insecure_skip_verify and vault.address.startswith("https://"):
        out["vaultSkipTLSVerify"] = "true"
    out["objects"] = objects_parameter(objects, env)
    return out
