"""The shop portal ``/shop`` in a real browser, on a phone, walked by a new shopkeeper.

A shopkeeper asks for an account proposing a new shop, the office approves it, and the activation
page sends the shopkeeper to ``/shop``, where they sign in and see their shop. They add parcel pickup
with two ranges on Monday (the first try overlaps and is refused next to the hours), copy Monday to
the week and add a Saturday evening past midnight; open the hours to change them while the same
service is changed elsewhere (the page says so and shows the hours now stored), save again; declare
tomorrow a sick day (a range that ends before it starts is refused next to its field); and the
citizens' page lists the shop today and not tomorrow. They upload a file that is no document
(refused, with the reason), then a PDF, download it again from the list (the bytes and type sent),
and apply for historic recognition citing it; the office's review holds that very document. Another service is added and removed. axe-core checks the page
signed out and signed in, in Italian and English.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.testing import Platform, unique

from .conftest import (
    OFFICE,
    PHONE,
    PHONE_2X,
    OpenPage,
    assert_accessible,
    choose_password,
    fill_form,
    keep_screenshot,
    log_in,
    log_in_by_labels,
    switch_language,
    watch_console,
)
from .test_near import _items

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

API = "/api/v1"
# Vigentino, far from the demo seed's parcel points near Segrino that test_near.py counts on
PLACE = (45.4331, 9.2002)
# Lorenteggio, where a shop that never offers a service is told what cannot be saved
ELSEWHERE = (45.4480, 9.1250)
SHOP_NAME = "Merceria Vigentina"
PASSWORD = "filo-ago-bottoni-1962"
DASH = "\u2013"
# a PDF of one empty page (ISO 32000-1: header, catalogue, pages, page, xref, trailer)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \n"
    b"trailer<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n"
)


async def _office(client: httpx.AsyncClient) -> dict[str, str]:
    login = await client.post(f"{API}/auth/token", data=dict(zip(("username", "password"), OFFICE, strict=True)))
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _approved_shopkeeper(
    platform: Platform, name: str = SHOP_NAME, place: tuple[float, float] = PLACE
) -> tuple[str, str, str]:
    """A shopkeeper's registration proposing a new shop, approved: (username, shop id, activation link)."""
    username = unique("merciaia")
    lat, lon = place
    body = {
        "role": "shopkeeper",
        "username": username,
        "email": f"{username}@example.org",
        "full_name": "Rosa Brambilla",
        "shop": {
            "name": name,
            "address": "Via Ripamonti 190",
            "kind": "shop",
            "trade": "merceria",
            "location": {"lon": lon, "lat": lat},
        },
    }
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        submitted = await client.post(f"{API}/registrations", json=body)
        assert submitted.status_code == 202, submitted.text
        approved = await client.post(
            f"{API}/registrations/{submitted.json()['id']}/approve", headers=await _office(client)
        )
        assert approved.status_code == 200, approved.text
    link = approved.json()["activation_url"]
    return username, approved.json()["scope"], link if link.startswith("http") else platform.gateway + link


async def _range(page: Any, day: int, index: int, opens: str, closes: str) -> None:
    await page.get_by_test_id(f"hours-{day}-{index}-opens").fill(opens)
    await page.get_by_test_id(f"hours-{day}-{index}-closes").fill(closes)


def _rome(days: int) -> str:
    return (datetime.now(ZoneInfo("Europe/Rome")) + timedelta(days=days)).date().isoformat()


async def test_a_shopkeeper_keeps_services_closures_and_documents_from_a_phone(
    seeded: Platform, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    username, shop_id, link = await _approved_shopkeeper(seeded)
    problems: list[str] = []
    context = await browser.new_context(**PHONE_2X, locale="it-IT")
    page = await context.new_page()
    watch_console(page, problems)

    # the activation link: choose the password, then on to the shop portal
    await page.goto(link)
    await choose_password(page, PASSWORD)
    await expect(page.get_by_test_id("activate-login")).to_have_attribute("href", "/shop", timeout=15_000)
    await page.get_by_test_id("activate-login").click()
    await expect(page).to_have_url(re.compile(r"/shop$"))
    await expect(page.get_by_test_id("login-form")).to_be_visible(timeout=15_000)
    await assert_accessible(page, "/shop (it, signed out)")
    await log_in_by_labels(page, username, PASSWORD)

    # the shop as the register holds it
    await expect(page.get_by_test_id("shop-name")).to_have_text(SHOP_NAME, timeout=15_000)
    await expect(page.get_by_test_id("shop-address")).to_have_text("Via Ripamonti 190")
    await expect(page.get_by_test_id("shop-kind")).to_have_text("Negozio")
    await expect(page.get_by_test_id("shop-status")).to_have_text("Attiva")
    await expect(page.get_by_test_id("service-list")).to_contain_text("Non hai ancora indicato nessun servizio")

    # a new service: Monday's two ranges overlap, and the refusal sits next to the hours
    await page.get_by_role("button", name="Aggiungi un servizio").click()
    form = page.get_by_test_id("service-form")
    await expect(form.get_by_role("heading", name="Nuovo servizio")).to_be_focused()
    await form.get_by_label("Servizio", exact=True).select_option("ritiro_pacchi")
    await page.get_by_role("button", name="Aggiungi una fascia (Lunedì)").click()
    await expect(page.get_by_label("Lunedì, fascia 1: Apre")).to_be_focused()
    await _range(page, 0, 0, "09:00", "13:00")
    await page.get_by_role("button", name="Aggiungi una fascia (Lunedì)").click()
    await _range(page, 0, 1, "12:00", "19:30")
    await form.get_by_role("button", name="Salva").click()
    hours_error = page.get_by_test_id("hours-error")
    # the service words the refusal in the page's language
    await expect(hours_error).to_have_text("Lunedì 09:00-13:00 si sovrappone a lunedì 12:00-19:30", timeout=10_000)
    await expect(page.get_by_test_id("hours-days")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, "/shop (it, hours refused)")
    await _range(page, 0, 1, "16:00", "19:30")
    for day in range(1, 7):  # the same hours every day of the week
        await page.get_by_test_id(f"hours-{day}-copy").click()
    await page.get_by_role("button", name="Aggiungi una fascia (Sabato)").click()
    await _range(page, 5, 2, "22:00", "02:00")  # Saturday night, past midnight
    keep_screenshot(await page.screenshot(), "shop-hours.png", tmp_path)
    await form.get_by_role("button", name="Salva").click()
    await expect(page.get_by_test_id("services-message")).to_have_text(
        "Servizio aggiunto: Ritiro pacchi.", timeout=10_000
    )
    await expect(form).to_be_hidden()
    summary = page.get_by_test_id("service-ritiro_pacchi-hours")
    await expect(summary).to_contain_text(f"Lunedì09:00{DASH}13:00, 16:00{DASH}19:30")
    await expect(summary).to_contain_text(
        f"Sabato09:00{DASH}13:00, 16:00{DASH}19:30, 22:00{DASH}02:00 (del giorno dopo)"
    )

    # what the page saved is what the API holds
    async with httpx.AsyncClient(base_url=seeded.gateway, timeout=30) as client:
        login = await client.post(f"{API}/auth/token", data={"username": username, "password": PASSWORD})
        own = {"Authorization": f"Bearer {login.json()['access_token']}"}
        stored = (await client.get(f"{API}/shops/{shop_id}/services", headers=own)).json()["items"]
        assert len(stored) == 1 and stored[0]["version"] == 1
        week = {(h["day"], h["opens"], h["closes"]) for h in stored[0]["hours"]}
        expected = {(d, "09:00", "13:00") for d in range(7)} | {(d, "16:00", "19:30") for d in range(7)}
        assert week == expected | {(5, "22:00", "02:00")}

        # the shopkeeper opens the hours to change them, while the same service changes elsewhere
        await page.get_by_role("button", name="Modifica Ritiro pacchi").click()
        await expect(form.get_by_role("heading", name="Modifica gli orari: Ritiro pacchi")).to_be_focused()
        morning_only = [{"day": d, "opens": "08:30", "closes": "13:00"} for d in range(7)]
        elsewhere = await client.put(
            f"{API}/shops/{shop_id}/services/{stored[0]['id']}",
            json={"hours": morning_only, "note": "Solo al mattino"},
            headers={**own, "If-Match": '"1"'},
        )
        assert elsewhere.status_code == 200, elsewhere.text
    await page.get_by_test_id("hours-6-1-remove").click()
    await form.get_by_role("button", name="Salva").click()
    stale = page.get_by_test_id("service-form-message")
    await expect(stale).to_contain_text("Nel frattempo questo servizio è stato modificato", timeout=10_000)
    await expect(page.get_by_test_id("hours-0-0-opens")).to_have_value("08:30")
    await expect(page.get_by_test_id("hours-0-1-opens")).to_have_count(0)
    await expect(page.get_by_test_id("service-note")).to_have_value("Solo al mattino")
    await _range(page, 6, 0, "09:00", "12:30")  # Sunday a little later, on the hours now stored
    await form.get_by_role("button", name="Salva").click()
    await expect(page.get_by_test_id("services-message")).to_have_text("Orari salvati: Ritiro pacchi.", timeout=10_000)
    await expect(summary).to_contain_text(f"Lunedì08:30{DASH}13:00")
    await expect(summary).to_contain_text(f"Domenica09:00{DASH}12:30")

    # tomorrow closed for illness; a range that ends before it starts is refused on its field
    today, tomorrow = _rome(0), _rome(1)
    closures = page.get_by_test_id("closures")
    await fill_form(
        closures,
        {"Dal giorno": _rome(5), "Al giorno (compreso)": _rome(3), "Motivo (visibile ai cittadini)": "Inventario"},
    )
    await closures.get_by_role("button", name="Dichiara la chiusura").click()
    await expect(page.get_by_test_id("closure-to-error")).not_to_be_empty(timeout=10_000)
    await expect(page.get_by_test_id("closure-to")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("closure-to")).to_be_focused()
    await fill_form(
        closures,
        {
            "Dal giorno": tomorrow,
            "Al giorno (compreso)": tomorrow,
            "Motivo (visibile ai cittadini)": "Chiuso per malattia",
        },
    )
    await closures.get_by_role("button", name="Dichiara la chiusura").click()
    await expect(page.get_by_test_id("closure-message")).to_contain_text("Chiusura dichiarata", timeout=10_000)
    await expect(page.get_by_test_id("closure-to")).not_to_have_attribute("aria-invalid", "true")
    upcoming = page.get_by_test_id("closure-list")
    await expect(upcoming.get_by_role("listitem")).to_have_count(1)
    await expect(upcoming).to_contain_text("Chiuso per malattia")

    # exceptional hours: in three days the shop opens only 09:00-13:00 (a half time alone is refused)
    in_three = _rome(3)
    await fill_form(
        closures,
        {
            "Dal giorno": in_three,
            "Al giorno (compreso)": in_three,
            "Motivo (visibile ai cittadini)": "Orario ridotto per la festa del quartiere",
            "Apre alle": "09:00",
        },
    )
    await closures.get_by_role("button", name="Dichiara la chiusura").click()
    await expect(page.get_by_test_id("closure-closes-error")).not_to_be_empty()
    await expect(page.get_by_test_id("closure-closes")).to_be_focused()
    await closures.get_by_label("Chiude alle").fill("13:00")
    await closures.get_by_role("button", name="Dichiara la chiusura").click()
    await expect(page.get_by_test_id("closure-message")).to_contain_text("Chiusura dichiarata", timeout=10_000)
    await expect(upcoming.get_by_role("listitem")).to_have_count(2)
    await expect(page.get_by_test_id(f"closure-{in_three}-hours")).to_have_text(f"Aperto solo 09:00{DASH}13:00")
    async with httpx.AsyncClient(base_url=seeded.gateway, timeout=30) as anyone:
        stored = (await anyone.get(f"/api/v1/shops/{shop_id}/closures")).json()["items"]
    assert [c["hours"] for c in stored] == [[], [{"opens": "09:00", "closes": "13:00"}]], stored

    # documents: a text file named .pdf is refused with the reason; a PDF is kept and listed
    documents = page.get_by_test_id("documents")
    upload = documents.get_by_label("Carica un documento")
    await upload.set_input_files(
        {"name": "licenza.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all\n"}
    )
    await documents.get_by_role("button", name="Carica", exact=True).click()
    refusal = page.get_by_test_id("document-message")
    await expect(refusal).to_have_text(
        "licenza.pdf non è stato caricato: si accettano solo file PDF, JPEG o PNG.", timeout=10_000
    )
    await expect(refusal).to_have_attribute("data-kind", "error")
    await expect(page.get_by_test_id("document-list")).to_contain_text("Nessun documento caricato")
    await upload.set_input_files({"name": "licenza-1962.pdf", "mimeType": "application/pdf", "buffer": PDF})
    await documents.get_by_role("button", name="Carica", exact=True).click()
    await expect(refusal).to_have_text("Documento caricato: licenza-1962.pdf.", timeout=10_000)
    listed = page.get_by_test_id("document-list").get_by_role("listitem")
    await expect(listed).to_have_count(1)
    await expect(listed).to_contain_text("licenza-1962.pdf")
    await expect(listed).to_contain_text("PDF")

    # the listed PDF opens from the keyboard: fetched with the session's token, saved under its name
    download_button = listed.get_by_role("button", name="Scarica licenza-1962.pdf")
    await download_button.focus()
    async with (
        page.expect_response(re.compile(r"/api/v1/shops/[^/]+/documents/doc-[0-9a-f]+$")) as fetched,
        page.expect_download() as saved,
    ):
        await page.keyboard.press("Enter")
    answer = await fetched.value
    # the bytes are checked in the saved file: Chromium keeps no copy of a body read into a Blob
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-length"] == str(len(PDF))
    assert (await answer.request.all_headers()).get("authorization", "").startswith("Bearer ")
    download = await saved.value
    assert download.suggested_filename == "licenza-1962.pdf"
    assert Path(await download.path()).read_bytes() == PDF
    await expect(download_button).to_be_focused()
    await expect(refusal).to_be_empty()

    # historic recognition, citing the uploaded PDF; the page shows the application waiting
    recognition = page.get_by_test_id("recognition")
    await expect(page.get_by_test_id("recognition-status")).to_contain_text("Non hai ancora chiesto")
    await recognition.get_by_role("button", name="Invia la domanda").click()
    await expect(recognition.get_by_label("Anno di fondazione")).to_be_focused()
    await fill_form(
        recognition,
        {
            "Anno di fondazione": "1962",
            "Settore merceologico": "merceria",
            "Continuità dell'attività": "Sempre la stessa famiglia, nella stessa bottega dal 1962.",
        },
    )
    await recognition.get_by_role("checkbox", name=re.compile("licenza-1962.pdf")).check()
    await recognition.get_by_role("button", name="Invia la domanda").click()
    status = page.get_by_test_id("recognition-status")
    await expect(status).to_contain_text("in attesa della decisione dell'ufficio commercio", timeout=10_000)
    await expect(page.get_by_test_id("recognition-cited")).to_have_text("licenza-1962.pdf")
    await expect(page.get_by_test_id("recognition-form")).to_be_hidden()
    await assert_accessible(page, "/shop (it, signed in)")

    await page.evaluate("window.scrollTo(0, 0)")
    keep_screenshot(await page.screenshot(), "shop.png", tmp_path)
    await page.get_by_test_id("closures").scroll_into_view_if_needed()
    await page.get_by_test_id("closures").evaluate("(el) => el.scrollIntoView()")
    keep_screenshot(await page.screenshot(), "shop-closures.png", tmp_path)

    # another service, added and removed again
    await page.get_by_role("button", name="Aggiungi un servizio").click()
    await form.get_by_label("Servizio", exact=True).select_option("ricarica_telefonica")
    await page.get_by_role("button", name="Aggiungi una fascia (Martedì)").click()
    await _range(page, 1, 0, "10:00", "12:00")
    await form.get_by_role("button", name="Salva").click()
    await expect(page.get_by_test_id("service-ricarica_telefonica")).to_be_visible(timeout=10_000)
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Rimuovi Ricarica telefonica").click()
    await expect(page.get_by_test_id("services-message")).to_have_text(
        "Servizio rimosso: Ricarica telefonica.", timeout=10_000
    )
    await expect(page.get_by_test_id("service-ricarica_telefonica")).to_have_count(0)

    # English: the same screen, translated, and still accessible
    await page.get_by_test_id("lang-en").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", name="Services and hours")).to_be_visible()
    await expect(summary).to_contain_text(f"Monday08:30{DASH}13:00")
    await expect(status).to_contain_text("waiting for the commerce office's decision")
    await expect(listed.get_by_role("button", name="Download licenza-1962.pdf")).to_be_visible()
    await assert_accessible(page, "/shop (en, signed in)")
    await page.get_by_test_id("lang-it").click()  # the choice is kept: the citizens' page opens in Italian
    await expect(page.locator("html")).to_have_attribute("lang", "it")

    # the citizens' page: the shop is the nearest open point today at noon, and absent tomorrow
    lat, lon = PLACE
    near = await context.new_page()
    watch_console(near, problems)
    search = f"{seeded.gateway}/near?service=ritiro_pacchi&lat={lat}&lon={lon}"
    await near.goto(f"{search}&open_at={today}T12:00")
    await expect(near.get_by_test_id("near-item").first).to_be_visible(timeout=15_000)
    first = (await _items(near))[0]
    assert (first["name"], first["distance"], first["open"]) == (SHOP_NAME, "0 m", True), first
    await near.goto(f"{search}&open_at={tomorrow}T12:00")
    await expect(near.get_by_test_id("near-status")).to_contain_text("Ritiro pacchi", timeout=15_000)
    await expect(near.get_by_test_id("near-item").first).to_be_visible(timeout=15_000)
    shown = await _items(near)
    assert shown and SHOP_NAME not in [i["name"] for i in shown if i["open"]], shown
    async with httpx.AsyncClient(base_url=seeded.gateway, timeout=30) as client:
        query = {"service": "ritiro_pacchi", "lat": lat, "lon": lon, "open_only": "false", "limit": 1}
        answer = (await client.get(f"{API}/services/nearest", params={**query, "open_at": f"{tomorrow}T12:00"})).json()
        closed = answer["items"][0]
        assert (closed["shop_id"], closed["open_now"], closed["closure"]["reason"]) == (
            shop_id,
            False,
            "Chiuso per malattia",
        )

        # the office's review: the application cites the uploaded document, and the file is the PDF sent
        office = await _office(client)
        applied = (await client.get(f"{API}/shops/{shop_id}/recognition", headers=office)).json()
        assert applied["state"] == "pending" and applied["application"]["founding_year"] == 1962
        [cited] = applied["application"]["documents"]
        assert cited["title"] == "licenza-1962.pdf"
        sent = await client.get(f"{API}/shops/{shop_id}/documents/{cited['document_id']}", headers=office)
        assert sent.status_code == 200 and sent.content == PDF

    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems


async def test_a_shopkeeper_is_told_in_words_what_cannot_be_saved(seeded: Platform, browser: Any) -> None:
    """Each refusal next to its field, in words a shopkeeper reads: no internal ids, dates as Italians write them."""
    from playwright.async_api import expect

    name = "Ferramenta Lorenteggio"
    username, shop_id, link = await _approved_shopkeeper(seeded, name, ELSEWHERE)
    async with httpx.AsyncClient(base_url=seeded.gateway, timeout=30) as client:
        token = parse_qs(urlsplit(link).query)["token"][0]
        activated = await client.post(f"{API}/auth/activate", json={"token": token, "password": PASSWORD})
        assert activated.status_code < 300, activated.text
    problems: list[str] = []
    context = await browser.new_context(**PHONE, locale="it-IT")
    page = await context.new_page()
    watch_console(page, problems)
    await page.goto(f"{seeded.gateway}/shop")
    await log_in(page, username, PASSWORD)
    await expect(page.get_by_test_id("shop-name")).to_have_text(name, timeout=15_000)

    # a range opening and closing at one time is refused on its closing time; the whole day is 00:00-00:00
    await page.get_by_role("button", name="Aggiungi un servizio").click()
    form = page.get_by_test_id("service-form")
    await form.get_by_label("Servizio", exact=True).select_option("info_turistiche")
    await page.get_by_role("button", name="Aggiungi una fascia (Lunedì)").click()
    await _range(page, 0, 0, "09:00", "09:00")
    await form.get_by_role("button", name="Salva").click()
    await expect(page.get_by_test_id("hours-error")).to_have_text(
        "Lunedì: apertura e chiusura sono tutte e due alle 09:00. Indica l'ora in cui chiudi; "
        f"per restare aperto tutto il giorno indica 00:00{DASH}00:00."
    )
    await expect(page.get_by_test_id("hours-0-0-closes")).to_be_focused()
    await expect(page.get_by_test_id("hours-days")).to_have_attribute("aria-invalid", "true")
    async with httpx.AsyncClient(base_url=seeded.gateway, timeout=30) as anyone:
        offered = (await anyone.get(f"{API}/shops/{shop_id}/services")).json()["items"]
    assert offered == [], "nothing was sent"
    # the range taken away, the keyboard stays on the day's "add"; saving no hours at all says so there
    await page.get_by_test_id("hours-0-0-remove").click()
    add_monday = page.get_by_role("button", name="Aggiungi una fascia (Lunedì)")
    await expect(add_monday).to_be_focused()
    await form.get_by_role("button", name="Salva").click()
    await expect(page.get_by_test_id("hours-error")).to_have_text("Indica almeno una fascia oraria.")
    await expect(add_monday).to_be_focused()
    # copying a day keeps the keyboard on the button pressed
    await page.get_by_test_id("hours-3-copy").click()
    await expect(page.get_by_test_id("hours-3-copy")).to_be_focused()
    await page.get_by_role("button", name="Annulla").click()

    # a closure over before today would never be listed: refused on its last day, nothing sent
    closures = page.get_by_test_id("closures")
    declare = closures.get_by_role("button", name="Dichiara la chiusura")
    closure_to, to_error, message = (
        page.get_by_test_id(t) for t in ("closure-to", "closure-to-error", "closure-message")
    )
    await fill_form(
        closures,
        {"Dal giorno": "2025-01-10", "Al giorno (compreso)": "2025-01-11", "Motivo (visibile ai cittadini)": "Ferie"},
    )
    await declare.click()
    await expect(to_error).to_have_text(
        re.compile(
            r"^Questa chiusura è già finita \(dal \w+ 10 gennaio 2025 al \w+ 11 gennaio 2025\): indica giorni da oggi in poi\.$"
        )
    )
    await expect(closure_to).to_be_focused()
    await expect(closure_to).to_have_attribute("aria-invalid", "true")
    await expect(message).to_be_empty()
    # the last day before the first, said with both days
    await fill_form(closures, {"Dal giorno": _rome(5), "Al giorno (compreso)": _rome(3)})
    await declare.click()
    await expect(to_error).to_have_text(
        re.compile(r"^L'ultimo giorno \(\w+ \d+ \w+ \d{4}\) non può venire prima del primo \(\w+ \d+ \w+ \d{4}\)\.$")
    )
    # days overlapping a closure already declared: the service names those days, not its record
    await fill_form(
        closures,
        {"Dal giorno": _rome(1), "Al giorno (compreso)": _rome(1), "Motivo (visibile ai cittadini)": "Malattia"},
    )
    await declare.click()
    await expect(message).to_contain_text("Chiusura dichiarata", timeout=10_000)
    await expect(page.get_by_test_id("closure-list").get_by_role("listitem")).to_have_count(1)
    await fill_form(
        closures,
        {"Dal giorno": _rome(1), "Al giorno (compreso)": _rome(2), "Motivo (visibile ai cittadini)": "Inventario"},
    )
    await declare.click()
    await expect(message).to_have_text(
        re.compile(
            r"^La chiusura non è stata salvata\. Questi giorni si sovrappongono a una chiusura già dichiarata "
            r"\(\d+ \w+ \d{4}\): eliminala prima di dichiararne una diversa$"
        ),
        timeout=10_000,
    )

    # a founding year after this one is said plainly, on its field
    recognition = page.get_by_test_id("recognition")
    await fill_form(recognition, {"Anno di fondazione": "3020", "Settore merceologico": "ferramenta"})
    await recognition.get_by_role("button", name="Invia la domanda").click()
    year = recognition.get_by_label("Anno di fondazione")
    await expect(page.get_by_test_id("recognition-year-error")).to_have_text(
        "L'anno di fondazione non può essere nel futuro."
    )
    await expect(year).to_be_focused()
    await expect(year).to_have_attribute("max", str(datetime.now(ZoneInfo("Europe/Rome")).year))

    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_shop_portal_has_no_serious_accessibility_violations(office_page: OpenPage, lang: str) -> None:
    from playwright.async_api import expect

    view = await office_page("/shop", user=None, **PHONE_2X)
    page = view.page
    await expect(page.get_by_test_id("login-form")).to_be_visible(timeout=15_000)
    await switch_language(page, lang)
    await assert_accessible(page, f"/shop ({lang}, signed out)")
    await log_in(page, "shop-ed-demo-isola", "shopkeeper-demo")
    await expect(page.get_by_test_id("shop-name")).not_to_be_empty(timeout=15_000)
    await expect(page.get_by_test_id("service-list").get_by_role("listitem").first).to_be_visible(timeout=15_000)
    await expect(page.get_by_test_id("recognition-status")).to_be_visible(timeout=15_000)
    await page.get_by_test_id("service-add").click()  # the hours editor open, too
    await expect(page.get_by_test_id("hours-0-add")).to_be_visible()
    await assert_accessible(page, f"/shop ({lang}, signed in, editing)")
    # an account of another kind is told where its page is
    await page.get_by_test_id("logout").click()
    await log_in(page, *OFFICE)
    await expect(page.get_by_test_id("role-notice")).to_be_visible(timeout=15_000)
    await assert_accessible(page, f"/shop ({lang}, not a shopkeeper)")
    assert not view.uncaught(), view.problems
