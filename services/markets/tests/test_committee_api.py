"""A call's committee end to end: declared facts only, evaluations with reasons, history, the award, privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from shared.identity import Role

if TYPE_CHECKING:
    from conftest import Markets

pytestmark = pytest.mark.integration

DEADLINE = datetime.now(UTC) + timedelta(days=30)
CRITERIA = [
    {"name": "offer", "weight": 60, "max_points": 10},
    {"name": "social_value", "weight": 40, "max_points": 5},
]
ENGLISH = {"Accept-Language": "en"}


def form(holder: str, **declared: Any) -> dict[str, Any]:
    return {"holder": holder, "category": "food", "offer": f"{holder} propone un banco di prodotti locali", **declared}


def evaluation(application: str, offer: float, social: float) -> dict[str, Any]:
    return {
        "application": application,
        "scores": {"offer": offer, "social_value": social},
        "reasons": {"offer": f"offerta valutata {offer}", "social_value": f"impatto sociale {social}"},
    }


async def publish(markets: Markets, market_id: str, stalls: list[str]) -> str:
    body = {"title": "Bando box", "stalls": stalls, "criteria": CRITERIA, "deadline": DEADLINE.isoformat()}
    response = await markets.http.post(f"/markets/{market_id}/calls", json=body, headers=markets.office)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_the_committee_decides_the_ranking_and_keeps_every_evaluation(markets: Markets) -> None:
    http, office = markets.http, markets.office
    await markets.create_market("lorenteggio")
    for number in ("1", "2"):
        await markets.create_stall("lorenteggio", number, 10)
    call_id = await publish(markets, "lorenteggio", ["1", "2"])
    calls = f"/calls/{call_id}"

    # The applicants only declare facts: whoever tries to score or rank themself is refused.
    trader = markets.auth(Role.TRADER, None, "anna")
    for field, value in (("scores", {"offer": 10, "social_value": 5}), ("rank", 1)):
        refused = await http.post(f"{calls}/applications", json={**form("Anna Frutta"), field: value}, headers=trader)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == f"body.{field}"

    # Applied in this order: anna, bruno, carla (the order the applicants themselves came in).
    numbers: dict[str, str] = {}
    people = [
        ("anna", Role.TRADER, form("Anna Frutta", stalls=["1"], declarations={"years_trading": 2})),
        ("bruno", Role.TRADER, form("Bruno Formaggi", declarations={"years_trading": 30, "organic": True})),
        # carla applies at the office's counter: the office clerk files it on her behalf
        ("ufficio-carla", Role.OFFICE, form("Carla Fiori", trader="carla", documents=["durc-2026", "visura"])),
    ]
    for username, role, body in people:
        response = await http.post(f"{calls}/applications", json=body, headers=markets.auth(role, None, username))
        assert response.status_code == 201, response.text
        filed = response.json()
        assert "scores" not in filed and "score" not in filed
        assert filed["declarations"] == body.get("declarations", {}) and filed["documents"] == body.get("documents", [])
        assert (filed["applicant"], filed["filed_by"]) == (body.get("trader", username), username)
        numbers[filed["applicant"]] = filed["id"]

    # The office reads the applications as declared, in the order they came in; nobody else does.
    listed = await http.get(f"{calls}/applications", headers=office)
    assert listed.status_code == 200 and listed.json()["total"] == 3, listed.text
    filed_list = listed.json()["items"]
    assert [(a["id"], a["applicant"], a["holder"]) for a in filed_list] == [
        (numbers["anna"], "anna", "Anna Frutta"),
        (numbers["bruno"], "bruno", "Bruno Formaggi"),
        (numbers["carla"], "carla", "Carla Fiori"),
    ]
    assert filed_list[0]["stalls"] == ["1"] and filed_list[1]["declarations"] == {"years_trading": 30, "organic": True}
    assert filed_list[2]["documents"] == ["durc-2026", "visura"] and "scores" not in filed_list[2]
    second = await http.get(f"{calls}/applications", params={"limit": 1, "offset": 1}, headers=office)
    assert [a["id"] for a in second.json()["items"]] == [numbers["bruno"]] and second.json()["total"] == 3
    for who in (trader, markets.operator("lorenteggio")):
        assert (await http.get(f"{calls}/applications", headers=who)).status_code == 403
    assert (await http.get(f"{calls}/applications")).status_code == 401
    assert (await http.get("/calls/nessuno/applications", headers=office)).status_code == 404

    # Bad evaluations: over the maximum, a criterion missing, no reason, another call's application.
    above = await http.post(f"{calls}/evaluations", json=evaluation(numbers["anna"], 11, 3), headers=office)
    assert above.status_code == 422 and above.json()["errors"][0]["field"] == "body.scores.offer"
    assert "tra 0 e 10" in above.json()["errors"][0]["message"], "Italian by default"
    above_en = await http.post(
        f"{calls}/evaluations", json=evaluation(numbers["anna"], 8, 6), headers={**office, **ENGLISH}
    )
    assert above_en.status_code == 422 and above_en.json()["errors"][0]["field"] == "body.scores.social_value"
    assert above_en.json()["errors"][0]["message"] == "must be between 0 and 5"
    missing = evaluation(numbers["anna"], 8, 3)
    del missing["scores"]["social_value"]
    response = await http.post(f"{calls}/evaluations", json=missing, headers=office)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.scores.social_value"
    unreasoned = evaluation(numbers["anna"], 8, 3)
    unreasoned["reasons"].pop("offer")
    response = await http.post(f"{calls}/evaluations", json=unreasoned, headers=office)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.reasons.offer"
    await markets.create_stall("lorenteggio", "3", 10)
    elsewhere = await publish(markets, "lorenteggio", ["3"])
    stranger = await http.post(
        f"/calls/{elsewhere}/applications", json=form("Dario Pane"), headers=markets.auth(Role.TRADER, None, "dario")
    )
    assert stranger.status_code == 201
    foreign = await http.post(f"{calls}/evaluations", json=evaluation(stranger.json()["id"], 5, 5), headers=office)
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "body.application"
    unknown = await http.post(f"{calls}/evaluations", json=evaluation("nessuna", 5, 5), headers=office)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.application"

    # Only the office evaluates, and never its own application.
    for who in (trader, markets.operator("lorenteggio"), markets.auth(Role.SHOPKEEPER, "bottega", "bruno")):
        assert (
            await http.post(f"{calls}/evaluations", json=evaluation(numbers["anna"], 9, 5), headers=who)
        ).status_code == 403
    assert (await http.post(f"{calls}/evaluations", json=evaluation(numbers["anna"], 9, 5))).status_code == 401
    for account in ("carla", "ufficio-carla"):  # the applicant, and the clerk who filed it for her
        own = await http.post(
            f"{calls}/evaluations",
            json=evaluation(numbers["carla"], 10, 5),
            headers={**markets.auth(Role.OFFICE, None, account), **ENGLISH},
        )
        assert own.status_code == 403
        assert own.json()["detail"] == "the account that applied cannot evaluate its own application"

    # The committee scores anna and carla; bruno is still unscored after the deadline: no award.
    committee = markets.auth(Role.OFFICE, None, "commissione")
    for username, offer, social in (("anna", 4, 2), ("carla", 9, 4)):
        response = await http.post(
            f"{calls}/evaluations", json=evaluation(numbers[username], offer, social), headers=committee
        )
        assert response.status_code == 201, response.text
    markets.clock.fixed = DEADLINE + timedelta(minutes=1)
    blocked = await http.post(f"{calls}/award", headers={**office, **ENGLISH})
    assert blocked.status_code == 409, blocked.text
    assert blocked.json()["unscored"] == [numbers["bruno"]]
    assert numbers["bruno"] in blocked.json()["detail"] and "not scored" in blocked.json()["detail"]
    provisional = (await http.get(f"{calls}/ranking", headers=office)).json()
    assert provisional["unscored"] == [numbers["bruno"]]
    assert [i["applicant"] for i in provisional["items"]] == ["carla", "anna"]

    # Bruno is scored low, then evaluated again higher: the history keeps both, the latest counts.
    first = await http.post(f"{calls}/evaluations", json=evaluation(numbers["bruno"], 2, 1), headers=committee)
    assert first.status_code == 201 and first.json()["latest"]["revision"] == 1
    again = await http.post(f"{calls}/evaluations", json=evaluation(numbers["bruno"], 10, 5), headers=office)
    assert again.status_code == 201, again.text
    history = again.json()
    assert [(e["revision"], e["evaluator"], e["scores"]["offer"]) for e in history["history"]] == [
        (1, "commissione", 2),
        (2, "office", 10),
    ]
    assert history["latest"]["score"] == 100 and history["history"][0]["score"] == 20
    assert history["history"][0]["at"] <= history["history"][1]["at"]
    listed = await http.get(f"{calls}/evaluations", params={"application": numbers["bruno"]}, headers=office)
    assert listed.status_code == 200 and [e["revision"] for e in listed.json()["items"]] == [1, 2]
    everything = (await http.get(f"{calls}/evaluations", headers=office)).json()
    assert everything["total"] == 4
    assert (await http.get(f"{calls}/evaluations", headers=trader)).status_code == 403

    # The award follows the committee: bruno (100), carla (86), anna (40) — not the order they applied in.
    awarded = await http.post(f"{calls}/award", headers=office)
    assert awarded.status_code == 200, awarded.text
    ranking = awarded.json()
    assert [(i["applicant"], i["holder"], i["score"], i["outcome"], i["stall"]) for i in ranking["items"]] == [
        ("bruno", "Bruno Formaggi", 100, "awarded", "1"),
        ("carla", "Carla Fiori", 86, "awarded", "2"),
        ("anna", "Anna Frutta", 40, "skipped", None),
    ]
    assert ranking["items"][0]["breakdown"][0]["reason"] == "offerta valutata 10"
    late = await http.post(f"{calls}/evaluations", json=evaluation(numbers["anna"], 10, 5), headers=office)
    assert late.status_code == 409

    # Anyone else sees application numbers, scores, reasons and outcomes, but no account or business names.
    for viewer in ({}, trader):
        public = await http.get(f"{calls}/ranking", headers=viewer)
        assert public.status_code == 200
        items = public.json()["items"]
        assert [(i["application"], i["score"], i["outcome"]) for i in items] == [
            (numbers["bruno"], 100, "awarded"),
            (numbers["carla"], 86, "awarded"),
            (numbers["anna"], 40, "skipped"),
        ]
        assert all(i["applicant"] is None and i["holder"] is None for i in items)
        assert items[2]["reason"].startswith("3ª in graduatoria con 40 punti")
        assert items[1]["breakdown"][1]["reason"] == "impatto sociale 4"
        text = public.text
        for name in ("anna", "bruno", "carla", "Frutta", "Formaggi", "Fiori", "commissione"):
            assert name not in text.replace(call_id, ""), name

    events = await markets.events(at_least=10)
    evaluated = [e for e in events if e.type == "markets.call.application_evaluated.v1"]
    assert [(e.subject, e.data["revision"], e.data["evaluator"]) for e in evaluated] == [
        (numbers["anna"], 1, "commissione"),
        (numbers["carla"], 1, "commissione"),
        (numbers["bruno"], 1, "commissione"),
        (numbers["bruno"], 2, "office"),
    ]
    assert evaluated[-1].data["reasons"]["offer"] == "offerta valutata 10"
    call_awarded = next(e for e in events if e.type == "markets.call.awarded.v1")
    assert [a["applicant"] for a in call_awarded.data["awarded"]] == ["bruno", "carla"]
