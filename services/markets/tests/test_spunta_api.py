"""The daily spunta through the API, on the real broker and database, with its events."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from shared.identity import Role

if TYPE_CHECKING:
    from conftest import Markets

pytestmark = pytest.mark.integration

ROME = ZoneInfo("Europe/Rome")
SPUNTA = "markets.spunta.assigned.v1"


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ROME)


async def set_status(markets: Markets, market_id: str, number: str, status: str) -> None:
    response = await markets.http.put(
        f"/markets/{market_id}/stalls/{number}/status", json={"status": status}, headers=markets.operator(market_id)
    )
    assert response.status_code == 200, response.text


async def register(markets: Markets, market_id: str, day: str, *traders: str) -> None:
    """Register the traders one minute apart, in the order given."""
    for trader in traders:
        assert markets.clock.fixed is not None
        markets.clock.fixed += timedelta(minutes=1)
        response = await markets.http.post(
            f"/markets/{market_id}/spunta/{day}/candidates",
            json={"trader": trader},
            headers=markets.operator(market_id),
        )
        assert response.status_code == 201, response.text


async def assign(markets: Markets, market_id: str, day: str, **body: Any) -> dict[str, Any]:
    response = await markets.http.post(
        f"/markets/{market_id}/spunta/{day}/assign", json=body or None, headers=markets.operator(market_id)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def outcome(result: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    return {a["trader"]: a["stall"] for a in result["assignments"]}, result["unassigned"]


async def test_three_days_of_spunta_where_seniority_decides(markets: Markets) -> None:
    clock, http = markets.clock, markets.http
    clock.fixed = at("2026-03-01", "10:00")
    await markets.create_market("wagner")
    await markets.create_stall("wagner", "1", holder="Macelleria Rossi")
    await markets.create_stall("wagner", "2", holder="Frutta Bianchi")
    await markets.create_stall("wagner", "3")  # free all along
    await markets.create_stall("wagner", "4", holder="Formaggi Verdi")

    # day 1: every holder opens before the cut-off (08:00); only the free stall 3 is offered
    clock.fixed = at("2026-03-02", "07:00")
    for number in ("1", "2", "4"):
        await set_status(markets, "wagner", number, "open")
    clock.fixed = at("2026-03-02", "07:30")
    await register(markets, "wagner", "2026-03-02", "anna", "bruno", "carla")
    clock.fixed = at("2026-03-02", "09:00")
    day1 = await assign(markets, "wagner", "2026-03-02")
    assert day1["offered"] == ["3"]
    assert outcome(day1) == ({"anna": "3"}, ["bruno", "carla"]), "no presences yet: the earliest registration"
    clock.fixed = at("2026-03-02", "18:00")
    for number in ("1", "2", "4"):
        await set_status(markets, "wagner", number, "closed")

    # day 2: only Rossi opens; Bianchi and Verdi are absent. Anna stays home, Dario comes first
    clock.fixed = at("2026-03-03", "07:10")
    await set_status(markets, "wagner", "1", "open")
    await register(markets, "wagner", "2026-03-03", "dario", "carla", "bruno")
    clock.fixed = at("2026-03-03", "08:30")
    day2 = await assign(markets, "wagner", "2026-03-03")
    assert day2["offered"] == ["2", "3", "4"]
    # carla and bruno have one presence each (carla registered first that day), dario none
    assert outcome(day2) == ({"carla": "2", "bruno": "3", "dario": "4"}, [])
    clock.fixed = at("2026-03-03", "18:00")
    await set_status(markets, "wagner", "1", "closed")

    # day 3: Rossi and Verdi open in time, Bianchi late (after the cut-off); the operator marks
    # Verdi absent (he left the stall to a helper). Dario and Anna register before the seniors.
    clock.fixed = at("2026-03-04", "07:00")
    for number in ("1", "4"):
        await set_status(markets, "wagner", number, "open")
    await register(markets, "wagner", "2026-03-04", "dario", "anna", "carla", "bruno", "elena")
    clock.fixed = at("2026-03-04", "08:20")
    await set_status(markets, "wagner", "2", "open")
    clock.fixed = at("2026-03-04", "09:00")
    day3 = await assign(markets, "wagner", "2026-03-04", absent=["4"])
    assert day3["offered"] == ["2", "3", "4"]
    # presences before day 3: bruno 2, carla 2, dario 1, anna 1, elena 0
    assert outcome(day3) == ({"carla": "2", "bruno": "3", "dario": "4"}, ["anna", "elena"])
    assert day3["date"] == "2026-03-04" and day3["actor"] == "operator"

    stored = await http.get("/markets/wagner/spunta/2026-03-04")
    assert stored.status_code == 200 and stored.json() == day3
    assert (await http.get("/markets/wagner/spunta/2026-03-03")).json() == day2

    ranking = await http.get("/markets/wagner/spunta/ranking", params={"limit": 3})
    assert ranking.status_code == 200
    page = ranking.json()
    assert page["total"] == 5
    assert [(s["trader"], s["presences"]) for s in page["items"]] == [("bruno", 3), ("carla", 3), ("anna", 2)]
    rest = (await http.get("/markets/wagner/spunta/ranking", params={"limit": 3, "offset": 3})).json()
    assert [(s["trader"], s["presences"]) for s in rest["items"]] == [("dario", 2), ("elena", 1)]

    published = [e for e in await markets.events(at_least=3) if e.type == SPUNTA]
    assert [e.data["date"] for e in published] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert published[2].subject == "wagner/2026-03-04"
    assert published[2].data["assignments"] == [
        {"trader": "carla", "stall": "2"},
        {"trader": "bruno", "stall": "3"},
        {"trader": "dario", "stall": "4"},
    ]
    assert published[2].data["unassigned"] == ["anna", "elena"]


async def test_a_day_is_assigned_once_and_registration_is_idempotent(markets: Markets) -> None:
    clock, http = markets.clock, markets.http
    clock.fixed = at("2026-04-07", "06:00")
    await markets.create_market("lorenteggio")
    await markets.create_stall("lorenteggio", "1")
    await markets.create_stall("lorenteggio", "2")
    path = "/markets/lorenteggio/spunta/2026-04-07"
    office = markets.office
    first = await http.post(f"{path}/candidates", json={"trader": "Gino"}, headers=office)
    assert first.status_code == 201 and first.json()["trader"] == "gino" and first.json()["registered_by"] == "office"
    clock.fixed = at("2026-04-07", "06:05")
    again = await http.post(f"{path}/candidates", json={"trader": "gino"}, headers=markets.operator("lorenteggio"))
    assert again.status_code == 200 and again.json() == first.json(), "the same trader twice is one registration"
    await register(markets, "lorenteggio", "2026-04-07", "ugo")
    listed = await http.get(f"{path}/candidates", headers=office)
    assert [c["trader"] for c in listed.json()] == ["gino", "ugo"]

    early = await http.post(f"{path}/assign", headers=office)
    assert early.status_code == 409 and early.json()["code"] == "spunta-before-cutoff"
    assert (await http.get(path)).status_code == 404

    clock.fixed = at("2026-04-07", "08:01")
    result = (await http.post(f"{path}/assign", headers=office)).json()
    assert outcome(result) == ({"gino": "1", "ugo": "2"}, [])
    clock.fixed = at("2026-04-07", "10:00")
    repeat = await http.post(f"{path}/assign", json={"absent": []}, headers=markets.operator("lorenteggio"))
    assert repeat.status_code == 200 and repeat.json() == result, "the second assign changes nothing"

    late = await http.post(f"{path}/candidates", json={"trader": "zoe"}, headers=office)
    assert late.status_code == 409 and late.headers["content-type"] == "application/problem+json"
    assert late.json()["code"] == "spunta-day-assigned"
    assert late.json()["detail"] == "la spunta di martedì 7 aprile 2026 è già stata assegnata", "Italian by default"
    assert late.headers["content-language"] == "it"
    english = await http.post(
        f"{path}/candidates", json={"trader": "zoe"}, headers={**office, "Accept-Language": "en-GB,it;q=0.5"}
    )
    assert english.status_code == 409 and english.json()["code"] == "spunta-day-assigned"
    assert english.json()["detail"] == "the spunta of Tuesday 7 April 2026 has already been assigned"

    published = [e for e in await markets.events(at_least=1) if e.type == SPUNTA]
    assert len(published) == 1, "a repeated assign publishes nothing"


async def test_two_operators_assigning_at_once_get_one_result(markets: Markets) -> None:
    clock, http = markets.clock, markets.http
    clock.fixed = at("2026-05-12", "06:00")
    await markets.create_market("fulvio-testi")
    for number in ("1", "2", "3"):
        await markets.create_stall("fulvio-testi", number)
    await register(markets, "fulvio-testi", "2026-05-12", *(f"trader{n}" for n in range(5)))
    clock.fixed = at("2026-05-12", "12:00")
    path = "/markets/fulvio-testi/spunta/2026-05-12/assign"
    responses = await asyncio.gather(
        http.post(path, headers=markets.operator("fulvio-testi", "operator-a")),
        http.post(path, headers=markets.operator("fulvio-testi", "operator-b")),
        http.post(path, headers=markets.office),
    )
    assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert bodies[0] == bodies[1] == bodies[2], "one result, whoever won"
    assert outcome(bodies[0]) == ({"trader0": "1", "trader1": "2", "trader2": "3"}, ["trader3", "trader4"])
    published = [e for e in await markets.events(at_least=1) if e.type == SPUNTA]
    assert len(published) == 1
    ranking = (await http.get("/markets/fulvio-testi/spunta/ranking")).json()
    assert ranking["total"] == 5 and all(s["presences"] == 1 for s in ranking["items"]), "one presence each, once"


async def test_bad_dates_roles_and_unknown_markets(markets: Markets) -> None:
    clock, http = markets.clock, markets.http
    clock.fixed = at("2026-06-10", "09:00")
    await markets.create_market("morsenchio")
    await markets.create_stall("morsenchio", "1", holder="Pane Neri")
    operator = markets.operator("morsenchio")
    for bad in ("2026-02-30", "2026-13-01", "10-06-2026", "domani", "2026-6-1"):
        response = await http.post(
            f"/markets/morsenchio/spunta/{bad}/candidates", json={"trader": "gino"}, headers=operator
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "path.date", bad
        assert (await http.get(f"/markets/morsenchio/spunta/{bad}")).status_code == 422
    future = await http.post("/markets/morsenchio/spunta/2026-06-11/assign", headers=operator)
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "path.date"
    assert (
        future.json()["errors"][0]["message"] == "giovedì 11 giugno 2026 è nel futuro: la spunta si fa il giorno stesso"
    )
    future_en = await http.post(
        "/markets/morsenchio/spunta/2026-06-11/assign", headers={**operator, "Accept-Language": "en"}
    )
    assert (
        future_en.json()["errors"][0]["message"]
        == "Thursday 11 June 2026 is in the future: the spunta is held on the day"
    )
    not_yet = await http.get("/markets/morsenchio/spunta/2026-06-10", headers={"Accept-Language": "en"})
    assert not_yet.status_code == 404
    assert not_yet.json()["detail"] == "the spunta of Wednesday 10 June 2026 at morsenchio has not been assigned yet"

    path = "/markets/morsenchio/spunta/2026-06-10"
    assert (await http.post(f"{path}/candidates", json={"trader": "gino"})).status_code == 401
    other = markets.operator("wagner")
    assert (await http.post(f"{path}/candidates", json={"trader": "gino"}, headers=other)).status_code == 403
    assert (await http.post(f"{path}/assign", headers=other)).status_code == 403
    shopkeeper = markets.auth(Role.SHOPKEEPER, "morsenchio", "gino")
    assert (await http.post(f"{path}/candidates", json={"trader": "gino"}, headers=shopkeeper)).status_code == 403
    bad_name = await http.post(f"{path}/candidates", json={"trader": {"$gt": ""}}, headers=operator)
    assert bad_name.status_code == 422 and bad_name.json()["errors"][0]["field"] == "body.trader"
    absent_free = await http.post(f"{path}/assign", json={"absent": ["9"]}, headers=operator)
    assert absent_free.status_code == 422 and absent_free.json()["errors"][0]["field"] == "body.absent"
    trader = markets.auth(Role.TRADER, None, "gino")
    for_other = await http.post(f"{path}/candidates", json={"trader": "ugo"}, headers=trader)
    assert for_other.status_code == 403 and for_other.json()["code"] == "spunta-not-yourself"
    assert (await http.post(f"{path}/assign", headers=trader)).status_code == 403
    themself = await http.post(f"{path}/candidates", json={"trader": "gino"}, headers=trader)
    assert themself.status_code == 201 and themself.json()["registered_by"] == "gino"
    missing = await http.post(
        "/markets/nowhere/spunta/2026-06-10/candidates", json={"trader": "gino"}, headers=markets.office
    )
    assert missing.status_code == 404
    assert (await http.get("/markets/morsenchio/spunta/2026-06-09")).status_code == 404
    assert (await http.get("/markets/morsenchio/spunta/ranking")).json()["total"] == 0
