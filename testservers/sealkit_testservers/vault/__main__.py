"""Run a local HashiCorp Vault until interrupted: `python -m sealkit_testservers.vault [--seed ...]`.

Prints `export VAULT_ADDR=... VAULT_TOKEN=... VAULT_CACERT=...` (HTTPS, root token) and the
plain-HTTP address. `--seed MOUNT/PATH:KEY=VALUE` writes a secret key (repeat to add keys or
paths; KV v2 unless the mount is named by `--kv1 MOUNT`). For demos and poking with the vault
CLI or hvac.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .server import VaultServer


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sealkit_testservers.vault", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="HTTPS port (default: any free port)")
    parser.add_argument("--http-port", type=int, default=0, help="plain-HTTP port (default: any free port)")
    parser.add_argument("--workdir", type=Path, help="where to write the CA files (default: a temp dir)")
    parser.add_argument("--kv1", action="append", default=[], metavar="MOUNT", help="a KV v1 mount (repeatable)")
    parser.add_argument(
        "--seed", action="append", default=[], metavar="MOUNT/PATH:KEY=VALUE", help="write one secret key"
    )
    return parser.parse_args(argv)


def _seeds(items: list[str]) -> dict[tuple[str, str], dict[str, Any]] | str:
    """Secrets by (mount, path), or an error message."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        where, sep, pair = item.partition(":")
        key, eq, value = pair.partition("=")
        mount, slash, path = where.strip("/").partition("/")
        if not (sep and eq and slash and key and path):
            return f"--seed wants MOUNT/PATH:KEY=VALUE, got {item.split('=', 1)[0]!r}"
        out.setdefault((mount, path), {})[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    seeds = _seeds(args.seed)
    if isinstance(seeds, str):
        print(f"error: {seeds}", file=sys.stderr)
        return 1
    mounts = {"secret": 2, **dict.fromkeys(args.kv1, 1)}
    with VaultServer(args.workdir, kv_mounts=mounts, https_port=args.port, http_port=args.http_port) as server:
        for (mount, path), data in seeds.items():
            server.put_secret(mount, path, data, kv_version=mounts.get(mount))
        for key, value in server.env().items():
            print(f"export {key}={shlex.quote(value)}")
        print(f"# plain HTTP: {server.http_url}")
        sys.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
