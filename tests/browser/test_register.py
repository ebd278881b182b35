"""The request for an account ``/register`` in a real browser, walked as people walk it.

A haberdasher on a phone goes from the shop portal's login box to the page, proposes her new shop and
places it on the map (a tap, then the coordinates typed), and is told what happens next. The office
approves the request in its dashboard; the activation mail arrives at the local SMTP sink; from its
link she chooses a password, signs in at ``/shop`` and finds the shop she proposed, where she put it.
Another person gets every mistake named next to its field (the page's own checks, and the gateway's
refusal of an address the browser let through) and then names a shop the platform has; a trader asks
from the operators' login box, in English.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from devkit.stack.components import ROOT
from devkit.stack.mail_sink import text_of
from devkit.testing import Platform, unique

from .conftest import (
    PHONE_2X,
    OpenPage,
    assert_accessible,
    choose_password,
    keep_screenshot,
    log_in_by_labels,
    office_headers,
    open_section,
    watch_console,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

LINK = re.compile(r"https?://\S+/activate\?token=\S+")
API = "/api/v1"
# where the page's map opens: the middle of Milan, by the Duomo
MIDDLE = (45.4642, 9.19)
# Isola (a NIL of the demo map), typed in the fields after the tap (with a comma, as Italians write it)
PLACE = ("45,48912", "9.19035")
SHOP_NAME = "Merceria dell'Isola"
PASSWORD = "spilli-e-rocchetti-1971"
DEMO_SHOP = ("bs-demo-drogheria-borsieri", "Drogheria Borsieri")


async def _pending(gateway: str, username: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=gateway + API, timeout=30) as api:
        office = await office_headers(api)
        pending = await api.get("/registrations", params={"state": "pending", "limit": 500}, headers=office)
    found = [r for r in pending.json()["items"] if r["username"] == username]
    assert len(found) == 1, [r["username"] for r in pending.json()["items"]]
    return dict(found[0])


async def _on_phone(browser: Any, url: str, locale: str, problems: list[str]) -> tuple[Any, Any]:
    """A new phone-sized browser context in ``locale`` at ``url``, its console problems into ``problems``."""
    context = await browser.new_context(**PHONE_2X, locale=locale)
    page = await context.new_page()
    watch_console(page, problems)
    await page.goto(url)
    return context, page


async def test_a_shopkeeper_asks_proposing_a_shop_on_the_map_and_ends_up_in_it(
    seeded: Platform, browser: Any, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    username = unique("merciaia")
    email = f"{username}@example.org"
    problems: list[str] = []
    # from the shop portal's login box to the page, the role already chosen
    context, page = await _on_phone(browser, seeded.gateway + "/shop", "it-IT", problems)
    await expect(page.get_by_test_id("login-form")).to_be_visible(timeout=15_000)
    await page.get_by_test_id("login-form").get_by_role("link", name="Richiedi un account").click()
    await expect(page).to_have_url(re.compile(r"/register\?role=shopkeeper$"))
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    await expect(page.get_by_label("Titolare di negozio / bottega / edicola")).to_be_checked()
    await assert_accessible(page, "/register (it, a shopkeeper's empty form)")

    await page.get_by_label("Nome e cognome").fill("Rosa Brambilla")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Nome utente che vorresti").fill(username)
    await page.get_by_label("Non c'è ancora: lo propongo").check()
    await page.get_by_label("Nome del negozio").fill(SHOP_NAME)
    await page.get_by_label("Indirizzo", exact=True).fill("Via Pastrengo 12")
    await page.get_by_label("Tipo", exact=True).select_option("shop")
    await page.get_by_label("Attività", exact=True).fill("Merceria")

    # the map shows the neighbourhoods; a tap in its middle puts the shop there
    place_map = page.get_by_test_id("register-map")
    await expect(place_map).to_have_attribute("data-nils", re.compile(r"^[1-9]\d*$"), timeout=15_000)
    box = await place_map.bounding_box()
    assert box is not None
    await place_map.tap(position={"x": box["width"] / 2, "y": box["height"] / 2})
    await expect(place_map).to_have_attribute("data-placed", re.compile(r"."))
    tapped = [float(await page.get_by_label(name).input_value()) for name in ("Latitudine", "Longitudine")]
    assert tapped == pytest.approx(MIDDLE, abs=0.002), tapped
    # then the exact place typed: the marker follows the fields
    await page.get_by_label("Latitudine").fill(PLACE[0])
    await page.get_by_label("Longitudine").fill(PLACE[1])
    await page.get_by_label("Longitudine").press("Tab")
    await expect(place_map).to_have_attribute("data-placed", "45.48912,9.19035")
    await page.get_by_label("Messaggio per l'ufficio (facoltativo)").fill("Merceria aperta da mia nonna nel 1971.")
    await page.get_by_test_id("register-proposal").evaluate("(part) => part.scrollIntoView({ block: 'start' })")
    # the marker is drawn inside the map, where the typed point now is (its middle)
    marker = await place_map.locator(".place-marker").bounding_box()
    box = await place_map.bounding_box()
    assert marker is not None and box is not None
    marker_middle = (marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2)
    assert marker_middle == pytest.approx((box["x"] + box["width"] / 2, box["y"] + box["height"] / 2), abs=3)
    keep_screenshot(await page.screenshot(), "register.png", tmp_path)
    await assert_accessible(page, "/register (it, a proposed shop placed on the map)")

    await page.get_by_role("button", name="Invia la richiesta").click()
    done = page.get_by_test_id("register-done")
    await expect(done).to_be_focused(timeout=15_000)
    await expect(page.get_by_test_id("register-form")).to_be_hidden()
    await expect(done.get_by_role("heading", name="Richiesta inviata")).to_be_visible()
    await expect(page.get_by_test_id("register-done-text")).to_have_text(
        f"Abbiamo ricevuto la tua richiesta. Le risposte arriveranno a {email}."
    )
    await expect(done).to_contain_text("L'ufficio commercio esamina la richiesta")
    await expect(done).to_contain_text("link personale (valido 72 ore)")
    await assert_accessible(page, "/register (it, sent)")
    await page.get_by_test_id("lang-en").click()
    await expect(done.get_by_role("heading", name="Request sent")).to_be_visible()
    await expect(done).to_contain_text("The commerce office reviews the request")
    await assert_accessible(page, "/register (en, sent)")

    # the office approves it in its dashboard
    office = await office_page()
    desk = office.page
    await open_section(desk, "Account e registrazioni", "Account e registrazioni")
    card = desk.get_by_test_id(f"registration-{username}")
    await expect(card).to_contain_text("Rosa Brambilla", timeout=15_000)
    await expect(card).to_contain_text(f"{SHOP_NAME}, Via Pastrengo 12 (Negozio; Merceria)")
    await expect(card).to_contain_text("Merceria aperta da mia nonna nel 1971.")
    await card.get_by_role("button", name=f"Approva la richiesta di {username}").click()
    handover = desk.get_by_test_id("handover")
    await expect(handover).to_contain_text(f"Account {username} creato.", timeout=15_000)
    await expect(handover.get_by_test_id("handover-mail")).to_have_text("✓ Il messaggio è stato inviato per e-mail.")
    assert not office.uncaught(), office.problems

    # the mail, its link, the password, and the shop portal
    links = LINK.findall(text_of(await seeded.mailbox.wait_for(email, timeout_s=30)))
    assert links, "the approval mail carries no activation link"
    await page.goto(links[0])
    await page.get_by_test_id("lang-it").click()
    await choose_password(page, PASSWORD)
    await page.get_by_test_id("activate-login").click()
    await expect(page).to_have_url(re.compile(r"/shop$"))
    await log_in_by_labels(page, username, PASSWORD)
    await expect(page.get_by_test_id("shop-name")).to_have_text(SHOP_NAME, timeout=15_000)
    await expect(page.get_by_test_id("shop-address")).to_have_text("Via Pastrengo 12")
    await expect(page.get_by_test_id("shop-kind")).to_have_text("Negozio")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems

    # the shop stands where she put it
    async with httpx.AsyncClient(base_url=seeded.gateway + API, timeout=30) as api:
        login = await api.post("/auth/token", data={"username": username, "password": PASSWORD})
        own = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = (await api.get("/me", headers=own)).json()
        shop = (await api.get(f"/shops/{me['scope']}")).json()
    assert (me["role"], shop["name"], shop["trade"]) == ("shopkeeper", SHOP_NAME, "Merceria")
    assert (shop["location"]["lat"], shop["location"]["lon"]) == pytest.approx((45.48912, 9.19035), abs=1e-9)


async def test_each_mistake_is_named_beside_its_field_then_a_known_shop_is_chosen(
    seeded: Platform, browser: Any
) -> None:
    from playwright.async_api import expect

    username = unique("drogheria")
    problems: list[str] = []
    context, page = await _on_phone(browser, seeded.gateway + "/register", "it-IT", problems)
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    send = page.get_by_role("button", name="Invia la richiesta")

    # nothing filled: each field says what it needs, and focus goes to the first
    await send.click()
    await expect(page.get_by_test_id("register-form-message")).to_have_text("Correggi i campi segnalati.")
    role = page.get_by_test_id("register-role")
    await expect(role).to_be_focused()
    await expect(role).to_have_attribute("aria-invalid", "true")
    await expect(role).to_contain_text("Scegli se hai un negozio o lavori nei mercati.")
    email = page.get_by_label("E-mail", exact=True)
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_have_accessible_description(re.compile("Scrivi l'indirizzo e-mail"))
    await expect(page.get_by_label("Nome utente che vorresti")).to_have_accessible_description(
        re.compile("Scegli un nome utente")
    )
    await assert_accessible(page, "/register (it, an empty request refused)")

    # a bad address and a bad username, checked in the page
    await page.get_by_label("Titolare di negozio / bottega / edicola").check()
    await page.get_by_label("Nome e cognome").fill("Carlo Borsieri")
    await email.fill("carlo.borsieri")
    await page.get_by_label("Nome utente che vorresti").fill("Carlo Borsieri!")
    await send.click()
    await expect(email).to_be_focused()
    await expect(email).to_have_accessible_description(re.compile("Non è un indirizzo e-mail"))
    await expect(page.get_by_label("Nome utente che vorresti")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Nome utente che vorresti")).to_have_accessible_description(
        re.compile("Da 3 a 64 caratteri: lettere, cifre")
    )
    await expect(page.get_by_test_id("register-shop")).to_contain_text(
        "Indica se il negozio è già sulla piattaforma o se lo proponi."
    )
    await expect(page.get_by_label("Nome e cognome")).not_to_have_attribute("aria-invalid", "true")

    # a shop the platform has, looked up and chosen
    await page.get_by_label("Nome utente che vorresti").fill(username)
    await page.get_by_label("È già sulla piattaforma: lo cerco").check()
    await page.get_by_label("Nome o attività del negozio").fill("Drogheria")
    await page.get_by_label("Nome o attività del negozio").press("Enter")
    await expect(page.get_by_test_id("register-shop-status")).to_contain_text(re.compile(r"Trovat[io] "))
    await page.get_by_label(re.compile(f"^{DEMO_SHOP[1]}")).check()

    # an address the browser lets through (no dot in the domain) is refused by the gateway, on its field
    await email.fill("carlo@drogheria")
    await send.click()
    await expect(email).to_be_focused(timeout=15_000)
    await expect(email).to_have_accessible_description(
        re.compile(re.escape("non è un indirizzo e-mail (nome@dominio.it)"))
    )
    await expect(page.get_by_test_id("register-form")).to_be_visible()
    await assert_accessible(page, "/register (it, the gateway's refusal on its field)")

    await email.fill(f"{username}@example.org")
    await send.click()
    await expect(page.get_by_test_id("register-done")).to_be_focused(timeout=15_000)
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems
    sent = await _pending(seeded.gateway, username)
    assert (sent["role"], sent["shop_id"], sent["shop"], sent["full_name"]) == (
        "shopkeeper",
        DEMO_SHOP[0],
        None,
        "Carlo Borsieri",
    )


# input types drawn as the browser's own controls, not as the platform's boxes
NOT_BOXES = {"checkbox", "radio", "button", "submit", "reset", "hidden", "image", "range", "color"}
PAGES = ROOT / "services" / "gateway" / "gateway"
INPUT_TYPE = re.compile(r"""<input\b[^>]*?\btype="([a-z-]+)"|h\('input',\s*\{[^}]*?\btype:\s*'([a-z-]+)'""", re.S)


def test_every_kind_of_field_the_pages_use_is_styled_as_a_box() -> None:
    """Each input type in a page or a script is among those app.css draws as the platform's boxes."""
    used = {
        kind
        for path in [*(PAGES / "pages").rglob("*.html"), *(PAGES / "static" / "js").glob("*.js")]
        for match in INPUT_TYPE.finditer(path.read_text(encoding="utf-8"))
        for kind in match.groups()
        if kind
    }
    css = (PAGES / "static" / "css" / "app.css").read_text(encoding="utf-8")
    rule = next(block for block in css.split("}") if 'input[type="text"],' in block and "min-height" in block)
    styled = set(re.findall(r'input\[type="([a-z-]+)"\]', rule.split("{")[0]))
    assert {"text", "email"} <= used, used
    assert used - NOT_BOXES - styled == set(), f"input types without the box style: {used - NOT_BOXES - styled}"
    assert "input:not([type])" in rule.split("{")[0], "an input with no type is a text box too"


async def test_the_e_mail_box_looks_like_the_other_boxes(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    context, page = await _on_phone(browser, seeded.gateway + "/register?role=shopkeeper", "it-IT", problems)
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    await page.get_by_label("Non c'è ancora: lo propongo").check()
    looks = await page.locator("input:visible").evaluate_all(
        """(inputs) => inputs.filter((i) => !['checkbox', 'radio'].includes(i.type)).map((i) => {
            const s = getComputedStyle(i);
            return [i.id, i.type, s.fontSize, s.minHeight, s.borderTopWidth, s.borderTopColor, s.borderRadius];
        })"""
    )
    kinds = {kind for _id, kind, *_ in looks}
    assert {"text", "email"} <= kinds, looks
    assert len({tuple(look[2:]) for look in looks}) == 1, f"boxes drawn differently: {looks}"
    await context.close()
    assert not problems, problems


async def test_a_trader_asks_from_the_operators_login_box_in_english(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    username = unique("spuntista")
    problems: list[str] = []
    context, page = await _on_phone(browser, seeded.gateway + "/operator", "en-GB", problems)
    await page.get_by_test_id("lang-en").click()
    await page.get_by_test_id("login-form").get_by_role("link", name="Ask for an account").click()
    await expect(page).to_have_url(re.compile(r"/register\?role=trader$"))
    await expect(page.locator("html")).to_have_attribute("lang", "en", timeout=15_000)
    await expect(page.get_by_label("Market trader / street vendor / day-stall trader")).to_be_checked()
    await expect(page.get_by_test_id("register-shop")).to_be_hidden()  # a trader names no shop

    await page.get_by_label("Full name").fill("Piero Banchi")
    await page.get_by_label("E-mail", exact=True).fill(f"{username}@example.org")
    await page.get_by_label("Username you would like").fill(username)
    await page.get_by_label("Message for the office (optional)").fill("Frutta e verdura, mercato di via Fauché.")
    await page.get_by_role("button", name="Send the request").click()
    await expect(page.get_by_test_id("register-done-text")).to_have_text(
        f"We have received your request. Replies will be sent to {username}@example.org.", timeout=15_000
    )
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems
    sent = await _pending(seeded.gateway, username)
    assert (sent["role"], sent["shop_id"], sent["shop"], sent["message"]) == (
        "trader",
        None,
        None,
        "Frutta e verdura, mercato di via Fauché.",
    )
