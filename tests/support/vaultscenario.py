"""A 200-object spec against local Vaults with every failure class `csi verify` reports, for the CLI
test and `benchmarks/bench_csi_verify_vault.py`.

One environment on Vault A (token auth) with application `shop`: 150 readable objects (KV v2 and
v1), 10 missing paths, 10 missing keys, 10 paths the token may not read, 5 pinned versions that are
deleted, 5 values that are not base64 although the spec says so; application `sealed` reads Vault B
(sealed), application `gone` an address where nothing listens. Every seeded value starts with
`VALUE`, so a test can check none is ever printed.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from sealkit_testservers.vault import VaultServer

VALUE = "vault-secret-value-never-shown-"
COUNTS = {"ok": 150, "missing-path": 10, "missing-key": 10, "denied": 10, "deleted": 5, "encoding": 5}
SEALED_OBJECTS = 5
GONE_OBJECTS = 5
TOTAL = sum(COUNTS.values()) + SEALED_OBJECTS + GONE_OBJECTS  # 200


@dataclass(frozen=True)
class Scenario:
    spec: Path
    token: str  # Vault A's token for `shop` (policy: read secret/data/shop/*, legacy/*)
    unreachable: str  # the address nothing listens on
    ca_bundle: Path  # both Vaults' CAs (what --vault-cacert takes)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kv2(file: str, path: str, key: str, extra: str = "") -> str:
    return f"        - {{file: {file}, mount: secret, kv: 2, path: {path}, key: {key}{extra}}}\n"


def build(root: Path, a: VaultServer, b: VaultServer) -> Scenario:
    """Seed Vault A, seal Vault B and write the spec (with A's and B's addresses) under `root`."""
    a.add_mount("legacy", kv_version=1)
    objects: list[str] = []
    for i in range(120):
        a.put_secret("secret", f"shop/s{i:03d}", {"value": f"{VALUE}{i}", "other": "x"})
        objects.append(_kv2(f"ok-{i:03d}", f"shop/s{i:03d}", "value"))
    for i in range(30):
        a.put_secret("legacy", f"team/t{i:03d}", {"token": f"{VALUE}t{i}"}, kv_version=1)
        objects.append(f"        - {{file: legacy-{i:03d}, mount: legacy, kv: 1, path: team/t{i:03d}, key: token}}\n")
    for i in range(10):
        objects.append(_kv2(f"missing-path-{i}", f"shop/missing{i}", "value"))
    for i in range(10):
        objects.append(_kv2(f"missing-key-{i}", f"shop/s{i:03d}", "nope"))
    for i in range(10):
        a.put_secret("secret", f"private/p{i}", {"value": f"{VALUE}p{i}"})
        objects.append(_kv2(f"denied-{i}", f"private/p{i}", "value"))
    for i in range(5):
        a.put_secret("secret", f"shop/old{i}", {"value": f"{VALUE}old{i}"})
        a.put_secret("secret", f"shop/old{i}", {"value": f"{VALUE}new{i}"})
        a.delete_secret("secret", f"shop/old{i}", versions=[1])
        objects.append(_kv2(f"deleted-{i}", f"shop/old{i}", "value", ", version: 1"))
    for i in range(5):
        a.put_secret("secret", f"shop/blob{i}", {"text": f"{VALUE}not base64!"})
        objects.append(_kv2(f"encoding-{i}", f"shop/blob{i}", "text", ", encoding: base64"))
    a.add_policy(
        "shop", 'path "secret/data/shop/*" { capabilities = ["read"] }\npath "legacy/*" { capabilities = ["read"] }'
    )
    b.put_secret("secret", "shop/s000", {"value": VALUE})
    b.seal()
    unreachable = f"https://127.0.0.1:{_free_port()}"
    other = "".join(_kv2(f"x-{i}", f"shop/s{i:03d}", "value") for i in range(SEALED_OBJECTS))
    spec = root / "sealkit-csi.yaml"
    spec.write_text(
        "apiVersion: sealkit/v1alpha1\n"
        "kind: KeyVaultCsi\n"
        "environments:\n"
        "  dev:\n"
        "    overlay: clusters/dev/apps\n"
        "    sealingCert: cert.pem\n"
        "    hashicorpVault:\n"
        f"      address: {a.url}\n"
        "      role: shop\n"
        "applications:\n"
        "  shop:\n"
        "    namespace: shop\n"
        "    base: apps/shop\n"
        "    hashicorpVault:\n"
        "      objects:\n"
        f"{''.join(objects)}"
        "  sealed:\n"
        "    namespace: shop\n"
        "    base: apps/shop\n"
        "    secretProviderClass: sealed\n"
        f"    environments: {{dev: {{hashicorpVault: {{address: '{b.url}'}}}}}}\n"
        "    hashicorpVault:\n"
        "      objects:\n"
        f"{other}"
        "  gone:\n"
        "    namespace: shop\n"
        "    base: apps/shop\n"
        "    secretProviderClass: gone\n"
        f"    environments: {{dev: {{hashicorpVault: {{address: '{unreachable}'}}}}}}\n"
        "    hashicorpVault:\n"
        "      objects:\n"
        f"{other}"
    )
    bundle = root / "vault-ca-bundle.pem"
    bundle.write_bytes(a.ca_path.read_bytes() + b.ca_path.read_bytes())
    return Scenario(spec, a.issue_token(["shop"]), unreachable, bundle)
