"""The activation page ``/activate`` in a real browser, reached from the link an approval mails.

A trader asks for an account, the office approves it, the link arrives at the local SMTP sink; on a
phone the trader opens it, is told why a common password is refused and that the two entries
differ, sets a good one in English, and then logs in with it. The page is checked with axe-core in
both languages and in each of its states; a link already used is refused with the reason, and the
page without a link says what to do.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from devkit.stack.mail_sink import text_of
from devkit.testing import Platform, unique

from .conftest import OFFICE, PHONE, assert_accessible, choose_password, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

LINK = re.compile(r"https?://\S+/activate\?token=\S+")
API = "/api/v1"


async def _approved_link(platform: Platform) -> tuple[str, str]:
    """A trader's registration, approved by the office: (username, the link mailed to them)."""
    username = unique("ambulante")
    email = f"{username}@example.org"
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        body = {"role": "trader", "username": username, "email": email, "full_name": "Giulia Verdi"}
        submitted = await client.post(f"{API}/registrations", json=body)
        assert submitted.status_code == 202, submitted.text
        login = await client.post(f"{API}/auth/token", data=dict(zip(("username", "password"), OFFICE, strict=True)))
        office = {"Authorization": f"Bearer {login.json()['access_token']}"}
        approved = await client.post(f"{API}/registrations/{submitted.json()['id']}/approve", headers=office)
        assert approved.status_code == 200 and approved.json()["mail"] == "sent", approved.text
    links = LINK.findall(text_of(await platform.mailbox.wait_for(email, timeout_s=30)))
    assert links, "the approval mail carries no activation link"
    return username, links[0]


async def test_a_trader_sets_the_password_from_the_mailed_link_and_logs_in(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    username, link = await _approved_link(seeded)
    problems: list[str] = []
    context = await browser.new_context(**PHONE, locale="it-IT")
    page = await context.new_page()
    watch_console(page, problems)
    await page.goto(link)
    await expect(page.get_by_test_id("activate-form")).to_be_visible(timeout=15_000)
    await expect(page).to_have_url(re.compile(r"/activate$"))  # the token left the address bar
    await expect(page.locator("h1")).to_have_text("Scegli la tua password")
    await assert_accessible(page, "/activate (it, form)")

    await choose_password(page, "una-password-lunga", "una-password-diversa")
    await expect(page.get_by_test_id("activate-message")).to_have_text("Le due password non coincidono.")
    await expect(page.get_by_test_id("activate-confirm")).to_have_attribute("aria-invalid", "true")
    await choose_password(page, "password1234")
    message = page.get_by_test_id("activate-message")
    await expect(message).to_contain_text("troppo comune")  # the policy's own words, from the API, in Italian
    await expect(page.get_by_test_id("activate-password")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("activate-password")).to_be_focused()
    await assert_accessible(page, "/activate (it, refused)")

    await page.get_by_test_id("lang-en").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("h1")).to_have_text("Choose your password")
    await assert_accessible(page, "/activate (en, form)")
    chosen = "mercato-del-sabato-mattina"
    await choose_password(page, chosen)
    done = page.get_by_test_id("activate-done-message")
    await expect(done).to_have_text(f"Account activated. You can now sign in as {username} with the new password.")
    await expect(page.get_by_test_id("activate-form")).to_be_hidden()
    await assert_accessible(page, "/activate (en, done)")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems

    async with httpx.AsyncClient(base_url=seeded.gateway, timeout=30) as client:
        login = await client.post(f"{API}/auth/token", data={"username": username, "password": chosen})
        assert login.status_code == 200, login.text
        me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert me.json() == {"username": username, "role": "trader", "scope": None}

    # the same link a second time: refused with the reason, and nothing left to try on the page
    again = await browser.new_context(**PHONE, locale="en-GB")
    page = await again.new_page()
    await page.goto(link)
    await page.get_by_test_id("lang-en").click()
    await choose_password(page, "yet-another-long-password")
    await expect(page.get_by_test_id("activate-message")).to_contain_text("not valid")
    await expect(page.get_by_test_id("activate-message")).to_contain_text("commerce office")
    await expect(page.get_by_test_id("activate-submit")).to_be_disabled()
    await again.close()


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_page_without_a_link_says_what_to_do(seeded: Platform, browser: Any, lang: str) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    watch_console(page, problems)
    await page.goto(seeded.gateway + "/activate")
    if lang == "en":
        await page.get_by_test_id("lang-en").click()
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    words = {"it": "ufficio commercio", "en": "commerce office"}[lang]
    await expect(page.get_by_test_id("activate-message")).to_contain_text(words)
    await expect(page.get_by_test_id("activate-submit")).to_be_disabled()
    await assert_accessible(page, f"/activate ({lang}, no link)")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems
