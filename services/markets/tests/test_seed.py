"""The demo seed: the 21 covered markets with plausible stalls, and running it twice changes nothing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from markets.seed import MARKETS, plan_stalls, seed

if TYPE_CHECKING:
    from conftest import Markets


def test_the_plan_is_reproducible_plausible_and_within_the_food_service_cap() -> None:
    assert len(MARKETS) == 21 and len({m.id for m in MARKETS}) == 21
    for fact in MARKETS:
        plans = plan_stalls(fact)
        assert plans == plan_stalls(fact)
        assert 8 <= len(plans) <= 31 and len(plans) == (fact.boxes or len(plans))
        total = sum(p.area_m2 for p in plans)
        food_service = sum(p.area_m2 for p in plans if p.holder and p.category == "food_service")
        assert food_service <= total / 5
        if not fact.active:
            assert all(p.holder is None for p in plans)
    wagner = plan_stalls(MARKETS[0])
    assert len(wagner) == 31 and {p.status for p in wagner} == {"open", "closed", "vacant", "maintenance"}


async def _snapshot(markets: Markets) -> dict[str, Any]:
    listed = (await markets.http.get("/markets", params={"limit": 500})).json()
    snapshot: dict[str, Any] = {}
    for market in listed["items"]:
        stalls = (await markets.http.get(f"/markets/{market['id']}/stalls", params={"limit": 500})).json()
        snapshot[market["id"]] = (
            market["version"],
            [(s["number"], s["version"], s["status"]) for s in stalls["items"]],
        )
    return snapshot


@pytest.mark.integration
async def test_seed_registers_the_21_markets_once(markets: Markets) -> None:
    api = await markets.api()
    started = time.perf_counter()
    await seed(api)
    print(f"seed: {time.perf_counter() - started:.1f}s")
    first = await _snapshot(markets)
    assert len(first) == 21 and len(first["wagner"][1]) == 31
    wagner = (await markets.http.get("/markets/wagner")).json()
    assert wagner["name"] == "Mercato Comunale Coperto Wagner" and wagner["municipio"] == 7
    occupancy = wagner["occupancy"]
    assert occupancy["open_now"] > 0 and occupancy["by_status"]["vacant"] > 0
    assert wagner["surface"]["food_service_m2"] <= wagner["surface"]["food_service_cap_m2"]
    calls = (await markets.http.get("/markets/wagner/calls")).json()
    assert calls["total"] == 1 and calls["items"][0]["status"] == "open"
    ferrara = (await markets.http.get("/markets/ferrara")).json()
    assert ferrara["active"] is False and ferrara["occupancy"]["by_status"]["open"] == 0
    agenda = (await markets.http.get("/markets/ferrara/agenda")).json()
    assert [e["title"] for e in agenda["items"]] == [
        "Laboratorio di riparazioni",
        "Colazione di quartiere con i commercianti",
    ], "the Piazza Ferrara pilot: its social space with two public events ahead"
    await seed(api)
    assert await _snapshot(markets) == first
    assert (await markets.http.get("/markets/wagner/calls")).json()["total"] == 1
    assert (await markets.http.get("/markets/ferrara/agenda")).json()["total"] == 2
    await api.http.aclose()
