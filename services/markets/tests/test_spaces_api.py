"""A market's social and cultural spaces through the API, on the real broker and database."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from shared.identity import Role

if TYPE_CHECKING:
    from conftest import Markets

pytestmark = pytest.mark.integration

ENGLISH = {"Accept-Language": "en"}
BOOKINGS = "/markets/ferrara/spaces/piazza/bookings"


def booking(starts: str, ends: str, *, public: bool = False, title: str = "Laboratorio") -> dict[str, Any]:
    """A booking on 4 May 2027, Milan summer time (``HH:MM``)."""
    return {
        "title": title,
        "organiser": "Associazione Ferrara Viva",
        "starts_at": f"2027-05-04T{starts}:00+02:00",
        "ends_at": f"2027-05-04T{ends}:00+02:00",
        "public": public,
    }


async def space(markets: Markets) -> None:
    markets.clock.fixed = datetime(2027, 5, 1, 10, 0, tzinfo=UTC)
    await markets.create_market("ferrara")
    body = {"code": "piazza", "name": "Piazza coperta", "capacity": 80}
    created = await markets.http.post("/markets/ferrara/spaces", json=body, headers=markets.office)
    assert created.status_code == 201, created.text


async def test_a_space_is_booked_without_overlaps_and_the_agenda_shows_public_events(markets: Markets) -> None:
    http, office = markets.http, markets.office
    markets.clock.fixed = datetime(2027, 5, 1, 10, 0, tzinfo=UTC)
    await markets.create_market("ferrara")
    body = {"code": "piazza", "name": "Piazza coperta", "capacity": 80}
    assert (
        await http.post("/markets/ferrara/spaces", json=body, headers=markets.operator("ferrara"))
    ).status_code == 403
    assert (await http.post("/markets/ferrara/spaces", json=body)).status_code == 401
    for bad, field in (({**body, "capacity": 0}, "body.capacity"), ({**body, "code": "Piazza Grande"}, "body.code")):
        refused = await http.post("/markets/ferrara/spaces", json=bad, headers=office)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    assert (await http.post("/markets/ferrara/spaces", json=body, headers=office)).status_code == 201
    assert (await http.post("/markets/ferrara/spaces", json=body, headers=office)).status_code == 409
    assert (await http.post("/markets/nessuno/spaces", json=body, headers=office)).status_code == 404
    assert [s["code"] for s in (await http.get("/markets/ferrara/spaces")).json()] == ["piazza"]

    anna = markets.auth(Role.TRADER, None, "anna")
    first = await http.post(BOOKINGS, json=booking("18:00", "20:00", public=True, title="Cineforum"), headers=anna)
    assert first.status_code == 201, first.text
    assert (first.json()["booked_by"], first.json()["starts_at"]) == ("anna", "2027-05-04T16:00:00Z")
    for who in (markets.auth(Role.SHOPKEEPER, "bottega", "negozio"), markets.operator("wagner")):
        refused = await http.post(BOOKINGS, json=booking("08:00", "09:00"), headers=who)
        assert refused.status_code == 403 and refused.json()["code"] == "space-not-allowed"
    assert (await http.post(BOOKINGS, json=booking("08:00", "09:00"))).status_code == 401

    # an overlapping booking is refused naming the one it collides with
    overlapping = await http.post(BOOKINGS, json=booking("19:00", "21:00"), headers={**office, **ENGLISH})
    assert overlapping.status_code == 409 and overlapping.json()["booking"] == first.json()["id"]
    assert first.json()["id"] in overlapping.json()["detail"] and "already booked" in overlapping.json()["detail"]
    inside = await http.post(BOOKINGS, json=booking("18:30", "19:00"), headers=markets.operator("ferrara"))
    assert inside.status_code == 409
    after = await http.post(BOOKINGS, json=booking("20:00", "21:00"), headers=markets.operator("ferrara", "gestore"))
    assert after.status_code == 201, "one ending at 20:00 and the next starting at 20:00 do not overlap"

    # more people than the space holds (80) is refused naming the field; as many is fine
    crowded = await http.post(BOOKINGS, json={**booking("22:00", "23:00"), "expected_people": 81}, headers=office)
    assert crowded.status_code == 422 and crowded.json()["errors"][0]["field"] == "body.expected_people"
    assert (
        crowded.json()["detail"] == "lo spazio piazza accoglie al massimo 80 persone"
        and crowded.json()["capacity"] == 80
    )
    full = await http.post(BOOKINGS, json={**booking("22:00", "23:00"), "expected_people": 80}, headers=office)
    assert full.status_code == 201 and full.json()["expected_people"] == 80, full.text
    assert (await http.delete(f"{BOOKINGS}/{full.json()['id']}", headers=office)).status_code == 200

    # bad periods name the field and write nothing
    for bad, field in (
        (booking("21:00", "20:30"), "body.ends_at"),
        (booking("21:00", "21:00"), "body.ends_at"),
        ({**booking("21:00", "22:00"), "starts_at": "2027-02-30T21:00:00+01:00"}, "body.starts_at"),
        ({**booking("21:00", "22:00"), "starts_at": "2027-05-04T21:00:00"}, "body.starts_at"),
        ({**booking("21:00", "22:00"), "starts_at": "2027-04-30T21:00:00+02:00"}, "body.starts_at"),
        ({**booking("21:00", "22:00"), "ends_at": "2027-07-04T21:00:00+02:00"}, "body.ends_at"),
        ({**booking("21:00", "22:00"), "ends_at": "9999-12-31T23:59:00-12:00"}, "body.ends_at"),
    ):
        refused = await http.post(BOOKINGS, json=bad, headers=office)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, (bad, refused.text)
    assert (
        await http.post("/markets/ferrara/spaces/cortile/bookings", json=booking("08:00", "09:00"), headers=office)
    ).status_code == 404

    async def listed(query: str = "", headers: dict[str, str] | None = None) -> list[str]:
        response = await http.get(f"{BOOKINGS}{query}", headers=headers or anna)
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["items"]]

    both = [first.json()["id"], after.json()["id"]]
    assert await listed() == both, "nothing half-written by the refusals"
    assert await listed("?from=2027-05-04T20:00") == both[1:], "an offset-less time is Milan's"
    assert await listed("?from=2027-05-04T17:00:00Z&to=2027-05-04T18:30:00Z") == both
    assert await listed("?to=2027-05-04T18:00:00%2B02:00") == []
    to_before = await http.get(f"{BOOKINGS}?from=2027-05-04T20:00&to=2027-05-04T19:00", headers=anna)
    assert to_before.status_code == 422 and to_before.json()["errors"][0]["field"] == "query.to"
    assert (await http.get(BOOKINGS)).status_code == 401
    edge = await http.get("/markets/ferrara/agenda?from=0001-01-01T00:00:00%2B01:00")
    assert edge.status_code == 422 and edge.json()["errors"][0]["field"] == "query.from", edge.text

    # the anonymous agenda: public events only, without who booked them
    agenda = (await http.get("/markets/ferrara/agenda")).json()
    assert agenda["total"] == 1 and agenda["items"] == [
        {
            "id": first.json()["id"],
            "space": "piazza",
            "title": "Cineforum",
            "organiser": "Associazione Ferrara Viva",
            "starts_at": "2027-05-04T16:00:00Z",
            "ends_at": "2027-05-04T18:00:00Z",
        }
    ]
    assert (await http.get("/markets/ferrara/agenda?from=2027-05-05T00:00")).json()["total"] == 0
    assert (await http.get("/markets/nessuno/agenda")).status_code == 404

    # cancelling: who booked it, or the market's operators and the office; it frees the period
    cancel = f"{BOOKINGS}/{first.json()['id']}"
    assert (await http.delete(cancel, headers=markets.auth(Role.TRADER, None, "bruno"))).status_code == 403
    cancelled = await http.delete(cancel, headers=anna)
    assert cancelled.status_code == 200 and cancelled.json()["cancelled_at"] is not None
    assert (await http.delete(cancel, headers=office)).status_code == 409
    assert (await http.get("/markets/ferrara/agenda")).json()["total"] == 0
    assert await listed() == both[1:]
    rebooked = await http.post(BOOKINGS, json=booking("19:00", "20:00"), headers=office)
    assert rebooked.status_code == 201, rebooked.text

    events = [e for e in await markets.events(at_least=8) if e.type.startswith("markets.space.")]
    assert [(e.type, e.subject) for e in events] == [
        ("markets.space.created.v1", "ferrara/piazza"),
        ("markets.space.booked.v1", "ferrara/piazza"),
        ("markets.space.booked.v1", "ferrara/piazza"),
        ("markets.space.booked.v1", "ferrara/piazza"),  # the full house, then its cancellation
        ("markets.space.booking_cancelled.v1", "ferrara/piazza"),
        ("markets.space.booking_cancelled.v1", "ferrara/piazza"),
        ("markets.space.booked.v1", "ferrara/piazza"),
    ]
    assert events[3].data["expected_people"] == 80 and events[1].data["expected_people"] is None
    assert events[5].data["booking_id"] == first.json()["id"] and events[5].data["actor"] == "anna"


async def test_concurrent_overlapping_bookings_store_exactly_one(markets: Markets) -> None:
    await space(markets)
    bodies = [booking(f"1{n}:00", f"1{n + 2}:00", title=f"Evento {n}") for n in range(6)]  # 10-12 … 15-17
    answers = await asyncio.gather(
        *(
            markets.http.post(BOOKINGS, json=b, headers=markets.auth(Role.TRADER, None, f"t{i}"))
            for i, b in enumerate(bodies)
        )
    )
    statuses = [a.status_code for a in answers]
    stored = (await markets.http.get(BOOKINGS, headers=markets.office)).json()["items"]
    assert statuses.count(201) == len(stored) >= 1, [a.text for a in answers]
    assert set(statuses) <= {201, 409}
    periods = sorted((b["starts_at"], b["ends_at"]) for b in stored)
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(periods)), f"overlapping: {periods}"
    winners = {b["id"] for b in stored}
    assert {a.json()["booking"] for a in answers if a.status_code == 409} <= winners

    # the same period sent four times at once: exactly one stored
    same = booking("20:00", "22:00", title="Concerto")
    answers = await asyncio.gather(*(markets.http.post(BOOKINGS, json=same, headers=markets.office) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    won = next(a.json()["id"] for a in answers if a.status_code == 201)
    assert {a.json()["booking"] for a in answers if a.status_code == 409} == {won}
