"""Interventions: the difference-in-differences against a hand computation, and the API on the real stack.

The constructed series (metric ``shops_active``, start 1 June 2026, windows of 2 days):

| area   | before (30 May - 1 Jun) | mean | n | after (1 - 3 Jun) | mean | n | change |
|--------|-------------------------|------|---|-------------------|------|---|--------|
| centro | 10, 12, 14 (and 100 three days before: outside) | 12 | 3 | 16 (at the start), 20 | 18 | 2 | +6 |
| nord   | 5, 7                    | 6    | 2 | 8                 | 8    | 1 | +2     |
| sud    | 20                      | 20   | 1 | 22, 24, 26        | 24   | 3 | +4     |
| est    | 11                      | 11   | 1 | 11                | 11   | 1 | 0      |
| lontano| 50                      | 50   | 1 | 50                | 50   | 1 | 0      |

Comparison named (nord, sud): before (6 + 20) / 2 = 13 on 3 samples, after (8 + 24) / 2 = 16 on 4
samples, change +3; difference-in-differences 6 - 3 = 3.
Comparison chosen automatically: the three districts closest to centro's 12 before the start are
est (|11 - 12| = 1), nord (6) and sud (8), not lontano (38): before (11 + 6 + 20) / 3 = 37/3,
after (11 + 8 + 24) / 3 = 43/3, change 2; difference-in-differences 6 - 2 = 4.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from districts.interventions.domain import (
    Intervention,
    Kind,
    Target,
    TargetType,
    impact,
    most_similar,
    sentence,
    windows,
)
from districts.main import create_app

from devkit.testing import running_app

from .conftest import Live

START = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)

SERIES: dict[str, list[tuple[datetime, float | None]]] = {
    "centro": [
        (START - 3 * DAY, 100),
        (START - 2 * DAY, 10),
        (START - DAY, 12),
        (START - timedelta(hours=1), 14),
        (START, 16),
        (START + DAY, 20),
        (START + 3 * DAY, 100),
    ],
    "nord": [(START - 2 * DAY, 5), (START - DAY, 7), (START + DAY, 8)],
    "sud": [
        (START - DAY, 20),
        (START + timedelta(hours=1), 22),
        (START + DAY, 24),
        (START + 2 * DAY - timedelta(hours=1), 26),
    ],
    "est": [(START - DAY, 11), (START + DAY, 11), (START + DAY, None)],
    "lontano": [(START - DAY, 50), (START + DAY, 50)],
}


def _intervention(comparison: tuple[str, ...] = ()) -> Intervention:
    target = Target(TargetType.DISTRICT, "centro")
    return Intervention("pilot", "Pilot", Kind.EVENTS, target, START, comparison, START)


def test_difference_in_differences_matches_the_hand_computation() -> None:
    w = windows(START, 2)
    named = impact(
        "shops_active", 2, w, "district:centro", SERIES["centro"], {c: SERIES[c] for c in ("nord", "sud")}, False
    )
    assert (named.target.before.value, named.target.before.observations) == (12, 3)
    assert (named.target.after.value, named.target.after.observations) == (18, 2)
    assert named.target.change == 6
    assert (named.comparison.before.value, named.comparison.before.observations) == (13, 3)
    assert (named.comparison.after.value, named.comparison.after.observations) == (16, 4)
    assert named.comparison.change == 3 and named.estimate == 3

    levels = {"nord": 6.0, "sud": 20.0, "est": 11.0, "lontano": 50.0}
    assert most_similar(levels, 12.0) == ("est", "nord", "sud")
    chosen = impact(
        "shops_active", 2, w, "district:centro", SERIES["centro"], {c: SERIES[c] for c in ("est", "nord", "sud")}, True
    )
    assert chosen.comparison.before.value == pytest.approx(37 / 3) and chosen.comparison.after.value == pytest.approx(
        43 / 3
    )
    assert chosen.comparison.change == pytest.approx(2) and chosen.estimate == pytest.approx(4)
    assert chosen.comparison.before.observations == 4 and chosen.comparison.after.observations == 5

    italian, english = sentence(_intervention(), chosen, "it"), sentence(_intervention(), chosen, "en")
    assert "scelte automaticamente" in italian and "12" in italian and "18" in italian and "4" in italian
    assert "chosen automatically" in english and "estimated effect is 4" in english


def test_no_samples_means_no_estimate_and_says_so() -> None:
    w = windows(START, 2)
    empty = impact("shops_active", 2, w, "district:centro", [], {"nord": SERIES["nord"]}, False)
    assert empty.target.change is None and empty.estimate is None and empty.target.before.observations == 0
    assert "nessuna stima" in sentence(_intervention(("nord",)), empty, "it")
    lonely = impact("shops_active", 2, w, "district:centro", SERIES["centro"], {"lontano": [(START - DAY, 1)]}, False)
    assert lonely.estimate is None and lonely.comparison_areas == ()
    assert "no difference-in-differences" in sentence(_intervention(("lontano",)), lonely, "en")


def test_the_sentence_writes_numbers_as_its_language_does() -> None:
    w = windows(START, 2)
    target = [(START - DAY, 1.0), (START + DAY, 2.25)]
    result = impact(
        "shops_active", 2, w, "district:centro", target, {"nord": [(START - DAY, 1), (START + DAY, 1.5)]}, False
    )
    italian, english = (
        sentence(_intervention(("nord",)), result, "it"),
        sentence(_intervention(("nord",)), result, "en"),
    )
    assert "da 1 a 2,25 (1,25)" in italian and "variate di 0,5" in italian and "effetto stimato è 0,75" in italian
    assert "from 1 to 2.25 (1.25)" in english and "moved by 0.5" in english and "estimated effect is 0.75" in english
    assert "(0 prima, 0 dopo)" in sentence(
        _intervention(), impact("shops_active", 2, w, "district:centro", [], {}, False), "it"
    )


@pytest.mark.integration
async def test_interventions_api_measures_the_constructed_series(
    live: Live, shopkeeper: dict[str, str], topic_reader: Any
) -> None:
    async for client in running_app(create_app(live.settings)):
        for i, code in enumerate(SERIES):
            await live.district(client, code, (9.0 + i * 0.1, 45.4))
        await live.samples("shops_active", SERIES)

        named = {
            "code": "centro-pilot",
            "title": "Mercato rigenerato",
            "kind": "market_regeneration",
            "target": {"type": "district", "id": "centro"},
            "started_at": START.isoformat(),
            "comparison": ["nord", "sud"],
        }
        assert (await client.post("/interventions", json=named)).status_code == 401
        assert (await client.post("/interventions", json=named, headers=shopkeeper)).status_code == 403
        created = await client.post("/interventions", json=named, headers=live.office)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/interventions/centro-pilot"
        assert (await client.post("/interventions", json=named, headers=live.office)).status_code == 409
        automatic = {**named, "code": "centro-auto", "kind": "events", "comparison": []}
        assert (await client.post("/interventions", json=automatic, headers=live.office)).status_code == 201

        bad = [
            ({**named, "code": "Not A Slug"}, "body.code"),
            ({**named, "kind": "fireworks"}, "body.kind"),
            ({**named, "target": {"type": "district", "id": "nowhere"}}, "body.target.id"),
            ({**named, "target": {"type": "nil", "id": "duomo"}}, "body.target.id"),
            ({**named, "comparison": ["nord", "atlantide"]}, "body.comparison.1"),
            ({**named, "comparison": ["centro"]}, "body.comparison"),
            ({**named, "started_at": "2026-06-01T00:00:00"}, "body.started_at"),
            ({**named, "started_at": "0001-01-01T00:00:00Z"}, "body.started_at"),
            ({**named, "started_at": "9999-12-31T00:00:00Z"}, "body.started_at"),
        ]
        for body, field in bad:
            fresh = body if field == "body.code" else {**body, "code": "not-stored"}
            response = await client.post("/interventions", json=fresh, headers=live.office)
            assert response.status_code == 422, (field, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["errors"][0]["field"] == field, (field, response.json())

        listed = (await client.get("/interventions")).json()
        assert [i["code"] for i in listed["items"]] == ["centro-auto", "centro-pilot"] and listed["total"] == 2
        one = (await client.get("/interventions/centro-pilot")).json()
        assert one["target"] == {"type": "district", "id": "centro"} and one["comparison"] == ["nord", "sud"]
        assert (await client.get("/interventions/nothing")).status_code == 404

        query = {"metric": "shops_active", "window_days": 2}
        result = await client.get("/interventions/centro-pilot/impact", params=query)
        assert result.status_code == 200, result.text
        body = result.json()
        assert body["target"] == {
            "before": {"mean": 12, "observations": 3},
            "after": {"mean": 18, "observations": 2},
            "change": 6,
        }
        assert body["comparison"]["before"] == {"mean": 13, "observations": 3}
        assert body["comparison"]["after"] == {"mean": 16, "observations": 4}
        assert body["comparison"]["change"] == 3 and body["comparison"]["chosen"] == "given"
        assert body["difference_in_differences"] == 3 and body["observations"] == 12
        assert body["language"] == "it" and "effetto stimato è 3" in body["sentence"]
        # people's words: the figure's Italian name and the districts' names, not their codes
        assert "l'indicatore «Attività commerciali attive» in Centro è passato da 12 a 18" in body["sentence"]
        assert "(Nord, Sud; indicate)" in body["sentence"] and "district:" not in body["sentence"]
        assert result.headers["content-language"] == "it"

        english = await client.get(
            "/interventions/centro-auto/impact", params=query, headers={"Accept-Language": "fr, en;q=0.8, it;q=0.5"}
        )
        auto = english.json()
        assert auto["comparison"]["districts"] == ["est", "nord", "sud"] and auto["comparison"]["chosen"] == "automatic"
        assert "closest" in auto["comparison"]["how"]
        assert auto["comparison"]["before"]["mean"] == pytest.approx(37 / 3)
        assert auto["comparison"]["after"]["mean"] == pytest.approx(43 / 3)
        assert auto["difference_in_differences"] == pytest.approx(4)
        assert auto["language"] == "en" and "chosen automatically" in auto["sentence"]
        assert "“Active businesses” in Centro went from 12 to 18" in auto["sentence"], auto["sentence"]

        for params, field in (
            ({"metric": "nope"}, "query.metric"),
            ({"window_days": 0}, "query.window_days"),
            ({"window_days": 93}, "query.window_days"),
        ):
            response = await client.get("/interventions/centro-pilot/impact", params=params)
            assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
        market = {**named, "code": "ghost-market", "target": {"type": "market", "id": "ghost"}, "comparison": []}
        assert (await client.post("/interventions", json=market, headers=live.office)).status_code == 201
        assert (await client.get("/interventions/ghost-market/impact")).status_code == 409

    published = [
        e for e in await topic_reader(live.settings.districts_topic) if e.type == "districts.intervention.registered.v1"
    ]
    assert sorted(e.subject for e in published) == ["centro-auto", "centro-pilot", "ghost-market"]
    first = next(e for e in published if e.subject == "centro-pilot").data
    assert first["target"] == {"type": "district", "id": "centro"} and first["comparison"] == ["nord", "sud"]


@pytest.mark.integration
async def test_a_market_in_no_district_is_measured_on_its_nil(live: Live) -> None:
    """The programme's pilots stand outside every district: Piazza Ferrara, closed for trading, lies
    in its NIL's polygon; another market just outside the (simplified) polygon is placed by the NIL
    the markets service names in words; a market whose NIL is not loaded is refused with the reason."""
    corvetto, outside = (9.8, 45.4), (9.9, 45.4)
    async for client in running_app(create_app(live.settings)):
        await live.district(client, "centro", (9.0, 45.4))
        await live.nil(client, 35, "LODI - CORVETTO", corvetto, population=38000, area_km2=3.5)
        await live.send(
            live.settings.markets_topic,
            [
                live.events.market("ferrara", 1, *corvetto, active=False, nil="LODI - CORVETTO"),
                live.events.market("sul-confine", 1, *outside, nil=" lodi -  corvetto "),
                live.events.market("altrove", 1, *outside, nil="XXII MARZO"),
            ],
        )
        for market in ("ferrara", "sul-confine", "altrove"):
            body = {
                "code": f"pilota-{market}",
                "title": f"Pilota {market}",
                "kind": "new_services",
                "target": {"type": "market", "id": market},
                "started_at": START.isoformat(),
            }
            assert (await client.post("/interventions", json=body, headers=live.office)).status_code == 201

        async def measured(market: str) -> dict[str, Any]:
            response = await client.get(f"/interventions/pilota-{market}/impact")
            assert response.status_code == 200, response.text
            return dict(response.json())

        for market in ("ferrara", "sul-confine"):
            impact = await live.wait(lambda m=market: measured(m), what=f"{market} measured on its NIL")
            assert impact["area"] == "nil:35", impact

        async def refused() -> str:
            response = await client.get("/interventions/pilota-altrove/impact")
            assert response.status_code == 409, response.text
            detail = str(response.json()["detail"])
            assert "XXII MARZO" in detail, detail
            return detail

        detail = await live.wait(refused, what="the refusal naming the NIL")
        assert detail.startswith("il mercato Altrove non sta in alcun distretto"), detail
        assert "non è tra quelli caricati: caricare il perimetro del NIL per misurarlo" in detail, detail
