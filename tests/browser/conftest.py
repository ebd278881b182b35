"""The browser tests' fixtures: the whole platform seeded with the demo data, and headless Chromium.

The platform is the test harness's (``devkit.testing.platform``: broker, database and the four
services as real processes on free ports). The tests skip, saying why, where Chromium or
Playwright is missing. :func:`assert_accessible` runs the vendored axe-core on a page.
"""

from __future__ import annotations

import hashlib
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
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# the SHA-256 recorded in vendor/axe-core/README.md: the engine is the one that was checked in
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
BLOCKING_IMPACTS = ("serious", "critical")


def _axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, f"{AXE} is not the axe-core recorded in its README"
    return data.decode()


async def assert_accessible(page: Any, label: str) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.x A and AA rules) on the page as it is now; fail on serious or critical findings.

    The engine is injected as a script into the page (the pages' CSP allows only their own
    scripts, so it is evaluated through the DevTools protocol, which the CSP does not govern).
    Returns every violation, the minor and moderate ones included, for the caller to report.
    """
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_axe_source())
    results = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {
                runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
                resultTypes: ['violations'],
            });
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
            }));
        }"""
    )
    blocking = [v for v in results if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"  [{v['impact']}] {v['id']}: {v['help']}\n" + "\n".join(f"      {n['target']}: {n['summary']}" for n in v["nodes"][:5])
        for v in blocking
    )
    assert not blocking, f"axe-core found serious or critical violations on {label}:\n{report}"
    return list(results)


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
