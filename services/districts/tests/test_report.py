"""The DUC report of a district, on the real broker and database, against figures computed by hand.

The district ``centro`` (a square around CENTRO, named «Duomo» & <Brera> to prove the escaping)
lies in one NIL of 10,000 residents, so its population is 10,000. It holds:

- market ``m1`` with five stalls: 1 open, 2 vacant, 3 closed, 4 in maintenance, 5 open: 4 of 5 not
  vacant, occupancy 80 %; market ``m2`` lies outside every district;
- historic shops ``h1`` (Antica Drogheria, 1890, active) and ``h2`` (Bottega Chiusa, 1905, closed
  today: a closure, and a historic closure); shops ``p1`` (founded this year: an opening), ``p2``,
  ``p3`` (closed today: a closure) and kiosk ``k1`` (founded this year: an opening). Active:
  h1, p1, p2, k1 = 4 businesses, 1 historic shop, 1 kiosk; openings 2, closures 2, historic
  closures 1;
- three services, each 84 h a week (5,040 minutes, 420 in the evening, 1,440 at weekends):
  parcel pickup at p1, tickets at h1 and k1 (2 points, 168 h a week).

The vitality index by hand (docs/vitality.md):

| component | value | score | weight |
|---|---|---|---|
| net openings | (2 - 2) / 4 = 0 % | 50 | 0.25 |
| stall occupancy | 0.8 | 80 | 0.20 |
| historic survival | 1 / 2 | 50 | 0.20 |
| service coverage | 3 / 10,000 x 1,000 = 0.3 | 30 | 0.20 |
| extended hours | 1,860 / 5,040 = 0.369 | 0.369 / 0.4 = 92.26 | 0.15 |

index = 12.5 + 16 + 10 + 6 + 13.84 = 58.34, shown as 58.3 (58,3 in Italian).

The time series gets four vitality samples written into it (60 days before now the interventions
start): 40 and 44 before the start, 50 and 54 after, so over 30-day windows the target went from
42 to 52 (+10); the other district, ``nord``, from 30 to 32 (+2): difference-in-differences +8.
The first day of the 90-day trend is the sample of 70 days ago, 40: the index moved by +18.3.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from districts.main import create_app
from pypdf import PdfReader

from devkit.testing import running_app

from .conftest import NOW, Live, square

pytestmark = pytest.mark.integration

CENTRO = (9.19, 45.465)
NORD = (9.4, 45.6)
ELSEWHERE = (9.3, 45.5)
NAME = "Centro «Duomo» & <Brera>"
ITALIAN_HEADINGS = (
    "Perimetro",
    "Indicatori e andamento",
    "Indice di vitalità e componenti",
    "Aperture e chiusure",
    "Botteghe storiche",
    "Mercati e occupazione dei posteggi",
    "Servizi offerti",
    "Assortimento merceologico e carenze",
    "Interventi e impatto",
    "Allerte aperte",
    "Fonti dei dati e date di riferimento",
)
ENGLISH_HEADINGS = (
    "Perimeter",
    "Indicators and trends",
    "Vitality index and its components",
    "Openings and closures",
    "Historic shops",
    "Markets and stall occupancy",
    "Services on offer",
    "Product mix and gaps",
    "Interventions and their impact",
    "Open alerts",
    "Data sources and as-of dates",
)
DAY = timedelta(days=1)
START = NOW - 60 * DAY
SAMPLES: dict[str, list[tuple[datetime, float | None]]] = {
    "centro": [(NOW - 70 * DAY, 40.0), (NOW - 65 * DAY, 44.0), (NOW - 55 * DAY, 50.0), (NOW - 50 * DAY, 54.0)],
    "nord": [(NOW - 70 * DAY, 30.0), (NOW - 55 * DAY, 32.0)],
}


async def _build_city(client: httpx.AsyncClient, live: Live) -> None:
    events = live.events
    body = {"code": "centro", "name": NAME, "perimeter": square(*CENTRO)}
    assert (await client.post("/districts", json=body, headers=live.office)).status_code == 201
    await live.district(client, "nord", NORD)
    await live.nil(client, 1, "Duomo", CENTRO, population=10_000, area_km2=2.0)
    thresholds = {"required_services": ["bancomat"]}
    answer = await client.put("/districts/centro/thresholds", json=thresholds, headers=live.office)
    assert answer.status_code == 200, answer.text
    this_year = NOW.year
    await live.send(
        live.settings.markets_topic,
        [
            events.market("m1", 1, *CENTRO),
            events.market("m2", 1, *ELSEWHERE),
            events.stall("m1", 1, "open"),
            events.stall("m1", 2, "vacant"),
            events.stall("m1", 3, "closed"),
            events.stall("m1", 4, "maintenance"),
            events.stall("m1", 5, "open"),
            events.stall("m2", 1, "vacant"),
        ],
    )
    await live.send(
        live.settings.shops_topic,
        [
            # categories: h1 derived from its trade (food), p1 and p2 clothing, k1 a newsstand, x1 culture
            events.shop(
                "h1", 1, "historic", "active", *CENTRO, year_founded=1890, name="Antica Drogheria", trade="Drogheria"
            ),
            events.shop("h2", 1, "historic", "active", 9.192, 45.467, year_founded=1905, name="Bottega Chiusa"),
            events.shop_status("h2", "historic", "active", "closed", 2),
            events.shop("p1", 1, "shop", "active", 9.185, 45.46, year_founded=this_year, category="clothing"),
            events.shop("p2", 1, "shop", "active", 9.186, 45.461, year_founded=2001, category="clothing"),
            events.shop("p3", 1, "shop", "active", 9.187, 45.462, year_founded=2001),
            events.shop_status("p3", "shop", "active", "closed", 2),
            events.shop("k1", 1, "kiosk", "active", 9.188, 45.463, year_founded=this_year),
            events.shop(
                "x1", 1, "historic", "active", *ELSEWHERE, year_founded=1900, name="Bottega Lontana", category="culture"
            ),
            events.service("p1", "svc1", "parcel_pickup"),
            events.service("h1", "svc2", "tickets"),
            events.service("k1", "svc3", "tickets"),
        ],
    )
    for code, comparison, title in (
        ("mercato-m1", [], "Mercato rigenerato"),
        ("centro-eventi", ["nord"], "Eventi in piazza"),
    ):
        target = {"type": "market", "id": "m1"} if code == "mercato-m1" else {"type": "district", "id": "centro"}
        pilot = {"code": code, "title": title, "kind": "events", "target": target}
        pilot |= {"started_at": START.isoformat(), "comparison": comparison}
        answer = await client.post("/interventions", json=pilot, headers=live.office)
        assert answer.status_code == 201, answer.text
    elsewhere = {"code": "nord-festa", "title": "Festa a Nord", "kind": "events"}
    elsewhere |= {"target": {"type": "district", "id": "nord"}, "started_at": START.isoformat()}
    assert (await client.post("/interventions", json=elsewhere, headers=live.office)).status_code == 201

    async def projected() -> bool:
        district = (await client.get("/districts/centro")).json()
        kpis = district["kpis"]
        figures = (kpis["shops_active"], kpis["historic_active"], kpis["kiosks_active"], kpis["services_total"])
        assert figures == (4, 1, 1, 3), kpis
        assert (kpis["stalls_total"], kpis["stalls_vacant"], kpis["stall_occupancy"]) == (5, 1, 0.8), kpis
        assert (kpis["openings_30d"], kpis["closures_30d"], kpis["historic_closures_30d"]) == (2, 2, 1), kpis
        assert kpis["population"] == 10_000, kpis
        assert [a["condition"] for a in district["open_alerts"]] == ["service_missing"], district["open_alerts"]
        return True

    await live.wait(projected, timeout_s=40, what="the district's figures and its alert")

    await live.samples("vitality_index", SAMPLES)


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


async def test_report_shows_the_hand_computed_figures_in_html_and_pdf(live: Live) -> None:
    async for client in running_app(create_app(live.settings)):
        await _build_city(client, live)
        vitality = (await client.get("/districts/centro")).json()["vitality"]
        assert vitality["index"] == 58.3, vitality  # the hand computation above

        page = await client.get("/districts/centro/report")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["content-language"] == "it"
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy
        html = page.text
        assert '<html lang="it">' in html
        assert "Centro «Duomo» &amp; &lt;Brera&gt;" in html and "<Brera>" not in html
        headings = re.findall(r"<h2 id=\"[a-z]+\">([^<]+)</h2>", html)
        assert tuple(headings) == ITALIAN_HEADINGS
        # no script, nothing fetched from anywhere: styles inline, pictures inline SVG
        assert "<script" not in html and " src=" not in html and "<link" not in html and "href=" not in html
        svgs = re.findall(r"<svg [^>]*>", html)
        assert len(svgs) == 9
        for svg in svgs:
            assert 'role="img"' in svg and "aria-labelledby=" in svg and "aria-describedby=" in svg
        ids = re.findall(r' id="([^"]+)"', html)
        assert len(ids) == len(set(ids)), "ids are unique in the page"
        assert ' style="' not in html, "no inline style attribute (the policy allows the style block only)"

        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
        for expected in (
            "Indice di vitalità: 58,3 su 100.",
            "Indice di vitalità 58,3 40 +18,3",  # now, the first day of the trend, the change
            "Attività commerciali attive 4",
            "Botteghe storiche attive 1",
            "Edicole attive 1",
            "Servizi offerti 3",
            "Posteggi nei mercati 5",
            "Posteggi liberi 1",
            "Occupazione dei posteggi 80%",
            "Aperture negli ultimi 30 giorni 2",
            "Chiusure negli ultimi 30 giorni 2",
            "Chiusure di botteghe storiche negli ultimi 30 giorni 1",
            "Residenti (stima) 10.000",
            "Saldo negli ultimi 30 giorni ±0",
            # a component, how it came about, its value, score and weight
            "Botteghe storiche ancora attive 1 delle 2 botteghe storiche note sono ancora attive (50%) 50% 50 20%",
            "Servizi per 1.000 residenti 3 servizi di prossimità per 10.000 residenti: 0,30 ogni 1.000 "
            "(1 ogni 1.000 vale 100) 0,30 30 20%",
            "Orari serali e festivi il 37% delle ore settimanali di servizio cade la sera (dopo le 19:00) o nel "
            "fine settimana (40% vale 100) 36,9% 92,3 15%",
            "Antica Drogheria 1890 attiva",
            "Bottega Chiusa 1905 chiusa",
            "M1 5 2 1 1 1 80%",  # stalls, open, vacant, closed, maintenance, occupancy
            "Tickets 2 168",
            "Parcel pickup 1 84",
            "Mercato rigenerato eventi",
            "Eventi in piazza eventi",
            "42 52 +10 +8",  # before, after, change, difference-in-differences
            "Servizio mancante: bancomat",
            # the mix: here food 1, clothing 2, newsstand 1 of 4; the city adds culture 1 (of 5)
            "Alimentari 1 25% 20% 1,25 no",
            "Abbigliamento, accessori e gioielli 2 50% 40% 1,25 no",
            "Cultura, libri e tempo libero 0 0% 20% 0,00 sì",
            "Edicole 1 25% 20% 1,25 no",
        ):
            assert expected in text, expected
        assert "Festa a Nord" not in text and "Bottega Lontana" not in text
        assert text.count("42 52 +10 +8") == 2
        assert (
            "Mappa del perimetro del distretto Centro «Duomo» &amp; &lt;Brera&gt; con mercati comunali coperti: 1, "
            "botteghe storiche: 1, edicole: 1, altri negozi: 2." in html
        )

        for english in (
            await client.get("/districts/centro/report", params={"lang": "en"}),
            await client.get("/districts/centro/report", headers={"Accept-Language": "en-GB, it;q=0.5"}),
        ):
            assert english.status_code == 200 and english.headers["content-language"] == "en"
            assert tuple(re.findall(r"<h2 id=\"[a-z]+\">([^<]+)</h2>", english.text)) == ENGLISH_HEADINGS
            words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", english.text))
            assert "Vitality index: 58.3 out of 100." in words and "Residents (estimate) 10,000" in words
            assert "Food 1 25% 20% 1.25 no" in words and "Missing service: bancomat" in words
            assert "Culture, books and leisure 0 0% 20% 0.00 yes" in words
        italian = await client.get("/districts/centro/report", params={"lang": "it"}, headers={"Accept-Language": "en"})
        assert italian.headers["content-language"] == "it"

        pdf = await client.get("/districts/centro/report", params={"format": "pdf"})
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        day = (await client.get("/districts/centro")).json()["kpis"]["as_of"]
        milan_day = datetime.fromisoformat(day).astimezone(ZoneInfo("Europe/Rome"))
        assert pdf.headers["content-disposition"] == (
            f'inline; filename="rapporto-duc-centro-{milan_day:%Y-%m-%d}-it.pdf"'
        )
        written = _pdf_text(pdf.content)
        for expected in (
            "Centro «Duomo» & <Brera>",
            "Indice di vitalità 58,3 40 +18,3",
            "Attività commerciali attive 4",
            "Occupazione dei posteggi 80%",
            "Residenti (stima) 10.000",
            "Antica Drogheria 1890 attiva",
            "M1 5 2 1 1 1 80%",
            "Tickets 2 168",
            "42 52 +10 +8",
            "Servizio mancante: bancomat",
            "Cultura, libri e tempo libero 0 0% 20% 0,00 sì",
            "Fonti dei dati e date di riferimento",
        ):
            assert expected in written, (expected, written)
        again = await client.get("/districts/centro/report", params={"format": "pdf"})
        assert again.content == pdf.content, "the same data gives the same bytes"
        english_pdf = await client.get("/districts/centro/report", params={"format": "pdf", "lang": "en"})
        assert "Vitality index 58.3 40 +18.3" in _pdf_text(english_pdf.content)
        assert english_pdf.headers["content-disposition"].endswith('-en.pdf"')


async def test_report_refuses_unknown_districts_and_formats(live: Live) -> None:
    async for client in running_app(create_app(live.settings)):
        await live.district(client, "centro", CENTRO)
        empty = await client.get("/districts/centro/report", params={"format": "pdf"})
        assert empty.status_code == 200 and "Nessun mercato" in _pdf_text(empty.content)

        missing = await client.get("/districts/atlantide/report")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert "atlantide" in missing.json()["detail"]
        for params, field in (({"format": "docx"}, "query.format"), ({"lang": "fr"}, "query.lang")):
            refused = await client.get("/districts/centro/report", params=params)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["errors"][0]["field"] == field
        assert (await client.get("/districts/Not_A_Slug/report")).status_code == 422
