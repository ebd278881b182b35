"""What every page's shared scripts say and where (``forms.js``, ``api.js``, ``format.js``, ``i18n.js``),
in a real browser: a refusal said once, next to its form (the section's message bar keeps no earlier
outcome beside it), a service's refusal worded once without a field's raw path, dates written with
the whole year and day before month in English too, a message bar that goes or is made again when the
language changes, and a focused field never left under the message bar.

The page is played by the test (Playwright's routing) with the gateway's own static files, so no
platform is started.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

ORIGIN = "http://localhost:8124"  # never reached: every request is answered by the test
STATIC = Path(__file__).resolve().parents[2] / "services" / "gateway" / "gateway" / "static"
TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}
PAGE = """<!doctype html><html lang="it"><head><title>messages</title>
<link rel="stylesheet" href="/static/css/app.css"><link rel="stylesheet" href="/static/css/workspace.css">
</head><body><main id="main">
<div id="view" class="calls-view">
  <section class="card"><h2>Sezione</h2><div id="filler"></div></section>
  <form id="form" class="card call-form" novalidate>
    <div class="field"><label for="title">Titolo</label><input id="title" data-field="body.title"></div>
    <div class="field"><label for="days">Giorni</label><input id="days" data-field="body.days"></div>
    <p id="form-message" class="form-message" tabindex="-1"></p>
    <button type="submit">Invia</button>
  </form>
  <p id="bar" class="workspace-message" role="status" data-kind="info" data-testid="bar"></p>
</div>
</main>
<script type="module">
import * as api from '/static/js/api.js';
import * as format from '/static/js/format.js';
import * as forms from '/static/js/forms.js';
import * as i18n from '/static/js/i18n.js';
await i18n.initI18n();
const form = document.getElementById('form');
form.addEventListener('submit', (event) => forms.startSubmit(event, form, document.getElementById('form-message')));
window.m = { api, format, forms, i18n, say: forms.sayer('#bar') };
document.body.dataset.ready = 'true';
</script></body></html>"""


async def _answer(route: Any) -> None:
    path = route.request.url.removeprefix(ORIGIN)
    if path == "/":
        await route.fulfill(status=200, content_type="text/html", body=PAGE)
    elif path.startswith("/static/") and (STATIC / path[8:]).is_file():
        file = STATIC / path[8:]
        await route.fulfill(status=200, content_type=TYPES.get(file.suffix, "text/plain"), path=str(file))
    else:
        await route.fulfill(status=404, body="")


@pytest.fixture
async def page(browser_available: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await chromium.new_context(locale="en-GB", viewport={"width": 900, "height": 700})
        await context.route("**/*", _answer)
        opened = await context.new_page()
        await opened.goto(ORIGIN + "/")
        await opened.wait_for_selector("body[data-ready=true]", state="attached")
        yield opened
        await chromium.close()


def _refusal(detail: str, *errors: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "https://errors.commerce.milano.local/invalid-input",
        "title": "Dati non validi",
        "status": 422,
        "detail": detail,
        "errors": [{"field": field, "message": message} for field, message in errors],
    }


async def _worded(page: Any, problem: dict[str, Any], status: int = 422) -> str:
    return str(
        await page.evaluate(
            "([status, problem]) => m.api.errorMessage(new m.api.ApiError(status, problem))", [status, problem]
        )
    )


async def test_a_refusal_is_said_once_next_to_its_form_and_the_bar_keeps_no_earlier_outcome(page: Any) -> None:
    from playwright.async_api import expect

    bar = page.get_by_test_id("bar")
    message = page.locator("#form-message")
    title = page.get_by_label("Titolo")

    # an earlier action's outcome is in the bar; sending the form again takes it away
    await page.evaluate("m.say('success', 'Password di anna reimpostata.')")
    await expect(bar).to_have_text("Password di anna reimpostata.")
    await page.get_by_role("button", name="Invia").click()
    await expect(bar).to_have_text("")
    await expect(bar).not_to_have_attribute("data-kind", "success")

    # the form's own checks: each field says it, the form's message once, the bar nothing
    await page.evaluate("m.say('success', 'Orari salvati: Ritiro pacchi.')")
    await page.evaluate(
        """() => m.forms.showInvalid([[document.getElementById('title'), 'Campo obbligatorio.'],
                                      [document.getElementById('days'), 'Scrivi un numero.']],
                                     document.getElementById('form-message'), m.say)"""
    )
    await expect(message).to_have_text("Correggi i campi segnalati.")
    await expect(bar).to_have_text("")
    await expect(title).to_be_focused()
    await expect(title).to_have_attribute("aria-invalid", "true")
    await expect(title).to_have_accessible_description("⚠ Campo obbligatorio.")

    # the service's refusal naming the fields: beside them, the raw paths nowhere
    problem = _refusal(
        "body.title: campo obbligatorio; body.days: deve essere un numero intero",
        ("body.title", "campo obbligatorio"),
        ("body.days", "deve essere un numero intero"),
    )
    await page.get_by_role("button", name="Invia").click()
    await page.evaluate(
        """(problem) => m.forms.showProblem(document.getElementById('form'), new m.api.ApiError(422, problem),
                                            document.getElementById('form-message'), m.say)""",
        problem,
    )
    await expect(message).to_have_text("Correggi i campi segnalati.")
    await expect(bar).to_have_text("")
    await expect(title).to_be_focused()
    await expect(page.get_by_label("Giorni")).to_have_accessible_description("⚠ deve essere un numero intero")

    # a refusal the form has no field for: in the form's message, focused, once and in words
    absent = "il posteggio 99 non ha un titolare da segnare assente"
    await page.get_by_role("button", name="Invia").click()
    await page.evaluate(
        """(problem) => m.forms.showProblem(document.getElementById('form'), new m.api.ApiError(422, problem),
                                            document.getElementById('form-message'), m.say)""",
        _refusal(absent, ("body.absent", absent)),
    )
    await expect(message).to_have_text("Il posteggio 99 non ha un titolare da segnare assente")
    await expect(message).to_be_focused()
    await expect(bar).to_have_text("")
    await expect(title).not_to_have_attribute("aria-invalid", "true")


async def test_a_services_refusal_is_worded_once_without_field_paths(page: Any) -> None:
    absent = "il posteggio 99 non ha un titolare da segnare assente"
    assert await _worded(page, _refusal(absent, ("body.absent", absent))) == (
        "Il posteggio 99 non ha un titolare da segnare assente"
    )
    day = "la spunta del 2026-12-07 è già stata assegnata"
    assert await _worded(page, _refusal(day, ("path.date", day))) == "La spunta del 2026-12-07 è già stata assegnata"
    # a request of the wrong shape: the service's detail is "path: message"; said in words
    shape = "deve essere una data valida, scritta AAAA-MM-GG"
    assert await _worded(page, _refusal(f"path.date: {shape}", ("path.date", shape))) == f"Dati non validi: {shape}"
    shapes = _refusal(
        "body.title: campo obbligatorio; body.criteria.1.weight: deve essere un numero",
        ("body.title", "campo obbligatorio"),
        ("body.criteria.1.weight", "deve essere un numero"),
    )
    assert await _worded(page, shapes) == "Dati non validi: campo obbligatorio; deve essere un numero"
    # a detail with more to say than its field's message keeps both, once each
    both = _refusal("un banco libero non può essere aperto", ("body.status", "assegnalo prima a un titolare"))
    assert await _worded(page, both) == "Un banco libero non può essere aperto: assegnalo prima a un titolare"
    # a first word that is a name or a code is left as it is written
    taken = {"title": "Conflitto", "status": 409, "detail": "spuntista-bruno è già tra i presenti"}
    assert await _worded(page, taken, 409) == "spuntista-bruno è già tra i presenti"
    # the composed message of a page: the service's words start their own sentence
    composed = await page.evaluate(
        """(problem) => [m.i18n.t('error.unexpected'), m.api.errorMessage(new m.api.ApiError(409, problem))].join(' ')""",
        {"title": "Conflitto", "status": 409, "detail": "un banco libero non si apre"},
    )
    assert composed.endswith(". Un banco libero non si apre"), composed


async def test_dates_carry_the_whole_year_and_english_writes_the_day_first(page: Any) -> None:
    moment = "2027-01-06T10:28:00Z"  # 11:28 in Milan
    assert await page.evaluate("(v) => m.format.dateTime(v)", moment) == "06/01/2027, 11:28"
    await page.evaluate("m.i18n.setLang('en')")
    assert await page.evaluate("(v) => m.format.dateTime(v)", moment) == "06/01/2027, 11:28"
    assert re.fullmatch(r"Mon,? 7 December 2026", await page.evaluate("m.format.calendarDay('2026-12-07')"))
    assert await page.evaluate("(v) => m.format.time(v)", moment) == "11:28:00"


async def test_a_message_bar_is_all_in_the_new_language_or_goes(page: Any) -> None:
    from playwright.async_api import expect

    bar = page.get_by_test_id("bar")
    # made from its key and values: made again, its date too, in English
    await page.evaluate(
        """m.say('success', () => m.i18n.t('error.rate_limited', { seconds: () => m.format.calendarDay('2026-12-07') }))"""
    )
    await expect(bar).to_contain_text("lun 7 dicembre 2026")
    await page.evaluate("m.i18n.setLang('en')")
    await expect(bar).to_contain_text(re.compile(r"Mon,? 7 December 2026"))
    await expect(bar).not_to_contain_text("Troppe")
    # plain text, written in Italian with the service's words: it goes rather than stay half translated
    await page.evaluate("m.i18n.setLang('it')")
    await page.evaluate("m.say('success', 'Chiusura eliminata: lun 7 dicembre 2026.')")
    await page.evaluate("m.i18n.setLang('en')")
    await expect(bar).to_have_text("")
    await expect(bar).not_to_have_attribute("data-kind", "success")


async def test_a_field_taking_the_focus_stops_above_the_message_bar(page: Any) -> None:
    from playwright.async_api import expect

    await page.evaluate("document.getElementById('filler').style.height = '1800px'")
    await page.evaluate("m.say('success', 'Bando «Box 12» pubblicato.')")
    # the field in the window, right where the bar stays: under it
    await page.evaluate(
        """() => { const box = document.getElementById('days').getBoundingClientRect();
                   window.scrollBy(0, box.bottom - window.innerHeight + 20); }"""
    )
    days = page.get_by_label("Giorni")
    await days.focus()
    await expect(days).to_be_focused()
    field, bar = await page.evaluate(
        """() => [document.getElementById('days').getBoundingClientRect().bottom,
                  document.getElementById('bar').getBoundingClientRect().top]"""
    )
    assert field <= bar, f"the focused field (bottom {field}) is under the message bar (top {bar})"
