"""A call for vacant stalls end to end: publish, apply, the committee's evaluation, rank, award, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from shared.identity import Role

if TYPE_CHECKING:
    from conftest import Markets

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
DEADLINE = NOW + timedelta(days=20)
CRITERIA = [
    {"name": "offer", "weight": 40, "max_points": 100, "description": "economic offer"},
    {"name": "social_value", "weight": 30, "max_points": 10},
    {"name": "innovation", "weight": 20, "max_points": 10},
    {"name": "experience", "weight": 10, "max_points": 40},
]


REASONS = {
    "offer": "offerta economica in linea con il bando",
    "social_value": "progetto con il quartiere",
    "innovation": "proposta nuova per il mercato",
    "experience": "anni di attività documentati",
}


def scores(offer: float, social: float = 5) -> dict[str, float]:
    return {"offer": offer, "social_value": social, "innovation": 5, "experience": 20}


def evaluation(application_id: str, offer: float, social: float = 5) -> dict[str, Any]:
    return {"application": application_id, "scores": scores(offer, social), "reasons": REASONS}


def application(holder: str, category: str, stalls: list[str] | None = None) -> dict[str, Any]:
    return {
        "holder": holder,
        "category": category,
        "stalls": stalls or [],
        "offer": f"{holder}: canone offerto e orari di apertura",
        "declarations": {"years_trading": 12, "local_products": True},
        "documents": ["visura-camerale-2026"],
    }


async def test_call_is_ranked_and_awarded_within_the_food_service_cap(markets: Markets) -> None:
    http, office = markets.http, markets.office
    await markets.create_market("wagner")
    # 100 m²: food service already uses 10 m²; the cap is 20 m².
    await markets.create_stall("wagner", "1", 10)
    await markets.create_stall("wagner", "2", 12)
    await markets.create_stall("wagner", "3", 8)
    await markets.create_stall("wagner", "9", 60, holder="Frutta Colombo")
    await markets.create_stall("wagner", "8", 10, "food_service", holder="Bar Sala")

    body = {"title": "Bando box liberi", "stalls": ["2", "1"], "criteria": CRITERIA, "deadline": DEADLINE.isoformat()}
    assert (await http.post("/markets/wagner/calls", json=body, headers=markets.operator("wagner"))).status_code == 403
    taken = await http.post("/markets/wagner/calls", json={**body, "stalls": ["9"]}, headers=office)
    assert taken.status_code == 409 and "assegnato a Frutta Colombo" in taken.json()["detail"]
    past = await http.post("/markets/wagner/calls", json={**body, "deadline": "2020-01-01T00:00:00Z"}, headers=office)
    assert past.status_code == 422 and past.json()["errors"][0] == {
        "field": "body.deadline",
        "message": "deve essere nel futuro",
    }
    twice = await http.post("/markets/wagner/calls", json={**body, "criteria": CRITERIA[:1] * 2}, headers=office)
    assert twice.status_code == 422
    published = await http.post("/markets/wagner/calls", json=body, headers=office)
    assert published.status_code == 201, published.text
    call = published.json()
    assert call["status"] == "open" and call["stalls"] == ["2", "1"] and call["concession_years"] == 20
    overlapping = await http.post(
        "/markets/wagner/calls", json={**body, "stalls": ["1", "3"]}, headers={**office, "Accept-Language": "en"}
    )
    assert overlapping.status_code == 409 and "already offered by call" in overlapping.json()["detail"]
    assert overlapping.json()["call"] == call["id"]

    calls = f"/calls/{call['id']}"
    applicants = [
        ("bistrot", application("Bistrot Riva", "food_service", ["2"]), 95),
        ("enoteca", application("Enoteca Monti", "food_service"), 90),
        ("pizza", application("Pizza Conti", "food_service"), 85),
        ("panetteria", application("Panetteria Villa", "food"), 80),
    ]
    numbers = {}
    for username, form, _ in applicants:
        response = await http.post(
            f"{calls}/applications", json=form, headers=markets.auth(Role.TRADER, None, username)
        )
        assert response.status_code == 201, response.text
        numbers[username] = response.json()["id"]
    assert (await http.post(f"{calls}/applications", json=applicants[0][1])).status_code == 401
    repeat = await http.post(
        f"{calls}/applications",
        json=applicants[0][1],
        headers={**markets.auth(Role.TRADER, None, "bistrot"), "Accept-Language": "en"},
    )
    assert repeat.status_code == 409 and "already applied" in repeat.json()["detail"]
    assert numbers["bistrot"] in repeat.json()["detail"] and repeat.json()["application"] == numbers["bistrot"]
    wrong = await http.post(
        f"{calls}/evaluations",
        json={**evaluation(numbers["panetteria"], 80), "scores": {**scores(80), "offer": 120}},
        headers=office,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.scores.offer"
    bad_key = await http.post(
        f"{calls}/evaluations",
        json={**evaluation(numbers["panetteria"], 80), "scores": {"$where": 1}},
        headers=office,
    )
    assert bad_key.status_code == 422
    for username, _, offer in applicants:
        scored = await http.post(f"{calls}/evaluations", json=evaluation(numbers[username], offer), headers=office)
        assert scored.status_code == 201, scored.text

    assert (await http.get(f"{calls}/ranking")).status_code == 401
    assert (await http.get(f"{calls}/ranking", headers=markets.operator("wagner"))).status_code == 403
    provisional = (await http.get(f"{calls}/ranking", headers=office)).json()
    assert provisional["provisional"] is True and len(provisional["items"]) == 4
    early = await http.post(f"{calls}/award", headers=office)
    assert early.status_code == 409 and "si aggiudica dopo la scadenza" in early.json()["detail"]
    assert (await http.get(calls)).json()["applications"] == 4

    markets.clock.fixed = DEADLINE + timedelta(minutes=1)
    late = await http.post(
        f"{calls}/applications", json=application("Tardi", "food"), headers=markets.auth(Role.TRADER, None, "late")
    )
    assert late.status_code == 409
    assert (await http.post(f"{calls}/award", headers=markets.operator("wagner"))).status_code == 403
    awarded = await http.post(f"{calls}/award", headers=office)
    assert awarded.status_code == 200, awarded.text
    ranking = awarded.json()
    outcome = [(i["rank"], i["applicant"], i["outcome"], i["stall"]) for i in ranking["items"]]
    assert outcome == [
        (1, "bistrot", "skipped", None),
        (2, "enoteca", "awarded", "1"),
        (3, "pizza", "skipped", None),
        (4, "panetteria", "awarded", "2"),
    ]
    assert "oltre il limite di 20,0 m²" in ranking["items"][0]["reason"], "Italian unless asked otherwise"
    english = await http.get(f"{calls}/ranking", headers={"Accept-Language": "en-GB,en;q=0.9,it;q=0.5"})
    assert english.headers["content-language"] == "en"
    assert "over the cap of 20.0 m²" in english.json()["items"][0]["reason"]
    assert english.json()["tie_break"].startswith("higher score first")
    assert ranking["provisional"] is False and ranking["surface_after"]["food_service_m2"] == 20
    assert [b["points"] for b in ranking["items"][1]["breakdown"]] == [36, 15, 10, 5]
    public = (await http.get(f"{calls}/ranking")).json()
    anonymous = [{**item, "applicant": None, "holder": None} for item in ranking["items"]]
    assert public == {**ranking, "items": anonymous}, "the awarded ranking is public and stable, without names"
    assert (await http.post(f"{calls}/award", headers=office)).status_code == 409
    stall = (await http.get("/markets/wagner/stalls/1")).json()
    assert (stall["holder"], stall["category"], stall["status"]) == ("Enoteca Monti", "food_service", "closed")
    assert stall["concession"]["end"].startswith(str((DEADLINE + timedelta(minutes=1)).year + 20))
    granted = (await http.get(f"/concessions/{stall['concession']['id']}", headers=office)).json()
    assert (granted["trader"], granted["holder"], granted["state"]) == ("enoteca", "Enoteca Monti", "active")
    market = (await http.get("/markets/wagner")).json()
    assert market["surface"]["food_service_m2"] == 20 == market["surface"]["food_service_cap_m2"]
    over_cap = await http.post(
        "/markets/wagner/stalls/3/assignment",
        json={"holder": "Caffè", "category": "food_service", "start": "2026-01-01", "end": "2030-01-01"},
        headers=office,
    )
    assert over_cap.status_code == 409 and "oltre il limite" in over_cap.json()["detail"]
    listed = (await http.get("/markets/wagner/calls")).json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "awarded"

    events = await markets.events(at_least=20)
    awarded_event = next(e for e in events if e.type == "markets.call.awarded.v1")
    assert awarded_event.subject == call["id"]
    assert awarded_event.data["awarded"] == [
        {"number": "1", "applicant": "enoteca", "score": ranking["items"][1]["score"]},
        {"number": "2", "applicant": "panetteria", "score": ranking["items"][3]["score"]},
    ]
    assert [s["applicant"] for s in awarded_event.data["skipped"]] == ["bistrot", "pizza"]
    assert "over the cap" in awarded_event.data["skipped"][0]["reason"]
    assert "oltre il limite" in awarded_event.data["skipped"][0]["reason_it"]
    published_event = next(e for e in events if e.type == "markets.call.published.v1")
    assert (published_event.subject, published_event.data["stalls"]) == (call["id"], ["2", "1"])
    assert [c["name"] for c in published_event.data["criteria"]] == [c["name"] for c in CRITERIA]
    submitted = [e for e in events if e.type == "markets.call.application_submitted.v1"]
    assert sorted(e.data["applicant"] for e in submitted) == ["bistrot", "enoteca", "panetteria", "pizza"]
    assert all(e.data["call_id"] == call["id"] and "score" not in e.data for e in submitted)
    assigned = [e.subject for e in events if e.type == "markets.stall.assigned.v1"]
    assert assigned[-2:] == ["wagner/1", "wagner/2"]


async def test_the_calls_of_every_market_are_listed_by_status(markets: Markets) -> None:
    http, office = markets.http, markets.office
    for market_id in ("lorenteggio", "morsenchio"):
        await markets.create_market(market_id)
        for number in ("1", "2"):
            await markets.create_stall(market_id, number, 10)

    async def publish(market_id: str, number: str, days: int) -> str:
        deadline = (NOW + timedelta(days=days)).isoformat()
        body = {"title": f"Box {number}", "stalls": [number], "criteria": CRITERIA, "deadline": deadline}
        response = await http.post(f"/markets/{market_id}/calls", json=body, headers=office)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    soon = await publish("lorenteggio", "1", 5)
    later = await publish("morsenchio", "1", 40)
    awarded = await publish("morsenchio", "2", 10)
    applied = await http.post(
        f"/calls/{later}/applications",
        json=application("Frutta Rossi", "food"),
        headers=markets.auth(Role.TRADER, None, "rossi"),
    )
    assert applied.status_code == 201, applied.text

    async def listed(**params: Any) -> list[tuple[str, str, str, int]]:
        response = await http.get("/calls", params=params)  # anonymous, like a market's own list
        assert response.status_code == 200, response.text
        return [(c["id"], c["market_id"], c["status"], c["applications"]) for c in response.json()["items"]]

    newest_first = [
        (awarded, "morsenchio", "open", 0),
        (later, "morsenchio", "open", 1),
        (soon, "lorenteggio", "open", 0),
    ]
    assert await listed() == newest_first
    assert await listed(status="open") == newest_first
    assert await listed(status="open", limit=1, offset=1) == [(later, "morsenchio", "open", 1)]

    markets.clock.fixed = NOW + timedelta(days=20)  # past two deadlines; one of those calls is awarded
    award = await http.post(f"/calls/{awarded}/award", headers=office)
    assert award.status_code == 200, award.text
    assert await listed(status="open") == [(later, "morsenchio", "open", 1)]
    assert await listed(status="closed") == [(soon, "lorenteggio", "closed", 0)]
    assert await listed(status="awarded") == [(awarded, "morsenchio", "awarded", 0)]

    wrong = await http.get("/calls", params={"status": "evaluating"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "query.status", wrong.text


async def test_a_trader_reads_their_own_applications_from_any_session(markets: Markets) -> None:
    http, office = markets.http, markets.office
    await markets.create_market("prealpi")
    for number in ("1", "2"):
        await markets.create_stall("prealpi", number, 10)
    published = []
    for number in ("1", "2"):
        body = {"title": f"Box {number}", "stalls": [number], "criteria": CRITERIA, "deadline": DEADLINE.isoformat()}
        response = await http.post("/markets/prealpi/calls", json=body, headers=office)
        assert response.status_code == 201, response.text
        published.append(response.json()["id"])
    first, second = published
    rossi, villa = markets.auth(Role.TRADER, None, "rossi"), markets.auth(Role.TRADER, None, "villa")
    markets.clock.fixed = NOW  # the service's clock may have been moved on by an earlier test
    own = await http.post(f"/calls/{first}/applications", json=application("Frutta Rossi", "food"), headers=rossi)
    assert own.status_code == 201, own.text
    markets.clock.fixed = NOW + timedelta(minutes=1)
    at_the_counter = {**application("Frutta Rossi", "food"), "trader": "rossi"}
    filed = await http.post(f"/calls/{second}/applications", json=at_the_counter, headers=office)
    assert filed.status_code == 201, filed.text
    other = await http.post(f"/calls/{first}/applications", json=application("Pane Villa", "food"), headers=villa)
    assert other.status_code == 201, other.text

    async def listed(headers: dict[str, str], **params: Any) -> list[tuple[str, str, str]]:
        response = await http.get("/applications", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [(a["id"], a["call_id"], a["filed_by"]) for a in response.json()["items"]]

    # a new session of the trader: their applications, however filed, newest first; nobody else's
    rossi_again = markets.auth(Role.TRADER, None, "rossi")
    mine = [(filed.json()["id"], second, "office"), (own.json()["id"], first, "rossi")]
    assert await listed(rossi_again) == mine
    assert await listed(rossi_again, trader="rossi") == mine
    assert await listed(rossi_again, limit=1, offset=1) == [mine[1]]
    assert (await http.get("/applications", headers=rossi_again)).json()["items"][0]["submitted_at"]
    assert await listed(office, trader="rossi") == mine
    assert len(await listed(office)) == 3

    someone_else = await http.get("/applications", params={"trader": "villa"}, headers=rossi_again)
    assert someone_else.status_code == 403 and someone_else.json()["code"] == "call-not-yourself"
    assert (await http.get("/applications")).status_code == 401
    for outsider in (markets.operator("prealpi"), markets.auth(Role.SHOPKEEPER, "bar-sala", "sala")):
        refused = await http.get("/applications", headers=outsider)
        assert refused.status_code == 403 and refused.json()["code"] == "call-traders-only", refused.text
    wrong = await http.get("/applications", params={"trader": "no way"}, headers=office)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "query.trader", wrong.text
