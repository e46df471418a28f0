#!/usr/bin/env bash
# Builds the controller image from the repository's Dockerfile without Docker, for CI and the image tests.
#
# How (docs/deploy.md, "Building the image without Docker"): Debian's mmdebstrap makes a bookworm root
# filesystem with python3 (no registry needed), buildah turns it into the base image and builds the
# Dockerfile unchanged, with only PYTHON_IMAGE (that base) and the VERSION/REVISION label arguments
# given; then the image is exported as an OCI image layout and unpacked for the tests:
#   .tools/image/oci              OCI image layout, tag = the package version
#   .tools/image/bundle/rootfs    the image's root filesystem (umoci unpack), run by tests/image/
#   .tools/image/sbom.cdx.json    the CycloneDX SBOM of the image's venv (also in the image)
#   .tools/image/context.sha256   digest of the build context the image was built from
# Where it cannot run (not root, no apt, no mount namespaces) it prints one `skip:` line, records the
# reason in .tools/image/SKIPPED (the image tests skip with it) and exits 0. Any other failure fails.
#
#   bash scripts/build-image.sh            build unless .tools/image holds an image of the same context
#   bash scripts/build-image.sh --force    build anyway
#   bash scripts/build-image.sh --digest   print the build context's digest and exit
# Takes minutes and about 1.5 GB of disk while it runs; run it under the shared lock by hand:
#   flock /tmp/sealkit-heavy.lock bash scripts/build-image.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/.tools/image"
cd "$root"

mirror="${SEALKIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${SEALKIT_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
suite="bookworm"
base_packages="python3,python3-venv,python-is-python3,ca-certificates"
# Documentation, manual pages and translations are never installed into the base (copyright files
# are); Python's own test package is removed after the install (python3.11's postinst compiles it), as
# the official python:*-slim images leave it out too.
base_options=(
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
    --customize-hook='rm -rf "$1"/usr/lib/python3*/test'
)
base_recipe="$suite $base_packages ${base_options[*]} $mirror $security merged-usr"  # the base's cache key

# The files buildah sends as the build context (what .dockerignore lets through: the lock files,
# pyproject.toml, README.md, the package roots), the Dockerfile and this script's base recipe.
context_digest() {
    local context
    mapfile -t context < <(sed -n 's|^!\(.*[^/]\)/*$|\1|p' .dockerignore)
    {
        echo "$base_recipe"
        find Dockerfile .dockerignore "${context[@]}" \
            -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path '*.egg-info/*' -print0 \
            | LC_ALL=C sort -z | xargs -0 sha256sum
    } | sha256sum | cut -d' ' -f1
}

skip() {
    mkdir -p "$out"
    printf '%s\n' "$*" > "$out/SKIPPED"
    echo "skip: image build: $*"
    exit 0
}

case "${1:-}" in
    --digest) context_digest; exit 0 ;;
    --force) force=1 ;;
    "") force=0 ;;
    *) echo "usage: bash scripts/build-image.sh [--force|--digest]" >&2; exit 2 ;;
esac

digest="$(context_digest)"
version="$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
if [ "$force" = 0 ] && [ -f "$out/context.sha256" ] && [ "$(cat "$out/context.sha256")" = "$digest" ] \
    && [ -f "$out/oci/index.json" ] && [ -d "$out/bundle/rootfs" ] && [ ! -e "$out/SKIPPED" ]; then
    echo "image: .tools/image is up to date (context $digest)"
    exit 0
fi

[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap --mode=root, buildah chroot isolation, umoci unpack)"
unshare --mount true 2>/dev/null || skip "cannot create a mount namespace here (unshare --mount failed)"
tools=(buildah mmdebstrap umoci)
missing=()
for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null || skip "no apt-get to install ${missing[*]}"
    started=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1 || skip "apt-get update failed (no package access)"
        apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null 2>&1 \
            || skip "apt-get install ${tools[*]} failed (no package access)"
    fi
    echo "image: installed ${tools[*]} with apt in $((SECONDS - started)) s"
fi

rm -rf "$out/SKIPPED" "$out/oci" "$out/bundle" "$out/sbom.cdx.json" "$out/context.sha256"
mkdir -p "$out"
work="$(mktemp -d /var/tmp/sealkit-image.XXXXXX)"
buildah=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
cleanup() {
    "${buildah[@]}" rm --all >/dev/null 2>&1 || true
    "${buildah[@]}" rmi --all --force >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# ---- base: a Debian root filesystem with python3, cached in .tools/image/base for a week ----
started=$SECONDS
base_tar="$out/base/rootfs.tar"
base_key="$(echo "$base_recipe" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$base_tar" ] || [ "$(cat "$out/base/recipe.sha256" 2>/dev/null)" != "$base_key" ] \
    || [ -n "$(find "$base_tar" -mtime +7)" ]; then
    mkdir -p "$out/base"
    aptopts=()
    # A snapshot mirror's Release files are past their Valid-Until date; follow the host's apt there.
    if apt-config dump Acquire::Check-Valid-Until 2>/dev/null | grep -q '"false"'; then
        aptopts+=(--aptopt='Acquire::Check-Valid-Until "false"')
    fi
    rm -rf "$base_tar"
    if ! mmdebstrap --variant=minbase --mode=root --format=tar --include="$base_packages" \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr "${base_options[@]}" "${aptopts[@]}" \
        "$suite" "$out/base/partial.tar" \
        "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main" \
        > "$out/base/mmdebstrap.log" 2>&1; then
        if grep -qE "Failed to fetch|Could not (resolve|connect)|Temporary failure|Unable to connect" \
            "$out/base/mmdebstrap.log"; then
            skip "mmdebstrap could not download Debian $suite packages (no package access)"
        fi
        tail -n 30 "$out/base/mmdebstrap.log" >&2
        echo "image: mmdebstrap failed (log: $out/base/mmdebstrap.log)" >&2
        exit 1
    fi
    mv "$out/base/partial.tar" "$base_tar"
    echo "$base_key" > "$out/base/recipe.sha256"
    echo "image: made the Debian $suite base with mmdebstrap in $((SECONDS - started)) s"
else
    echo "image: Debian $suite base from .tools/image/base (less than a week old)"
fi

started=$SECONDS
base_image="localhost/sealkit-build-base:$suite"
ctr="$("${buildah[@]}" from scratch)"
"${buildah[@]}" add --quiet "$ctr" "$base_tar" / >/dev/null
"${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd python3 "$ctr"
"${buildah[@]}" commit --quiet --rm --identity-label=false "$ctr" "$base_image" >/dev/null
echo "image: base image in $((SECONDS - started)) s"

# ---- the Dockerfile, unchanged ----
# Behind a TLS-intercepting proxy, pip in RUN needs the host's CA bundle: mounted for the build only
# (with a pip.conf naming it), never committed into a layer.
started=$SECONDS
volumes=()
host_ca=/etc/ssl/certs/ca-certificates.crt
if [ -f "$host_ca" ]; then
    printf '[global]\ncert = /run/sealkit-build/ca.crt\n' > "$work/pip.conf"
    # Volumes reach RUN steps only: the build stage's, never the runtime stage (which has no RUN).
    volumes+=(--volume "$host_ca:/run/sealkit-build/ca.crt:ro" --volume "$work/pip.conf:/etc/pip.conf:ro")
fi
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
tag="localhost/sealkit-controller:$version"
"${buildah[@]}" bud --quiet --isolation chroot --pull=never --identity-label=false --layers=false \
    --build-arg "PYTHON_IMAGE=$base_image" --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
    "${volumes[@]}" -t "$tag" -f Dockerfile . >/dev/null
echo "image: built the Dockerfile in $((SECONDS - started)) s"

# ---- export and unpack ----
started=$SECONDS
"${buildah[@]}" push --quiet "$tag" "oci:$out/oci:$version" >/dev/null
umoci unpack --image "$out/oci:$version" "$out/bundle" >/dev/null
cp "$out/bundle/rootfs/opt/sealkit/sbom.cdx.json" "$out/sbom.cdx.json"
echo "$digest" > "$out/context.sha256"
compressed="$(find "$out/oci/blobs" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f", s/1000000}')"
echo "image: exported $out/oci ($version, ${compressed} MB compressed) in $((SECONDS - started)) s"
