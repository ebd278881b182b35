"""`make up` / `make down` as a newcomer uses them: all ready, nothing left behind, data kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from devkit.stack.components import ROOT
from devkit.stack.processes import _alive, free_port

pytestmark = pytest.mark.integration

COMPONENTS = ("s3", "kafka", "mongo", "mail", "markets", "shops", "districts", "gateway")


def stack(command: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devkit.stack", command, *extra],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )


def pids(data: Path) -> dict[str, int]:
    found = {}
    for name in COMPONENTS:
        pid_file = data / "run" / f"{name}.pid"
        if pid_file.exists():
            found[name] = json.loads(pid_file.read_text())["pid"]
    return found


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP", "MONGO_URL", "JWT_PRIVATE_KEY"}}
    env.update({f"{name.upper()}_PORT": str(free_port()) for name in COMPONENTS})
    env.update({"DATA_DIR": str(tmp_path / "data"), "PROFILE": "local", "DEMO_PASSWORD": "office-demo"})
    return env


def test_up_down_up_keeps_data_and_leaves_nothing_behind(stack_env: dict[str, str]) -> None:
    data = Path(stack_env["DATA_DIR"])
    gateway = f"http://127.0.0.1:{stack_env['GATEWAY_PORT']}"
    try:
        started = time.monotonic()
        result = stack("up", stack_env, "--no-seed")
        cold = time.monotonic() - started
        assert result.returncode == 0, result.stdout + result.stderr
        for name in ("markets", "shops", "districts", "gateway"):
            port = stack_env[f"{name.upper()}_PORT"]
            assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            assert f"{name}_http_requests_total" in metrics
        token = httpx.post(f"{gateway}/api/v1/auth/token", data={"username": "office", "password": "office-demo"},
                           timeout=10).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        market = {"id": "persistenza", "name": "Mercato di prova", "address": "Via Prova 1", "municipio": 1,
                  "location": {"lon": 9.19, "lat": 45.46}, "active": True}
        created = httpx.post(f"{gateway}/api/v1/markets", json=market, headers=auth, timeout=10)
        assert created.status_code in (200, 201), created.text

        # make up is idempotent: a crashed broker is restarted, the rest is left alone
        before = pids(data)
        os.kill(before["kafka"], 9)
        result = stack("up", stack_env, "--no-seed")
        assert result.returncode == 0, result.stdout + result.stderr
        after = pids(data)
        assert after["kafka"] != before["kafka"]
        assert all(after[n] == before[n] for n in COMPONENTS if n != "kafka")

        result = stack("down", stack_env)
        assert result.returncode == 0, result.stderr
        assert not pids(data), "pid files left behind"
        assert not any(_alive(pid) for pid in after.values()), "processes left behind"

        started = time.monotonic()
        result = stack("up", stack_env, "--no-seed")
        warm = time.monotonic() - started
        assert result.returncode == 0, result.stdout + result.stderr
        again = httpx.get(f"{gateway}/api/v1/markets/persistenza", timeout=10)
        assert again.status_code == 200 and again.json()["name"] == "Mercato di prova"
        print(f"make up: cold {cold:.1f}s, warm {warm:.1f}s")
    finally:
        stack("down", stack_env)


def test_a_busy_port_is_reported_before_anything_starts(stack_env: dict[str, str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(stack_env["MONGO_PORT"])))
        busy.listen()
        result = stack("up", stack_env, "--no-seed")
    assert result.returncode == 1
    assert f"{stack_env['MONGO_PORT']} (mongo" in result.stderr
    assert not pids(Path(stack_env["DATA_DIR"])), "nothing may start when a port is busy"
