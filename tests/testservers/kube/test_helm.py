"""The real helm against the standalone emulator: a release installed and uninstalled as on a cluster.

helm's typed clients send a DELETE's DeleteOptions in protobuf for builtins (its release Secret): the
emulator read it as JSON and `helm uninstall` ended with "Failed to purge the release"."""

from __future__ import annotations

import os
import pathlib
import subprocess

from sealkit_testservers.kube import KubeProcess, protobuf
from tests.support.binaries import tool


def test_install_then_uninstall_a_release(tmp_path: pathlib.Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: tiny\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tiny\n")
    with KubeProcess(tmp_path / "kubeconfig") as kube:
        env = {
            **os.environ,
            "KUBECONFIG": str(kube.kubeconfig),
            "HOME": str(tmp_path),
            "HELM_CACHE_HOME": str(tmp_path),
        }

        def helm(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [tool("helm"), *args, "--namespace", "default"],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )

        installed = helm("install", "tiny", str(chart))
        assert installed.returncode == 0, installed.stderr
        removed = helm("uninstall", "tiny")
        assert (removed.returncode, removed.stderr) == (0, ""), removed.stderr
        assert helm("list", "--all").stdout.splitlines()[1:] == [], "the release's Secret purged"


def _field(number: int, value: bytes | int) -> bytes:
    """One protobuf field: a varint (int) or a length-delimited (bytes) one."""

    def varint(n: int) -> bytes:
        out = b""
        while True:
            out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                return out

    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


def test_delete_options_in_protobuf() -> None:
    preconditions = _field(1, b"uid-1") + _field(2, b"42")
    options = _field(1, 0) + _field(2, preconditions) + _field(4, b"Background") + _field(5, b"All")
    body = protobuf.MAGIC + _field(1, _field(1, b"v1") + _field(2, b"DeleteOptions")) + _field(2, options)
    assert protobuf.decode(body) == {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1", "resourceVersion": "42"},
        "propagationPolicy": "Background",
        "dryRun": ["All"],
    }
