"""Helpers of the image tests (imported as `imagetools`): the built OCI layout, and a pod's process from the chart.

`scripts/build-image.sh` builds the Dockerfile into `.tools/image` (OCI layout plus its unpacked root
filesystem). `pod_process` turns the chart's rendered Deployment and the image's config into what a
kubelet and container runtime would start: command, environment, user, mounts, hostname. `podrun.py`
starts that spec.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RELEASE, NAMESPACE = "sealed-secrets-controller", "kube-system"  # the chart's documented install
IMAGE_DIR = ROOT / ".tools" / "image"
PODRUN = Path(__file__).with_name("podrun.py")
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class Image:
    """The image build-image.sh exported: its OCI layout, config, layers and unpacked root filesystem."""

    layout: Path
    rootfs: Path
    tag: str

    def _blob(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        return self.layout / "blobs" / algorithm / hexdigest

    def manifest(self) -> dict[str, Any]:
        index = json.loads((self.layout / "index.json").read_text())
        (entry,) = [
            m
            for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == self.tag
        ]
        manifest: dict[str, Any] = json.loads(self._blob(entry["digest"]).read_text())
        return manifest

    def config(self) -> dict[str, Any]:
        """The image configuration (its `config` member: User, Env, Entrypoint, Labels...)."""
        whole = json.loads(self._blob(self.manifest()["config"]["digest"]).read_text())
        config: dict[str, Any] = whole["config"]
        return config

    def compressed_size(self) -> int:
        """Bytes a registry stores and a node pulls: the layers, the config and the manifest."""
        manifest = self.manifest()
        return sum(layer["size"] for layer in manifest["layers"]) + manifest["config"]["size"]

    def layer_members(self) -> Iterator[tuple[int, tarfile.TarInfo]]:
        """(layer index, member) for every entry of every layer, in order (whiteouts included)."""
        for number, layer in enumerate(self.manifest()["layers"]):
            with gzip.open(self._blob(layer["digest"])) as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
                for member in tar:
                    yield number, member

    def files(self) -> dict[str, tarfile.TarInfo]:
        """The image's file system as a container sees it: layers applied in order, whiteouts honoured."""
        files: dict[str, tarfile.TarInfo] = {}
        for _, member in self.layer_members():
            path = "/" + member.name.removeprefix("./").rstrip("/")
            parent, _, name = path.rpartition("/")
            if name == ".wh..wh..opq":
                files = {p: m for p, m in files.items() if not p.startswith(parent + "/")}
            elif name.startswith(".wh."):
                gone = f"{parent}/{name.removeprefix('.wh.')}"
                files = {p: m for p, m in files.items() if p != gone and not p.startswith(gone + "/")}
            else:
                files[path] = member
        return files


def find_image() -> Image | str:
    """The built image, or why there is none (a reason to skip with)."""
    skipped = IMAGE_DIR / "SKIPPED"
    if skipped.is_file():
        return f"scripts/build-image.sh could not build the image here: {skipped.read_text().strip()}"
    layout, rootfs = IMAGE_DIR / "oci", IMAGE_DIR / "bundle" / "rootfs"
    if not (layout / "index.json").is_file() or not rootfs.is_dir():
        return "no image in .tools/image: run `flock /tmp/sealkit-heavy.lock bash scripts/build-image.sh` (CI does)"
    recorded = (IMAGE_DIR / "context.sha256").read_text().strip() if (IMAGE_DIR / "context.sha256").is_file() else ""
    current = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-image.sh"), "--digest"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if recorded != current:
        return "the image in .tools/image was built from other sources: rebuild with scripts/build-image.sh"
    index = json.loads((layout / "index.json").read_text())
    (tag,) = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
    return Image(layout=layout, rootfs=rootfs, tag=tag)


def render_chart(values: dict[str, Any] | None, workdir: Path) -> list[dict[str, Any]]:
    """`helm template` of the chart as the README installs it, with `values` over the defaults."""
    from charttools import CHART, find_helm, run_helm

    helm = find_helm()
    if helm is None:
        pytest.fail("helm not found: run `bash scripts/install-helm.sh` (installs .tools/bin/helm)")
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    if values:
        path = workdir / "values.yaml"
        path.write_text(yaml.safe_dump(values))
        args += ["--values", str(path)]
    return [doc for doc in yaml.safe_load_all(run_helm(helm, *args).stdout) if doc]


# --- the pod's process, as a kubelet and a container runtime would start it --------------------------------


@dataclass
class PodProcess:
    """What podrun.py starts: one container's process, fully resolved (JSON-serialisable)."""

    rootfs: str
    argv: list[str]
    env: dict[str, str]
    uid: int
    gid: int
    groups: list[int]
    workdir: str
    read_only_root: bool
    no_new_privs: bool
    hostname: str
    mounts: list[dict[str, Any]] = field(default_factory=list)

    def command(self, spec_file: Path) -> list[str]:
        """Fresh mount and UTS namespaces, then podrun.py: the child execs into the container's process."""
        spec_file.write_text(json.dumps(self.__dict__))
        return ["unshare", "--mount", "--uts", "--propagation", "private", sys.executable, str(PODRUN), str(spec_file)]


def controller_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["controller"], "one container, the controller"
    container: dict[str, Any] = containers[0]
    return container


def _quantity_bytes(text: str) -> int:
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", text)
    assert match, f"unsupported quantity {text!r}"
    return int(match.group(1)) * {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}[match.group(2)]


def pod_process(
    deployment: dict[str, Any],
    image: Image,
    *,
    pod_name: str,
    api_host: str,
    api_port: int,
    service_account_dir: Path,
    extra_args: tuple[str, ...] = (),
) -> PodProcess:
    """The controller's process from the rendered Deployment and the image config, as a cluster starts it.

    Kubernetes' rules: `command` replaces the image's Entrypoint and `args` its Cmd; env is the image's,
    then the container's (fieldRefs filled in for this pod), then the kubelet's service variables; the
    container securityContext wins over the pod's; fsGroup is a supplementary group; emptyDirs are
    fresh writable mounts; the service-account token, ca.crt and namespace are mounted read-only.
    Anything else the spec asks for fails here, so the test must learn it first.
    """
    pod = deployment["spec"]["template"]["spec"]
    namespace = deployment["metadata"]["namespace"]
    container = controller_container(deployment)
    config = image.config()

    entrypoint = container.get("command") or config.get("Entrypoint") or []
    if "args" in container:
        args = list(container["args"])
    else:
        args = [] if "command" in container else list(config.get("Cmd") or [])
    argv = [*entrypoint, *args, *extra_args]
    assert not any("$(" in a for a in argv), "$(VAR) expansion in command/args is not modelled"

    env = dict(item.split("=", 1) for item in config.get("Env", []))
    fields = {
        "metadata.name": pod_name,
        "metadata.namespace": namespace,
        "spec.serviceAccountName": pod.get("serviceAccountName", "default"),
    }
    for item in container.get("env", []):
        if "value" in item:
            assert "$(" not in item["value"], "$(VAR) expansion in env is not modelled"
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["fieldRef"]["fieldPath"]
            assert ref in fields, f"env {item['name']}: fieldRef {ref} is not modelled"
            env[item["name"]] = fields[ref]
    assert not container.get("envFrom"), "envFrom is not modelled"
    env.update(
        HOSTNAME=pod_name,
        KUBERNETES_SERVICE_HOST=api_host,
        KUBERNETES_SERVICE_PORT=str(api_port),
        KUBERNETES_SERVICE_PORT_HTTPS=str(api_port),
        KUBERNETES_PORT=f"tcp://{api_host}:{api_port}",
    )
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")

    pod_security = pod.get("securityContext", {})
    security = {**pod_security, **container.get("securityContext", {})}
    image_user = str(config.get("User", "0")).split(":")
    uid = int(security.get("runAsUser", image_user[0]))
    gid = int(security.get("runAsGroup", image_user[1] if len(image_user) > 1 else 0))
    if security.get("runAsNonRoot"):
        assert uid != 0, "runAsNonRoot with uid 0: the kubelet refuses to start it"
    groups = [
        gid,
        *([pod_security["fsGroup"]] if "fsGroup" in pod_security else []),
        *pod_security.get("supplementalGroups", []),
    ]

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts: list[dict[str, Any]] = []
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        assert set(volume) == {"name", "emptyDir"}, f"volume {mount['name']}: only emptyDir is modelled"
        size = _quantity_bytes(str((volume["emptyDir"] or {}).get("sizeLimit", "64Mi")))
        mounts.append(
            {"type": "tmpfs", "path": mount["mountPath"], "size": size, "read_only": bool(mount.get("readOnly"))}
        )
    if pod.get("automountServiceAccountToken", True):
        mounts.append(
            {"type": "bind", "source": str(service_account_dir), "path": SERVICE_ACCOUNT_DIR, "read_only": True}
        )

    return PodProcess(
        rootfs=str(image.rootfs),
        argv=argv,
        env=env,
        uid=uid,
        gid=gid,
        groups=sorted(set(groups)),
        workdir=container.get("workingDir") or config.get("WorkingDir") or "/",
        read_only_root=bool(security.get("readOnlyRootFilesystem")),
        no_new_privs=security.get("allowPrivilegeEscalation") is False,
        hostname=pod_name,
        mounts=mounts,
    )


def write_service_account(directory: Path, *, token: str, ca_pem: bytes, namespace: str) -> Path:
    """What the kubelet projects into /var/run/secrets/kubernetes.io/serviceaccount (world-readable files)."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    for name, content in (("token", token.encode()), ("ca.crt", ca_pem), ("namespace", namespace.encode())):
        (directory / name).write_bytes(content)
        (directory / name).chmod(0o644)
    return directory


def proc_status(pid: int) -> dict[str, str]:
    """/proc/<pid>/status as a dict (Uid, Gid, Groups, NoNewPrivs, CapEff...)."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def root_mount_options(pid: int) -> set[str]:
    """The mount options of the process's "/" (mountinfo paths are relative to its root)."""
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[4] == "/":
            return set(fields[5].split(","))
    raise AssertionError("no / in mountinfo")


def can_run_pods() -> str | None:
    """Why pods cannot be started here (None if they can): podrun needs root, unshare and chroot."""
    if os.geteuid() != 0:
        return "starting the image needs root (mount namespaces, chroot, setuid)"
    probe = subprocess.run(["unshare", "--mount", "--uts", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "cannot create mount/UTS namespaces here (unshare failed)"
    return None
