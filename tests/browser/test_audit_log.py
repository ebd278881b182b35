"""The office's audit log in a real browser, on the whole seeded platform: what was done, in words.

The office publishes a call and changes a shop service's note through the API; in the page it
filters the log to its own actions, creates an account, changes its role and disables it. The log
says each action in Italian ("Bando pubblicato (mercato …)", "Servizio del negozio aggiornato",
"Account modificato"), roles by their names and a week of hours as days and times, never a route
or raw JSON; it follows every account action at once, keeping the filter and the focus where the
account's actions leave it. In English the same entries read in English, and the CSV keeps the
routes for analysts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from devkit.testing import Platform, unique
from shared.events import utcnow

from .conftest import EN_DASH, OFFICE, OpenPage, assert_accessible, free_stalls, office_headers, open_section

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(600)]

PASSWORD = "registro-delle-azioni-2026"
KIOSK = "ed-demo-colonne"


def _market(name: str, noun: str) -> str:
    """A market as the log names it: by its name when that says it is a market, else with the noun."""
    return name if name.lower().startswith("mercato") else f"{noun} {name}"


async def test_the_audit_log_says_what_was_done_and_follows_account_actions(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=30) as api:
        office = await office_headers(api)
        market_id, market_name, free = await free_stalls(api, 1, from_end=True)
        wagner = (await api.get("/markets/wagner")).json()["name"]
        published = await api.post(
            f"/markets/{market_id}/calls",
            json={
                "title": "Bando del registro: un box libero",
                "description": "Concessione del box libero, per il registro delle azioni.",
                "stalls": free[:1],
                "criteria": [
                    {"name": "offer", "weight": 60, "max_points": 100, "description": "offerta economica"},
                    {"name": "experience", "weight": 40, "max_points": 40, "description": "anni di esperienza"},
                ],
                "deadline": (utcnow() + timedelta(days=30)).isoformat(),
            },
            headers=office,
        )
        assert published.status_code == 201, published.text
        offer = next(
            o for o in (await api.get(f"/shops/{KIOSK}/services")).json()["items"] if o["service"] == "info_turistiche"
        )
        revised = await api.put(
            f"/shops/{KIOSK}/services/{offer['id']}",
            json={"hours": offer["hours"], "note": unique("Mappe del quartiere")},
            headers={**office, "If-Match": f'"{offer["version"]}"'},
        )
        assert revised.status_code == 200, revised.text

        desktop = await office_page()
        page = desktop.page
        await open_section(page, "Account e registrazioni", "Account e registrazioni")
        audit = page.get_by_test_id("audit-table")
        await page.get_by_test_id("audit-actor").fill(OFFICE[0])
        await page.get_by_test_id("audit-apply").click()
        await expect(page.get_by_test_id("accounts-message")).to_contain_text("azioni trovate")

        # A call and a shop service, in words: what, where, and the hours as days and times.
        await expect(audit).to_contain_text(f"Bando pubblicato ({_market(market_name, 'mercato')})")
        service_row = page.get_by_test_id("audit-row").filter(has_text="Servizio del negozio aggiornato").first
        await expect(service_row).to_contain_text(f"Servizio del negozio aggiornato (negozio {KIOSK})")
        await expect(service_row).to_contain_text(f"Orari: Lun{EN_DASH}Dom 08:00{EN_DASH}20:00")

        # An account created, its role changed and disabled in the page: the log shows each at once.
        newcomer = unique("registro")
        await page.get_by_role("button", name="Nuovo account").click()
        form = page.get_by_test_id("user-form")
        await form.get_by_label("Nome utente").fill(newcomer)
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_label("Ruolo").select_option("trader")
        await form.get_by_role("button", name="Crea l'account").click()
        await expect(page.get_by_test_id("account-title")).to_be_focused()
        mine = page.get_by_test_id("audit-row").filter(has_text=newcomer)
        await expect(mine.filter(has_text="Account creato")).to_contain_text("Ruolo: Commerciante su area pubblica")

        detail = page.get_by_test_id("account-detail")
        await detail.get_by_label("Ruolo", exact=True).select_option("market_operator")
        await detail.get_by_label("Ambito", exact=True).fill("wagner")
        await detail.get_by_role("button", name="Salva ruolo e ambito").click()
        changed = mine.filter(has_text="Account modificato")
        await expect(changed).to_contain_text("Ruolo: Commerciante su area pubblica")
        await expect(changed).to_contain_text(f"Ruolo: Operatore di mercato, {_market(wagner, 'mercato')}")

        await detail.get_by_role("button", name="Disabilita…").click()
        await detail.get_by_role("button", name="Conferma: disabilita").click()
        await expect(page.get_by_test_id("account-title")).to_be_focused()
        await expect(mine.filter(has_text="Account disabilitato")).to_contain_text("Stato: Disabilitato")
        await expect(mine.filter(has_text="Account modificato")).to_have_count(1)
        # the filter the office applied still holds: the person typed and only the office's entries
        await expect(page.get_by_test_id("audit-actor")).to_have_value(OFFICE[0])
        for actor in await page.locator("[data-testid=audit-row] > td:first-of-type").all_inner_texts():
            assert actor == OFFICE[0], actor

        # No route and no raw JSON anywhere in the log.
        shown = await audit.inner_text()
        assert "POST /" not in shown and "PUT /" not in shown, shown
        assert '{"' not in shown and "[{" not in shown, shown

        await assert_accessible(page, "/#account (it, the audit log in words)")

        # English: the same entries in English.
        await page.get_by_test_id("lang-en").click()
        await expect(audit).to_contain_text(f"Call published ({_market(market_name, 'market')})")
        await expect(audit).to_contain_text(f"Shop service updated (shop {KIOSK})")
        await expect(mine.filter(has_text="Account changed")).to_contain_text(
            f"Role: Market operator, {_market(wagner, 'market')}"
        )
        await page.get_by_test_id("lang-it").click()

        # The CSV keeps the API's own words for analysts: the routes and the JSON.
        async with page.expect_download() as downloading:
            await page.get_by_test_id("audit-download").click()
        saved = tmp_path / "audit.csv"
        await (await downloading.value).save_as(saved)
        text = saved.read_text()
        assert "POST /markets/{market_id}/calls" in text and f"/markets/{market_id}/calls" in text
        assert "PUT /shops/{shop_id}/services/{service_id}" in text

        assert not desktop.uncaught("TypeError"), desktop.problems
