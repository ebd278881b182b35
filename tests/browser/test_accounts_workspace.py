"""The office's Account e registrazioni section in a real browser, on the whole seeded platform.

Two people ask for an account through the API: a baker proposing her shop, and a trader whose
username is already taken. In the page the office approves the baker and is handed the activation
link (the same link the local SMTP sink received, and it sets her password), is refused the second
approval, and rejects it with a reason. Then it creates an account (its own checks and the API's
422 shown next to the fields), disables it — that account's token is refused by the API — enables
it again, changes its role and scope, and resets its password, handing over a one-time link that
works once. Disabling its own account is refused. axe-core runs on the section in Italian and
English, and a desktop screenshot is kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devkit.stack.mail_sink import text_of
from devkit.testing import Platform, unique

from .conftest import OFFICE, OpenPage, assert_accessible, keep_screenshot, office_headers, open_section

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

LINK = re.compile(r"https?://\S+/activate\?token=\S+")
PASSWORD = "sportello-di-quartiere-2026"


def _token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def _status_of_me(api: httpx.AsyncClient, token: str) -> int:
    return (await api.get("/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def _login(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await api.post("/auth/token", data={"username": username, "password": password})


async def test_office_decides_registrations_and_manages_accounts(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=30) as api:
        office = await office_headers(api)
        baker, taken = unique("fornaia"), unique("banco")
        created = await api.post(
            "/users", json={"username": taken, "password": PASSWORD, "role": "trader", "scope": None}, headers=office
        )
        assert created.status_code == 201, created.text
        requests = {
            baker: {
                "role": "shopkeeper", "username": baker, "email": f"{baker}@example.org", "full_name": "Marta Fornari",
                "message": "Panificio di famiglia in via Padova dal 1962.",
                "shop": {"name": "Forno Marta", "address": "Via Padova 100", "kind": "shop", "trade": "Panetteria",
                         "location": {"lon": 9.2301, "lat": 45.4987}},
            },
            taken: {
                "role": "trader", "username": taken, "email": f"altro-{taken}@example.org", "full_name": "Piero Banchi",
                "message": "Vendo frutta al mercato di via Fauché.",
            },
        }  # fmt: skip
        for body in requests.values():
            sent = await api.post("/registrations", json=body)
            assert sent.status_code == 202, sent.text
        pending = (await api.get("/registrations", params={"state": "pending", "limit": 500}, headers=office)).json()
        by_name = {r["username"]: r for r in pending["items"]}
        proposed_shop = by_name[baker]["proposed_shop_id"]
        assert by_name[taken]["conflicts"] == ["username_taken"]

        desktop = await office_page()
        page = desktop.page

        await open_section(page, "Account e registrazioni", "Account e registrazioni")
        await expect(page.get_by_test_id("map")).to_be_hidden()

        # The baker's request: who, how to reach her, the shop she proposes and the id it will get.
        card = page.get_by_test_id(f"registration-{baker}")
        await expect(card).to_contain_text("Marta Fornari")
        await expect(card).to_contain_text(f"{baker}@example.org")
        await expect(card).to_contain_text("Negoziante")
        await expect(card).to_contain_text("Panificio di famiglia in via Padova dal 1962.")
        await expect(card).to_contain_text(
            f"Forno Marta, Via Padova 100 (Negozio; Panetteria) — codice alla creazione {proposed_shop}"
        )
        conflicted = page.get_by_test_id(f"registration-{taken}")
        await expect(conflicted.get_by_test_id(re.compile("^conflicts-"))).to_contain_text("già di un account")

        await card.get_by_role("button", name=f"Approva la richiesta di {baker}").click()
        handover = page.get_by_test_id("handover")
        await expect(handover).to_be_focused()
        await expect(handover).to_contain_text(f"Account {baker} creato.")
        await expect(handover.get_by_test_id("handover-mail")).to_have_text(
            "✓ Il messaggio è stato inviato per e-mail."
        )
        link = await page.get_by_label(re.compile("^Link di attivazione monouso")).input_value()
        assert LINK.fullmatch(link), link
        mailed = LINK.findall(text_of(await seeded.mailbox.wait_for(f"{baker}@example.org", timeout_s=30)))
        assert link in mailed, (link, mailed)
        await expect(page.get_by_test_id(f"registration-{baker}")).to_have_count(0)
        await expect(page.get_by_test_id(f"user-row-{baker}")).to_contain_text("Negoziante")
        await expect(page.get_by_test_id(f"user-row-{baker}")).to_contain_text(proposed_shop)
        activated = await api.post("/auth/activate", json={"token": _token_of(link), "password": PASSWORD})
        assert activated.status_code == 200, activated.text
        assert (activated.json()["role"], activated.json()["scope"]) == ("shopkeeper", proposed_shop)

        await assert_accessible(page, "/#account (it, registrations and the handed-over link)")
        height = await page.evaluate("() => document.documentElement.scrollHeight")
        await page.set_viewport_size({"width": 1440, "height": min(height, 2400)})
        keep_screenshot(await page.screenshot(), "accounts.png", tmp_path)
        await page.set_viewport_size({"width": 1440, "height": 1000})

        # The taken username cannot be approved; the office rejects it, with a reason it must give.
        await conflicted.get_by_role("button", name=f"Approva la richiesta di {taken}").click()
        await expect(page.get_by_test_id("accounts-message")).to_contain_text(f"Approvazione di {taken} non eseguita.")
        await conflicted.get_by_role("button", name=f"Rifiuta la richiesta di {taken}…").click()
        reason = conflicted.get_by_label("Motivo del rifiuto")
        await expect(reason).to_be_focused()
        await conflicted.get_by_role("button", name="Rifiuta la richiesta", exact=True).click()
        await expect(reason).to_have_attribute("aria-invalid", "true")
        await expect(conflicted).to_contain_text("⚠ Scrivi il motivo del rifiuto.")
        await reason.fill("Il nome utente è già in uso: scegline un altro e ripeti la richiesta.")
        await conflicted.get_by_role("button", name="Rifiuta la richiesta", exact=True).click()
        await expect(page.get_by_test_id("accounts-message")).to_contain_text(f"Richiesta di {taken} rifiutata.")
        await expect(page.get_by_test_id(f"registration-{taken}")).to_have_count(0)
        rejected = (await api.get("/registrations", params={"state": "rejected", "limit": 500}, headers=office)).json()
        mine = [r for r in rejected["items"] if r["email"] == f"altro-{taken}@example.org"]
        assert [r["reason"] for r in mine] == ["Il nome utente è già in uso: scegline un altro e ripeti la richiesta."]

        # A new account: the form's own checks, then the API's refusal next to the field it names.
        newcomer = unique("sportello")
        await page.get_by_role("button", name="Nuovo account").click()
        form = page.get_by_test_id("user-form")
        await expect(form.get_by_label("Nome utente")).to_be_focused()
        await form.get_by_label("Nome utente").fill(newcomer)
        await form.get_by_label("Password").fill("corta")
        await form.get_by_label("Ruolo").select_option("market_operator")
        await form.get_by_role("button", name="Crea l'account").click()
        await expect(form.get_by_label("Password")).to_be_focused()
        await expect(form.locator("#user-password-error")).to_have_text("⚠ Almeno 12 caratteri.")
        await expect(form.locator("#user-scope-error")).to_have_text("⚠ Indica il codice del mercato o del negozio.")
        await form.get_by_label("Password").fill(PASSWORD)
        await form.get_by_label("Ambito").fill("nessun-mercato")
        await form.get_by_role("button", name="Crea l'account").click()
        scope = form.get_by_label("Ambito")
        await expect(scope).to_be_focused()
        await expect(scope).to_have_attribute("aria-invalid", "true")
        await expect(form.locator("#user-scope-error")).to_contain_text("nessun-mercato")
        await expect(form.locator("#user-password-error")).to_be_hidden()
        await assert_accessible(page, "/#account (it, new account refused by the API)")
        await form.get_by_label("Ruolo").select_option("trader")
        await scope.fill("")
        await form.get_by_role("button", name="Crea l'account").click()
        await expect(page.get_by_test_id("accounts-message")).to_have_text(
            f"Account {newcomer} creato (Commerciante su area pubblica)."
        )
        detail = page.get_by_test_id("account-detail")
        await expect(page.get_by_test_id("account-title")).to_be_focused()
        await expect(page.get_by_test_id("account-title")).to_have_text(f"Account {newcomer}")
        row = page.get_by_test_id(f"user-row-{newcomer}")
        await expect(row.get_by_test_id(f"user-state-{newcomer}")).to_have_text("● Attivo")
        await expect(row).to_contain_text("mai")

        signed_in = await _login(api, newcomer, PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["access_token"]
        assert await _status_of_me(api, token) == 200

        # Disabled: after a confirmation, and its token is refused by the API from then on.
        await detail.get_by_role("button", name="Disabilita…").click()
        await expect(detail.get_by_role("button", name="Conferma: disabilita")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_test_id("accounts-message")).to_have_text(
            f"Account {newcomer} disabilitato: le sue sessioni sono terminate."
        )
        await expect(row.get_by_test_id(f"user-state-{newcomer}")).to_have_text("⊘ Disabilitato")
        assert await _status_of_me(api, token) == 401
        assert (await _login(api, newcomer, PASSWORD)).status_code != 200
        users = (await api.get("/users", params={"limit": 500}, headers=office)).json()["items"]
        assert next(u for u in users if u["username"] == newcomer)["disabled"] is True

        # Enabled again: a new login works (the old token stays revoked), and the last login shows.
        await detail.get_by_role("button", name="Riattiva…").click()
        await detail.get_by_role("button", name="Conferma: riattiva").click()
        await expect(row.get_by_test_id(f"user-state-{newcomer}")).to_have_text("● Attivo")
        again = await _login(api, newcomer, PASSWORD)
        assert again.status_code == 200, again.text
        assert await _status_of_me(api, token) == 401
        assert await _status_of_me(api, again.json()["access_token"]) == 200
        await page.get_by_role("button", name="Aggiorna").first.click()
        await expect(page.get_by_test_id("accounts-message")).to_have_text("Dati aggiornati.")
        await expect(row).not_to_contain_text("mai")

        # A role and scope change: a market operator of Wagner.
        await detail.get_by_label("Ruolo", exact=True).select_option("market_operator")
        await detail.get_by_label("Ambito", exact=True).fill("wagner")
        await detail.get_by_role("button", name="Salva ruolo e ambito").click()
        await expect(page.get_by_test_id("accounts-message")).to_have_text(
            f"Account {newcomer}: ora Operatore di mercato, ambito wagner."
        )
        users = (await api.get("/users", params={"limit": 500}, headers=office)).json()["items"]
        changed = next(u for u in users if u["username"] == newcomer)
        assert (changed["role"], changed["scope"]) == ("market_operator", "wagner")

        # A password reset: the old one stops working; the one-time link sets a new one, once.
        await detail.get_by_role("button", name="Reimposta la password…").click()
        await detail.get_by_role("button", name="Conferma: reimposta").click()
        reset = page.get_by_test_id("reset-result")
        await expect(reset).to_be_focused()
        await expect(reset).to_contain_text(f"Password di {newcomer} reimpostata.")
        reset_link = await page.get_by_test_id("reset-url").input_value()
        assert LINK.fullmatch(reset_link), reset_link
        assert (await _login(api, newcomer, PASSWORD)).status_code == 401
        chosen = "banco-del-pesce-al-mattino"
        used = await api.post("/auth/activate", json={"token": _token_of(reset_link), "password": chosen})
        assert used.status_code == 200, used.text
        assert (await _login(api, newcomer, chosen)).status_code == 200
        reused = await api.post(
            "/auth/activate", json={"token": _token_of(reset_link), "password": "un-altra-password-lunga"}
        )
        assert reused.status_code == 400, reused.text

        # The office cannot disable itself: the API's refusal is shown.
        await page.get_by_test_id(f"manage-{OFFICE[0]}").click()
        await detail.get_by_role("button", name="Disabilita…").click()
        await detail.get_by_role("button", name="Conferma: disabilita").click()
        await expect(page.get_by_test_id("accounts-message")).to_contain_text("Operazione non eseguita.")
        await expect(page.get_by_test_id(f"user-state-{OFFICE[0]}")).to_have_text("● Attivo")
        await expect(detail.get_by_role("button", name="Disabilita…")).to_be_focused()

        # English: the section's words switch, the data stays; axe again.
        await page.get_by_test_id("lang-en").click()
        await expect(page.get_by_role("heading", name="Accounts and registrations", level=2)).to_be_visible()
        await expect(row.get_by_test_id(f"user-state-{newcomer}")).to_have_text("● Active")
        await expect(row).to_contain_text("Market operator")
        await assert_accessible(page, "/#account (en, an account open)")
        await page.get_by_test_id("lang-it").click()
        assert not desktop.uncaught("TypeError"), desktop.problems
