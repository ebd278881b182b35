"""Product mix and gaps: quotients against a hand computation, on the domain and on a live service."""

from __future__ import annotations

from collections import Counter

import pytest
from districts.main import create_app
from districts.mix.domain import product_mix

from devkit.testing import running_app

from .conftest import Live

CENTRO = (9.19, 45.465)
FAR = (9.10, 45.50)  # outside the district, still in the city

# here: food 2, food service 1, clothing 1 (4); the city: food 2, food service 2, clothing 5, culture 1 (10)
HERE = Counter({"food": 2, "food_service": 1, "clothing": 1})
CITY = Counter({"food": 2, "food_service": 2, "clothing": 5, "culture": 1})


def test_quotients_and_gaps_match_a_hand_computation() -> None:
    mix = product_mix(HERE, CITY, population=8000, stalls={"food": 3})
    lines = {line.category.value: line for line in mix.lines}
    # shares 2/4, 1/4, 1/4 against 2/10, 2/10, 5/10, 1/10
    assert (lines["food"].share, lines["food"].city_share, lines["food"].quotient) == (0.5, 0.2, 2.5)
    assert lines["food_service"].quotient == 1.25
    assert lines["clothing"].quotient == 0.5 and not lines["clothing"].gap, "at the threshold is no gap"
    assert (lines["culture"].count, lines["culture"].quotient, lines["culture"].gap) == (0, 0.0, True)
    assert lines["newsstand"].quotient is None and not lines["newsstand"].gap, "what the city lacks is no gap"
    assert lines["food"].per_10000 == 2.5 and lines["clothing"].per_10000 == 1.25  # 2 and 1 per 8,000 residents
    assert [c.value for c in mix.gaps] == ["culture"]
    assert [c.value for c in product_mix(HERE, CITY, population=None, stalls={}, threshold=0.6).gaps] == [
        "clothing",
        "culture",
    ]
    empty = product_mix(Counter(), CITY, population=None, stalls={})
    assert empty.total == 0 and all(line.share is None and not line.gap for line in empty.lines)


@pytest.mark.integration
async def test_a_district_and_a_nil_show_their_mix_against_the_city(live: Live) -> None:
    shop = live.events.shop
    async for client in running_app(create_app(live.settings)):
        await live.district(client, "centro", CENTRO)
        await live.nil(client, 1, "Duomo", CENTRO, population=8000, area_km2=2.0)
        await live.send(
            live.settings.shops_topic,
            [
                shop("a", 1, "shop", "active", *CENTRO, category="food"),
                # published before categories existed: derived from the trade text
                shop("b", 1, "historic", "active", *CENTRO, trade="Panificio"),
                shop("c", 1, "shop", "active", *CENTRO, category="food_service"),
                shop("d", 1, "kiosk", "active", *CENTRO, category="clothing"),
                shop("e", 1, "shop", "closed", *CENTRO, category="culture"),  # closed: not counted
                *(shop(f"x{n}", 1, "shop", "active", *FAR, category="clothing") for n in range(4)),
                shop("y", 1, "shop", "active", *FAR, trade="Bar Pasticceria"),
                shop("z", 1, "shop", "active", *FAR, category="culture"),
            ],
        )

        async def mixed() -> dict[str, object]:
            answer = await client.get("/districts/centro/mix")
            assert answer.status_code == 200, answer.text
            body: dict[str, object] = answer.json()
            assert (body["total"], body["city_total"]) == (4, 10)
            return body

        body = await live.wait(mixed, what="the shops in the mix")
        lines = {line["category"]: line for line in body["lines"]}  # type: ignore[attr-defined]
        assert (lines["food"]["count"], lines["food"]["quotient"]) == (2, 2.5)
        assert lines["food_service"]["quotient"] == 1.25 and lines["clothing"]["quotient"] == 0.5
        assert body["gaps"] == ["culture"] and lines["culture"]["label"] == "Cultura, libri e tempo libero"
        english = (await client.get("/districts/centro/mix?threshold=0.6", headers={"Accept-Language": "en"})).json()
        assert english["gaps"] == ["clothing", "culture"]
        assert {line["category"]: line["label"] for line in english["lines"]}["food"] == "Food"

        nil = (await client.get("/nils/1/mix")).json()
        assert nil["population"] == 8000 and nil["total"] == 4
        assert {line["category"]: line["per_10000"] for line in nil["lines"]}["food"] == 2.5
        assert (await client.get("/districts/nessuno/mix")).status_code == 404
        assert (await client.get("/nils/999/mix")).status_code == 404
        bad = await client.get("/districts/centro/mix?threshold=2")
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.threshold"


@pytest.mark.integration
async def test_a_district_reference_snapshot_weights_each_nil_by_the_share_of_it_inside(live: Live) -> None:
    east = (CENTRO[0] + 0.01, CENTRO[1])  # a NIL half inside the district's square
    async for client in running_app(create_app(live.settings)):
        await live.district(client, "centro", CENTRO)
        await live.nil(client, 1, "Duomo", CENTRO, population=8000, area_km2=2.0)
        await live.nil(client, 2, "Guastalla", east, population=4000, area_km2=2.0)
        await live.nil(client, 3, "Lontano", FAR, population=9000, area_km2=2.0)
        figures = {
            1: (8000, 100, 40, 6, 3, 1),
            2: (4000, 50, 22, 4, 2, 2),
            3: (9000, 70, 30, 5, 4, 3),
        }
        names = (
            "population",
            "neighbourhood_shops",
            "bars_restaurants",
            "historic_shops",
            "newsstands",
            "large_retail",
        )
        for nil_id, values in figures.items():
            body = {**dict(zip(names, values, strict=True)), "source": "nil_commerce_baseline.csv"}
            put = await client.put(f"/nils/{nil_id}/baseline", json=body, headers=live.office)
            assert put.status_code == 200, put.text

        async def weighted() -> dict[str, object]:
            body: dict[str, object] = (await client.get("/districts/centro/mix")).json()
            assert body["baseline"] is not None
            return body

        body = await live.wait(weighted, what="the district's snapshot")
        # all of NIL 1, half of NIL 2, nothing of NIL 3
        assert body["baseline"] == {  # type: ignore[comparison-overlap]
            "nil": None,
            "population": 8000 + 2000,
            "counts": {
                "neighbourhood_shops": 100 + 25,
                "bars_restaurants": 40 + 11,
                "historic_shops": 6 + 2,
                "newsstands": 3 + 1,
                "large_retail": 1 + 1,
            },
            "per_10000": {
                "neighbourhood_shops": 125.0,
                "bars_restaurants": 51.0,
                "historic_shops": 8.0,
                "newsstands": 4.0,
                "large_retail": 2.0,
            },
            "source": "nil_commerce_baseline.csv",
        }
        city = body["city_baseline"]
        assert city["population"] == 21000 and city["counts"]["neighbourhood_shops"] == 220  # type: ignore[index]
