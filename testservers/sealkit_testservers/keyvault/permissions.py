"""Who may do what: per-principal denials of whole vaults or single operations, changeable at run time.

A request is first named as an operation (`keys/unwrapKey`, `secrets/get`, ...) by its method and
path; a denied principal then gets the service's RBAC answer, 403 `Forbidden` with innererror
`ForbiddenByRbac` and a message naming the data action (e.g.
`Microsoft.KeyVault/vaults/keys/unwrap/action`), as Azure RBAC answers a missing role assignment.
Operation names are the access-policy permission names (`get`, `list`, `wrapKey`, ...), bare
(any collection) or qualified by collection (`keys/get`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .https import Response
from .render import error

ALL = "*"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "keys": (
        "get",
        "list",
        "create",
        "import",
        "update",
        "delete",
        "recover",
        "purge",
        "wrapKey",
        "unwrapKey",
        "encrypt",
        "decrypt",
        "sign",
        "verify",
    ),
    "secrets": ("get", "list", "set", "update", "delete", "recover", "purge"),
    "certificates": ("get", "list", "delete", "recover", "purge"),
}

# RBAC data actions (learn.microsoft.com/azure/role-based-access-control/permissions/security):
# vaults use "<collection>/<verb>", Managed HSM "managedHsm/keys/<verb>".
_VAULT_ACTIONS: dict[tuple[str, str], str] = {
    ("keys", "get"): "keys/read",
    ("keys", "list"): "keys/read",
    ("keys", "create"): "keys/create/action",
    ("keys", "import"): "keys/import/action",
    ("keys", "update"): "keys/write",
    ("keys", "delete"): "keys/delete",
    ("keys", "recover"): "deletedKeys/recover/action",
    ("keys", "purge"): "deletedKeys/delete",
    ("keys", "wrapKey"): "keys/wrap/action",
    ("keys", "unwrapKey"): "keys/unwrap/action",
    ("keys", "encrypt"): "keys/encrypt/action",
    ("keys", "decrypt"): "keys/decrypt/action",
    ("keys", "sign"): "keys/sign/action",
    ("keys", "verify"): "keys/verify/action",
    ("secrets", "get"): "secrets/getSecret/action",
    ("secrets", "list"): "secrets/readMetadata/action",
    ("secrets", "set"): "secrets/setSecret/action",
    ("secrets", "update"): "secrets/setSecret/action",
    ("secrets", "delete"): "secrets/delete",
    ("secrets", "recover"): "deletedSecrets/recover/action",
    ("secrets", "purge"): "deletedSecrets/delete",
    ("certificates", "get"): "certificates/read",
    ("certificates", "list"): "certificates/read",
    ("certificates", "delete"): "certificates/delete",
    ("certificates", "recover"): "deletedCertificates/recover/action",
    ("certificates", "purge"): "deletedCertificates/delete",
}
_HSM_ACTIONS: dict[str, str] = {
    "get": "keys/read/action",
    "list": "keys/read/action",
    "create": "keys/create",
    "import": "keys/import/action",
    "update": "keys/write/action",
    "delete": "keys/delete",
    "recover": "keys/deletedKeys/recover/action",
    "purge": "keys/deletedKeys/delete",
    "wrapKey": "keys/wrap/action",
    "unwrapKey": "keys/unwrap/action",
    "encrypt": "keys/encrypt/action",
    "decrypt": "keys/decrypt/action",
    "sign": "keys/sign/action",
    "verify": "keys/verify/action",
}
_CRYPTO = {
    "wrapkey": "wrapKey",
    "unwrapkey": "unwrapKey",
    "encrypt": "encrypt",
    "decrypt": "decrypt",
    "sign": "sign",
    "verify": "verify",
}


def classify(method: str, segments: list[str]) -> tuple[str, str]:
    """(collection, operation) of a data-plane request; ("", "") for paths outside the collections."""
    if not segments:
        return "", ""
    head, rest = segments[0], segments[1:]
    deleted = head.startswith("deleted")
    collection = head.removeprefix("deleted")
    if collection not in OPERATIONS:
        return "", ""
    if deleted:
        if method == "DELETE":
            return collection, "purge"
        if method == "POST":
            return collection, "recover"
        return collection, "list" if rest in ([], [""]) else "get"
    if method == "GET":
        if rest in ([], [""]) or rest[-1:] == ["versions"]:
            return collection, "list"
        return collection, "get"
    if method == "DELETE":
        return collection, "delete"
    if method == "PATCH":
        return collection, "update"
    if method == "PUT":
        return collection, "set" if collection == "secrets" else "import"
    if method == "POST" and rest:
        last = rest[-1].lower()
        if last == "create":
            return collection, "create"
        if last in _CRYPTO:
            return collection, _CRYPTO[last]
    return collection, "other"


def _check_operation(operation: str) -> str:
    collection, sep, name = operation.rpartition("/")
    names = OPERATIONS.get(collection, ()) if sep else {n for ops in OPERATIONS.values() for n in ops}
    if name not in names:
        raise ValueError(f"unknown operation {operation!r}: use e.g. 'unwrapKey', 'get' or 'keys/get'")
    return operation


class Permissions:
    """Deny lists per client id (None: everyone); checked on every request, so changes apply at once."""

    def __init__(self) -> None:
        self._denied: dict[str | None, set[str]] = {}
        self._lock = threading.Lock()

    def deny(self, client_id: str | None, operations: Iterable[str] | None = None) -> None:
        ops = {ALL} if operations is None else {_check_operation(op) for op in operations}
        with self._lock:
            self._denied.setdefault(client_id, set()).update(ops)

    def allow(self, client_id: str | None, operations: Iterable[str] | None = None) -> None:
        with self._lock:
            if operations is None:
                if client_id is None:
                    self._denied.clear()
                else:
                    self._denied.pop(client_id, None)
                return
            ops = {_check_operation(op) for op in operations}
            current = self._denied.get(client_id)
            if current is not None:
                current -= ops
                if not current:
                    del self._denied[client_id]

    def clear(self) -> None:
        with self._lock:
            self._denied.clear()

    def denies(self, client_id: str, collection: str, operation: str) -> bool:
        wanted = {ALL, operation, f"{collection}/{operation}"}
        with self._lock:
            for who in (None, client_id):
                if self._denied.get(who, set()) & wanted:
                    return True
        return False

    def check(
        self,
        client_id: str,
        collection: str,
        operation: str,
        *,
        resource: str,
        tenant_id: str,
        vault: str,
        managed_hsm: bool,
    ) -> Response | None:
        """The RBAC refusal for this principal and operation, or None when allowed."""
        if not self.denies(client_id, collection, operation):
            return None
        if managed_hsm:
            action = "Microsoft.KeyVault/managedHsm/" + _HSM_ACTIONS.get(operation, "keys/read/action")
        else:
            verb = _VAULT_ACTIONS.get((collection, operation), f"{collection or 'vaults'}/read")
            action = f"Microsoft.KeyVault/vaults/{verb}"
        message = (
            "Caller is not authorized to perform action on resource.\r\n"
            "If role assignments, deny assignments or role definitions were changed recently, "
            "please observe propagation time.\r\n"
            f"Caller: appid={client_id};oid={client_id};iss=https://sts.windows.net/{tenant_id}/\r\n"
            f"Action: '{action}'\r\n"
            f"Resource: '{resource}'\r\n"
            "Assignment: (not found)\r\n"
            "DenyAssignmentId: null\r\n"
            "DecisionReason: null \r\n"
            f"Vault: {vault};location=local\r\n"
        )
        return Response.json(403, error("Forbidden", message, "ForbiddenByRbac"))
