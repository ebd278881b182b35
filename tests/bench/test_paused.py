"""The write-path bench stops the districts service while it measures the markets service alone: the
process is stopped meanwhile and runs again afterwards, also when the measurement fails."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bench.service_benches import paused


def _stopped(pid: int, expected: bool) -> bool:
    """Whether the process gets to the state expected (a signal arrives a moment after it is sent);
    /proc/<pid>/stat reads "pid (name) state ...", and T is stopped."""
    deadline = time.monotonic() + 5
    while True:
        stopped = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"
        if stopped == expected or time.monotonic() > deadline:
            return stopped
        time.sleep(0.01)


def test_the_process_is_stopped_meanwhile_and_continued_even_on_failure() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not _stopped(process.pid, False)
        with paused(process.pid):
            assert _stopped(process.pid, True)
        assert not _stopped(process.pid, False)
        with pytest.raises(RuntimeError), paused(process.pid):
            assert _stopped(process.pid, True)
            raise RuntimeError("the measurement failed")
        assert not _stopped(process.pid, False)
    finally:
        process.kill()
        process.wait()


def test_no_process_no_pause() -> None:
    with paused(None):
        pass
