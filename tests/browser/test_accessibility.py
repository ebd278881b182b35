"""axe-core on the office's dashboard, the operators' page, the traders' page and the request for an account, in Italian and in English.

Each page is checked before logging in (the login view) and after (the working view with its data),
failing on any serious or critical violation; each of the dashboard's workspace sections (Bandi,
Riconoscimenti, Account e registrazioni, Distretti, Dati, Interventi, Concessioni e spazi) too, with a
form showing its errors; and the request for an account (``/register``) with its map and with its
errors. The citizens' page is checked in ``test_near.py`` and a market's public agenda in
``test_agenda.py``; a space's bookings with a refused overlap in ``test_concessions_workspace.py``
(desktop) and ``test_operator_spaces.py`` (phone, Italian and English); a call with applications,
scores and a ranking in ``test_calls_workspace.py``; an application with its
documents in ``test_recognitions_workspace.py``; registrations and an account's actions in
``test_accounts_workspace.py``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from .conftest import MARKET, OFFICE, PHONE, OpenPage, assert_accessible, log_in, switch_language

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def _dashboard(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    await log_in(page, *OFFICE)
    await expect(page.get_by_test_id("district-table")).to_contain_text(re.compile(r"\w"), timeout=15_000)
    await expect(page.get_by_test_id(f"market-open-{MARKET}")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
    await assert_accessible(page, f"/ ({lang}, signed in)")


async def _operator(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    await log_in(page, f"operator-{MARKET}", "operator-demo")
    await expect(page.locator('[data-testid^="stall-"][data-status]').first).to_be_visible(timeout=15_000)
    await assert_accessible(page, f"/operator ({lang}, stalls)")


async def _trader(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    await log_in(page, "trader-spunta", "trader-demo")
    # the demo call at Wagner, its application form sent empty: the messages beside their fields
    await page.locator("#open-calls button.btn-primary").first.click(timeout=15_000)
    await page.get_by_test_id("apply-submit").click()
    await expect(page.locator("#apply-holder")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("today-result")).not_to_be_empty()
    await assert_accessible(page, f"/trader ({lang}, calls, an application with errors, today's spunta)")


# each page with a login: the device it is checked on, and what is done and checked once signed in
SIGNED_IN_PAGES: dict[str, tuple[dict[str, Any], Callable[[Any, str], Awaitable[None]]]] = {
    "/": ({}, _dashboard),
    "/operator": (PHONE, _operator),
    "/trader": (PHONE, _trader),
}


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("path", list(SIGNED_IN_PAGES))
async def test_each_page_with_a_login_has_no_serious_accessibility_violations(
    office_page: OpenPage, path: str, lang: str
) -> None:
    from playwright.async_api import expect

    device, signed_in = SIGNED_IN_PAGES[path]
    view = await office_page(path, user=None, **device)
    await expect(view.page.get_by_test_id("login-form")).to_be_visible(timeout=15_000)
    await switch_language(view.page, lang)
    await assert_accessible(view.page, f"{path} ({lang}, login)")
    await signed_in(view.page, lang)
    assert not view.uncaught(), view.problems


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_register_page_has_no_serious_accessibility_violations(office_page: OpenPage, lang: str) -> None:
    from playwright.async_api import expect

    view = await office_page("/register?role=shopkeeper", user=None, **PHONE)
    page = view.page
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    await switch_language(page, lang)
    await assert_accessible(page, f"/register ({lang}, empty)")
    # a proposed shop with its map, sent empty: every message next to its field
    await page.get_by_test_id("register-shop-new").check()
    await expect(page.get_by_test_id("register-map")).to_have_attribute(
        "data-nils", re.compile(r"^[1-9]"), timeout=15_000
    )
    await page.get_by_test_id("register-submit").click()
    await expect(page.get_by_test_id("register-shop-name")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"/register ({lang}, a proposal with errors)")
    assert not view.uncaught(), view.problems


async def _calls(page: Any, lang: str) -> None:
    from playwright.async_api import expect

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


async def _recognitions(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    await expect(page.get_by_test_id("recognitions-table").locator("caption")).to_contain_text("(")
    await assert_accessible(page, f"/#riconoscimenti ({lang}, the queue)")


async def _accounts(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    await expect(page.get_by_test_id(f"user-row-{OFFICE[0]}")).to_be_visible(timeout=15_000)
    await page.get_by_test_id(f"manage-{OFFICE[0]}").click()
    # the new-account form with the messages of an empty submission next to its fields
    await page.get_by_test_id("user-new").click()
    await page.get_by_test_id("user-submit").click()
    await expect(page.locator("#user-username")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("audit-table").locator("caption")).to_be_visible()
    await assert_accessible(page, f"/#account ({lang}, an account, the new-account form with errors, the audit log)")


async def _districts(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    # a district with its charts, components, thresholds, alerts and product mix
    await expect(page.get_by_test_id("district-mix").locator("tbody tr").first).to_be_visible(timeout=15_000)
    await expect(page.get_by_test_id("district-charts").locator("figure")).to_have_count(5, timeout=15_000)
    await expect(page.get_by_test_id("th-occupancy_below")).not_to_have_value("", timeout=15_000)
    await assert_accessible(page, f"/#distretti ({lang}, a district)")
    # a refused threshold, the service's message next to its field
    await page.get_by_test_id("th-vitality_drop_days").fill("0")
    await page.get_by_test_id("th-submit").click()
    await expect(page.locator("#th-vitality_drop_days")).to_have_attribute("aria-invalid", "true", timeout=15_000)
    await assert_accessible(page, f"/#distretti ({lang}, a refused threshold)")


async def _data(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    # the imports, a search of shops to correct a category, the rebuild
    await expect(page.get_by_test_id("imports-table").locator("caption")).to_be_visible(timeout=15_000)
    await page.get_by_test_id("shop-categories-q").fill("Edicola")
    await page.get_by_test_id("shop-categories-search").click()
    await expect(page.get_by_test_id("shop-categories-table").locator("tbody tr").first).to_be_visible()
    await assert_accessible(page, f"/#dati ({lang}, imports and a search of shops)")
    # an upload with no file chosen: the message next to the field
    await page.get_by_test_id("import-submit").click()
    await expect(page.get_by_test_id("import-file")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"/#dati ({lang}, an upload without a file)")


async def _interventions(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    # a pilot of the demo data with its impact, then the new-intervention form submitted empty
    await page.get_by_test_id("intervention-open-mercato-lorenteggio").click()
    # its table of readings, or the sentence alone while there is nothing before and after to measure
    await expect(page.get_by_test_id("impact-sentence")).not_to_be_empty(timeout=15_000)
    await assert_accessible(page, f"/#interventi ({lang}, a pilot's impact)")
    await page.get_by_test_id("intervention-submit").click()
    await expect(page.locator("#intervention-code")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"/#interventi ({lang}, the new-intervention form with errors)")


async def _concessions(page: Any, lang: str) -> None:
    from playwright.async_api import expect

    # every active concession (the demo's end in years), one opened with its three changes
    await page.get_by_test_id("concessions-days").fill("")
    await page.get_by_test_id("concessions-apply").click()
    await page.locator('[data-testid^="concession-open-"]').first.click(timeout=15_000)
    await expect(page.get_by_test_id("concession-renew")).to_be_visible()
    # a renewal without a date and a revocation without a reason: the messages next to their fields
    await page.get_by_test_id("concession-renew-submit").click()
    await page.get_by_test_id("concession-revoke-submit").click()
    await expect(page.locator("#revoke-reason")).to_have_attribute("aria-invalid", "true")
    # the spaces of Wagner, and a new space refused by the form
    await page.get_by_test_id("spaces-market").select_option(MARKET)
    await page.get_by_test_id("space-submit").click()
    await expect(page.locator("#space-code")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, f"/#concessioni ({lang}, a concession and the new-space form with errors)")


# each section of the office's workspace: its navigation link, and what is opened in it before checking
SECTIONS = {
    "calls": _calls,
    "recognitions": _recognitions,
    "accounts": _accounts,
    "districts": _districts,
    "data": _data,
    "interventions": _interventions,
    "concessions": _concessions,
}


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("section", list(SECTIONS))
async def test_each_workspace_section_has_no_serious_accessibility_violations(
    office_page: OpenPage, section: str, lang: str
) -> None:
    view = await office_page()
    await switch_language(view.page, lang)
    await view.page.get_by_test_id(f"section-{section}").click()
    await SECTIONS[section](view.page, lang)
    assert not view.uncaught(), view.problems
