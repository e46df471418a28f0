"""The chart's Deployment and the image agree on every environment variable the controller reads.

Each variable the controller's code reads (found by scanning it) must be listed below with who provides it
in a cluster; a new read fails `test_every_variable_read_is_accounted_for` until it is. Then the rendered
Deployment and the image's config are held to the list: what the chart must set, it sets; what both set,
they set alike; what must stay unset (it would change behaviour), neither sets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from imagetools import ROOT, Image, controller_container

# Who provides each variable in a cluster. "chart": the Deployment; "image": its config; "kubelet": the
# kubelet or container runtime; "optional": an operator may add it; "unset": must stay unset.
PROVIDERS: dict[str, tuple[str, str]] = {
    "POD_NAMESPACE": ("chart", "the controller's namespace (key Secrets): fieldRef metadata.namespace"),
    "POD_NAME": ("chart", "events' reporting instance and Kopf's identity: fieldRef metadata.name"),
    "SEALKIT_DEPLOYMENT_NAME": ("chart", "events about the controller itself (KEK failures) go on it: the fullname"),
    "TMPDIR": ("chart+image", "temporary files: the /tmp emptyDir (the root filesystem is read-only)"),
    "HOME": ("image", "~/.kube/config when not in a cluster: /nonexistent, nothing is written there"),
    "HOSTNAME": ("kubelet", "the pod name; the identity's fallback where POD_NAME is missing"),
    "KUBERNETES_SERVICE_HOST": ("kubelet", "with the service-account token: use the in-cluster configuration"),
    "KUBECONFIG": ("unset", "would replace the in-cluster service account"),
    "SEALKIT_DEBUG": ("unset", "tracebacks instead of one-line errors, for debugging by hand"),
    "SEALED_SECRETS_*": ("unset", "each flag's variable: the chart passes every setting as a flag"),
    "SEALKIT_VAULT_URL_*": ("optional", "the escrow vault's URL outside Azure's public cloud"),
    "AZURE_TENANT_ID": ("optional", "escrow and KEK credentials: set by Azure workload identity's webhook"),
    "AZURE_CLIENT_ID": ("optional", "escrow and KEK credentials: set by Azure workload identity's webhook"),
    "AZURE_FEDERATED_TOKEN_FILE": ("optional", "escrow and KEK credentials: set by Azure workload identity's webhook"),
    "AZURE_CLIENT_SECRET": ("optional", "escrow or KEK with --escrow-auth/--kek-auth=service-principal"),
}
# The code `sealkit controller` runs: the controller package, the CLI entry point and command, the credential
# helpers it calls, and the core.
SOURCES = [
    ROOT / "controller" / "sealkit_controller",
    ROOT / "cli" / "sealkit_cli" / "main.py",
    ROOT / "cli" / "sealkit_cli" / "commands" / "controller.py",
    ROOT / "sealkit",
]
READ = re.compile(
    r"""\b(?:environ|env)(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']|getenv\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|envvar\s*=\s*["']([A-Z][A-Z0-9_]*)["']"""
)
HOME_READ = re.compile(r"Path\.home\(\)|expanduser\(")
PREFIXES = {
    "SEALED_SECRETS_": r"def _env\(flag: str\) -> str:\s+return \"SEALED_SECRETS_\"",
    "SEALKIT_VAULT_URL_": r"ENV_PREFIX = \"SEALKIT_VAULT_URL_\"",
}


def variables_read() -> set[str]:
    names: set[str] = set()
    files = [p for s in SOURCES for p in ([s] if s.is_file() else sorted(s.rglob("*.py")))]
    for path in files:
        text = path.read_text()
        names |= {next(filter(None, groups)) for groups in READ.findall(text)}
        names |= {"HOME"} if HOME_READ.search(text) else set()
        names |= {f"{prefix}*" for prefix, pattern in PREFIXES.items() if re.search(pattern, text)}
    return names


def provided(who: str) -> set[str]:
    return {name for name, (provider, _) in PROVIDERS.items() if who in provider.split("+")}


def test_every_variable_read_is_accounted_for() -> None:
    read = variables_read()
    assert {"POD_NAMESPACE", "POD_NAME", "KUBERNETES_SERVICE_HOST", "SEALED_SECRETS_*"} <= read, "the scan finds reads"
    assert read - set(PROVIDERS) == set(), "a variable the controller reads is not in PROVIDERS: say who sets it"


def test_chart_and_image_agree(image: Image, deployment: dict[str, Any]) -> None:
    container = controller_container(deployment)
    chart = {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
    image_env = dict(item.split("=", 1) for item in image.config()["Env"])

    assert provided("chart") <= set(chart), "the Deployment must set these"
    assert provided("image") <= set(image_env), "the image must set these"
    for name in set(chart) & set(image_env):
        assert chart[name] == image_env[name], f"{name}: the chart says {chart[name]!r}, the image {image_env[name]!r}"
    for name in provided("unset"):
        pattern = re.compile(name.replace("*", ".*") + "$")
        setters = [n for n in [*chart, *image_env] if pattern.match(n)]
        assert setters == [], f"{name} must stay unset ({PROVIDERS[name][1]})"
    assert container.get("envFrom") is None
    # The image's HOME names no directory (nothing may depend on writing there).
    assert not (image.rootfs / image_env["HOME"].lstrip("/")).exists()


def test_identity_comes_from_the_pod_name() -> None:
    """Kopf is told who it is (the pod name): it never falls back to POD_ID or the passwd database."""
    wiring = (ROOT / "controller" / "sealkit_controller" / "wiring.py").read_text()
    assert "identity=settings.identity()" in wiring
    assert (
        "POD_ID" not in PROVIDERS
        and Path(ROOT / "charts" / "sealkit" / "templates" / "deployment.yaml").read_text().count("POD_ID") == 0
    )
