"""A Kubernetes API emulator on kmock for tests and demos: real server semantics, in memory, on 127.0.0.1.

Use :class:`KubeServer` in-process (own thread and loop), :class:`KubeProcess` as a subprocess, or the
pytest fixtures in :mod:`.pytest_plugin`. See docs/testservers-kube.md.
"""

from .admin_client import AdminError, EmulatorAdmin
from .emulator import DEFAULT_NAMESPACES, KubeEmulator, RequestRecord
from .faults import Fault
from .rbac import User
from .resources import ResourceDef
from .server import KubeProcess, KubeServer

__all__ = [
    "DEFAULT_NAMESPACES",
    "AdminError",
    "EmulatorAdmin",
    "Fault",
    "KubeEmulator",
    "KubeProcess",
    "KubeServer",
    "RequestRecord",
    "ResourceDef",
    "User",
]
