"""The controller image's size: compressed (what a node pulls), per layer, and the largest dependencies.

Run after `flock /tmp/sealkit-heavy.lock bash scripts/build-image.sh` (reads .tools/image):
  .venv/bin/python benchmarks/bench_image.py

Prints, with targets:
  1. the compressed size of the image (layers, config and manifest; <= 100 MB), and of each layer;
  2. the unpacked size of the root filesystem and of the controller's venv (/opt/sealkit);
  3. the five largest distributions in the venv, by installed bytes (byte-code included).
The base in CI is Debian bookworm's python3 made by mmdebstrap; a release build on python:3.11-slim has a
different base layer but the same venv layer.
"""

from __future__ import annotations

import csv
import json
import sys
from email.parser import HeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / ".tools" / "image"
TARGET_COMPRESSED_MB = 100.0


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def tree_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def distributions(site_packages: Path) -> list[tuple[int, str, str]]:
    """(installed bytes, name, version) of each distribution: the files its RECORD lists that exist."""
    found = []
    for info in site_packages.glob("*.dist-info"):
        headers = HeaderParser().parsestr((info / "METADATA").read_text(encoding="utf-8", errors="replace"))
        size = 0
        with (info / "RECORD").open(newline="") as record:
            for row in csv.reader(record):
                path = (site_packages / row[0]).resolve()
                if path.is_file():
                    size += path.stat().st_size
        found.append((size, headers["Name"], headers["Version"]))
    return sorted(found, reverse=True)


def main() -> int:
    index_path = IMAGE / "oci" / "index.json"
    if not index_path.is_file():
        print("no image in .tools/image: run `flock /tmp/sealkit-heavy.lock bash scripts/build-image.sh` first")
        return 1
    blobs = IMAGE / "oci" / "blobs" / "sha256"
    (entry,) = json.loads(index_path.read_text())["manifests"]
    manifest = json.loads((blobs / entry["digest"].split(":")[1]).read_text())
    layers = [layer["size"] for layer in manifest["layers"]]
    compressed = sum(layers) + manifest["config"]["size"] + entry["size"]
    verdict = "ok" if compressed / 1_000_000 <= TARGET_COMPRESSED_MB else "OVER"
    tag = entry["annotations"]["org.opencontainers.image.ref.name"]
    print(f"image {tag}: {mb(compressed)} compressed (target <= {TARGET_COMPRESSED_MB:.0f} MB: {verdict})")
    for number, size in enumerate(layers):
        what = "base (Debian bookworm, python3)" if number == 0 else "controller (venv, passwd entry)"
        print(f"  layer {number}: {mb(size)} compressed: {what}")
    rootfs = IMAGE / "bundle" / "rootfs"
    venv = rootfs / "opt" / "sealkit"
    print(f"unpacked: {mb(tree_size(rootfs))} root filesystem, of which {mb(tree_size(venv))} the venv")
    print("five largest distributions in the venv (installed, with byte-code):")
    for size, name, version in distributions(next((venv / "lib").glob("python3*/site-packages")))[:5]:
        print(f"  {mb(size):>9}  {name} {version}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
