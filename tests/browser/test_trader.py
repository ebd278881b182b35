"""The traders' page in a real browser, on the whole seeded platform, from a phone.

A trader account made by the office logs in at /trader, applies to an open call (a mistake is named
beside its field first; what the API stored is exactly what was typed), logs out and in again on
another phone and still finds the application (number, state, when sent), says they are present at
today's spunta (twice: the second time the page says so), sees the stall the operator's assignment
gave them, and after the committee's award finds its application marked in the published ranking.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.testing import Platform

from .conftest import (
    PHONE_IT,
    TRADER_PASSWORD,
    assert_accessible,
    free_stalls,
    keep_screenshot,
    log_in,
    new_trader,
    office_headers,
    watch_console,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

MILAN = ZoneInfo("Europe/Rome")
APPLICATION_WINDOW = timedelta(seconds=45)
CUTOFF_HOUR = 8  # the markets service's default spunta cut-off, Milan time
CLOSED_MARKET = "selinunte"  # a demo market closed for trading, its stalls all free
CRITERIA = [
    {"name": "offer", "weight": 70, "max_points": 100, "description": "Offerta economica"},
    {"name": "experience", "weight": 30, "max_points": 40, "description": "Anni nel settore"},
]


def sent_at(moment: str) -> str:
    """An API time as the page shows it to an Italian reader: Milan's day and minute."""
    return datetime.fromisoformat(moment).astimezone(MILAN).strftime("%d/%m/%Y, %H:%M")


async def test_a_trader_applies_to_a_call_is_present_at_the_spunta_and_reads_the_results(
    seeded: Platform, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        office = await office_headers(api)
        trader = await new_trader(api, office, "ambulante")
        market_id, market_name, free = await free_stalls(api, 2, from_end=True)
        first, second = free[:2]
        deadline = datetime.now(MILAN) + APPLICATION_WINDOW
        published = await api.post(
            f"/markets/{market_id}/calls",
            json={
                "title": "Box liberi per ambulanti",
                "stalls": [first, second],
                "criteria": CRITERIA,
                "deadline": deadline.isoformat(),
            },
            headers=office,
        )
        assert published.status_code == 201, published.text
        call_id = published.json()["id"]
        # a call at a market closed for trading (not one of the spunta's markets) still names its market
        closed_name = (await api.get(f"/markets/{CLOSED_MARKET}")).json()["name"]
        closed_stall = (await api.get(f"/markets/{CLOSED_MARKET}/stalls", params={"limit": 1})).json()["items"][0]
        elsewhere = await api.post(
            f"/markets/{CLOSED_MARKET}/calls",
            json={
                "title": "Ex mercato: box per laboratori",
                "stalls": [closed_stall["number"]],
                "criteria": CRITERIA,
                "deadline": (deadline + timedelta(days=30)).isoformat(),
            },
            headers=office,
        )
        assert elsewhere.status_code == 201, elsewhere.text

        problems: list[str] = []
        context = await browser.new_context(**PHONE_IT)
        page = await context.new_page()
        watch_console(page, problems)
        await page.goto(seeded.gateway + "/trader")
        await expect(page.get_by_test_id("register-link")).to_have_attribute("href", "/register?role=trader")
        await log_in(page, trader, TRADER_PASSWORD)
        # the page's section links take the focus to the section's heading
        sections = page.get_by_role("navigation", name="Sezioni")
        await sections.get_by_role("link", name="Spunta di oggi").click()
        await expect(page.get_by_role("heading", name="Spunta di oggi")).to_be_focused()
        await sections.get_by_role("link", name="Bandi aperti").click()
        await expect(page.get_by_role("heading", name="Bandi aperti")).to_be_focused()

        # The open call, with its market, stalls and criteria (maximum and weight).
        card = page.get_by_test_id(f"call-{call_id}")
        await expect(card).to_be_visible(timeout=15_000)
        await expect(card.get_by_test_id("call-market")).to_have_text(market_name)
        other_card = page.get_by_test_id(f"call-{elsewhere.json()['id']}")
        await expect(other_card.get_by_test_id("call-market")).to_have_text(closed_name)
        assert "Selinunte" in closed_name and closed_name != CLOSED_MARKET, closed_name
        criteria = card.get_by_role("table", name="Criteri pubblicati")
        await expect(criteria.get_by_role("row").filter(has_text="Offerta economica")).to_contain_text("70 (70 %)")
        await expect(criteria.get_by_role("row").filter(has_text="Anni nel settore")).to_contain_text("40")
        # each criterion by its description only, never its code name
        await expect(criteria.get_by_role("rowheader")).to_have_text(["Offerta economica", "Anni nel settore"])

        # A mistake first: no holder, a stall the call does not offer. Each is named beside its field.
        await card.get_by_role("button", name="Presenta domanda: Box liberi per ambulanti").click()
        form = card.get_by_test_id("apply-form")
        await expect(form.get_by_label("Ragione sociale del titolare")).to_be_focused()
        # the required fields are marked as in every form of the platform
        await expect(form.get_by_text("I campi con * sono obbligatori.")).to_be_visible()
        await expect(form.locator("label[for=apply-holder]")).to_have_text("Ragione sociale del titolare *")
        await expect(form.locator("label[for=apply-category]")).to_have_text("Uso proposto *")
        await expect(form.locator("label[for=apply-stalls]")).to_have_text("Banchi preferiti, in ordine (facoltativo)")
        await form.get_by_label("Banchi preferiti, in ordine (facoltativo)").fill(f"{second}, 999")
        await form.get_by_role("button", name="Invia la domanda").click()
        holder = form.get_by_label("Ragione sociale del titolare")
        await expect(holder).to_be_focused()
        await expect(holder).to_have_attribute("aria-invalid", "true")
        await expect(form.locator("#apply-holder-error")).to_have_text("⚠ Campo obbligatorio.")
        await expect(form.locator("#apply-stalls-error")).to_have_text(
            f"⚠ Non sono banchi di questo bando: 999. Banchi offerti: {first}, {second}."
        )
        await assert_accessible(page, "/trader (it, an application with mistakes)")

        # Corrected and sent: the number and state come back, and the API holds exactly what was typed.
        await holder.fill("Frutta e Verdura Esposito")
        await form.get_by_label("Uso proposto").select_option("food")
        await form.get_by_label("Banchi preferiti, in ordine (facoltativo)").fill(f"{second}, {first}")
        await form.get_by_label("Offerta", exact=True).fill(
            "Frutta di stagione da produttori lombardi, aperto anche il sabato pomeriggio."
        )
        await form.get_by_label("Offerta economica").fill("1200 euro l'anno")
        await form.get_by_label("Anni nel settore").fill("14")
        await form.get_by_role("button", name="Invia la domanda").click()
        applied = card.get_by_test_id(f"applied-{call_id}")
        await expect(applied).to_be_focused()
        await expect(applied.get_by_test_id("application-state")).to_contain_text("Stato: ricevuta.")
        stored = (await api.get(f"/calls/{call_id}/applications", headers=office)).json()["items"]
        mine = [a for a in stored if a["applicant"] == trader]
        assert len(mine) == 1, stored
        application = mine[0]
        assert {k: application[k] for k in ("holder", "category", "stalls", "offer", "declarations", "filed_by")} == {
            "holder": "Frutta e Verdura Esposito",
            "category": "food",
            "stalls": [second, first],
            "offer": "Frutta di stagione da produttori lombardi, aperto anche il sabato pomeriggio.",
            "declarations": {"offer": "1200 euro l'anno", "experience": "14"},
            "filed_by": trader,
        }
        await expect(applied).to_contain_text(f"Domanda {application['id']} presentata")
        await expect(card.get_by_role("button", name="Presenta domanda: Box liberi per ambulanti")).to_have_count(0)

        # Logged out, then in again on another phone: the application is still shown, whole.
        await page.get_by_test_id("logout").click()
        await expect(page.get_by_test_id("login-submit")).to_be_visible()
        await context.close()
        context = await browser.new_context(**PHONE_IT)
        page = await context.new_page()
        watch_console(page, problems)
        await page.goto(seeded.gateway + "/trader")
        await log_in(page, trader, TRADER_PASSWORD)
        card = page.get_by_test_id(f"call-{call_id}")
        applied = card.get_by_test_id(f"applied-{call_id}")
        await expect(applied).to_contain_text(
            f"Domanda {application['id']} presentata il {sent_at(application['submitted_at'])} "
            f"per Frutta e Verdura Esposito; banchi preferiti: {second}, {first}.",
            timeout=15_000,
        )
        await expect(applied.get_by_test_id("application-state")).to_contain_text("Stato: ricevuta.")
        await expect(card.get_by_role("button", name="Presenta domanda: Box liberi per ambulanti")).to_have_count(0)

        # Today's spunta at that market: present, then present again.
        spunta = page.get_by_role("region", name="Spunta di oggi")
        await spunta.get_by_label("Mercato").select_option(market_id)
        await expect(spunta.get_by_test_id("today-presences")).to_have_text(
            "Nessuna presenza registrata alla spunta di questo mercato."
        )
        await spunta.get_by_role("button", name="Sono presente").click()
        await expect(spunta.get_by_test_id("today-message")).to_contain_text("Presenza registrata per oggi alle")
        # the line under the button agrees: today's presence counts once the day is assigned
        await expect(spunta.get_by_test_id("today-presences")).to_have_text(
            "La tua prima presenza alla spunta di questo mercato è registrata oggi: "
            "si conta quando la spunta è assegnata."
        )
        await spunta.get_by_role("button", name="Sono presente").click()
        await expect(spunta.get_by_test_id("today-message")).to_contain_text("Eri già registrato per oggi")
        today = datetime.now(MILAN).date().isoformat()
        candidates = (await api.get(f"/markets/{market_id}/spunta/{today}/candidates", headers=office)).json()
        assert [c["trader"] for c in candidates].count(trader) == 1, candidates
        await expect(spunta.get_by_test_id("today-result")).to_contain_text("non è ancora stata assegnata")

        # The office assigns the day (after the market's cut-off); the trader sees the stall they got.
        before_cutoff = datetime.now(MILAN).hour < CUTOFF_HOUR
        if not before_cutoff:
            assigned = await api.post(f"/markets/{market_id}/spunta/{today}/assign", json={}, headers=office)
            assert assigned.status_code == 200, assigned.text
            got = {a["trader"]: a["stall"] for a in assigned.json()["assignments"]}
            assert trader in got, assigned.json()
            await spunta.get_by_role("button", name="Aggiorna").click()
            await expect(spunta.get_by_test_id("today-outcome")).to_have_text(f"Oggi hai il banco {got[trader]}.")
            own = spunta.get_by_role("row").filter(has_text=trader)
            await expect(own).to_have_attribute("aria-current", "true")
            await expect(spunta.get_by_test_id("today-presences")).to_contain_text(
                "presenze alla spunta di questo mercato: 1 ("
            )

        # After the deadline the committee scores and the office awards; the ranking marks the trader's application.
        await page.wait_for_timeout(max(0, (deadline - datetime.now(MILAN)).total_seconds() * 1000 + 1500))
        evaluation = {
            "application": application["id"],
            "scores": {"offer": 80, "experience": 30},
            "reasons": {"offer": "canone sopra la base", "experience": "quattordici anni documentati"},
        }
        scored = await api.post(f"/calls/{call_id}/evaluations", json=evaluation, headers=office)
        assert scored.status_code == 201, scored.text
        awarded = await api.post(f"/calls/{call_id}/award", headers=office)
        assert awarded.status_code == 200, awarded.text
        await spunta.get_by_role("button", name="Aggiorna").click()
        ranked = page.get_by_test_id(f"ranked-{call_id}")
        await ranked.get_by_role("button", name="Vedi la graduatoria").click()
        row = ranked.get_by_test_id(f"ranking-row-{application['id']}")
        await expect(row).to_have_attribute("aria-current", "true")
        await expect(row).to_contain_text("(la tua)")
        await expect(row).to_contain_text("canone sopra la base")
        await expect(row).to_contain_text("Offerta economica: 80 su 100")
        await expect(row).not_to_contain_text("(offer)")
        await expect(ranked.get_by_test_id("own-standing")).to_have_text(
            f"La tua domanda {application['id']}: 1° posto, 78,5 punti — Assegnato, banco {second}."
        )
        headings = await ranked.get_by_role("columnheader").all_inner_texts()
        assert "Titolare" not in " ".join(headings), "no names in a trader's ranking"
        await assert_accessible(page, "/trader (it, the spunta's result and a ranking)")
        await page.evaluate("window.scrollTo(0, 0)")
        keep_screenshot(await page.screenshot(full_page=True), "trader.png", tmp_path)
        await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems
    if before_cutoff:
        pytest.skip(f"ran before the spunta's cut-off ({CUTOFF_HOUR}:00 in Milan): today's assignment was not shown")
