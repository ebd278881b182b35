"""The local database as the stack starts it (devkit/stack/database.py) holds no read snapshot while
it waits, so WiredTiger can discard old versions, and still deletes expired TTL documents, and only those."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devkit.stack.components import TOOLS

pytestmark = pytest.mark.integration
PROBE = Path(__file__).with_name("held_snapshot_probe.py")
DATABASE_PYTHON = TOOLS / "mongo" / "bin" / "python"
WRITES = 600  # the probe's writes after the store is opened again
KEPT = (
    5  # the probe's documents under a TTL index that have not expired (in the future, no date, outside a partial index)
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _probe(command: str, folder: Path) -> dict[str, Any]:
    if not DATABASE_PYTHON.exists():
        pytest.skip("the local database is not installed (make tools)")
    done = subprocess.run(
        [str(DATABASE_PYTHON), str(PROBE), command, str(folder), str(_free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, f"probe failed ({done.returncode}): {done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in result, result
    print(f"{command}: {result}", file=sys.stderr)
    return result


def test_a_reopened_store_keeps_no_snapshot_and_expires_ttl_documents(tmp_path: Path) -> None:
    started_here = _probe("launcher", tmp_path / "launcher")
    assert started_here["pinned"] < WRITES // 10, started_here
    assert started_here["expired_left"] == 0, started_here
    assert started_here["kept"] == KEPT, started_here


def test_the_probe_sees_the_snapshot_that_secantusd_keeps(tmp_path: Path) -> None:
    """What the launcher exists for: SecantusDB's own command keeps every write's version."""
    own_command = _probe("secantusd", tmp_path / "secantusd")
    assert own_command["pinned"] >= WRITES, own_command
