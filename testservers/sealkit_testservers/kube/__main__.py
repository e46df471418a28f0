"""`python -m sealkit_testservers.kube`: run the emulator until SIGTERM/SIGINT; line 1 of stdout is its URL.

Fault injection from the command line (`--fault`, `--fault-seed`, `--drop-watches-every`,
`--refuse-connections-every`, `--listener`) and at runtime through the admin endpoint
(`/__emulator/...`, see admin.py) let multi-process tests disrupt the API server the controllers use.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import signal
import sys
import threading

import yaml

from .faults import Fault, parse_spec
from .server import KubeServer


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sealkit_testservers.kube", description="A local Kubernetes API emulator for tests and demos."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument("--kubeconfig", type=pathlib.Path, help="write a kubeconfig for the emulator here")
    parser.add_argument(
        "--tls-dir",
        type=pathlib.Path,
        help="serve HTTPS with a throwaway CA written here (ca.pem, server.pem, server-key.pem)",
    )
    parser.add_argument("--namespace", default=None, help="default namespace of the written kubeconfig")
    parser.add_argument("--crd", action="append", default=[], type=pathlib.Path, help="CRD file to install")
    parser.add_argument(
        "--sealed-secrets-crd", action="store_true", help="install the bundled Bitnami SealedSecret CRD"
    )
    parser.add_argument(
        "--seed",
        action="append",
        default=[],
        type=pathlib.Path,
        help="YAML file of objects to create at start (multi-document)",
    )
    parser.add_argument("--rbac", action="store_true", help="authorize tokens from --token with stored RBAC")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN=NAMESPACE/SERVICEACCOUNT",
        help="map a bearer token to a service account",
    )
    parser.add_argument(
        "--backend",
        action="append",
        default=[],
        metavar="NAMESPACE/SERVICE:PORT=URL",
        help="serve the service proxy for a Service port from a local URL",
    )
    faults = parser.add_argument_group("fault injection (also at runtime: /__emulator/..., see docs)")
    faults.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="a fault rule, e.g. 'status=429,rate=0.1,resource=secrets,verb=create|patch,retry_after=1', "
        "'status=503,rate=0.05', 'delay=0.5,rate=0.1', 'reset,client=ctrl-a'; fields: method, path, verb, "
        "resource, namespace, client, rate, times (default: forever), status, retry_after, message, delay, "
        "hang, reset",
    )
    faults.add_argument("--fault-seed", type=int, default=None, help="seed of the rules' random draws")
    faults.add_argument(
        "--drop-watches-every", type=float, default=None, metavar="SECONDS", help="end every open watch periodically"
    )
    faults.add_argument(
        "--drop-watches-mode",
        choices=["close", "reset"],
        default="close",
        help="close: end the stream as a server timeout does (default); reset: abort the connection",
    )
    faults.add_argument(
        "--refuse-connections-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="periodically refuse connections (and abort open ones) for --refuse-for seconds",
    )
    faults.add_argument("--refuse-for", type=float, default=1.0, metavar="SECONDS", help="(default 1)")
    faults.add_argument(
        "--listener",
        action="append",
        default=[],
        metavar="NAME",
        help="one more port, named NAME (its requests carry NAME as a client identity); printed as "
        "'NAME URL' lines after the URL",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    crds: list[pathlib.Path] = list(args.crd)
    if args.sealed_secrets_crd:
        from sealkit.data import crd_path

        crds.append(crd_path("bitnami.com_sealedsecrets.yaml"))
    try:
        rules = [Fault.from_json(parse_spec(spec)) for spec in args.fault]
    except (ValueError, re.error) as exc:
        print(f"error: --fault: {exc}", file=sys.stderr)
        return 2
    try:
        server = KubeServer(
            crds=crds, host=args.host, port=args.port, fault_seed=args.fault_seed, tls_dir=args.tls_dir
        ).start()
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        for path in args.seed:
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if isinstance(doc, dict):
                    server.create(doc)
        for spec in args.token:
            token, _, who = spec.partition("=")
            namespace, _, account = who.partition("/")
            if not token or not namespace or not account:
                raise ValueError(f"--token wants TOKEN=NAMESPACE/SERVICEACCOUNT, got {spec!r}")
            server.add_token(token, namespace, account)
        for spec in args.backend:
            target, _, url = spec.partition("=")
            namespace, _, rest = target.partition("/")
            service, _, port = rest.partition(":")
            if not url or not namespace or not service or not port:
                raise ValueError(f"--backend wants NAMESPACE/SERVICE:PORT=URL, got {spec!r}")
            server.register_service_backend(namespace, service, port, url)
        if args.rbac:
            server.enable_rbac()
        listeners = [(name, server.add_listener(name)) for name in args.listener]
        server.call(lambda: [server.emulator.disruptions.add(rule) for rule in rules])
        if args.drop_watches_every:
            server.call(
                server.emulator.disruptions.every, args.drop_watches_every, "drop-watches", mode=args.drop_watches_mode
            )
        if args.refuse_connections_every:
            server.call(
                server.emulator.disruptions.every, args.refuse_connections_every, "refuse", duration=args.refuse_for
            )
        if args.kubeconfig:
            server.write_kubeconfig(args.kubeconfig, namespace=args.namespace)
    except (OSError, ValueError, LookupError) as exc:
        server.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(server.url, flush=True)
    for name, url in listeners:
        print(f"{name} {url}", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
