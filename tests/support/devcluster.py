"""Test support: `sealkit dev up` as a real process (foreground), its printed facts, and stopping it.

Used by tests/cli/test_dev.py and tests/cli/test_output_habits.py: `DevUp.start()` runs the command with
its own TMPDIR and reads what it prints until it says how to stop it; `stop(sig)` sends a signal and
returns the exit status and the rest of its output. Reads have a guard timeout (a hung process fails the
test instead of hanging it); nothing sleeps.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

GUARD = 120.0  # seconds: only ever reached when something is broken


def sealkit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sealkit_cli.main", *args]


def clean_env(tmpdir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without cluster pointers, with TMPDIR set (where `dev up` makes its dir)."""
    drop = ("KUBECONFIG", "SEALKIT_DEV_DIR", "SEALKIT_DEV_CERT", "SEALED_SECRETS_CERT")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "TMPDIR": str(tmpdir), **extra}


class LineReader:
    """Lines of a process's stdout pipe, each with a guard timeout (its own buffer over the raw fd, so a
    select never waits for data already read)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self.fd = process.stdout.fileno()
        self.buffer = b""

    def line(self, timeout: float = GUARD) -> str:
        """The next line ('' at the end of the output); fails after `timeout` without one."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                if not selector.select(timeout):
                    raise AssertionError(f"no output line within {timeout:g} s")
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    line, self.buffer = self.buffer, b""
                    return line.decode()
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode() + "\n"

    def rest(self, timeout: float = GUARD) -> str:
        """Everything until the end of the output (each read guarded by `timeout`)."""
        lines = []
        while line := self.line(timeout):
            lines.append(line)
        return "".join(lines)


@dataclass
class DevUp:
    """One `sealkit dev up` process and what it printed."""

    tmpdir: Path
    args: tuple[str, ...] = ("--key-size", "2048")
    process: subprocess.Popen[bytes] | None = None
    printed: list[str] = field(default_factory=list)
    reader: LineReader | None = None

    def start(self) -> DevUp:
        self.process = subprocess.Popen(
            sealkit_command("dev", "up", *self.args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=clean_env(self.tmpdir),
            start_new_session=True,  # a process group of its own, as a terminal's foreground job has
        )
        self.reader = LineReader(self.process)
        while not (self.printed and self.printed[-1].startswith("Ctrl-C stops everything")):
            line = self.reader.line()
            if not line:
                raise AssertionError("sealkit dev up ended early:\n" + "".join(self.printed))
            self.printed.append(line)
        return self

    def fact(self, pattern: str) -> str:
        match = re.search(pattern, "".join(self.printed), re.M)
        assert match, f"{pattern!r} not in:\n{''.join(self.printed)}"
        return match.group(1)

    @property
    def kubeconfig(self) -> Path:
        return Path(self.fact(r"^  export KUBECONFIG=(\S+)$"))

    @property
    def cert(self) -> Path:
        return Path(self.fact(r"^certificate:\s+(\S+)$"))

    @property
    def key(self) -> Path:
        return Path(self.fact(r"^private key:\s+(\S+) \(throwaway\)$"))

    @property
    def directory(self) -> Path:
        return Path(self.fact(r"^Ctrl-C stops everything and (?:removes|keeps) (\S+)\.$"))

    @property
    def controller_pid(self) -> int:
        return int(self.fact(r"^controller:\s+pid (\d+) \(sealkit controller\)$"))

    @property
    def fingerprint(self) -> str:
        return self.fact(r"key (SHA256:\S+)\)\.$")

    def env(self, **extra: str) -> dict[str, str]:
        """An environment pointing kubectl and sealkit at this cluster."""
        return clean_env(self.tmpdir, KUBECONFIG=str(self.kubeconfig), **extra)

    def stop(self, sig: signal.Signals = signal.SIGINT, *, group: bool = False) -> tuple[int, str]:
        """Send `sig` (to the whole process group when `group`: Ctrl-C in a terminal reaches every process
        of the foreground job, the controller too); the exit status and what it printed after the facts."""
        assert self.process is not None and self.reader is not None
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        rest = self.reader.rest()  # the process closes its output when it exits
        return self.process.wait(GUARD), rest

    def kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(GUARD)
            if self.process.stdout is not None:
                self.process.stdout.close()


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, exited but not yet reaped by its parent, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=GUARD, check=False)
