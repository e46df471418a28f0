"""Every write the key lifecycle makes, through one seam: key Secrets in the cluster, escrowed copies in the vault.

Where it sits: the key lifecycle room. The key manager (generated keys), the escrow keeper (escrowed
copies, restored key Secrets) and nothing else write key material, and they do it only through a
`KeyWrites`. `gate` is called before every write with what is about to be written: a later leader
election (only the leader writes key Secrets and escrow) plugs in here, in one place. Calls run in the
controller's thread pool (`Run`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sealkit.clients.kube.api import KubeClient
from sealkit.escrow.scheme import Escrowable, EscrowEntry
from sealkit.escrow.sync import EscrowStore
from sealkit.keysecrets import SecretsApi
from sealkit_controller.plumbing.pool import Run

logger = logging.getLogger(__name__)

KEY_SECRET = "key Secret"  # noqa: S105 - what is written, not a secret
ESCROW = "escrow"


class KeyWrites:
    """The one writer of key Secrets and escrowed copies (see the module docstring)."""

    def __init__(
        self, client: KubeClient, run: Run, namespace: str, *, gate: Callable[[str], None] | None = None
    ) -> None:
        self._client = client
        self._run = run
        self.namespace = namespace
        self.gate: Callable[[str], None] = gate or (lambda what: None)  # raises to refuse (the election fence)

    async def create_key_secret(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        self.gate(KEY_SECRET)
        created: dict[str, Any] = await self._run(self._client.create_secret, self.namespace, manifest)
        return created

    async def escrow(self, vault: EscrowStore, key: Escrowable, cluster: str) -> EscrowEntry:
        self.gate(ESCROW)
        entry: EscrowEntry = await self._run(vault.store, key, cluster)
        return entry

    def secrets(self) -> SecretsApi:
        """The cluster as the core's restore code takes it (synchronous, in the pool): creates pass the gate."""
        return _GatedSecrets(self._client, lambda: self.gate(KEY_SECRET))


class _GatedSecrets:
    def __init__(self, client: KubeClient, check: Callable[[], None]) -> None:
        self._client = client
        self._check = check

    def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        return self._client.list_secrets(namespace, label_selector)

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._client.get_secret(namespace, name)

    def create_secret(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self._check()
        return self._client.create_secret(namespace, body)
