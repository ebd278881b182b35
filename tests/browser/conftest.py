"""The whole platform for the browser tests: the four services as real processes, seeded, and Chromium.

The services run as the local stack runs them (``shared.stack``), on free ports, against the test
harness's broker and database, with their logs and secrets in a temporary folder. The tests skip,
saying why, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.cli import _plugins
from shared.client import ApiClient
from shared.stack.components import HOST, SERVICES, Component, Stack
from shared.stack.processes import free_port
from shared.testing import LocalKafka, LocalMongo

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "office-demo-browser"  # a throw-away demo login of this test stack


def _require_browser() -> None:
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright is not installed: pip install -r tests/browser/requirements.txt")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (Debian package 'chromium') or set CHROMIUM_PATH")


@dataclass
class Platform:
    gateway: str
    stack: Stack
    parts: list[Component]

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.process.tail(15)}" for p in self.parts)


async def _seed(gateway: str) -> None:
    """What `make run` loads: every service's demo seed, through the gateway as the office."""
    async with ApiClient(gateway) as api:
        await api.login("office", DEMO_PASSWORD)
        for _name, seed in _plugins("commerce.seeds"):
            await seed(api)


@pytest.fixture(scope="module")
def platform(kafka: LocalKafka, mongo: LocalMongo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    _require_browser()
    data = tmp_path_factory.mktemp("platform")
    env = {
        "KAFKA_BOOTSTRAP": kafka.bootstrap,
        "MONGO_URL": mongo.url,
        "PROFILE": "local",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "LOG_LEVEL": "WARNING",
        "KAFKA_SESSION_TIMEOUT_MS": "1500",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "OUTBOX_POLL_INTERVAL_S": "0.05",
        "RATE_LIMIT_ENABLED": "false",
        **{f"{name.upper()}_PORT": str(free_port()) for name, _ in SERVICES},
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        stack = Stack(data=data, run=data / "run")
        parts = stack.services()
        platform = Platform(f"http://{HOST}:{stack.port_of('gateway', 8000)}", stack, parts)
        try:
            for part in parts:
                part.process.start()
            for part in parts:
                part.process.wait_until(part.is_ready, part.timeout_s, "ready")
            asyncio.run(_seed(platform.gateway))
            yield platform
        finally:
            for part in reversed(parts):
                part.process.stop(timeout_s=10)
            shutil.rmtree(data / "run", ignore_errors=True)


@pytest.fixture(scope="module")
async def browser(platform: Platform) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()
