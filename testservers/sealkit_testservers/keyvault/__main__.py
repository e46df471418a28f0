"""Run a local Key Vault until interrupted: `python -m sealkit_testservers.keyvault [--vault NAME ...]`.

Prints the vault URLs, the CA path and the environment a client process needs; with
`--seed NAME=VALUE` it adds secrets first, with `--seed-key [VAULT/]NAME[:KTY[:SIZE]]` keys (to
the first vault unless VAULT names another; `--hsm NAME` adds a Managed HSM). For demos and
manual poking with the real SDK or az CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading
from pathlib import Path

from .server import KeyVaultServer
from .vault import Vault


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sealkit_testservers.keyvault", description=__doc__)
    parser.add_argument("--vault", action="append", default=[], help="vault name (repeat for more; default: main)")
    parser.add_argument("--port", type=int, default=0, help="port of the first vault (default: any free port)")
    parser.add_argument("--workdir", type=Path, help="where to write the CA and token files (default: a temp dir)")
    parser.add_argument(
        "--seed", action="append", default=[], metavar="NAME=VALUE", help="add a secret to the first vault"
    )
    parser.add_argument("--hsm", action="append", default=[], help="add a Managed HSM with this name (repeatable)")
    parser.add_argument(
        "--seed-key",
        action="append",
        default=[],
        metavar="[VAULT/]NAME[:KTY[:SIZE]]",
        help="add a key, e.g. kek, kek:RSA-HSM:3072 or hsm/kek:oct-HSM:256",
    )
    return parser.parse_args(argv)


def _seed_key(vaults: dict[str, Vault], first: str, spec: str) -> str | None:
    """Add the key `spec` names; returns an error message or None."""
    where, _, rest = spec.rpartition("/")
    name, _, type_and_size = rest.partition(":")
    kty, _, size = type_and_size.partition(":")
    vault = vaults.get(where or first)
    if vault is None:
        return f"--seed-key names no vault {where!r}"
    if size and not size.isdigit():
        return f"--seed-key size must be a number of bits, got {size!r}"
    try:
        vault.add_key(name, kty=kty or None, size=int(size) if size else None)
    except (ValueError, KeyError) as exc:
        return f"--seed-key {spec}: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    names = args.vault or ["main"]
    with KeyVaultServer(args.workdir) as server:
        vaults = [server.add_vault(name, port=args.port if i == 0 else 0) for i, name in enumerate(names)]
        vaults += [server.add_vault(name, managed_hsm=True) for name in args.hsm]
        by_name = {vault.name: vault for vault in vaults}
        for spec in args.seed_key:
            problem = _seed_key(by_name, vaults[0].name, spec)
            if problem is not None:
                print(f"error: {problem}", file=sys.stderr)
                return 1
        for item in args.seed:
            name, sep, value = item.partition("=")
            if not sep:
                print(f"error: --seed wants NAME=VALUE, got {name!r}", file=sys.stderr)
                return 1
            vaults[0].add_secret(name, value)
        for vault in vaults:
            print(f"{'managed HSM' if vault.managed_hsm else 'vault'} {vault.name}: {vault.url}")
        print(f"CA certificate: {server.ca_path}")
        print(f"token endpoint (AZURE_AUTHORITY_HOST): {server.authority_host}")
        print("environment for a client (workload identity):")
        for key, value in server.env().items():
            print(f"  export {key}={shlex.quote(value)}")
        sys.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
