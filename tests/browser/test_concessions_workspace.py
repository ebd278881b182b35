"""The office's "Concessioni e spazi" section in a real browser, on the whole seeded platform.

The test gives a vacant stall of a demo market a concession held by a trader (through the API, as
the office assigns stalls), then the office finds it among the concessions ending soon, renews it,
transfers it to another trader's account and revokes it with a reason, each form checking itself
first and showing the service's refusals next to the field they name. Below, the office adds a
social space to the market, books it, and is refused an overlapping booking with the booking it
collides with named on the page. Every result is read back through the API.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devkit.testing import Platform, unique

from .conftest import (
    MILAN,
    OpenPage,
    assert_accessible,
    book_in_form,
    expect_collision,
    free_stalls,
    italian_period,
    keep_screenshot,
    new_trader,
    office_headers,
    open_section,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(600)]

MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
          "ottobre", "novembre", "dicembre")  # fmt: skip


def italian_day(day: date) -> str:
    """A day as an Italian reader writes it in a table: '31 marzo 2027' (the weekday left aside)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


async def test_office_renews_transfers_and_revokes_a_concession(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    today = datetime.now(MILAN).date()
    end = today + timedelta(days=40)
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        office = await office_headers(api)
        market_id, market_name, free = await free_stalls(api, 1, from_end=True)
        number = free[-1]
        anna, bruno = await new_trader(api, office, "anna"), await new_trader(api, office, "bruno")
        holder = f"Frutta Anna {unique('s')[-4:]}"
        assigned = await api.post(
            f"/markets/{market_id}/stalls/{number}/assignment",
            json={
                "holder": holder,
                "category": "food",
                "start": today.isoformat(),
                "end": end.isoformat(),
                "trader": anna,
            },
            headers=office,
        )
        assert assigned.status_code == 200, assigned.text
        concession_id = assigned.json()["concession"]["id"]

        view = await office_page()
        page = view.page
        # The accounts (and with them the markets' names) are held back until the office has
        # chosen a state: a choice made before they arrive stays chosen when they do.
        accounts_may_come = asyncio.Event()

        async def later(route: Any) -> None:
            await accounts_may_come.wait()
            await route.continue_()

        await page.route("**/api/v1/users?*", later)
        await open_section(page, "Concessioni e spazi", "Concessioni dei banchi")

        # The filter checks itself: "ending within" applies to active concessions only.
        days = page.get_by_label("In scadenza entro (giorni)")
        await expect(days).to_have_value("90")
        await page.get_by_test_id("concessions-state").select_option(label="Revocata")
        accounts_may_come.set()
        await expect(page.get_by_test_id("concessions-market").locator(f"option[value='{market_id}']")).to_have_count(1)
        await page.unroute("**/api/v1/users?*")
        await expect(page.get_by_test_id("concessions-state")).to_have_value("revoked")
        await page.get_by_role("button", name="Filtra").click()
        await expect(days).to_be_focused()
        await expect(days).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#concessions-days-error")).to_contain_text("solo per le concessioni attive")

        # The market's active concessions ending within 90 days: this one is there, as the API has it.
        await page.get_by_test_id("concessions-market").select_option(market_id)
        await page.get_by_test_id("concessions-state").select_option(label="Attiva")
        await page.get_by_role("button", name="Filtra").click()
        row = page.get_by_test_id(f"concession-row-{concession_id}")
        await expect(row).to_be_visible(timeout=10_000)
        await expect(days).not_to_have_attribute("aria-invalid", "true")
        await expect(row).to_contain_text(holder)
        await expect(row).to_contain_text(anna)
        await expect(row).to_contain_text(f"Banco {number}, {market_name}")
        await expect(row.locator("td").nth(3)).to_contain_text(italian_day(end))
        await expect(row.get_by_test_id(f"concession-state-{concession_id}")).to_have_text("Attiva")

        await row.get_by_role(
            "button", name=f"Gestisci la concessione di {holder}, banco {number} di {market_name}"
        ).click()
        detail = page.get_by_test_id("concession-detail")
        await expect(page.get_by_test_id("concession-title")).to_be_focused()

        # Renew: empty, then a day not after the current end, then a good one.
        renew = detail.get_by_test_id("concession-renew")
        new_end = end + timedelta(days=365)
        await renew.get_by_role("button", name="Rinnova la concessione").click()
        await expect(renew.get_by_label("Nuovo ultimo giorno")).to_have_attribute("aria-invalid", "true")
        await expect(renew.locator("#renew-end-error")).to_have_text("⚠ Campo obbligatorio.")
        await renew.get_by_label("Nuovo ultimo giorno").fill(end.isoformat())
        await renew.get_by_role("button", name="Rinnova la concessione").click()
        await expect(renew.locator("#renew-end-error")).to_contain_text("deve venire dopo")
        await assert_accessible(page, "/#concessioni (it, a concession with a refused renewal)")
        await renew.get_by_label("Nuovo ultimo giorno").fill(new_end.isoformat())
        await renew.get_by_role("button", name="Rinnova la concessione").click()
        await expect(page.get_by_test_id("concessions-message")).to_contain_text(
            f"Concessione di {holder} rinnovata fino a", timeout=10_000
        )
        await expect(page.get_by_test_id("concessions-message")).to_contain_text(italian_day(new_end))
        record = (await api.get(f"/concessions/{concession_id}", headers=office)).json()
        assert (record["end"], record["state"], record["trader"]) == (new_end.isoformat(), "active", anna)
        await expect(detail.get_by_test_id("concession-facts")).to_contain_text(italian_day(new_end))
        # renewed for a year, it no longer ends within 90 days: the list of those ending soon drops it
        await expect(row).to_have_count(0)
        await days.fill("")
        await page.get_by_role("button", name="Filtra").click()
        await expect(row.locator("td").nth(3)).to_contain_text(italian_day(new_end))
        keep_screenshot(await page.screenshot(full_page=True), "concessions.png", tmp_path)

        # Transfer: a trader must be chosen; a holder the service refuses is shown next to its field.
        transfer = detail.get_by_test_id("concession-transfer")
        await transfer.get_by_role("button", name="Trasferisci la concessione").click()
        await expect(transfer.locator("#transfer-trader-error")).to_have_text(
            "⚠ Scegli l'ambulante che riceve la concessione."
        )
        trader_choice = transfer.get_by_label("Ambulante (account)")
        assert anna not in await trader_choice.locator("option").all_inner_texts(), "the current trader is not offered"
        await trader_choice.select_option(bruno)
        holder_field = transfer.get_by_label("Nuovo titolare (impresa)")
        await holder_field.evaluate("input => input.removeAttribute('maxlength')")
        await holder_field.fill("Formaggi " * 30)
        await transfer.get_by_role("button", name="Trasferisci la concessione").click()
        await expect(holder_field).to_be_focused(timeout=10_000)
        await expect(holder_field).to_have_attribute("aria-invalid", "true")
        await expect(transfer.locator("#transfer-holder-error")).to_contain_text("200 caratteri")
        assert (await api.get(f"/concessions/{concession_id}", headers=office)).json()["trader"] == anna
        await holder_field.fill("Formaggi Bruno")
        await transfer.get_by_role("button", name="Trasferisci la concessione").click()
        await expect(page.get_by_test_id("concessions-message")).to_have_text(
            f"Concessione trasferita a {bruno} (titolare Formaggi Bruno).", timeout=10_000
        )
        record = (await api.get(f"/concessions/{concession_id}", headers=office)).json()
        assert (record["trader"], record["holder"], record["end"]) == (bruno, "Formaggi Bruno", new_end.isoformat())
        await expect(row).to_contain_text(bruno)

        # Revoke: a reason is required, then a confirmation; Escape steps back without revoking.
        revoke = detail.get_by_test_id("concession-revoke")
        await revoke.get_by_role("button", name="Revoca…").click()
        await expect(revoke.locator("#revoke-reason-error")).to_have_text("⚠ Scrivi perché la concessione è revocata.")
        await revoke.get_by_label("Motivazione").fill("Canoni non pagati da sei mesi")
        await revoke.get_by_role("button", name="Revoca…").click()
        confirm = detail.get_by_test_id("revoke-confirm")
        await expect(confirm).to_contain_text(f"Revocare la concessione di Formaggi Bruno? Il banco {number}")
        await expect(confirm.get_by_role("button", name="Sì, revoca")).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(confirm).to_be_hidden()
        await expect(revoke.get_by_label("Motivazione")).to_be_focused()
        await expect(revoke.get_by_label("Motivazione")).to_have_value("Canoni non pagati da sei mesi")
        assert (await api.get(f"/concessions/{concession_id}", headers=office)).json()["state"] == "active"
        await revoke.get_by_role("button", name="Revoca…").click()
        await detail.get_by_role("button", name="Sì, revoca").click()
        await expect(page.get_by_test_id("concessions-message")).to_have_text(
            f"Concessione di Formaggi Bruno revocata: il banco {number} è libero.", timeout=10_000
        )
        await expect(detail.get_by_test_id("concession-facts")).to_contain_text("Revocata")
        await expect(detail.get_by_test_id("concession-facts")).to_contain_text("Canoni non pagati da sei mesi")
        await expect(detail.get_by_role("button", name="Revoca…")).to_have_count(0)
        # the list of active ones no longer has it
        await expect(row).to_have_count(0)

        record = (await api.get(f"/concessions/{concession_id}", headers=office)).json()
        assert (record["state"], record["reason"]) == ("revoked", "Canoni non pagati da sei mesi")
        stall = (await api.get(f"/markets/{market_id}/stalls/{number}")).json()
        assert stall["holder"] is None and stall["status"] == "vacant"
        assert not view.uncaught(), view.problems


async def test_office_adds_a_space_books_it_and_is_refused_an_overlap_naming_the_booking(
    seeded: Platform, office_page: OpenPage
) -> None:
    from playwright.async_api import expect

    code = unique("sala")
    day = datetime.now(MILAN).date() + timedelta(days=3)
    start = datetime(day.year, day.month, day.day, 18, 0, tzinfo=MILAN)
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        office = await office_headers(api)
        market_id, market_name, _ = await free_stalls(api, 1, from_end=True)
        view = await office_page("/#concessioni")
        page = view.page
        panel = page.get_by_test_id("spaces")
        await panel.get_by_label("Mercato", exact=True).select_option(market_id)
        await expect(panel.get_by_role("table", name=f"Spazi di {market_name}")).to_be_visible(timeout=10_000)

        # A new space: the code is checked first, then created.
        form = panel.get_by_test_id("space-form")
        await form.get_by_label("Codice").fill("Sala Grande")
        await form.get_by_test_id("space-name").fill("Sala del quartiere")
        await form.get_by_label("Capienza (persone)").fill("40")
        await form.get_by_role("button", name="Aggiungi lo spazio").click()
        await expect(form.get_by_label("Codice")).to_have_attribute("aria-invalid", "true")
        await form.get_by_label("Codice").fill(code)
        await form.get_by_role("button", name="Aggiungi lo spazio").click()
        await expect(page.get_by_test_id("spaces-message")).to_have_text("Spazio «Sala del quartiere» aggiunto.")
        await expect(panel.get_by_role("heading", name="Prenotazioni di Sala del quartiere")).to_be_focused()
        spaces = (await api.get(f"/markets/{market_id}/spaces")).json()
        assert {"code": code, "name": "Sala del quartiere", "capacity": 40}.items() <= next(
            s for s in spaces if s["code"] == code
        ).items()

        # A booking, then one overlapping it: refused, the first one named in words.
        booking = panel.get_by_test_id("booking-form")
        await book_in_form(
            booking, "Corso di cucina", "Associazione Ortica", start, start + timedelta(hours=2), public=True
        )
        await expect(page.get_by_test_id("spaces-message")).to_have_text(
            f"Prenotato: «Corso di cucina», {italian_period(start, start + timedelta(hours=2))}.", timeout=10_000
        )
        table = panel.get_by_test_id("bookings-table")
        await expect(table.get_by_role("row").filter(has_text="Corso di cucina")).to_contain_text(
            "Pubblico (in agenda)"
        )

        await book_in_form(
            booking, "Prove del coro", "Coro di Lorenteggio", start + timedelta(hours=1), start + timedelta(hours=3)
        )
        await expect_collision(
            panel,
            "Si sovrappone alla prenotazione «Corso di cucina» di Associazione Ortica, "
            f"{italian_period(start, start + timedelta(hours=2))} (prenotata da office).",
        )
        await expect(booking.get_by_label("Inizio")).to_have_attribute("aria-invalid", "true")
        await assert_accessible(page, "/#concessioni (it, a space with a refused booking)")
        stored = (await api.get(f"/markets/{market_id}/spaces/{code}/bookings", headers=office)).json()["items"]
        assert [b["title"] for b in stored] == ["Corso di cucina"]

        # Cancelled once confirmed, the period is free again.
        await table.get_by_role("button", name="Annulla la prenotazione «Corso di cucina»").click()
        question = table.get_by_role("group", name=re.compile("^Annullare la prenotazione «Corso di cucina»"))
        await expect(question.get_by_role("button", name="Sì, annulla la prenotazione")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("spaces-message")).to_contain_text("Prenotazione «Corso di cucina» annullata")
        await expect(table).to_contain_text("Nessuna prenotazione in questi giorni.")
        stored = (await api.get(f"/markets/{market_id}/spaces/{code}/bookings", headers=office)).json()["items"]
        assert stored == []
        assert not view.uncaught(), view.problems
