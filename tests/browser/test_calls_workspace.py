"""The office's calls (bandi) section in a real browser, on the whole seeded platform.

The office publishes a call for a vacant stall of a demo market from the dashboard, two traders
(accounts the office creates through the API) apply through the API, and the office scores both
in the page, with a reason for every criterion, reads the history and the live ranking, is refused
the award while an application is unscored, and awards. What the page showed is then checked
against the API: the stall belongs to the winner. Screenshots of the section are taken on a phone
and on a desktop.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.testing import Platform

from .conftest import (
    TRADER_PASSWORD,
    OpenPage,
    assert_accessible,
    free_stalls,
    keep_screenshot,
    new_trader,
    office_headers,
    open_section,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

MILAN = ZoneInfo("Europe/Rome")
# the call takes applications for this long after the office publishes it; the award waits for it
APPLICATION_WINDOW = timedelta(seconds=75)
CRITERIA = (  # the form's own proposal: name, maximum
    ("offer", 100),
    ("social_value", 10),
    ("innovation", 10),
    ("experience", 40),
)


async def _trader(api: httpx.AsyncClient, office: dict[str, str], name: str) -> dict[str, str]:
    username = await new_trader(api, office, name)
    login = await api.post("/auth/token", data={"username": username, "password": TRADER_PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}", "X-Username": username}


async def _score(page: Any, card: Any, scores: dict[str, tuple[float, str]]) -> None:
    """Fill the open scoring form of ``card`` from the keyboard (score, Tab, reason) and send it with Enter."""
    form = card.locator("form.score-form")
    for name, _max in CRITERIA:
        value, reason = scores[name]
        await form.locator(f'[data-criterion="{name}"]').focus()
        await page.keyboard.press("Control+A")
        await page.keyboard.type(str(value))
        await page.keyboard.press("Tab")
        await page.keyboard.press("Control+A")
        await page.keyboard.type(reason)
    await form.locator(f'[data-criterion="{CRITERIA[0][0]}"]').focus()
    await page.keyboard.press("Enter")


async def test_office_publishes_scores_and_awards_a_call(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        office = await office_headers(api)
        market_id, market_name, free = await free_stalls(api, 2)
        stall, other_stall = free[:2]
        anna, bruno = await _trader(api, office, "anna"), await _trader(api, office, "bruno")

        desktop = await office_page()
        page, problems = desktop.page, desktop.problems

        # The section is one link away, from the keyboard; focus lands on its heading.
        await open_section(page, "Bandi", "Bandi per i banchi liberi")
        await page.locator("#calls-view").get_by_label("Mercato", exact=True).select_option(market_id)
        await expect(page.get_by_role("table", name=f"Bandi del mercato {market_name}")).to_be_visible()

        # A new call: the form checks itself first, each message next to its field.
        await page.get_by_role("button", name="Nuovo bando").click()
        form = page.get_by_test_id("call-form")
        await expect(form.get_by_label("Titolo")).to_be_focused()
        await form.get_by_label("Nome", exact=True).first.fill("Offerta")
        await page.get_by_role("button", name="Pubblica il bando").click()
        await expect(form.get_by_label("Titolo")).to_be_focused()
        await expect(form.get_by_label("Titolo")).to_have_attribute("aria-invalid", "true")
        await expect(form.locator("#call-title-error")).to_have_text("⚠ Campo obbligatorio.")
        await expect(form.locator("#call-stalls-error")).to_have_text("⚠ Scegli almeno un banco libero.")
        await expect(form.locator("#criterion-0-name-error")).to_contain_text("lettere minuscole")
        await expect(form.locator("#call-deadline-error")).to_have_text("⚠ Campo obbligatorio.")
        # said once, in the form: the section's message bar does not repeat it
        await expect(form.locator("#call-form-message")).to_have_text("Correggi i campi segnalati.")
        await expect(page.get_by_test_id("calls-message")).to_have_text("")

        title = f"Bando {market_name}: box {stall}"
        deadline = datetime.now(MILAN) + APPLICATION_WINDOW
        await form.get_by_label("Titolo").fill(title)
        await form.get_by_label("Nome", exact=True).first.fill("offer")
        await form.get_by_test_id(f"call-stall-{stall}").check()
        await form.get_by_test_id(f"call-stall-{other_stall}").check()
        await page.get_by_label("Scadenza delle domande (ora di Milano)").fill(deadline.strftime("%Y-%m-%dT%H:%M:%S"))
        await page.get_by_role("button", name="Pubblica il bando").click()
        await expect(page.get_by_test_id("calls-message")).to_contain_text(f"Bando «{title}» pubblicato")
        detail = page.get_by_test_id("call-detail")
        await expect(page.get_by_test_id("call-title")).to_be_focused()
        await expect(detail.get_by_test_id("call-status")).to_have_text("Aperto alle domande")
        call_id = (await detail.locator("dd code").first.inner_text()).strip()
        published = (await api.get(f"/calls/{call_id}")).json()
        assert published["stalls"] == [stall, other_stall]
        assert [(c["name"], c["max_points"]) for c in published["criteria"]] == list(CRITERIA)
        assert abs(datetime.fromisoformat(published["deadline"]).timestamp() - deadline.timestamp()) < 1.5

        # Two traders apply through the API: Anna first (wants only the first stall), then Bruno.
        filed: dict[str, dict[str, Any]] = {}
        for who, body in (
            (anna, {"holder": "Anna Frutta", "category": "food", "stalls": [stall], "offer": "Frutta e verdura di stagione",
                    "declarations": {"years_trading": 4}, "documents": ["durc-anna", "visura-anna"]}),
            (bruno, {"holder": "Bruno Formaggi", "category": "food", "stalls": [stall, other_stall],
                     "offer": "Formaggi di malga", "declarations": {"organic": True}}),
        ):  # fmt: skip
            applied = await api.post(f"/calls/{call_id}/applications", json=body, headers=who)
            assert applied.status_code == 201, applied.text
            filed[who["X-Username"]] = applied.json()
        anna_app, bruno_app = filed[anna["X-Username"]]["id"], filed[bruno["X-Username"]]["id"]

        await detail.get_by_role("button", name="Aggiorna").click()
        await expect(detail.get_by_role("heading", name="Domande (2)")).to_be_visible()
        anna_card = detail.get_by_test_id(f"application-{anna_app}")
        bruno_card = detail.get_by_test_id(f"application-{bruno_app}")
        await expect(anna_card).to_contain_text("Frutta e verdura di stagione")
        await expect(anna_card.get_by_test_id(f"documents-{anna_app}")).to_have_text(
            re.compile("durc-anna.*visura-anna")
        )
        await expect(anna_card).to_contain_text(anna["X-Username"])
        await expect(bruno_card.locator("dl.facts").nth(1)).to_contain_text("sì")
        await expect(detail.get_by_test_id("unscored")).to_contain_text("Domande ancora da valutare: 2")
        await expect(bruno_card.get_by_test_id("application-state")).to_have_text("○ Da valutare")

        # Anna is scored; above a criterion's maximum the form says so next to the field.
        await anna_card.get_by_role("button", name=f"Valuta la domanda {anna_app}").click()
        await anna_card.get_by_label("Punteggio (da 0 a 10)").first.fill("12")
        await anna_card.get_by_role("button", name="Registra la valutazione").click()
        first_score = anna_card.locator('[data-criterion="offer"]')
        await expect(first_score).to_be_focused()
        await expect(first_score).to_have_attribute("aria-invalid", "true")
        await expect(anna_card.locator("#score-" + anna_app + "-1-error")).to_have_text("⚠ Il punteggio va da 0 a 10.")
        await expect(anna_card.locator("#score-" + anna_app + "-3-error")).to_have_text("⚠ Campo obbligatorio.")
        await assert_accessible(page, "/#bandi (it, scoring form with errors)")
        anna_scores = {
            "offer": (50, "Offerta nella media"), "social_value": (5, "Vende anche a domicilio agli anziani"),
            "innovation": (4, "Proposta tradizionale"), "experience": (10, "Quattro anni di attività"),
        }  # fmt: skip
        await _score(page, anna_card, anna_scores)
        await expect(page.get_by_test_id("calls-message")).to_contain_text(f"Domanda {anna_app} (Anna Frutta) valutata")
        await expect(anna_card.get_by_role("heading", level=4)).to_be_focused()
        await expect(anna_card.get_by_test_id("application-state")).to_contain_text("revisione 1")

        # The committee thinks again: a second evaluation, both kept in the history.
        await anna_card.get_by_role("button", name=f"Valuta di nuovo la domanda {anna_app}").click()
        offer = anna_card.locator('[data-criterion="offer"]')
        await expect(offer).to_have_value("50")
        # A refusal the form cannot foresee (here: a maximum the page was told wrongly) comes from the
        # server as problem+json and is shown next to the field it names.
        await offer.evaluate("input => { input.dataset.max = '1000'; }")
        await offer.fill("150")
        await anna_card.get_by_role("button", name="Registra la valutazione").click()
        await expect(anna_card.locator(f"#score-{anna_app}-0-error")).to_have_text("⚠ deve essere tra 0 e 100")
        await expect(offer).to_be_focused()
        await offer.fill("55")
        await anna_card.get_by_role("button", name="Registra la valutazione").click()
        await expect(anna_card.get_by_test_id("application-state")).to_contain_text("revisione 2")
        await anna_card.get_by_role("button", name="Storico valutazioni (2)").click()
        history = anna_card.get_by_role("table", name=f"Valutazioni della domanda {anna_app}, dalla prima")
        await expect(history.get_by_role("row")).to_have_count(3, timeout=15_000)
        await expect(history.get_by_role("row").nth(2)).to_contain_text("Offerta economica (offer): 55")

        ranking = detail.get_by_test_id("ranking-table")
        await expect(detail.get_by_test_id("ranking-kind")).to_have_text("provvisoria")
        await expect(ranking.get_by_role("row")).to_have_count(2)
        await expect(detail.get_by_test_id("unscored")).to_contain_text("Domande ancora da valutare: 1")

        # The award is refused while Bruno is unscored (and first while the call is open).
        await page.wait_for_timeout(max(0, (deadline - datetime.now(MILAN)).total_seconds() * 1000 + 1500))
        await detail.get_by_role("button", name="Aggiudica il bando…").click()
        confirm = detail.get_by_role("button", name="Conferma l'aggiudicazione")
        await expect(confirm).to_be_focused()
        await page.keyboard.press("Enter")
        refusal = detail.get_by_test_id("award-problem")
        await expect(refusal).to_be_focused()
        await expect(refusal).to_contain_text(f"la commissione non ha ancora valutato le domande {bruno_app}")
        await expect(refusal).to_contain_text("Domande ancora da valutare (1):")
        await expect(detail.get_by_test_id("call-status")).to_have_text("Chiuso, da aggiudicare")
        await expect(page.get_by_test_id("calls-message")).to_contain_text("Aggiudicazione non eseguita.")
        await assert_accessible(page, "/#bandi (it, award refused)")
        await refusal.get_by_role("button", name=f"{bruno_app} — Bruno Formaggi").click()
        await expect(bruno_card.locator('[data-criterion="offer"]')).to_be_focused()
        bruno_scores = {
            "offer": (90, "Offerta più alta"), "social_value": (9, "Laboratori per le scuole"),
            "innovation": (8, "Vendita senza imballaggi"), "experience": (30, "Trent'anni in alpeggio"),
        }  # fmt: skip
        await _score(page, bruno_card, bruno_scores)
        await expect(detail.get_by_test_id("unscored")).to_have_text("✓ Tutte le domande sono state valutate.")

        # The ranking follows the committee's scores, not the order of application.
        rows = ranking.locator("tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0)).to_contain_text(bruno_app)
        await expect(rows.nth(1)).to_contain_text(anna_app)
        stored = (await api.get(f"/calls/{call_id}/ranking", headers=office)).json()
        assert [i["application"] for i in stored["items"]] == [bruno_app, anna_app]
        assert stored["items"][0]["score"] > stored["items"][1]["score"]
        await expect(rows.nth(0).get_by_role("rowheader")).to_have_text("1")
        await expect(rows.nth(0)).to_contain_text("Bruno Formaggi")
        await expect(rows.nth(0).get_by_test_id(f"outcome-{bruno_app}")).to_have_text("✓ Assegnato")
        await expect(rows.nth(1).get_by_test_id(f"outcome-{anna_app}")).to_have_text("✗ Escluso")
        await expect(rows.nth(1)).to_contain_text("nessuno dei posteggi preferiti")
        await expect(rows.nth(0)).to_contain_text("Laboratori per le scuole")
        await expect(detail.get_by_test_id("surface-verdict")).to_have_text(
            "✓ Entro il limite di 1/5 della superficie."
        )
        cap = stored["surface_after"]["food_service_cap_m2"]
        await expect(detail.get_by_test_id("surface-check")).to_contain_text(f"{cap:.1f}".replace(".", ",") + " m²")

        # Award: confirm, then the final ranking and the stall assigned.
        await detail.get_by_role("button", name="Aggiudica il bando…").click()
        await detail.get_by_role("button", name="Conferma l'aggiudicazione").click()
        await expect(page.get_by_test_id("calls-message")).to_contain_text(
            f"Bando aggiudicato: 1 banchi assegnati ({stall} → Bruno Formaggi)",
            timeout=30_000,  # one transaction assigns, records and emits: slow on a loaded local database
        )
        await expect(detail.get_by_test_id("ranking-kind")).to_have_text("definitiva")
        await expect(detail.get_by_test_id("award-done")).to_be_visible()
        await expect(detail.get_by_test_id("call-status")).to_have_text("Aggiudicato")
        await expect(page.get_by_test_id(f"call-row-{call_id}")).to_contain_text("Aggiudicato")
        assigned = (await api.get(f"/markets/{market_id}/stalls/{stall}")).json()
        assert assigned["holder"] == "Bruno Formaggi", assigned
        assert not (await api.get(f"/markets/{market_id}/stalls/{other_stall}")).json()["holder"]

        await assert_accessible(page, "/#bandi (it, an awarded call)")
        # the whole call in one picture, the message bar at its foot
        height = await page.evaluate("() => document.documentElement.scrollHeight")
        await page.set_viewport_size({"width": 1440, "height": height})
        keep_screenshot(await page.screenshot(), "calls.png", tmp_path)
        await page.set_viewport_size({"width": 1440, "height": 1000})

        # English: the section's words switch, the data stays.
        await page.get_by_test_id("lang-en").click()
        await expect(page.get_by_role("heading", name="Calls for vacant stalls")).to_be_visible()
        await expect(detail.get_by_test_id("ranking-kind")).to_have_text("final")
        await expect(rows.nth(1).get_by_test_id(f"outcome-{anna_app}")).to_have_text("✗ Skipped")
        await page.get_by_test_id("lang-it").click()

        # On a phone the same call reads in one column.
        phone = await office_page(
            "/#bandi", problems=problems, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        mobile = phone.page
        await mobile.locator("#calls-view").get_by_label("Mercato", exact=True).select_option(market_id)
        await mobile.get_by_test_id(f"call-open-{call_id}").click()
        await expect(mobile.get_by_test_id("call-title")).to_be_focused()
        await expect(mobile.get_by_test_id("ranking-kind")).to_have_text("definitiva")
        width = await mobile.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the section scrolls sideways on a phone ({width}px)"
        await mobile.get_by_role("heading", name="Graduatoria").scroll_into_view_if_needed()
        keep_screenshot(await mobile.screenshot(), "calls-phone.png", tmp_path)
        assert not desktop.uncaught("TypeError"), problems
