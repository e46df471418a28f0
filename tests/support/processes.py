"""Stopping a process a test started, as a cluster stops a pod: SIGTERM, then a bounded wait. One that does
not stop in time is killed before the test fails, so it cannot hold ports (:8080) into later tests."""

from __future__ import annotations

import signal
import subprocess


def stopped(process: subprocess.Popen[str], timeout: float = 20) -> tuple[str, str]:
    """SIGTERM to `process`, then its stdout and stderr once it has ended; killed (and the wait re-raised)
    when it has not ended within `timeout` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return stdout, stderr
