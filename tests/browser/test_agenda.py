"""A market's public agenda in a real browser, on a phone, with no login, on the whole seeded platform.

The office adds a space to a market and books two evenings in it (through the API): one public, one
private. A citizen comes from the citizens' page, picks the market and sees the public event with
its day and time written the Italian way, and not the private one; the page is checked with axe in
Italian and in English.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.testing import Platform

from .conftest import (
    MILAN,
    PHONE_IT,
    add_space,
    assert_accessible,
    book_space,
    italian_period,
    office_headers,
    watch_console,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

MARKET = "lorenteggio"


async def test_the_agenda_lists_the_public_event_and_not_the_private_one(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    day = datetime.now(MILAN).date() + timedelta(days=5)
    evening = datetime(day.year, day.month, day.day, 19, 30, tzinfo=MILAN)
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        office = await office_headers(api)
        market = (await api.get(f"/markets/{MARKET}")).json()
        code = await add_space(api, office, MARKET, "Cortile del mercato", 80)
        public_id = await book_space(api, office, MARKET, code, "Cinema all'aperto", evening, public=True)
        private_id = await book_space(
            api, office, MARKET, code, "Riunione dei titolari", evening + timedelta(days=1), public=False
        )

    problems: list[str] = []
    context = await browser.new_context(**PHONE_IT)
    page = await context.new_page()
    watch_console(page, problems)
    await page.goto(seeded.gateway + "/near")
    await page.get_by_role("link", name="Eventi nei mercati").click()
    # the agenda puts the market it shows first in the address as soon as the markets are loaded
    await expect(page).to_have_url(re.compile(re.escape(f"{seeded.gateway}/agenda") + r"(\?market=[\w-]+)?$"))
    await page.get_by_label("Mercato", exact=True).select_option(MARKET)
    await expect(page).to_have_url(f"{seeded.gateway}/agenda?market={MARKET}")

    events = page.get_by_test_id("agenda-list")
    public = events.get_by_test_id(f"agenda-event-{public_id}")
    await expect(public.get_by_role("heading", name="Cinema all'aperto")).to_be_visible(timeout=15_000)
    await expect(public).to_contain_text(italian_period(evening, evening + timedelta(hours=2)))
    await expect(public).to_contain_text("Cortile del mercato · organizza Comitato di quartiere")
    await expect(page.get_by_test_id("agenda-status")).to_contain_text(f"{market['name']}:")
    await expect(events.get_by_test_id(f"agenda-event-{private_id}")).to_have_count(0)
    await expect(events).not_to_contain_text("Riunione dei titolari")
    await assert_accessible(page, f"/agenda?market={MARKET} (it)")

    # the address names the market: opened again, the same agenda, here in English
    await page.reload()
    await page.get_by_test_id("lang-en").click()
    await expect(page.get_by_role("heading", name="The market's public agenda")).to_be_visible()
    await expect(public).to_contain_text("Cortile del mercato · organised by Comitato di quartiere")
    await assert_accessible(page, f"/agenda?market={MARKET} (en)")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems


async def test_a_market_closed_for_trading_shows_the_events_of_its_space(seeded: Platform, browser: Any) -> None:
    """The README's link to the Piazza Ferrara pilot: Ferrara no longer trades as a market, its
    social space still hosts the two public events the demo seed books."""
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        ferrara = (await api.get("/markets/ferrara")).json()
        lorenteggio = (await api.get("/markets/lorenteggio")).json()
    assert ferrara["active"] is False, "the pilot's market is the closed one"

    problems: list[str] = []
    context = await browser.new_context(**PHONE_IT)
    page = await context.new_page()
    watch_console(page, problems)
    await page.goto(seeded.gateway + "/agenda?market=ferrara")
    await expect(page.get_by_test_id("agenda-status")).to_have_text(
        f"{ferrara['name']}: 2 eventi in programma.", timeout=15_000
    )
    await expect(page).to_have_url(f"{seeded.gateway}/agenda?market=ferrara")
    market = page.get_by_label("Mercato", exact=True)
    await expect(market.locator("option:checked")).to_have_text(f"{ferrara['name']} (mercato chiuso)")
    events = page.get_by_test_id("agenda-list")
    await expect(events.get_by_role("heading")).to_have_text(
        ["Laboratorio di riparazioni", "Colazione di quartiere con i commercianti"]
    )
    await expect(events).to_contain_text("Spazio sociale di Piazza Ferrara · organizza Associazione Corvetto in rete")

    # an open market is listed as it is
    await market.select_option("lorenteggio")
    await expect(market.locator("option:checked")).to_have_text(lorenteggio["name"])
    await page.get_by_test_id("lang-en").click()
    await expect(page.get_by_label("Market", exact=True).locator("option[value=ferrara]")).to_have_text(
        f"{ferrara['name']} (market closed)"
    )
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems
