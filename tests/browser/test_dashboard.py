"""The commerce office's dashboard and the operators' page in a real browser, on the whole platform.

The office logs in on ``/`` and sees the districts on the map and the markets' occupancy; a market
operator logs in on ``/operator`` from a phone-sized page and flips a stall; the office's market row
follows without a reload within 2 seconds. Screenshots of both pages are kept for the README.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from devkit.testing import Platform

from .conftest import (
    MARKET,
    OFFICE,
    PHONE,
    OpenPage,
    assert_accessible,
    ensure_a_district,
    keep_screenshot,
    log_in,
    watch_console,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

UPDATE_WITHIN_S = 2.0
# Leaflet draws each district's perimeter as an SVG path of this class
PERIMETER = "#map path.district-shape"


async def test_office_sees_a_stall_change_from_the_operator_page_without_reloading(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    await ensure_a_district(seeded)
    office_view = await office_page()
    dashboard = office_view.page
    await expect(dashboard.get_by_test_id("live-status")).to_have_attribute("data-state", "connected", timeout=15_000)
    await expect(dashboard.locator(PERIMETER).first).to_be_attached(timeout=15_000)
    assert await dashboard.locator(PERIMETER).count() >= 1
    await expect(dashboard.get_by_test_id("district-table")).to_contain_text(re.compile(r"\w"), timeout=10_000)

    # The map's shapes are a keyboard stop each: a link before the map, shown when focused, skips
    # them all to the map's layers.
    skip = dashboard.get_by_test_id("map-skip")
    await expect(skip).to_have_text("Salta la mappa: vai ai livelli e alle allerte")
    await skip.focus()
    await expect(skip).not_to_have_class(re.compile(r"visually-hidden"))
    await dashboard.keyboard.press("Enter")
    await expect(dashboard.locator("#layer-nils")).to_be_focused()
    await expect(skip).to_have_class(re.compile(r"visually-hidden"))
    assert dashboard.url.endswith("#panoramica") or "#" not in dashboard.url, dashboard.url

    # Every landmark of each section has a name of its own (axe's landmark-unique).
    for section in ("overview", "accounts", "districts", "interventions", "concessions"):
        await dashboard.get_by_test_id(f"section-{section}").click()
        await expect(dashboard.get_by_test_id(f"section-{section}")).to_have_attribute("aria-current", "page")
        found = await assert_accessible(dashboard, f"the dashboard's {section} section")
        same = [v for v in found if v["id"] == "landmark-unique"]
        assert not same, (section, same)
    await dashboard.get_by_test_id("section-overview").click()
    open_cell = dashboard.get_by_test_id(f"market-open-{MARKET}")
    await expect(open_cell).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
    open_before = int(await open_cell.inner_text())

    operator_view = await office_page(
        "/operator", user=(f"operator-{MARKET}", "operator-demo"), problems=office_view.problems, **PHONE
    )
    operator = operator_view.page
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

    keep_screenshot(await dashboard.screenshot(full_page=True), "dashboard.png", tmp_path)
    await operator.evaluate("window.scrollTo(0, 0)")
    keep_screenshot(await operator.screenshot(), "operator.png", tmp_path)
    csp = [p for p in office_view.problems if "Content Security Policy" in p or "Refused to" in p]
    assert not csp, f"the pages broke the Content-Security-Policy: {csp}"
    assert not office_view.uncaught(), office_view.problems


async def test_api_documentation_renders_the_whole_public_api(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    watch_console(page, problems)
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
    await log_in(page, *OFFICE)
    for language in ("it", "en"):
        if language == "en":
            await page.get_by_test_id("lang-en").click()
        for alert_id, reading in READINGS[language].items():
            detail = page.get_by_test_id(f"alert-{alert_id}").locator(".alert-detail")
            await expect(detail).to_have_text(reading, timeout=15_000)
    await context.close()
