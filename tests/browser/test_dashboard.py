"""The commerce office's dashboard and the operators' page in a real browser, on the whole platform.

The office logs in on ``/`` and sees the districts on the map and the markets' occupancy; a market
operator logs in on ``/operator`` from a phone-sized page and flips a stall; the office's market row
follows without a reload within 2 seconds. Screenshots of both pages are kept for the README.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devkit.stack.components import ROOT
from devkit.testing import Platform

from .conftest import OFFICE

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SCREENSHOTS = ROOT / "docs" / "screenshots"
MARKET = "wagner"
UPDATE_WITHIN_S = 2.0
# Leaflet draws each district's perimeter as an SVG path of this class
PERIMETER = "#map path.district-shape"
FALLBACK_DISTRICT = {
    "code": "duc-pagano-wagner",
    "name": "Pagano - Wagner",
    "perimeter": {
        "type": "Polygon",
        "coordinates": [[[9.150, 45.462], [9.168, 45.462], [9.168, 45.474], [9.150, 45.474], [9.150, 45.462]]],
    },
}


def _keep_screenshot(shot: bytes, name: str, tmp: Path) -> None:
    """Always into the test's folder; into docs/ when missing or when UPDATE_SCREENSHOTS=1."""
    (tmp / name).write_bytes(shot)
    target = SCREENSHOTS / name
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shot)


async def _ensure_a_district(platform: Platform) -> None:
    """The districts seed draws the city's districts; without it the test adds one perimeter itself."""
    async with httpx.AsyncClient(base_url=platform.gateway + "/api/v1", timeout=10) as api:
        if (await api.get("/districts", params={"limit": 1})).json().get("total", 0):
            return
        login = await api.post("/auth/token", data=dict(zip(("username", "password"), OFFICE, strict=True)))
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = await api.post("/districts", json=FALLBACK_DISTRICT, headers=headers)
        assert created.status_code in (200, 201, 409), created.text


async def _log_in(page: Any, username: str, password: str) -> None:
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()


def _watch_console(page: Any, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


async def test_office_sees_a_stall_change_from_the_operator_page_without_reloading(
    seeded: Platform, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    await _ensure_a_district(seeded)
    problems: list[str] = []
    office_view = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="it-IT")
    dashboard = await office_view.new_page()
    _watch_console(dashboard, problems)
    await dashboard.goto(seeded.gateway + "/")
    await _log_in(dashboard, *OFFICE)
    await expect(dashboard.get_by_test_id("live-status")).to_have_attribute("data-state", "connected", timeout=15_000)
    await expect(dashboard.locator(PERIMETER).first).to_be_attached(timeout=15_000)
    assert await dashboard.locator(PERIMETER).count() >= 1
    await expect(dashboard.get_by_test_id("district-table")).to_contain_text(re.compile(r"\w"), timeout=10_000)
    open_cell = dashboard.get_by_test_id(f"market-open-{MARKET}")
    await expect(open_cell).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
    open_before = int(await open_cell.inner_text())

    phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    operator = await phone.new_page()
    _watch_console(operator, problems)
    await operator.goto(seeded.gateway + "/operator")
    await _log_in(operator, f"operator-{MARKET}", "operator-demo")
    closed_stall = operator.locator('[data-testid^="stall-"][data-status="closed"]').first
    open_stall = operator.locator('[data-testid^="stall-"][data-status="open"]').first
    await expect(closed_stall.or_(open_stall).first).to_be_visible(timeout=15_000)
    if await closed_stall.count():
        stall, target, expected_open = closed_stall, "open", open_before + 1
    else:
        stall, target, expected_open = open_stall, "closed", open_before - 1
    number = (await stall.get_attribute("data-testid") or "").removeprefix("stall-")

    started = time.perf_counter()
    await operator.get_by_test_id(f"stall-{number}-{target}").tap()
    await expect(operator.get_by_test_id(f"stall-{number}")).to_have_attribute("data-status", target, timeout=5_000)
    await expect(open_cell).to_have_text(str(expected_open), timeout=UPDATE_WITHIN_S * 1000)
    elapsed = time.perf_counter() - started
    print(f"stall {number} of {MARKET} set {target}: dashboard row updated {elapsed * 1000:.0f} ms after the tap")
    assert elapsed <= UPDATE_WITHIN_S + 1.0
    await expect(dashboard.get_by_test_id("event-feed")).to_contain_text("Wagner")

    _keep_screenshot(await dashboard.screenshot(full_page=True), "dashboard.png", tmp_path)
    await operator.evaluate("window.scrollTo(0, 0)")
    _keep_screenshot(await operator.screenshot(), "operator.png", tmp_path)
    await office_view.close()
    await phone.close()
    csp = [p for p in problems if "Content Security Policy" in p or "Refused to" in p]
    assert not csp, f"the pages broke the Content-Security-Policy: {csp}"
    assert not [p for p in problems if "Uncaught" in p], problems


async def test_api_documentation_renders_the_whole_public_api(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    _watch_console(page, problems)
    await page.goto(seeded.gateway + "/docs")
    for path in (
        "/api/v1/auth/token",
        "/api/v1/markets/{market_id}/stalls/{number}/status",
        "/api/v1/districts.geojson",
    ):
        await expect(page.locator(f'.opblock [data-path="{path}"]').first).to_be_attached(timeout=15_000)
    assert await page.locator(".opblock").count() > 30
    await context.close()
    assert not problems, f"the API documentation page reported errors: {problems}"


# two alerts the page is sent with the real overview: the page must write their readings itself
ALERTS = [
    {
        "id": "reading-occupancy",
        "condition": "low_occupancy",
        "key": "low_occupancy",
        "value": 0.25,
        "threshold": 0.6,
        "detail": "stall occupancy 25% (alert below 60%, resolved from 65%)",
    },
    {
        "id": "reading-service",
        "condition": "service_missing",
        "key": "service_missing:ritiro_pacchi",
        "value": 0,
        "threshold": 1,
        "detail": "0 active points offer the required service ritiro_pacchi",
    },
]
READINGS = {
    "it": {
        "reading-occupancy": "Banchi occupati: 25% (allerta sotto il 60%)",
        "reading-service": "Nessun punto attivo offre il servizio richiesto: Ritiro pacchi",
    },
    "en": {
        "reading-occupancy": "Stalls occupied: 25% (alert below 60%)",
        "reading-service": "No active point offers the required service: Parcel pickup",
    },
}


async def test_an_alert_reads_in_the_pages_language(seeded: Platform, browser: Any) -> None:
    """An alert's reading is written in the page's language from its condition, value and raise level
    (the service's own sentence is English): Italian first, then English after the switch."""
    from playwright.async_api import expect

    async def with_alerts(route: Any) -> None:
        answer = await route.fetch()
        overview = await answer.json()
        extra = [
            {
                **a,
                "district": "duc-prova",
                "state": "open",
                "raised_at": "2026-12-05T09:00:00Z",
                "resolved_at": None,
                "history": [],
            }
            for a in ALERTS
        ]
        await route.fulfill(response=answer, json={**overview, "alerts": [*extra, *overview.get("alerts", [])]})

    context = await browser.new_context(locale="it-IT")
    page = await context.new_page()
    await page.route("**/api/v1/overview", with_alerts)
    await page.goto(seeded.gateway + "/")
    await _log_in(page, *OFFICE)
    for language in ("it", "en"):
        if language == "en":
            await page.get_by_test_id("lang-en").click()
        for alert_id, reading in READINGS[language].items():
            detail = page.get_by_test_id(f"alert-{alert_id}").locator(".alert-detail")
            await expect(detail).to_have_text(reading, timeout=15_000)
    await context.close()
