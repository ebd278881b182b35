"""The DUC report through the gateway in a real browser: accessible, styled under its own policy, self-contained.

The demo's Brera district is opened at ``/api/v1/districts/brera/report`` in Italian and in English:
axe-core finds no serious violation, the page's inline style applies (its hash is in the page's
Content-Security-Policy, which the gateway passes on), the browser reports no policy violation and
fetches nothing but the page; the PDF answers through the gateway too, with Brera in its text.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from devkit.testing import Platform

from .conftest import assert_accessible, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

REPORT = "/api/v1/districts/brera/report"


@pytest.mark.parametrize(("lang", "heading"), [("it", "Perimetro"), ("en", "Perimeter")])
async def test_the_duc_report_is_accessible_and_self_contained(
    seeded: Platform, browser: Any, lang: str, heading: str
) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    watch_console(page, problems)
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    answer = await page.goto(f"{seeded.gateway}{REPORT}?lang={lang}")
    assert answer is not None and answer.status == 200
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await expect(page.locator("h2").first).to_have_text(heading)
    assert await page.locator("h1").inner_text() and "Brera" in await page.locator("h1").inner_text()
    # the report's own style sheet applied: the gateway's stricter policy would have blocked it
    border = await page.locator("h2").first.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert border == "solid"
    figures = await page.locator("figure").count()
    assert figures >= 7 and await page.locator("figure > svg[role=img]").count() == figures
    await assert_accessible(page, f"{REPORT} ({lang})")
    assert fetched == [f"{seeded.gateway}{REPORT}?lang={lang}"], fetched
    assert not problems, problems

    pdf = await context.request.get(f"{seeded.gateway}{REPORT}?format=pdf&lang={lang}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(await pdf.body()))
    assert "Brera" in (reader.pages[0].extract_text() or "")
    await context.close()
