"""Restarting a killed component waits until its port is released instead of failing at once."""

from __future__ import annotations

import socket
import threading
import time

from devkit.stack.processes import port_is_free
from devkit.testing import wait_for_free_port


def test_waits_for_a_port_still_held_by_a_closing_process() -> None:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    assert not port_is_free(port)
    threading.Timer(0.3, holder.close).start()
    started = time.monotonic()
    wait_for_free_port(port, timeout_s=5)
    assert port_is_free(port)
    assert 0.2 < time.monotonic() - started < 5


def test_gives_up_after_the_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        started = time.monotonic()
        wait_for_free_port(holder.getsockname()[1], timeout_s=0.3)
        assert time.monotonic() - started < 2
