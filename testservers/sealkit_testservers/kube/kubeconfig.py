"""Kubeconfig files pointing at an emulator, for the `kubernetes` client, Kopf and subprocesses."""

from __future__ import annotations

import pathlib

import yaml

CONTEXT = "sealkit-emulator"


def render(
    url: str, *, token: str | None = None, namespace: str | None = None, ca_path: str | pathlib.Path | None = None
) -> str:
    context: dict[str, str] = {"cluster": CONTEXT, "user": CONTEXT}
    cluster: dict[str, str] = {"server": url}
    if ca_path is not None:
        cluster["certificate-authority"] = str(ca_path)
    if namespace:
        context["namespace"] = namespace
    user: dict[str, str] = {"token": token} if token else {}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": CONTEXT, "user": user}],
        "contexts": [{"name": CONTEXT, "context": context}],
        "current-context": CONTEXT,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(
    path: str | pathlib.Path,
    url: str,
    *,
    token: str | None = None,
    namespace: str | None = None,
    ca_path: str | pathlib.Path | None = None,
) -> pathlib.Path:
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(url, token=token, namespace=namespace, ca_path=ca_path), encoding="utf-8")
    target.chmod(0o600)
    return target
