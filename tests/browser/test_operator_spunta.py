"""The operator's spunta screen in a real browser, on the whole seeded platform, from a phone.

A market operator registers the traders present yesterday with the keyboard only: an empty name
and a name that is no trader's account are refused by the field, a trader registered twice is said
to be there already; the day is assigned, its success said as one, and the result read as a table
headed by the day as people write it. A day after today cannot be chosen; a day assigned meanwhile
refuses a registration with its date in words; the English switch translates the screen.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.testing import Platform

from .conftest import MARKET, PHONE, log_in_by_labels, new_trader, office_headers

pytestmark = [pytest.mark.browser, pytest.mark.integration]

MILAN = ZoneInfo("Europe/Rome")
MONTHS_IT = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre")
MONTHS_IT += ("ottobre", "novembre", "dicembre")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September")
MONTHS_EN += ("October", "November", "December")
# the colour a message takes for a success (app.css's --success), as the browser computes it
SUCCESS_COLOUR = """(el) => {
  const probe = document.createElement('span');
  probe.style.color = 'var(--success)';
  document.body.append(probe);
  const wanted = getComputedStyle(probe).color;
  probe.remove();
  return [getComputedStyle(el).color, wanted];
}"""


def milan_day(days_ago: int) -> date:
    return (datetime.now(MILAN) - timedelta(days=days_ago)).date()


async def open_spunta(seeded: Platform, browser: Any) -> tuple[Any, Any, Any, list[str]]:
    """The operator's page on a phone, signed in, its spunta screen shown: (context, page, screen, problems)."""
    from playwright.async_api import expect

    problems: list[str] = []
    phone = await browser.new_context(**PHONE)
    page = await phone.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(seeded.gateway + "/operator")
    await log_in_by_labels(page, f"operator-{MARKET}", "operator-demo")
    screen = page.get_by_role("region", name="Spunta del giorno")
    await expect(screen).to_be_visible(timeout=15_000)
    return phone, page, screen, problems


async def choose_day(screen: Any, day: date) -> None:
    await screen.get_by_label("Giorno").fill(day.isoformat())
    await screen.get_by_label("Giorno").dispatch_event("change")


async def test_operator_registers_traders_assigns_and_reads_the_result(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=10) as api:
        office = await office_headers(api)
        traders = [await new_trader(api, office, "spuntista-anna"), await new_trader(api, office, "spuntista-bruno")]
    # yesterday in Milan: its cut-off has passed whenever the test runs
    day = milan_day(1)
    phone, page, screen, problems = await open_spunta(seeded, browser)
    await expect(screen.get_by_text("non è ancora stata assegnata")).to_be_visible(timeout=10_000)
    await choose_day(screen, day)

    trader = screen.get_by_label("Ambulante presente (nome utente)")
    present = screen.get_by_role("list", name="Presenti, in ordine di arrivo")
    message = page.get_by_test_id("spunta-message")
    # nobody yet: a plain line, not a numbered item
    await expect(screen.get_by_test_id("spunta-none")).to_have_text("Nessun ambulante registrato.")
    await expect(present).to_be_hidden()
    assert await screen.get_by_test_id("spunta-none").evaluate("(el) => el.tagName") == "P"

    # the username field takes its line on a phone: its label on one line, the field wide
    label = await screen.get_by_text("Ambulante presente (nome utente)").bounding_box()
    field = await trader.bounding_box()
    assert label and field and label["height"] < 30 and field["width"] > 280, (label, field)

    # sent empty: the field is marked and says why
    await trader.focus()
    await page.keyboard.press("Enter")
    await expect(trader).to_have_attribute("aria-invalid", "true")
    await expect(screen.locator("#spunta-trader-error")).to_have_text("⚠ Scrivi il nome utente dell'ambulante.")
    await expect(trader).to_be_focused()

    # a name that is no trader's account is refused by the field, and nobody is registered
    await page.keyboard.type("nobody-xyz")
    await page.keyboard.press("Enter")
    await expect(screen.locator("#spunta-trader-error")).to_contain_text(
        re.compile("nessun ambulante ha il nome utente 'nobody-xyz'", re.IGNORECASE)
    )
    await expect(trader).to_have_attribute("aria-invalid", "true")
    await expect(trader).to_have_value("nobody-xyz")
    await expect(screen.get_by_test_id("spunta-none")).to_be_visible()
    await trader.fill("")

    for name in traders:
        await trader.focus()
        await page.keyboard.type(name)
        await page.keyboard.press("Enter")  # the form submits from the keyboard
        await expect(present.get_by_role("listitem").filter(has_text=name)).to_be_visible(timeout=5_000)
        await expect(trader).to_be_focused()
        await expect(trader).to_have_value("")
        await expect(trader).not_to_have_attribute("aria-invalid", "true")
    await expect(message).to_have_text(f"Presenza registrata: {traders[1]}.")
    # the same trader again: said to be there already, listed once
    await page.keyboard.type(traders[0].upper())
    await page.keyboard.press("Enter")
    await expect(message).to_contain_text(f"{traders[0]} era già registrato per questo giorno (dalle ")
    await expect(present.get_by_role("listitem")).to_have_count(2)
    await expect(screen.get_by_test_id("spunta-none")).to_be_hidden()

    assign = screen.get_by_role("button", name="Assegna i banchi")
    await assign.focus()
    await page.keyboard.press("Enter")
    table = screen.get_by_role("table")
    await expect(table).to_be_visible(timeout=10_000)
    rows = table.get_by_role("row")
    await expect(rows).to_have_count(1 + len(traders))
    assert await table.get_by_role("columnheader").all_inner_texts() == ["Ambulante", "Banco"]
    for name in traders:
        await expect(rows.filter(has_text=name)).to_have_count(1)
    await expect(assign).to_be_disabled()
    await expect(message).to_contain_text("Spunta assegnata: 2 banchi")
    await expect(message).to_have_attribute("data-kind", "success")
    shown, wanted = await message.evaluate(SUCCESS_COLOUR)
    assert shown == wanted, f"the success is shown in {shown}, not the success colour {wanted}"
    # the day as the page writes days, never ISO
    heading = screen.get_by_role("heading", name=re.compile("^Assegnazioni di "))
    await expect(heading).to_contain_text(f"{day.day} {MONTHS_IT[day.month - 1]} {day.year}")
    await expect(heading).not_to_contain_text(day.isoformat())

    # what the page shows is what the API stored; the made-up name is not among the present
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=10) as api:
        stored = (await api.get(f"/markets/{MARKET}/spunta/{day}")).json()
    shown_rows = {
        await row.get_by_role("cell").nth(0).inner_text(): await row.get_by_role("cell").nth(1).inner_text()
        for row in await table.get_by_role("row").filter(has=page.get_by_role("cell")).all()
    }
    assert shown_rows == {a["trader"]: a["stall"] for a in stored["assignments"]} and set(shown_rows) == set(traders)
    assert "nobody-xyz" not in stored["unassigned"]

    # English: the screen's words switch; the reloaded day keeps its result
    await page.get_by_test_id("lang-en").click()
    english = page.get_by_role("region", name="Daily spunta")
    await expect(english).to_be_visible()
    await expect(english.get_by_role("table").get_by_role("columnheader").first).to_have_text("Trader")
    english_heading = english.get_by_role("heading", name=re.compile("^Assignments for "))
    await expect(english_heading).to_contain_text(MONTHS_EN[day.month - 1])
    await expect(english_heading).to_contain_text(re.compile(rf"\b{day.day}\b.*{day.year}"))
    await expect(english.get_by_role("button", name="Assign the stalls")).to_be_disabled()
    await phone.close()
    assert not problems, problems


async def test_the_day_is_today_or_before_and_an_assigned_day_says_its_date(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    phone, page, screen, problems = await open_spunta(seeded, browser)
    picker = screen.get_by_label("Giorno")
    today, tomorrow = milan_day(0), milan_day(-1)
    await expect(picker).to_have_value(today.isoformat())
    await expect(picker).to_have_attribute("max", today.isoformat())

    # a day after today: refused by the field, nothing can be sent for it
    await choose_day(screen, tomorrow)
    await expect(picker).to_have_attribute("aria-invalid", "true")
    await expect(screen.locator("#spunta-date-error")).to_contain_text(
        "La spunta si fa il giorno stesso: scegli oggi ("
    )
    await expect(screen.get_by_role("button", name="Assegna i banchi")).to_be_disabled()
    await expect(screen.get_by_role("button", name="Registra presenza")).to_be_disabled()
    await expect(page.get_by_test_id("spunta-message")).to_have_text("")

    # a day assigned by someone else meanwhile: a registration is refused with the day in words
    day = milan_day(2)
    await choose_day(screen, day)
    await expect(picker).not_to_have_attribute("aria-invalid", "true")
    await expect(screen.get_by_role("button", name="Registra presenza")).to_be_enabled()
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=10) as api:
        office = await office_headers(api)
        trader = await new_trader(api, office, "spuntista-carla")
        assigned = await api.post(f"/markets/{MARKET}/spunta/{day}/assign", json={}, headers=office)
        assert assigned.status_code == 200, assigned.text
    await screen.get_by_label("Ambulante presente (nome utente)").fill(trader)
    await screen.get_by_role("button", name="Registra presenza").click()
    weekday = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")[day.weekday()]
    in_words = f"{weekday} {day.day} {MONTHS_IT[day.month - 1]} {day.year}"
    refusal = page.get_by_test_id("spunta-form-message")
    await expect(refusal).to_have_text(re.compile(f"^la spunta di {in_words} è già stata assegnata", re.IGNORECASE))
    await expect(refusal).not_to_contain_text(day.isoformat())
    await phone.close()
    assert not problems, problems
