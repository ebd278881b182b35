"""The stalls of the operators' page in a real browser, on a phone, on the whole seeded platform.

Each stall offers the moves the markets service allows, so one tap is enough: a free stall is
``Libero`` or in ``Manutenzione`` (nothing opens it before the office assigns a holder); a held
stall in maintenance goes to ``Chiuso`` before ``Aperto``, and its ``Aperto`` button says so, to
the eye and to a screen reader, instead of failing. Every label stays on one line on a phone.
From the keyboard, the skip link and the page's screen links take the focus where they lead.
"""

from __future__ import annotations

import httpx
import pytest

from devkit.testing import Platform

from .conftest import MARKET, PHONE, OpenPage, assert_accessible, office_headers

pytestmark = [pytest.mark.browser, pytest.mark.integration]

OPERATOR = (f"operator-{MARKET}", "operator-demo")
WHY_NOT_OPEN = "Dalla manutenzione il banco passa prima a Chiuso, poi ad Aperto."

# How many lines each status button's label takes (its check mark included), measured with the
# button as tall as its content (no minimum height, not stretched to its row); and whether the label
# overflows the button.
LABEL_LINES = """() => [...document.querySelectorAll('.status-button')].map((button) => {
  const style = getComputedStyle(button);
  Object.assign(button.style, { minHeight: '0', alignSelf: 'start' });
  const height = button.getBoundingClientRect().height;
  Object.assign(button.style, { minHeight: '', alignSelf: '' });
  const frame = ['paddingTop', 'paddingBottom', 'borderTopWidth', 'borderBottomWidth']
    .reduce((sum, side) => sum + parseFloat(style[side]), 0);
  return {
    button: button.dataset.testid,
    lines: Math.round((height - frame) / parseFloat(style.lineHeight)),
    overflows: button.scrollWidth > button.clientWidth,
  };
}).filter((b) => b.lines !== 1 || b.overflows)"""


async def _status(api: httpx.AsyncClient, number: str) -> str:
    return str((await api.get(f"/markets/{MARKET}/stalls/{number}")).json()["status"])


async def _set_status(api: httpx.AsyncClient, office: dict[str, str], number: str, status: str) -> None:
    if status == "open" and await _status(api, number) == "maintenance":
        await _set_status(api, office, number, "closed")  # the service's way out of maintenance
    done = await api.put(f"/markets/{MARKET}/stalls/{number}/status", json={"status": status}, headers=office)
    assert done.status_code == 200, done.text


async def test_each_stall_offers_only_the_moves_the_rules_allow(seeded: Platform, office_page: OpenPage) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=15) as api:
        office = await office_headers(api)
        stalls = (await api.get(f"/markets/{MARKET}/stalls", params={"limit": 500})).json()["items"]
        held = next(s for s in stalls if s["holder"] and s["status"] in ("open", "closed"))
        free = next(s for s in stalls if not s["holder"] and s["status"] == "vacant")
        h, f = held["number"], free["number"]
        await _set_status(api, office, h, "maintenance")  # a held stall under maintenance
        try:
            view = await office_page("/operator", user=OPERATOR, **PHONE)
            page = view.page
            message = page.get_by_test_id("operator-message")

            # A free stall: Libero (its status) and Manutenzione; no Aperto or Chiuso to be refused.
            free_buttons = page.get_by_role("group", name=f"Banco {f}", exact=True).get_by_role("button")
            await expect(free_buttons).to_have_text(["Libero", "Manutenzione"], timeout=15_000)
            await expect(free_buttons.first).to_have_attribute("aria-pressed", "true")
            await expect(page.get_by_test_id(f"stall-{f}")).to_contain_text("nessun titolare")

            # A held stall in maintenance: Aperto is there, disabled, and says why; Chiuso is not.
            card = page.get_by_test_id(f"stall-{h}")
            opening = card.get_by_role("button", name="Aperto", exact=True)
            await expect(opening).to_be_disabled()
            await expect(opening).to_have_accessible_description(WHY_NOT_OPEN)
            await expect(card.get_by_test_id(f"stall-{h}-why")).to_have_text(WHY_NOT_OPEN)
            await expect(card.get_by_role("button", name="Chiuso", exact=True)).to_be_enabled()
            await assert_accessible(page, "/operator (it, a stall under maintenance)")
            # pressed from the keyboard, it sends nothing and says the way instead
            await opening.focus()
            await page.keyboard.press("Enter")
            await expect(message).to_have_text(WHY_NOT_OPEN)
            await expect(card).to_have_attribute("data-status", "maintenance")
            assert await _status(api, h) == "maintenance"

            # The way: Chiuso, then Aperto, one tap each, and neither refused.
            await card.get_by_role("button", name="Chiuso", exact=True).tap()
            await expect(card).to_have_attribute("data-status", "closed", timeout=10_000)
            await expect(message).to_have_text(f"Fatto: banco {h} ora è «Chiuso».")
            await expect(opening).to_be_enabled()
            await expect(card.get_by_test_id(f"stall-{h}-why")).to_have_count(0)
            await opening.tap()
            await expect(card).to_have_attribute("data-status", "open", timeout=10_000)
            await expect(message).to_have_text(f"Fatto: banco {h} ora è «Aperto».")
            assert await _status(api, h) == "open"

            # The free stall goes into maintenance and back to Libero, one tap each.
            free_card = page.get_by_test_id(f"stall-{f}")
            await free_buttons.get_by_text("Manutenzione").tap()
            await expect(free_card).to_have_attribute("data-status", "maintenance", timeout=10_000)
            await expect(free_buttons.last).to_have_attribute("aria-pressed", "true")
            # the selected "✓ Manutenzione", like every label, on one line: on this phone and a narrower one
            assert await page.evaluate(LABEL_LINES) == []
            await page.set_viewport_size({"width": 320, "height": 700})
            assert await page.evaluate(LABEL_LINES) == []
            await free_buttons.get_by_text("Libero").tap()
            await expect(free_card).to_have_attribute("data-status", "vacant", timeout=10_000)
            assert await _status(api, f) == "vacant"

            # English: the reason is translated with the buttons
            await _set_status(api, office, h, "maintenance")
            await page.get_by_test_id("refresh").click()
            await expect(card).to_have_attribute("data-status", "maintenance", timeout=10_000)
            await page.get_by_test_id("lang-en").click()
            await expect(card.get_by_role("button", name="Open", exact=True)).to_have_accessible_description(
                "From maintenance the stall goes to Closed first, then to Open."
            )
            assert not view.uncaught(), view.problems
        finally:
            await _set_status(api, office, h, held["status"])
            await _set_status(api, office, f, "vacant")


async def test_the_skip_link_and_the_screen_links_take_the_focus_where_they_lead(office_page: OpenPage) -> None:
    from playwright.async_api import expect

    page = (await office_page("/operator", user=OPERATOR, **PHONE)).page
    await expect(page.get_by_test_id("stall-list").locator("[data-status]").first).to_be_visible(timeout=15_000)

    # Back later, still signed in: the page starts from its top, so Tab reaches the skip link first.
    await page.reload()
    await expect(page.get_by_test_id("stall-list").locator("[data-status]").first).to_be_visible(timeout=15_000)
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Vai al contenuto")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()

    # The page's screen links move the focus to the screen's heading, not to the page's body.
    screens = page.get_by_role("navigation", name="Schermate della pagina")
    await page.keyboard.press("Tab")
    await expect(screens.get_by_role("link", name="Banchi")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Banchi", level=2)).to_be_focused()
    for link, heading in (("Spunta", "Spunta del giorno"), ("Spazi", "Spazi sociali e culturali")):
        await screens.get_by_role("link", name=link).focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name=heading, level=2)).to_be_focused()
