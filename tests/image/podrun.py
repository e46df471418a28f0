"""Starts one container's process the way a container runtime would, from a JSON spec (tests/image only).

Run as root in fresh mount and UTS namespaces (`unshare --mount --uts --propagation private`, see
imagetools.PodProcess.command): bind-mounts the image's root filesystem onto itself, read-only if asked,
mounts /proc, a minimal /dev, a tmpfs for each emptyDir and the bind volumes (read-only if asked), sets
the pod's hostname, then chroots, takes the pod's uid, gid and groups (so no capability is left), sets
no_new_privs if asked and execs the command with exactly the given environment. The process the test
started becomes the container's process: its signals reach the controller directly, as in a pod.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
from pathlib import Path, PurePosixPath

PR_SET_NO_NEW_PRIVS = 38
DEVICES = ("null", "zero", "full", "random", "urandom")


def inside(rootfs: Path, path: str) -> Path:
    """`path` of the container as a host path, symlinks resolved within `rootfs` (as a runtime does)."""
    current, parts, hops = rootfs, list(PurePosixPath(path).parts[1:]), 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != rootfs else rootfs
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                sys.exit(f"podrun: too many symbolic links in {path}")
            target = PurePosixPath(candidate.readlink())
            if target.is_absolute():
                current, parts = rootfs, [*target.parts[1:], *parts]
            else:
                parts = [*target.parts, *parts]
            continue
        current = candidate
    return current


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    rootfs = Path(spec["rootfs"]).resolve()
    # Mount points first, while the root is still writable (runc does the same before going read-only).
    targets = [inside(rootfs, m["path"]) for m in spec["mounts"]]
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)

    mount("--bind", str(rootfs), str(rootfs))
    if spec["read_only_root"]:
        mount("-o", "remount,bind,ro", str(rootfs))
    mount("-t", "proc", "-o", "nosuid,nodev,noexec", "proc", str(inside(rootfs, "/proc")))
    dev = inside(rootfs, "/dev")
    mount("-t", "tmpfs", "-o", "nosuid,noexec,mode=0755,size=65536", "tmpfs", str(dev))
    for name in DEVICES:
        (dev / name).touch()
        mount("--bind", f"/dev/{name}", str(dev / name))
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        (dev / name).symlink_to(f"/proc/self/fd/{number}")
    (dev / "fd").symlink_to("/proc/self/fd")
    for target, volume in zip(targets, spec["mounts"], strict=True):
        if volume["type"] == "tmpfs":
            options = f"nosuid,nodev,mode=1777,size={volume['size']}"
            mount("-t", "tmpfs", "-o", options + (",ro" if volume["read_only"] else ""), "tmpfs", str(target))
        else:
            mount("--bind", volume["source"], str(target))
            if volume["read_only"]:
                mount("-o", "remount,bind,ro", str(target))

    socket.sethostname(spec["hostname"])
    os.chroot(rootfs)
    os.chdir(spec["workdir"])
    os.setgroups(spec["groups"])
    os.setgid(spec["gid"])
    os.setuid(spec["uid"])  # from root to a non-root uid: the permitted and effective capabilities are cleared
    if spec["no_new_privs"]:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            sys.exit(f"podrun: prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])  # noqa: S606 - the container's process, as given


if __name__ == "__main__":
    main()
