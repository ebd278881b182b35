"""The operator's spunta screen in a real browser, on the whole seeded platform, from a phone.

A market operator registers the traders present yesterday with the keyboard only, assigns the day
and reads the result as a table; the same day refuses a late registration with the API's reason in
the page's language; the English switch translates the screen.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.testing import Platform

from .conftest import MARKET, PHONE, log_in_by_labels

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TRADERS = ("spuntista-anna", "spuntista-bruno")


async def test_operator_registers_traders_assigns_and_reads_the_result(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    # yesterday in Milan: its cut-off has passed whenever the test runs
    day = (datetime.now(ZoneInfo("Europe/Rome")) - timedelta(days=1)).date().isoformat()
    problems: list[str] = []
    phone = await browser.new_context(**PHONE)
    page = await phone.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(seeded.gateway + "/operator")
    await log_in_by_labels(page, f"operator-{MARKET}", "operator-demo")

    screen = page.get_by_role("region", name="Spunta del giorno")
    await expect(screen).to_be_visible(timeout=15_000)
    await expect(screen.get_by_text("non è ancora stata assegnata")).to_be_visible(timeout=10_000)
    await screen.get_by_label("Giorno").fill(day)
    await screen.get_by_label("Giorno").dispatch_event("change")

    trader = screen.get_by_label("Ambulante presente (nome utente)")
    present = screen.get_by_role("list", name="Presenti, in ordine di arrivo")
    for name in TRADERS:
        await trader.focus()
        await page.keyboard.type(name)
        await page.keyboard.press("Enter")  # the form submits from the keyboard
        await expect(present.get_by_role("listitem").filter(has_text=name)).to_be_visible(timeout=5_000)
        await expect(trader).to_be_focused()
        await expect(trader).to_have_value("")
    await expect(page.get_by_test_id("spunta-message")).to_contain_text("spuntista-bruno")

    assign = screen.get_by_role("button", name="Assegna i banchi")
    await assign.focus()
    await page.keyboard.press("Enter")
    table = screen.get_by_role("table")
    await expect(table).to_be_visible(timeout=10_000)
    rows = table.get_by_role("row")
    await expect(rows).to_have_count(1 + len(TRADERS))
    assert await table.get_by_role("columnheader").all_inner_texts() == ["Ambulante", "Banco"]
    for name in TRADERS:
        await expect(rows.filter(has_text=name)).to_have_count(1)
    await expect(assign).to_be_disabled()
    await expect(page.get_by_test_id("spunta-message")).to_contain_text("Spunta assegnata: 2 banchi")

    # what the page shows is what the API stored
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=10) as api:
        stored = (await api.get(f"/markets/{MARKET}/spunta/{day}")).json()
    shown = {
        await row.get_by_role("cell").nth(0).inner_text(): await row.get_by_role("cell").nth(1).inner_text()
        for row in await table.get_by_role("row").filter(has=page.get_by_role("cell")).all()
    }
    assert shown == {a["trader"]: a["stall"] for a in stored["assignments"]} and set(shown) == set(TRADERS)

    # English: the screen's words switch; the reloaded day keeps its result
    await page.get_by_test_id("lang-en").click()
    english = page.get_by_role("region", name="Daily spunta")
    await expect(english).to_be_visible()
    await expect(english.get_by_role("table").get_by_role("columnheader").first).to_have_text("Trader")
    await expect(english.get_by_role("button", name="Assign the stalls")).to_be_disabled()
    await phone.close()
    assert not problems, problems
