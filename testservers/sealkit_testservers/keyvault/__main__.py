"""Run a local Key Vault until interrupted: `python -m sealkit_testservers.keyvault [--vault NAME ...]`.

Prints the vault URLs, the CA path and the environment a client process needs; with
`--seed NAME=VALUE` it adds secrets first. For demos and manual poking with the real SDK or az CLI.
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


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sealkit_testservers.keyvault", description=__doc__)
    parser.add_argument("--vault", action="append", default=[], help="vault name (repeat for more; default: main)")
    parser.add_argument("--port", type=int, default=0, help="port of the first vault (default: any free port)")
    parser.add_argument("--workdir", type=Path, help="where to write the CA and token files (default: a temp dir)")
    parser.add_argument(
        "--seed", action="append", default=[], metavar="NAME=VALUE", help="add a secret to the first vault"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    names = args.vault or ["main"]
    with KeyVaultServer(args.workdir) as server:
        vaults = [server.add_vault(name, port=args.port if i == 0 else 0) for i, name in enumerate(names)]
        for item in args.seed:
            name, sep, value = item.partition("=")
            if not sep:
                print(f"error: --seed wants NAME=VALUE, got {name!r}", file=sys.stderr)
                return 1
            vaults[0].add_secret(name, value)
        for vault in vaults:
            print(f"vault {vault.name}: {vault.url}")
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
