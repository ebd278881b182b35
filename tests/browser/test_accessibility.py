"""axe-core on the office's dashboard and the operators' page, in Italian and in English.

Each page is checked before logging in (the login view) and after (the working view with its data),
failing on any serious or critical violation; the dashboard's workspace sections (Bandi,
Riconoscimenti, Account e registrazioni) too. The citizens' page is checked in ``test_near.py``; a
call with applications, scores and a ranking in ``test_calls_workspace.py``; an application with its
documents in ``test_recognitions_workspace.py``; registrations and an account's actions in
``test_accounts_workspace.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from devkit.testing import Platform

from .conftest import OFFICE, assert_accessible
from .test_dashboard import MARKET, _log_in, _watch_console

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def _switch(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    if lang == "en":
        await page.get_by_test_id("lang-en").click()
    await expect(page.locator("html")).to_have_attribute("lang", lang)


async def _login_view(
    seeded: Platform, browser: Any, path: str, lang: str, problems: list[str], **context_options: Any
) -> tuple[Any, Any]:
    """A new browser context on the login view of ``path`` in ``lang``, checked with axe."""
    from playwright.async_api import expect

    context = await browser.new_context(**context_options)
    page = await context.new_page()
    _watch_console(page, problems)
    await page.goto(seeded.gateway + path)
    await expect(page.get_by_test_id("login-form")).to_be_visible(timeout=15_000)
    await _switch(page, lang)
    await assert_accessible(page, f"{path} ({lang}, login)")
    return context, page


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_dashboard_has_no_serious_accessibility_violations(seeded: Platform, browser: Any, lang: str) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    context, page = await _login_view(seeded, browser, "/", lang, problems, viewport={"width": 1440, "height": 1000})
    await _log_in(page, *OFFICE)
    await expect(page.get_by_test_id("district-table")).to_contain_text(re.compile(r"\w"), timeout=15_000)
    await expect(page.get_by_test_id(f"market-open-{MARKET}")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
    await assert_accessible(page, f"/ ({lang}, signed in)")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_operator_page_has_no_serious_accessibility_violations(
    seeded: Platform, browser: Any, lang: str
) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    context, page = await _login_view(seeded, browser, "/operator", lang, problems, **phone)
    await _log_in(page, f"operator-{MARKET}", "operator-demo")
    await expect(page.locator('[data-testid^="stall-"][data-status]').first).to_be_visible(timeout=15_000)
    await assert_accessible(page, f"/operator ({lang}, stalls)")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_calls_section_has_no_serious_accessibility_violations(
    seeded: Platform, browser: Any, lang: str
) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    context, page = await _login_view(seeded, browser, "/", lang, problems, viewport={"width": 1440, "height": 1000})
    await _log_in(page, *OFFICE)
    await page.get_by_test_id("section-calls").click()
    await page.get_by_test_id("calls-market").select_option(MARKET)
    # the demo data's open call at Wagner, opened from the list
    await page.locator('[data-testid^="call-open-"]').first.click()
    await expect(page.get_by_test_id("call-detail")).to_be_visible(timeout=15_000)
    await expect(page.get_by_test_id("surface-check")).to_be_visible()
    await assert_accessible(page, f"/#bandi ({lang}, a call)")
    # the new-call form with the messages of an empty submission next to its fields
    await page.get_by_test_id("call-new").click()
    await page.get_by_test_id("call-submit").click()
    await expect(page.locator("#call-title")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"/#bandi ({lang}, new call with errors)")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_recognitions_and_accounts_sections_have_no_serious_accessibility_violations(
    seeded: Platform, browser: Any, lang: str
) -> None:
    from playwright.async_api import expect

    problems: list[str] = []
    context, page = await _login_view(seeded, browser, "/", lang, problems, viewport={"width": 1440, "height": 1000})
    await _log_in(page, *OFFICE)
    await page.get_by_test_id("section-recognitions").click()
    await expect(page.get_by_test_id("recognitions-table").locator("caption")).to_contain_text("(")
    await assert_accessible(page, f"/#riconoscimenti ({lang}, the queue)")
    await page.get_by_test_id("section-accounts").click()
    await expect(page.get_by_test_id(f"user-row-{OFFICE[0]}")).to_be_visible(timeout=15_000)
    await page.get_by_test_id(f"manage-{OFFICE[0]}").click()
    # the new-account form with the messages of an empty submission next to its fields
    await page.get_by_test_id("user-new").click()
    await page.get_by_test_id("user-submit").click()
    await expect(page.locator("#user-username")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"/#account ({lang}, an account and the new-account form with errors)")
    await context.close()
    assert not [p for p in problems if "Uncaught" in p], problems
