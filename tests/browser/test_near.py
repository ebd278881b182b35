"""The citizens' page ``/near`` in a real browser on the whole platform, with the demo seed.

A citizen on a phone opens a linked search and sees the nearest points offering the service, on
the map and in the list, with distance and the day's hours; switches service; asks for a time when
everything is closed and is told so, with the hour the first one opens; lets the page use the
device's position. The page is installable (manifest, service worker with an offline shell), and
nothing it loads comes from anywhere but the platform itself.

The expected shops, hours and distances come from the demo seed (``shops.seed``: names, weekly
hours and coordinates), the distances recomputed here with the haversine formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from devkit.testing import Platform

from .conftest import PHONE_2X, assert_accessible, keep_screenshot, switch_language, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Piazzale Segrino (Isola), where the demo kiosk "Edicola Segrino" stands
SEGRINO = (45.4899, 9.1903)
# a Wednesday morning and a Tuesday night (weekdays checked below; no public holiday)
WEDNESDAY_10 = "2026-12-16T10:00"
TUESDAY_3 = "2026-12-15T03:00"
# ritiro_pacchi in the seed: kiosks Mon-Sat 06:30-13:00 and 15:00-19:30, the others later in the day
PARCELS_NEAR_SEGRINO = ["Edicola Segrino", "Drogheria Borsieri"]
DASH = "\u2013"  # the page writes a range of hours with an en dash (U+2013) between the times
KIOSK_HOURS = f"06:30{DASH}13:00, 15:00{DASH}19:30"
FIRST_OPENING = "06:30"
# biglietti_trasporto in the seed: La Foppa 06:00-21:00 every day is the one nearest Segrino after Segrino itself
TICKETS_NEAR_SEGRINO = ["Edicola Segrino", "Edicola La Foppa"]
LOCAL_HOSTS = {"127.0.0.1"}


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def test_the_chosen_days_are_what_the_tests_say() -> None:
    assert date.fromisoformat(WEDNESDAY_10[:10]).weekday() == 2
    assert date.fromisoformat(TUESDAY_3[:10]).weekday() == 1


@dataclass
class Phone:
    """A phone's browser context and page, with every request it sent and the problems its console logged."""

    context: Any
    page: Any
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def search_parcels_near_segrino(self, gateway: str, open_at: str) -> None:
        lat, lon = SEGRINO
        await self.page.goto(f"{gateway}/near?service=ritiro_pacchi&lat={lat}&lon={lon}&open_at={open_at}")

    async def close(self, *, local: bool = True) -> None:
        """Close the context; when ``local``, it must have sent nothing off the machine."""
        await self.context.close()
        if local:
            _assert_stayed_local(self.requests)


async def _phone(browser: Any, **options: Any) -> Phone:
    context = await browser.new_context(**PHONE_2X, locale="it-IT", **options)
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    phone = Phone(context, await context.new_page(), requests)
    watch_console(phone.page, phone.problems)
    return phone


def _assert_stayed_local(requests: list[str]) -> None:
    assert requests, "no request was recorded"
    away = [
        u for u in requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname not in LOCAL_HOSTS
    ]
    assert not away, f"the page sent requests off the machine: {away}"


async def _items(page: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await page.get_by_test_id("near-item").evaluate_all(
        """(items) => items.map((li) => ({
            name: li.querySelector('h3').textContent,
            metres: Number(li.dataset.distance),
            open: li.dataset.open === 'true',
            distance: li.querySelector('[data-testid="near-distance"]').textContent,
            hours: li.querySelector('[data-testid="near-hours"]').textContent,
        }))"""
    )
    return rows


async def test_a_linked_search_shows_the_nearest_open_points_on_the_map_and_in_the_list(
    seeded: Platform, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    phone = await _phone(browser)
    page = phone.page
    await phone.search_parcels_near_segrino(seeded.gateway, WEDNESDAY_10)

    status = page.get_by_test_id("near-status")
    await expect(status).to_contain_text("Ritiro pacchi", timeout=15_000)
    await expect(status).to_contain_text("aperti")
    items = await _items(page)
    assert [i["name"] for i in items[:2]] == PARCELS_NEAR_SEGRINO
    assert len(items) >= 4 and all(i["open"] for i in items)
    metres = [i["metres"] for i in items]
    assert metres == sorted(metres)
    borsieri = haversine_m(SEGRINO, (45.4887, 9.1893))
    assert abs(items[1]["metres"] - borsieri) < 5, (items[1], borsieri)
    assert items[0]["distance"] == "0 m"
    assert items[1]["distance"] == f"{round(borsieri / 10) * 10} m"
    assert items[0]["hours"] == KIOSK_HOURS
    assert f"09:00{DASH}13:00, 15:30{DASH}19:30" in items[1]["hours"]

    # the same points on the map, and their names in the tooltip as text
    markers = page.locator("#near-map path.near-marker-open")
    await expect(markers).to_have_count(len(items))
    assert await page.locator("#near-map path.near-you").count() == 1
    # what a phone shows first (the form, the answer starting below it), then the answer itself
    await page.evaluate("window.scrollTo(0, 0)")
    keep_screenshot(await page.screenshot(), "near.png", tmp_path)
    await page.get_by_test_id("near-status").evaluate("(el) => el.closest('section').scrollIntoView()")
    keep_screenshot(await page.screenshot(), "near-results.png", tmp_path)

    # (the two nearest overlap at this zoom: the pointer event goes to the first marker itself)
    await markers.first.dispatch_event("mouseover")
    await expect(page.locator(".leaflet-tooltip")).to_contain_text("1. Edicola Segrino")
    await page.get_by_role("button", name="Mostra Drogheria Borsieri sulla mappa").click()
    popup = page.locator(".leaflet-popup-content")
    await expect(popup).to_contain_text("Via Pietro Borsieri 14")
    await expect(popup).to_contain_text(items[1]["distance"])

    # another service: the list and the address bar follow
    await page.get_by_test_id("near-service").select_option("biglietti_trasporto")
    await expect(status).to_contain_text("Biglietti del trasporto pubblico", timeout=10_000)
    items = await _items(page)
    assert [i["name"] for i in items[:2]] == TICKETS_NEAR_SEGRINO
    assert items[1]["hours"] == f"06:00{DASH}21:00"
    query = parse_qs(urlsplit(page.url).query)
    assert query["service"] == ["biglietti_trasporto"]
    assert query["open_at"] == [WEDNESDAY_10]
    assert (float(query["lat"][0]), float(query["lon"][0])) == SEGRINO
    # back returns to the first search
    await page.go_back()
    await expect(status).to_contain_text("Ritiro pacchi", timeout=10_000)

    await phone.close()
    assert not phone.problems, phone.problems


async def test_when_everything_is_closed_the_page_says_so_and_suggests_the_first_opening(
    seeded: Platform, browser: Any
) -> None:
    from playwright.async_api import expect

    phone = await _phone(browser)
    page = phone.page
    await phone.search_parcels_near_segrino(seeded.gateway, TUESDAY_3)

    status = page.get_by_test_id("near-status")
    await expect(status).to_contain_text("Nessun punto aperto", timeout=15_000)
    await expect(status).to_contain_text(f"Il primo apre alle {FIRST_OPENING}")
    await expect(status).to_have_attribute("role", "status")
    items = await _items(page)
    assert items and not any(i["open"] for i in items), "the list shows the nearest points, marked closed"
    assert await page.locator("#near-map path.near-marker-closed").count() == len(items)

    suggest = page.get_by_test_id("near-suggest-button")
    await expect(suggest).to_have_text(f"Cerca alle {FIRST_OPENING}")
    await suggest.click()
    await expect(status).to_contain_text("punti aperti", timeout=10_000)
    assert parse_qs(urlsplit(page.url).query)["open_at"] == [f"{TUESDAY_3[:10]}T{FIRST_OPENING}"]
    items = await _items(page)
    assert items and all(i["open"] for i in items)

    # the same page in English
    await page.get_by_test_id("lang-en").click()
    await expect(status).to_contain_text("Parcel pickup")
    await expect(page.get_by_test_id("near-service").locator("option:checked")).to_have_text("Parcel pickup")

    await phone.close()
    assert not phone.problems, phone.problems


async def test_the_device_position_is_used_when_the_citizen_allows_it(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    lat, lon = SEGRINO
    phone = await _phone(browser, geolocation={"latitude": lat, "longitude": lon}, permissions=["geolocation"])
    page = phone.page
    await page.goto(f"{seeded.gateway}/near")
    status = page.get_by_test_id("near-status")
    await expect(status).to_contain_text("Scegli un servizio", timeout=15_000)
    assert await page.get_by_test_id("near-item").count() == 0

    await page.get_by_test_id("near-service").select_option("ritiro_pacchi")
    await page.get_by_test_id("near-when").fill(WEDNESDAY_10)
    await page.get_by_test_id("near-locate").click()
    await expect(status).to_contain_text("Ritiro pacchi", timeout=15_000)
    query = parse_qs(urlsplit(page.url).query)
    assert (float(query["lat"][0]), float(query["lon"][0])) == SEGRINO
    assert [i["name"] for i in (await _items(page))[:2]] == PARCELS_NEAR_SEGRINO
    await expect(page.get_by_test_id("near-lat")).to_have_value(f"{lat:.5f}")

    await phone.close()
    assert not phone.problems, phone.problems


async def test_a_search_the_form_cannot_make_leaves_no_answer_of_the_one_before(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    phone = await _phone(browser)
    page = phone.page
    await phone.search_parcels_near_segrino(seeded.gateway, WEDNESDAY_10)
    status = page.get_by_test_id("near-status")
    await expect(status).to_contain_text("punti aperti", timeout=15_000)
    await expect(page.get_by_test_id("near-item").first).to_be_visible()

    await page.get_by_text("oppure scrivi le coordinate").click()
    await page.get_by_test_id("near-lat").fill("abc")
    await page.get_by_test_id("near-submit").click()
    await expect(page.get_by_test_id("near-form-message")).to_have_text(
        "La latitudine deve essere un numero tra -90 e 90."
    )
    await expect(page.get_by_test_id("near-lat")).to_be_focused()
    await expect(status).to_have_text("Nessuna ricerca fatta: correggi quanto indicato nel modulo.")
    await expect(page.get_by_test_id("near-item")).to_have_count(0)
    await expect(page.locator("#near-map path.near-marker-open")).to_have_count(0)

    # corrected, the form searches again
    await page.get_by_test_id("near-lat").fill(str(SEGRINO[0]))
    await page.get_by_test_id("near-submit").click()
    await expect(status).to_contain_text("punti aperti", timeout=15_000)
    await expect(page.get_by_test_id("near-form-message")).to_be_empty()
    assert [i["name"] for i in (await _items(page))[:2]] == PARCELS_NEAR_SEGRINO

    await phone.close()
    assert not phone.problems, phone.problems


async def test_a_place_far_from_milan_is_said_to_be_outside_the_city(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    phone = await _phone(browser)
    page = phone.page
    searched: list[str] = []
    page.on("request", lambda r: searched.append(r.url) if "/services/nearest" in r.url else None)
    # Rome: the nearest parcel point is hundreds of kilometres away, which is not "near"
    await page.goto(f"{seeded.gateway}/near?service=ritiro_pacchi&lat=41.9&lon=12.5")
    away = round(haversine_m((45.4642, 9.19), (41.9, 12.5)) / 1000)
    await expect(page.get_by_test_id("near-form-message")).to_have_text(
        f"Questo punto è a {away} km da Milano: qui si trovano solo i punti della città. "
        "Scegli un quartiere o scrivi le coordinate di un luogo a Milano.",
        timeout=15_000,
    )
    await expect(page.get_by_test_id("near-lat")).to_be_focused()
    await expect(page.get_by_test_id("near-lat")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("near-status")).to_have_text(
        "Nessuna ricerca fatta: correggi quanto indicato nel modulo."
    )
    await expect(page.get_by_test_id("near-item")).to_have_count(0)
    assert searched == [], "nothing was searched"

    # Sesto San Giovanni, just past the city's edge, is near enough
    await page.get_by_test_id("near-lat").fill("45.5347")
    await page.get_by_test_id("near-lon").fill("9.2340")
    await page.get_by_test_id("near-submit").click()
    await expect(page.get_by_test_id("near-status")).to_contain_text("Ritiro pacchi", timeout=15_000)
    await expect(page.get_by_test_id("near-form-message")).to_be_empty()
    assert searched, "the search was made"

    await phone.close()
    assert not phone.problems, phone.problems


async def test_the_page_is_installable_and_opens_offline(seeded: Platform, browser: Any) -> None:
    from playwright.async_api import expect

    phone = await _phone(browser)
    context, page = phone.context, phone.page
    await page.goto(f"{seeded.gateway}/near")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)

    manifest = await page.request.get(f"{seeded.gateway}/near.webmanifest")
    assert manifest.status == 200
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = await manifest.json()
    assert (body["start_url"], body["scope"], body["display"]) == ("/near", "/near", "standalone")
    cdp = await context.new_cdp_session(page)
    parsed = await cdp.send("Page.getAppManifest")
    assert parsed["url"] == f"{seeded.gateway}/near.webmanifest"
    assert not parsed["errors"], parsed["errors"]

    worker = await page.request.get(f"{seeded.gateway}/near-sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    scope = await page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{seeded.gateway}/near"
    page_answer = await page.request.get(f"{seeded.gateway}/near")
    assert "geolocation=(self)" in page_answer.headers["permissions-policy"]

    # once installed, the shell opens without a network (the search then says it cannot reach the server)
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    assert await page.evaluate("Boolean(navigator.serviceWorker.controller)")
    await context.set_offline(True)
    await page.goto(f"{seeded.gateway}/near?service=ritiro_pacchi&lat=45.4899&lon=9.1903")
    await expect(page.get_by_test_id("near-form")).to_be_visible(timeout=15_000)
    await expect(page.get_by_test_id("near-submit")).to_have_text("Cerca")
    await expect(page.get_by_test_id("near-status")).to_contain_text("server", timeout=15_000)
    await context.set_offline(False)

    await phone.close()
    assert not [p for p in phone.problems if "Uncaught" in p], phone.problems


@pytest.mark.parametrize("lang", ["it", "en"])
async def test_the_citizens_page_has_no_serious_accessibility_violations(
    seeded: Platform, browser: Any, lang: str
) -> None:
    from playwright.async_api import expect

    phone = await _phone(browser)
    page = phone.page
    await page.goto(f"{seeded.gateway}/near")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    await switch_language(page, lang)
    await assert_accessible(page, f"/near ({lang}, empty)")
    await phone.search_parcels_near_segrino(seeded.gateway, WEDNESDAY_10)
    await expect(page.get_by_test_id("near-item").first).to_be_visible(timeout=15_000)
    await assert_accessible(page, f"/near ({lang}, results)")
    await phone.search_parcels_near_segrino(seeded.gateway, TUESDAY_3)
    await expect(page.get_by_test_id("near-suggest-button")).to_be_visible(timeout=15_000)
    await assert_accessible(page, f"/near ({lang}, nothing open)")
    # bad input: the message and the invalid field
    await page.get_by_text("oppure scrivi le coordinate" if lang == "it" else "or type coordinates").click()
    await page.get_by_test_id("near-lat").fill("north")
    await page.get_by_test_id("near-submit").click()
    await expect(page.get_by_test_id("near-form-message")).not_to_be_empty()
    await expect(page.get_by_test_id("near-lat")).to_be_focused()
    await assert_accessible(page, f"/near ({lang}, bad latitude)")
    await phone.close(local=False)
    assert not phone.problems, phone.problems
