"""Starting, tracking and stopping local processes by pid file (never by process name)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A local component could not be started; the message tells the user what to do."""


class ProcessExited(StackError):
    """The process ended while starting up."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(port: int, host: str = "127.0.0.1", timeout_s: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


_handed_out: set[int] = set()


def free_port() -> int:
    """A free port for a test server, never handed out twice by this process.

    Ports come from below Linux's ephemeral range (32768+), so they cannot be taken in the
    meantime by the outgoing connections of clients, as a port the kernel picked could be.
    """
    rng = random.Random()  # noqa: S311 - picking a test port, not a secret
    for _ in range(1000):
        port = rng.randrange(20000, 32000)
        if port not in _handed_out and port_is_free(port):
            _handed_out.add(port)
            return port
    raise StackError("no free port found between 20000 and 32000")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


@dataclass
class Managed:
    """A process started from ``argv``, remembered in ``pid_file`` with its command line."""

    name: str
    argv: Sequence[str]
    pid_file: Path
    log_file: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None

    def recorded_pid(self) -> int | None:
        try:
            record = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        pid = int(record.get("pid", 0))
        if pid <= 0 or not _alive(pid):
            return None
        if _cmdline(pid) != list(record.get("argv", [])):
            return None  # the pid was reused by an unrelated process: not ours
        return pid

    def running(self) -> bool:
        return self.recorded_pid() is not None

    def start(self) -> int:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **(self.env or {})}
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - argv built from our own paths
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        # the recorded argv is what /proc shows, so a later check can tell the pid is still ours
        deadline = time.monotonic() + 2.0
        argv = _cmdline(process.pid)
        while not argv and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
            argv = _cmdline(process.pid)
        self.pid_file.write_text(json.dumps({"pid": process.pid, "argv": argv or list(self.argv)}))
        return process.pid

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                raise ProcessExited(f"{self.name} exited during start-up ({what}); see {self.log_file}:\n{self.tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise StackError(f"{self.name} not {what} after {timeout_s:.0f}s; see {self.log_file}:\n{self.tail()}")

    def stop(self, timeout_s: float = 15.0, sig: int = signal.SIGTERM) -> bool:
        pid = self.recorded_pid()
        if pid is None:
            with contextlib.suppress(FileNotFoundError):
                self.pid_file.unlink()
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        return True

    def kill(self) -> None:
        """SIGKILL, as a crash would; used by fault tests."""
        self.stop(timeout_s=0.0, sig=signal.SIGKILL)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
