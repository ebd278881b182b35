"""Names shown on the city map are text, never markup: a shop, market or district named like an
HTML element shows that name literally in its tooltip and popup, and no element is created.

The page's Content-Security-Policy would stop an inline handler from running anyway, so the test
looks for what an injection leaves behind: an ``<img>`` inside a tooltip or popup, and a name that
is not shown as written.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devkit.testing import Platform, unique

from .conftest import OFFICE

pytestmark = [pytest.mark.browser, pytest.mark.integration]

HOSTILE = '<img src=x onerror="document.body.dataset.injected=1">'
WHERE = {"lon": 9.2405, "lat": 45.4985}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[9.236, 45.495], [9.245, 45.495], [9.245, 45.502], [9.236, 45.502], [9.236, 45.495]]],
}


async def _hostile_names(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway + "/api/v1", timeout=10) as api:
        login = await api.post("/auth/token", data=dict(zip(("username", "password"), OFFICE, strict=True)))
        office = {"Authorization": f"Bearer {login.json()['access_token']}"}
        bodies = {
            "/markets": {
                "id": unique("mercato-x"),
                "name": HOSTILE,
                "address": HOSTILE,
                "municipio": 2,
                "location": WHERE,
            },
            "/districts": {"code": unique("duc-x"), "name": HOSTILE, "perimeter": SQUARE},
            "/shops": {"id": unique("ed-x"), "kind": "kiosk", "name": HOSTILE, "location": WHERE},
        }
        for path, body in bodies.items():
            created = await api.post(path, json=body, headers=office)
            assert created.status_code == 201, (path, created.text)


async def _shows_text_only(page: Any, opened: str) -> None:
    from playwright.async_api import expect

    box = page.locator(opened).last
    await expect(box).to_contain_text(HOSTILE, timeout=10_000)
    assert await page.locator(".leaflet-tooltip img, .leaflet-popup img").count() == 0


async def test_hostile_names_are_shown_as_text_in_tooltips_and_popups(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    await _hostile_names(seeded)
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="it-IT")
    page = await context.new_page()
    await page.goto(seeded.gateway + "/")
    await page.get_by_test_id("login-username").fill(OFFICE[0])
    await page.get_by_test_id("login-password").fill(OFFICE[1])
    await page.get_by_test_id("login-submit").click()
    named = f'[aria-label*="{HOSTILE[:12]}"]'
    market = page.locator(f"#map path.market-marker{named}")
    district = page.locator(f"#map path.district-shape{named}")
    shop = page.locator(f'#map .leaflet-marker-icon[title="{HOSTILE[:12]}"], #map .leaflet-marker-icon[title^="<img"]')
    for target in (market, district, shop):
        await expect(target.first).to_be_attached(timeout=20_000)

    for target in (market, district):
        await target.first.dispatch_event("mouseover")
        await _shows_text_only(page, ".leaflet-tooltip")
        await target.first.dispatch_event("mouseout")
    for target in (market, district, shop):
        await target.first.dispatch_event("click")
        await _shows_text_only(page, ".leaflet-popup-content")
    assert await page.evaluate("document.body.dataset.injected") is None
    await context.close()
