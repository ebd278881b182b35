"""The browser tests' fixtures: the whole platform seeded with the demo data, and headless Chromium.

The platform is the test harness's (``devkit.testing.platform``: broker, database and the four
services as real processes on free ports). The tests skip, saying why, where Chromium or
Playwright is missing.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devkit.cli import _plugins
from devkit.client import ApiClient
from devkit.testing import Platform

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
OFFICE = ("office", "office-demo")


@pytest.fixture(scope="package")
def browser_available() -> None:
    """Skip before anything is started when the browser cannot run here."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright is not installed: pip install -r tests/browser/requirements.txt")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (Debian package 'chromium') or set CHROMIUM_PATH")


@pytest.fixture(scope="package")
async def seeded(browser_available: None, platform: Platform) -> Platform:
    """What `make run` shows: every service's demo seed loaded through the gateway as the office."""
    async with ApiClient(platform.gateway) as api:
        await api.login(*OFFICE)
        for _name, seed in _plugins("commerce.seeds"):
            await seed(api)
    return platform


@pytest.fixture(scope="package")
async def browser(seeded: Platform) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()
