"""The office's Interventi section in a real browser, on the whole seeded platform.

The test prepares a history it knows: three small districts drawn in Parco Forlanini, where the
demo data has no business, over historic shops it registers itself. Each district is drawn once its
shops are projected, so its first sample already counts them; after the intervention's start the
test changes one thing in each district and waits for the sample that follows:

| district        | before the start | after the start                     |
|-----------------|------------------|-------------------------------------|
| Forlanini Ovest | 2 active shops   | a third shop opens: 3               |
| Forlanini Centro| 1 active shop    | the shop adds a service: still 1    |
| Forlanini Est   | 2 active shops   | one of them closes: 1               |

Every value in a window is the same, so the means are exact whatever the number of samples (the
service also samples every district on a timer): Ovest 2 -> 3 (+1); the comparison group (Centro
and Est, each weighing the same) (1 + 2) / 2 = 1.5 -> (1 + 1) / 2 = 1, a change of -0.5; the
difference-in-differences is 1 - (-0.5) = 1.5. The number of samples behind each mean is counted
from the districts' own time series.

The demo's Piazza Ferrara pilot (a market closed for trading, in no district) is measured on its
NIL; with nothing sampled in its windows yet the page says so in words instead of an empty table.
The office registers the intervention in the browser: first with the target among its own
comparison districts and with a start in 1999, which the service refuses, each message shown on
the field it names; then as it should be. The impact's table shows the figures written the Italian
way (1,5 and -0,5), and the service's sentence in the page's language. The district's page in
Distretti links to the intervention.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.testing import Platform, eventually

from .conftest import OpenPage, assert_accessible, keep_section_screenshot, office_headers, open_section

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

METRIC = "shops_active"
WINDOW_DAYS = 7
# Parco Forlanini: the demo data's nearest business is more than 2 km away
WEST, SOUTH, SIDE, GAP = 9.2480, 45.4610, 0.0015, 0.0040
# each district: its name, its shops before the start, and what the test does after it
DISTRICTS = {
    "ovest": ("Forlanini Ovest", 2, "open a shop"),
    "centro": ("Forlanini Centro", 1, "add a service"),
    "est": ("Forlanini Est", 2, "close a shop"),
}
BEFORE = {"ovest": 2, "centro": 1, "est": 2}
AFTER = {"ovest": 3, "centro": 1, "est": 1}


def _square(i: int) -> list[list[float]]:
    west = WEST + i * GAP
    return [[west, SOUTH], [west + SIDE, SOUTH], [west + SIDE, SOUTH + SIDE], [west, SOUTH + SIDE], [west, SOUTH]]


def _inside(i: int, n: int) -> dict[str, float]:
    return {"lon": WEST + i * GAP + SIDE * (n + 1) / 5, "lat": SOUTH + SIDE / 2}


class Forlanini:
    """The test's districts and shops, named after one run's tag."""

    def __init__(self, api: httpx.AsyncClient, office: dict[str, str]) -> None:
        self.api, self.office, self.tag = api, office, uuid4().hex[:6]

    def code(self, area: str) -> str:
        return f"forlanini-{area}-{self.tag}"

    def shop(self, area: str, n: int) -> str:
        return f"bs-prova-{self.tag}-{area}-{n}"

    async def open_shop(self, area: str, n: int) -> None:
        i = list(DISTRICTS).index(area)
        body = {
            "id": self.shop(area, n),
            "kind": "historic",
            "name": f"Bottega di prova {DISTRICTS[area][0]} {n}",
            "trade": "Drogheria",
            "location": _inside(i, n),
            "year_founded": 1950 + n,
        }
        created = await self.api.post("/shops", json=body, headers=self.office)
        assert created.status_code == 201, created.text

    async def historic_rows(self) -> dict[str, dict[str, str]]:
        """The districts service's historic shops of this run, by shop id, as it publishes them."""
        answer = await self.api.get("/opendata/historic-shops.csv")
        assert answer.status_code == 200, answer.text
        rows = csv.DictReader(io.StringIO(answer.text))
        return {r["shop_id"]: r for r in rows if r["shop_id"].startswith(f"bs-prova-{self.tag}-")}

    async def draw(self, area: str) -> None:
        i = list(DISTRICTS).index(area)
        body = {
            "code": self.code(area),
            "name": DISTRICTS[area][0],
            "perimeter": {"type": "Polygon", "coordinates": [_square(i)]},
        }
        created = await self.api.post("/districts", json=body, headers=self.office)
        assert created.status_code == 201, created.text

    async def series(self, area: str) -> list[tuple[datetime, float]]:
        """The district's samples of the metric over the last 24 hours (the service's default)."""
        answer = await self.api.get(f"/districts/{self.code(area)}/timeseries", params={"metric": METRIC})
        assert answer.status_code == 200, answer.text
        return [(datetime.fromisoformat(p["at"]), p["value"]) for p in answer.json()["points"]]

    async def counts(self, area: str, start: datetime) -> tuple[int, int]:
        """Samples in the window before the start and in the window after it."""
        samples = await self.series(area)
        span = timedelta(days=WINDOW_DAYS)
        before = [v for at, v in samples if start - span <= at < start]
        after = [v for at, v in samples if start <= at < start + span]
        # the test's own knowledge: every value in a window is the one it arranged
        assert set(before) == {BEFORE[area]} and set(after) <= {AFTER[area]}, (area, samples)
        return len(before), len(after)


async def _prepare(place: Forlanini) -> datetime:
    """The history of the three districts around a start; returns the start (to the second)."""
    for area, (_, shops, _) in DISTRICTS.items():
        for n in range(shops):
            await place.open_shop(area, n)

    async def projected() -> bool:
        return len(await place.historic_rows()) == sum(BEFORE.values())

    await eventually(projected, timeout_s=30, what="the test's shops in the districts service")
    for area in DISTRICTS:
        await place.draw(area)
    for area in DISTRICTS:

        async def sampled(area: str = area) -> list[Any]:
            return await place.series(area)

        first = await eventually(sampled, timeout_s=30, what=f"the first sample of {place.code(area)}")
        assert [v for _, v in first] == [BEFORE[area]], (area, first)
    rows = await place.historic_rows()
    assert all(r["districts"] == place.code(r["shop_id"].split("-")[3]) for r in rows.values()), rows

    # the start: after every sample so far, to the second, as the form's field takes it
    start = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    await asyncio.sleep((start - datetime.now(UTC)).total_seconds() + 0.5)

    await place.open_shop("ovest", BEFORE["ovest"])
    hours = [{"day": 0, "opens": "09:00", "closes": "12:00"}]
    offer = {"service": "ritiro_pacchi", "hours": hours, "note": ""}
    added = await place.api.post(f"/shops/{place.shop('centro', 0)}/services", json=offer, headers=place.office)
    assert added.status_code == 201, added.text
    closed = await place.api.put(
        f"/shops/{place.shop('est', 1)}/status", json={"status": "closed"}, headers=place.office
    )
    assert closed.status_code == 200, closed.text
    for area in DISTRICTS:

        async def changed(area: str = area) -> bool:
            return any(at >= start and v == AFTER[area] for at, v in await place.series(area))

        await eventually(changed, timeout_s=30, what=f"the sample of {place.code(area)} after the start")
    return start


async def _refusal(api: httpx.AsyncClient, office: dict[str, str], body: dict[str, Any]) -> tuple[str, str]:
    """The field and message of the service's refusal of ``body`` (sent in Italian)."""
    refused = await api.post("/interventions", json=body, headers={**office, "Accept-Language": "it"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    return error["field"], error["message"]


async def test_office_registers_an_intervention_and_reads_its_impact(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=30) as api:
        office = await office_headers(api)
        place = Forlanini(api, office)
        start = await _prepare(place)
        code, title = f"serate-forlanini-{place.tag}", "Serate in piazza a Forlanini Ovest"
        target, alike, other = (place.code(a) for a in DISTRICTS)
        wall = start.astimezone(ZoneInfo("Europe/Rome")).strftime("%Y-%m-%dT%H:%M:%S")
        body = {
            "code": code,
            "title": title,
            "kind": "events",
            "target": {"type": "district", "id": target},
            "started_at": start.isoformat(),
            "comparison": [alike, other],
        }

        view = await office_page()
        page = view.page
        await open_section(page, "Interventi", "Interventi e loro impatto")
        # the demo data's pilots are listed
        await expect(page.get_by_test_id("intervention-row-mercato-lorenteggio")).to_contain_text(
            "Rigenerazione di un mercato", timeout=15_000
        )

        # The Piazza Ferrara pilot (a market closed for trading, in no district) is measured on its
        # NIL: no refusal; with no readings in its windows yet the page says so in words, no table.
        pilot = "Spazio sociale di Piazza Ferrara"
        await page.get_by_test_id("intervention-open-spazio-sociale-piazza-ferrara").click()
        impact_form = page.locator("#impact-form")
        await expect(page.get_by_test_id("intervention-detail").get_by_role("heading", name=pilot)).to_be_visible()
        await expect(impact_form).not_to_have_attribute("aria-busy", "true", timeout=15_000)
        measured = (
            await api.get(
                "/interventions/spazio-sociale-piazza-ferrara/impact",
                params={"metric": "vitality_index", "window_days": await page.locator("#impact-window").input_value()},
                headers=office,
            )
        ).json()
        assert measured["area"] == "nil:35", measured
        message = page.get_by_test_id("interventions-message")
        await expect(page.locator("#impact-form-message")).to_have_text("")
        if measured["observations"] == 0:
            await expect(message).to_have_text(
                f"Per {pilot} non ci sono ancora rilevazioni prima e dopo l'avvio: per ora non c'è niente da misurare."
            )
            await expect(page.get_by_test_id("impact-table")).to_be_hidden()
            await expect(page.get_by_test_id("impact-sentence")).to_contain_text("nessuna stima")
        else:
            await expect(message).to_have_text(f"Impatto di {pilot} misurato.")

        form = page.get_by_test_id("intervention-form")
        await form.get_by_label("Codice").fill(code)
        await form.get_by_label("Titolo").fill(title)
        await form.get_by_label("Tipo").select_option("events")
        await form.get_by_label("Si applica a").select_option("district")
        await form.get_by_label("Distretto, NIL o mercato").select_option(target)
        for district in (alike, other, target):
            await page.get_by_test_id(f"intervention-comparison-{district}").check()

        # Refused by the service: the target among its own comparison districts.
        field, message = await _refusal(api, office, {**body, "comparison": [alike, other, target]})
        assert field == "body.comparison", field
        await form.get_by_label("Avvio (ora di Milano)").fill(wall)
        await form.get_by_role("button", name="Registra l'intervento").click()
        group = page.locator("#intervention-comparison")
        await expect(group).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#intervention-comparison-error")).to_have_text(f"⚠ {message}")
        await expect(group).to_be_focused()
        # said once, in the form: the section's message bar does not repeat it
        await expect(form.locator("#intervention-form-message")).to_have_text("Correggi i campi segnalati.")
        await expect(page.get_by_test_id("interventions-message")).to_have_text("")

        # Refused by the service: a start before the platform's time.
        await page.get_by_test_id(f"intervention-comparison-{target}").uncheck()
        field, message = await _refusal(api, office, {**body, "started_at": "1999-06-01T08:00:00Z"})
        assert field == "body.started_at", field
        await form.get_by_label("Avvio (ora di Milano)").fill("1999-06-01T10:00:00")
        await form.get_by_role("button", name="Registra l'intervento").click()
        await expect(page.locator("#intervention-start")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#intervention-start-error")).to_have_text(f"⚠ {message}")
        await expect(group).not_to_have_attribute("aria-invalid", "true")
        assert (await api.get(f"/interventions/{code}")).status_code == 404

        # Registered, and opened on its impact.
        await form.get_by_label("Avvio (ora di Milano)").fill(wall)
        await form.get_by_role("button", name="Registra l'intervento").click()
        # registered, said so, and its impact measured below (the message keeps both)
        await expect(page.get_by_test_id("interventions-message")).to_have_text(
            f"Intervento {title} ({code}) registrato. Il suo impatto è qui sotto."
        )
        detail = page.get_by_test_id("intervention-detail")
        await expect(detail.get_by_role("heading", name=title, level=2)).to_be_focused()
        await expect(page).to_have_url(re.compile(f"#intervention-{code}$"))
        stored = (await api.get(f"/interventions/{code}")).json()
        assert stored["target"] == {"type": "district", "id": target}, stored
        assert stored["comparison"] == [alike, other] and stored["started_at"].startswith(
            start.strftime("%Y-%m-%dT%H:%M:%S")
        )
        row = page.get_by_test_id(f"intervention-row-{code}")
        await expect(row).to_contain_text("Eventi")
        await expect(row).to_contain_text("Distretto: Forlanini Ovest")

        # The impact on the active shops, over a week on each side of the start.
        await detail.get_by_label("Indicatore").select_option(METRIC)
        await detail.get_by_label("Giorni prima e dopo l'avvio").fill(str(WINDOW_DAYS))
        table = page.get_by_test_id("impact-table")
        for _ in range(2):
            await detail.get_by_role("button", name="Misura l'impatto").click()
            await expect(impact_form).not_to_have_attribute("aria-busy", "true", timeout=15_000)
            await expect(table.locator("caption")).to_contain_text("Negozi attivi: media prima dell'avvio")
            counts = {area: await place.counts(area, start) for area in DISTRICTS}
            expected_n = {
                "target": counts["ovest"],
                "comparison": tuple(counts["centro"][i] + counts["est"][i] for i in (0, 1)),
            }
            shown_n = {
                key: (
                    await page.get_by_test_id(f"impact-{key}-before-n").inner_text(),
                    await page.get_by_test_id(f"impact-{key}-after-n").inner_text(),
                )
                for key in expected_n
            }
            # a timed sample of every district may fall between the page's reading and the test's
            if shown_n == {key: (str(b), str(a)) for key, (b, a) in expected_n.items()}:
                break
        else:
            raise AssertionError(f"samples shown {shown_n}, counted {expected_n}")
        assert expected_n["target"][0] >= 1 and expected_n["comparison"][1] >= 2, expected_n

        figures = {
            "target-before": "2",
            "target-after": "3",
            "target-change": "+1",
            "comparison-before": "1,5",
            "comparison-after": "1",
            "comparison-change": "-0,5",
            "did-value": "+1,5",
        }
        for testid, text in figures.items():
            await expect(page.get_by_test_id(f"impact-{testid}")).to_have_text(text)
        await expect(page.get_by_test_id("impact-target").locator("th")).to_have_text(
            "Obiettivo — Distretto: Forlanini Ovest"
        )
        await expect(page.get_by_test_id("impact-comparison").locator("th")).to_have_text(
            "Confronto indicato dall'ufficio — Forlanini Centro, Forlanini Est"
        )
        sentence = page.get_by_test_id("impact-sentence")
        await expect(sentence).to_contain_text("è passato da 2 a 3 (1)")
        await expect(sentence).to_contain_text("sono variate di -0,5: l'effetto stimato è 1,5.")
        query = {"metric": METRIC, "window_days": WINDOW_DAYS}
        said = (await api.get(f"/interventions/{code}/impact", params=query, headers={"Accept-Language": "it"})).json()
        await expect(sentence).to_have_text(said["sentence"])

        await assert_accessible(page, "/#interventi (it, an intervention's impact)")
        await keep_section_screenshot(page, "interventions-message", "interventions.png", tmp_path)

        # English: the table's words and numbers, and the service's sentence in English.
        await page.get_by_test_id("lang-en").click()
        await expect(table.locator("caption")).to_contain_text("Active shops: mean before the start")
        await expect(sentence).to_contain_text("the estimated effect is 1.5.")
        await expect(page.get_by_test_id("impact-comparison-before")).to_have_text("1.5")
        await page.get_by_test_id("lang-it").click()
        await expect(sentence).to_contain_text("l'effetto stimato è 1,5.")

        # The district's page in Distretti links to it, and the link opens it.
        await open_section(page, "Distretti", "Distretti urbani del commercio")
        await page.locator("#districts-view").get_by_label("Distretto", exact=True).select_option(target)
        link = page.get_by_test_id(f"district-intervention-{code}")
        await expect(link).to_have_text(title, timeout=15_000)
        await link.click()
        await expect(page).to_have_url(re.compile(f"#intervention-{code}$"))
        await expect(page.get_by_test_id("section-interventions")).to_have_attribute("aria-current", "page")
        await expect(detail.get_by_role("heading", name=title, level=2)).to_be_visible()
        assert not view.uncaught("TypeError"), view.problems
