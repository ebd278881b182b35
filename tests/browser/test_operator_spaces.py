"""The spaces screen of the operators' page in a real browser, on a phone, on the whole seeded platform.

The office adds a space to the operator's market and books an afternoon in it (through the API).
The market's operator, on a phone, goes to the Spazi screen, sees that booking, is refused a slot
overlapping it with the booking named in words, books the next slot, sees it in the list and
cancels it, which asks first (Escape and "No" keep it); the API holds the same. A trader uses the
same page for the spaces only.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devkit.testing import Platform

from .conftest import (
    MARKET,
    MILAN,
    PHONE_IT,
    TRADER_PASSWORD,
    add_space,
    assert_accessible,
    book_in_form,
    book_space,
    expect_collision,
    fill_form,
    italian_period,
    keep_screenshot,
    log_in,
    new_trader,
    office_headers,
    wall_time,
    watch_console,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_an_operator_books_a_slot_on_the_phone_and_is_told_what_it_collides_with(
    seeded: Platform, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    day = datetime.now(MILAN).date() + timedelta(days=2)
    afternoon = datetime(day.year, day.month, day.day, 15, 0, tzinfo=MILAN)
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        office = await office_headers(api)
        code = await add_space(api, office, MARKET, "Piazzetta coperta", 60)
        await book_space(api, office, MARKET, code, "Mercatino del baratto", afternoon, public=True)

        problems: list[str] = []
        phone = await browser.new_context(**PHONE_IT)
        page = await phone.new_page()
        watch_console(page, problems)
        await page.goto(seeded.gateway + "/operator")
        await log_in(page, f"operator-{MARKET}", "operator-demo")

        # From the page's screen links to the Spazi screen, then the space's bookings.
        await page.get_by_role("navigation", name="Schermate della pagina").get_by_role("link", name="Spazi").click()
        screen = page.get_by_role("region", name="Spazi sociali e culturali")
        await expect(screen.get_by_test_id("space-form")).to_be_hidden()  # only the office adds spaces
        await screen.get_by_role("button", name="Prenotazioni di Piazzetta coperta").click(timeout=15_000)
        await expect(screen.get_by_role("heading", name="Prenotazioni di Piazzetta coperta")).to_be_focused()
        bookings = screen.get_by_test_id("bookings-table")
        existing = bookings.get_by_role("row").filter(has_text="Mercatino del baratto")
        await expect(existing).to_contain_text(italian_period(afternoon, afternoon + timedelta(hours=2)))
        # the office's booking is not the operator's to cancel... but the market's operators may
        await expect(
            existing.get_by_role("button", name="Annulla la prenotazione «Mercatino del baratto»")
        ).to_be_visible()

        # A slot overlapping it: refused, with the booking it collides with said in words.
        form = screen.get_by_test_id("booking-form")
        await book_in_form(
            form,
            "Laboratorio di riparazioni",
            "Repair Café Wagner",
            afternoon + timedelta(hours=1),
            afternoon + timedelta(hours=3),
        )
        collision = await expect_collision(
            screen,
            "Periodo già occupato. Si sovrappone alla prenotazione «Mercatino del baratto» di Comitato di quartiere, "
            f"{italian_period(afternoon, afternoon + timedelta(hours=2))} (prenotata da office).",
        )
        # said once, in the box: the message bar under the button does not repeat it
        await expect(page.get_by_test_id("spaces-message")).to_have_text("")
        await collision.evaluate("box => box.scrollIntoView({ block: 'center' })")
        keep_screenshot(await page.screenshot(), "operator-spaces.png", tmp_path)
        await assert_accessible(page, "/operator (it, the spaces screen with a refused booking)")

        # The slot right after it is free: a booking may start when the other ends.
        start = afternoon + timedelta(hours=2)
        await fill_form(form, {"Inizio": wall_time(start), "Fine": wall_time(start + timedelta(hours=2))})
        await form.get_by_role("button", name="Prenota").click()
        await expect(page.get_by_test_id("spaces-message")).to_have_text(
            f"Prenotato: «Laboratorio di riparazioni», {italian_period(start, start + timedelta(hours=2))}.",
            timeout=10_000,
        )
        await expect(collision).to_be_hidden()
        mine = bookings.get_by_role("row").filter(has_text="Laboratorio di riparazioni")
        await expect(mine).to_contain_text(f"operator-{MARKET}")
        await expect(mine).to_contain_text("Privato")
        stored = (await api.get(f"/markets/{MARKET}/spaces/{code}/bookings", headers=office)).json()["items"]
        assert [(b["title"], b["booked_by"], b["public"]) for b in stored] == [
            ("Mercatino del baratto", "office", True),
            ("Laboratorio di riparazioni", f"operator-{MARKET}", False),
        ]
        assert datetime.fromisoformat(stored[1]["starts_at"]) == start

        # Cancelling asks first: the question under the booking takes the focus; Escape keeps the
        # booking and gives the focus back to its button, which says whether the question is open.
        cancel = mine.get_by_role("button", name="Annulla la prenotazione «Laboratorio di riparazioni»")
        await expect(cancel).to_have_attribute("aria-expanded", "false")
        await cancel.tap()
        question = screen.get_by_role(
            "group", name=re.compile("^Annullare la prenotazione «Laboratorio di riparazioni»")
        )
        await expect(question).to_contain_text(
            "Annullare la prenotazione «Laboratorio di riparazioni» di Repair Café Wagner, "
            f"{italian_period(start, start + timedelta(hours=2))}? Il periodo torna libero per altri."
        )
        confirm = question.get_by_role("button", name="Sì, annulla la prenotazione")
        await expect(confirm).to_be_focused()
        await expect(cancel).to_have_attribute("aria-expanded", "true")
        await assert_accessible(page, "/operator (it, a booking's cancellation to confirm)")
        await page.keyboard.press("Escape")
        await expect(question).to_have_count(0)
        await expect(cancel).to_be_focused()
        await expect(cancel).to_have_attribute("aria-expanded", "false")
        stored = (await api.get(f"/markets/{MARKET}/spaces/{code}/bookings", headers=office)).json()["items"]
        assert len(stored) == 2  # nothing was cancelled
        # "No, tienila" keeps it too
        await cancel.tap()
        await question.get_by_role("button", name="No, tienila").tap()
        await expect(question).to_have_count(0)
        await expect(cancel).to_be_focused()

        # Cancelled from the phone, once confirmed: gone from the list and from the API's live bookings.
        await cancel.tap()
        await confirm.tap()
        await expect(page.get_by_test_id("spaces-message")).to_contain_text("annullata", timeout=10_000)
        await expect(mine).to_have_count(0)
        stored = (await api.get(f"/markets/{MARKET}/spaces/{code}/bookings", headers=office)).json()["items"]
        assert [b["title"] for b in stored] == ["Mercatino del baratto"]

        # English: the screen's words switch, the bookings stay
        await page.get_by_test_id("lang-en").click()
        english = page.get_by_role("region", name="Social and cultural spaces")
        await expect(english.get_by_role("heading", name="Bookings of Piazzetta coperta")).to_be_visible()
        await expect(english.get_by_role("button", name="Cancel the booking “Mercatino del baratto”")).to_be_visible()
        await assert_accessible(page, "/operator (en, the spaces screen)")
        await phone.close()
        assert not [p for p in problems if "Uncaught" in p], problems


async def test_a_trader_uses_the_operator_page_for_the_spaces_only(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        username = await new_trader(api, await office_headers(api), "ambulante")
    phone = await browser.new_context(**PHONE_IT)
    page = await phone.new_page()
    await page.goto(seeded.gateway + "/operator")
    await log_in(page, username, TRADER_PASSWORD)
    screen = page.get_by_role("region", name="Spazi sociali e culturali")
    await expect(screen).to_be_visible(timeout=15_000)
    await expect(page.get_by_test_id("role-notice")).to_be_hidden()
    await expect(page.get_by_test_id("stall-list")).to_be_hidden()
    await expect(page.get_by_test_id("spunta")).to_be_hidden()
    # a trader books at any market: the market can be chosen
    select = page.get_by_test_id("market-select")
    await expect(select).to_be_enabled()
    await select.select_option(MARKET)
    # the table names the market once: "Spazi di Mercato Comunale Coperto Wagner"
    await expect(screen.get_by_role("table", name=re.compile("^Spazi di Mercato .*Wagner$"))).to_be_visible(
        timeout=10_000
    )
    await phone.close()
