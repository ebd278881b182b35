"""The office follows a district's indicators over time: one chart per KPI with a sentence and a data table.

The page is checked against the districts API: the last reading of each chart is the district's KPI
now, the rows of its table are the samples the API gives for the period, the time axis is written
as the rest of the page writes times (24-hour clock, day before month, Milan's time), and the page
says it in Italian first and in English after the switch.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.testing import Platform

from .conftest import OFFICE, OpenPage, assert_accessible, ensure_a_district, log_in

pytestmark = [pytest.mark.browser, pytest.mark.integration]

METRICS = ("vitality_index", "stall_occupancy", "stalls_open", "shops_active", "services_total")


async def _busiest_district(platform: Platform) -> dict[str, Any]:
    """The district with the most stalls (the demo's markets lie in some districts only)."""
    async with httpx.AsyncClient(base_url=platform.gateway + "/api/v1", timeout=10) as api:
        items = (await api.get("/districts", params={"limit": 500})).json()["items"]
    return max(items, key=lambda d: ((d.get("kpis") or {}).get("stalls_total") or 0, d["code"]))


async def _series(platform: Platform, code: str, metric: str, days: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=platform.gateway + "/api/v1", timeout=10) as api:
        login = await api.post("/auth/token", data=dict(zip(("username", "password"), OFFICE, strict=True)))
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        to = datetime.now(UTC)
        query = {"metric": metric, "from": (to - timedelta(days=days)).isoformat(), "to": to.isoformat()}
        answer = await api.get(f"/districts/{code}/timeseries", params=query, headers=headers)
        assert answer.status_code == 200, answer.text
        points: list[dict[str, Any]] = answer.json()["points"]
        return [p for p in points if p["value"] is not None]


async def test_the_office_reads_a_districts_trends_in_charts_and_tables(
    seeded: Platform, office_page: OpenPage
) -> None:
    from playwright.async_api import expect

    await ensure_a_district(seeded)
    district = await _busiest_district(seeded)
    code = district["code"]
    view = await office_page(viewport={"width": 1280, "height": 1000})
    page = view.page

    chooser = page.get_by_test_id("trends-district")
    await expect(chooser.locator(f'option[value="{code}"]')).to_be_attached(timeout=15_000)
    await chooser.focus()
    await chooser.select_option(code)
    await page.get_by_test_id("trends-range").select_option("30")
    status = page.get_by_test_id("trends-status")
    await expect(status).to_have_text(f"{district['name']}: Ultimi 30 giorni.", timeout=10_000)

    for metric in METRICS:
        figure = page.get_by_test_id(f"trend-{metric}")
        await expect(figure).to_be_visible()
        expected = await _series(seeded, code, metric, 30)
        shown = int(await figure.get_attribute("data-points") or "0")
        # a sample may be written between the page's request and the test's
        assert len(expected) - 1 <= shown <= len(expected) + 1, (metric, shown, len(expected))
        if expected:
            await expect(figure.locator("canvas")).to_have_count(1)
            await expect(figure.get_by_test_id(f"trend-summary-{metric}")).to_contain_text("rilevazioni")
            await figure.locator("summary").click()
            rows = figure.locator("tbody tr")
            await expect(rows).to_have_count(shown)

    # The time axis reads as the rest of the page: 24-hour clock, day before month, Milan's time.
    # 7 Dec 2026 10:45-11:55 UTC (11:45-12:55 in Milan) every 5 minutes, then across midnight
    # hourly, then daily and monthly.
    ticks = await page.evaluate(
        """async () => {
            const { timeTicks } = await import('/static/js/charts.js');
            const at = Date.UTC(2026, 11, 7, 10, 45) / 1000;
            const midnight = Date.UTC(2026, 11, 7, 22, 0) / 1000;
            return {
                minutes: timeTicks([at, at + 300, at + 600], 300),
                midnight: timeTicks([midnight, midnight + 3600, midnight + 7200], 3600),
                days: timeTicks([at, at + 86400], 86400),
                months: timeTicks([at, at + 31 * 86400], 31 * 86400),
            };
        }"""
    )
    assert ticks == {
        "minutes": ["11:45\n07/12", "11:50", "11:55"],
        "midnight": ["23:00\n07/12", "00:00\n08/12", "01:00"],
        "days": ["07/12", "08/12"],
        "months": ["dic 2026", "gen 2027"],
    }, ticks

    kpis = district["kpis"]
    open_rows = page.get_by_test_id("trend-stalls_open").locator("tbody tr")
    if await open_rows.count():
        last = (await open_rows.last.locator("td").last.inner_text()).strip()
        assert last == str(kpis["stalls_open"]), (last, kpis["stalls_open"])

    await page.get_by_test_id("lang-en").click()
    await expect(status).to_have_text(f"{district['name']}: Last 30 days.", timeout=10_000)
    if await open_rows.count():
        await expect(page.get_by_test_id("trend-summary-stalls_open")).to_contain_text(re.compile(r"readings since"))
    english = await page.evaluate(
        """async () => (await import('/static/js/charts.js')).timeTicks([Date.UTC(2026, 11, 7, 10, 45) / 1000], 300)"""
    )
    assert english == ["11:45\n07/12"], english
    await assert_accessible(page, "/ (en, trends)")
    assert not view.uncaught("Refused to"), view.problems


async def test_the_map_draws_the_neighbourhoods_and_asks_nothing_of_other_hosts(seeded: Platform, browser: Any) -> None:
    """Without MAP_TILES_URL the base layer is the platform's own NIL outlines: every request the page
    makes goes to the gateway, and the NIL names appear once zoomed in."""
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=10) as api:
        nils = (await api.get("/nils", params={"limit": 500})).json()
    assert nils["total"] >= 1, "the demo seed loads the NIL neighbourhoods"
    elsewhere: list[str] = []
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    page = await context.new_page()
    page.on("request", lambda r: None if r.url.startswith(seeded.gateway) else elsewhere.append(r.url))
    await page.goto(seeded.gateway + "/")
    await log_in(page, *OFFICE)
    outlines = page.locator("#map path.nil-shape")
    await expect(outlines).to_have_count(nils["total"], timeout=15_000)
    await expect(page.get_by_test_id("map")).to_have_attribute("data-nils", str(nils["total"]))
    assert await page.locator("#map .leaflet-tile").count() == 0
    names = page.locator("#map .nil-label")
    first = nils["items"][0]["name"]
    if not await page.locator("#map.show-nil-labels").count():  # the districts fit the map below zoom 13
        await expect(names.filter(has_text=first)).to_be_hidden()
    # how far out the map starts depends on where the shops are (other tests add some): zoom in until
    # the names are written, at most from the minimum zoom (9) to the first zoom with names (13) and beyond
    for _ in range(10):
        if await page.locator("#map.show-nil-labels").count():
            break
        await page.locator("#map .leaflet-control-zoom-in").click()
        await page.wait_for_timeout(400)  # one zoom animation (250 ms) ends before the next click
    await expect(page.locator("#map.show-nil-labels")).to_have_count(1)
    await expect(names.filter(has_text=first).first).to_be_attached()
    await page.get_by_test_id("layer-nils").uncheck()
    await expect(outlines).to_have_count(0)
    await context.close()
    assert not elsewhere, f"the dashboard asked other hosts: {elsewhere[:5]}"
