"""Markets and stalls through the API, on the real broker and database, with their events."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from markets.main import PUBLISHED

from shared.identity import Role

if TYPE_CHECKING:
    from conftest import Markets

pytestmark = pytest.mark.integration

EVENT_MODELS = {model.event_type: model for model in PUBLISHED}
ENGLISH = {"Accept-Language": "en"}


async def test_market_day_from_registration_to_release(markets: Markets) -> None:
    http, office = markets.http, markets.office
    wagner = await markets.create_market("wagner", nil="PAGANO", id_nil=68, boxes=31)
    assert wagner["occupancy"] == {
        "stalls_total": 0,
        "by_status": {"open": 0, "closed": 0, "vacant": 0, "maintenance": 0},
        "occupancy_rate": 0.0,
        "open_now": 0,
    }
    await markets.create_market("lagosta", municipio=9, active=False)
    body = {"id": "x1", "name": "X", "address": "Via X", "municipio": 1, "location": {"lon": 9.1, "lat": 45.4}}
    assert (await http.post("/markets", json=body)).status_code == 401
    assert (await http.post("/markets", json=body, headers=markets.operator("x1"))).status_code == 403
    duplicate = await http.post("/markets", json={**body, "id": "wagner"}, headers=office)
    assert duplicate.status_code == 409 and duplicate.headers["content-type"] == "application/problem+json"

    for number, area in (("1", 20), ("2", 15), ("10", 30)):
        await markets.create_stall("wagner", number, area)
    stall = (await http.get("/markets/wagner/stalls/1")).json()
    assert stall["status"] == "vacant" and stall["version"] == 1 and stall["holder"] is None
    refused = await http.put("/markets/wagner/stalls/1/status", json={"status": "open"}, headers={**office, **ENGLISH})
    assert refused.status_code == 409 and "vacant stall cannot be opened" in refused.json()["detail"]

    assignment = {"holder": "Macelleria Rossi", "category": "food", "start": "2026-01-01", "end": "2046-01-01"}
    assigned = await http.post("/markets/wagner/stalls/1/assignment", json=assignment, headers=office)
    assert assigned.status_code == 200 and assigned.headers["etag"] == '"2"'
    assert assigned.json()["status"] == "closed" and assigned.json()["holder"] == "Macelleria Rossi"
    again = await http.post("/markets/wagner/stalls/1/assignment", json=assignment, headers={**office, **ENGLISH})
    assert again.status_code == 409 and "already assigned" in again.json()["detail"]

    operator = markets.operator("wagner", "operator-wagner")
    path = "/markets/wagner/stalls/1/status"
    opened = await http.put(
        path, json={"status": "open", "note": "buongiorno"}, headers={**operator, "If-Match": '"2"'}
    )
    assert opened.status_code == 200 and opened.json()["version"] == 3 and opened.headers["etag"] == '"3"'
    retry = await http.put(path, json={"status": "open", "note": "buongiorno", "version": 3}, headers=operator)
    assert retry.status_code == 200 and retry.json()["version"] == 3, "a retried PUT is a no-op"
    stale = await http.put(path, json={"status": "closed"}, headers={**operator, "If-Match": '"2"'})
    assert stale.status_code == 412 and stale.json()["version"] == 3
    assert (await http.put(path, json={"status": "closed", "version": 1}, headers=operator)).status_code == 412
    elsewhere = await http.put(path, json={"status": "closed"}, headers=markets.operator("lagosta"))
    assert elsewhere.status_code == 403
    shopkeeper = markets.auth(Role.SHOPKEEPER, "wagner", "shop")
    assert (await http.put(path, json={"status": "closed"}, headers=shopkeeper)).status_code == 403
    assert (await http.put(path, json={"status": "closed"})).status_code == 401
    vacant = await http.put(path, json={"status": "vacant"}, headers={**operator, **ENGLISH})
    assert vacant.status_code == 409 and "free it" in vacant.json()["detail"]
    maintenance = await http.put(path, json={"status": "maintenance", "note": "frigo"}, headers=operator)
    assert maintenance.status_code == 200
    blocked = await http.put(path, json={"status": "open"}, headers={**operator, **ENGLISH})
    assert blocked.status_code == 409 and "maintenance" in blocked.json()["detail"]
    assert (await http.put(path, json={"status": "closed"}, headers=operator)).status_code == 200

    market = (await http.get("/markets/wagner")).json()
    assert market["occupancy"]["stalls_total"] == 3 and market["occupancy"]["by_status"]["closed"] == 1
    assert market["occupancy"]["occupancy_rate"] == round(1 / 3, 4)
    assert market["surface"] == {"total_m2": 65.0, "food_service_m2": 0.0, "food_service_cap_m2": 13.0}
    listed = (await http.get("/markets", params={"active": "true"})).json()
    assert [m["id"] for m in listed["items"]] == ["wagner"] and listed["total"] == 1
    assert (await http.get("/markets", params={"municipio": 9})).json()["items"][0]["id"] == "lagosta"
    stalls = (await http.get("/markets/wagner/stalls", params={"limit": 2})).json()
    assert [s["number"] for s in stalls["items"]] == ["1", "2"] and stalls["total"] == 3
    vacant_only = (await http.get("/markets/wagner/stalls", params={"status": "vacant"})).json()
    assert [s["number"] for s in vacant_only["items"]] == ["2", "10"]

    freed = await http.delete("/markets/wagner/stalls/1/assignment", headers=office)
    assert freed.status_code == 200 and freed.json()["status"] == "vacant" and freed.json()["holder"] is None
    history = (await http.get("/markets/wagner/stalls/1/history")).json()
    assert [(h["from"], h["to"], h["version"]) for h in history["items"]] == [
        ("closed", "vacant", 6),
        ("maintenance", "closed", 5),
        ("open", "maintenance", 4),
        ("closed", "open", 3),
        ("vacant", "closed", 2),
        (None, "vacant", 1),
    ]
    assert history["items"][3]["actor"] == "operator-wagner" and history["items"][3]["note"] == "buongiorno"

    patched = await http.patch(
        "/markets/wagner", json={"notes": "Relaunched in 2018"}, headers={**office, "If-Match": '"1"'}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    unchanged = await http.patch("/markets/wagner", json={"notes": "Relaunched in 2018"}, headers=office)
    assert unchanged.json()["version"] == 2
    stale_patch = await http.patch("/markets/wagner", json={"active": False}, headers={**office, "If-Match": '"1"'})
    assert stale_patch.status_code == 412

    events = await markets.events(at_least=11)
    assert [(e.type.removeprefix("markets.").removesuffix(".v1"), e.subject) for e in events] == [
        ("market.registered", "wagner"),
        ("market.registered", "lagosta"),
        ("stall.created", "wagner/1"),
        ("stall.created", "wagner/2"),
        ("stall.created", "wagner/10"),
        ("stall.assigned", "wagner/1"),
        ("stall.status_changed", "wagner/1"),
        ("stall.status_changed", "wagner/1"),
        ("stall.status_changed", "wagner/1"),
        ("stall.released", "wagner/1"),
        ("market.updated", "wagner"),
    ]
    for event in events:
        assert event.source == "/markets" and event.specversion == "1.0"
        EVENT_MODELS[event.type].model_validate(event.data)
    changed = [e.data for e in events if e.type == "markets.stall.status_changed.v1"]
    assert changed[0] == {
        "market_id": "wagner",
        "number": "1",
        "from": "closed",
        "to": "open",
        "note": "buongiorno",
        "actor": "operator-wagner",
        "version": 3,
        "at": changed[0]["at"],
    }
    released = next(e.data for e in events if e.type == "markets.stall.released.v1")
    assert (released["previous_holder"], released["status"], released["version"]) == ("Macelleria Rossi", "vacant", 6)
    metrics = (await http.get("/metrics")).text
    assert 'markets_stall_status_changes_total{to="open"} 1.0' in metrics


async def test_two_operators_racing_on_one_stall(markets: Markets) -> None:
    await markets.create_market("wagner")
    await markets.create_stall("wagner", "7", holder="Frutta Colombo")
    path = "/markets/wagner/stalls/7/status"
    first, second = markets.operator("wagner", "anna"), markets.operator("wagner", "bruno")
    responses = await asyncio.gather(
        markets.http.put(path, json={"status": "open", "version": 2}, headers=first),
        markets.http.put(path, json={"status": "maintenance", "version": 2}, headers=second),
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200).json()
    stall = (await markets.http.get("/markets/wagner/stalls/7")).json()
    assert stall["version"] == 3 and stall["status"] == winner["status"]
    history = (await markets.http.get("/markets/wagner/stalls/7/history")).json()
    assert history["total"] == 3
    events = await markets.events(at_least=4)
    changes = [e for e in events if e.type == "markets.stall.status_changed.v1"]
    assert len(changes) == 1 and changes[0].data["to"] == winner["status"]


async def test_bad_input_is_refused_clearly_and_writes_nothing(markets: Markets) -> None:
    http, office = markets.http, markets.office
    await markets.create_market("wagner")
    await markets.create_stall("wagner", "1", holder="Pescheria Galli")
    cases = [
        ("POST", "/markets/nowhere/stalls", {"number": "1", "area_m2": 10, "category": "food"}, 404, None),
        ("GET", "/markets/nowhere", None, 404, None),
        ("GET", "/markets/wagner/stalls/99", None, 404, None),
        ("POST", "/markets/wagner/stalls", {"number": "2", "area_m2": -4, "category": "food"}, 422, "body.area_m2"),
        ("POST", "/markets/wagner/stalls", {"number": "2", "area_m2": 4, "category": "fish"}, 422, "body.category"),
        ("POST", "/markets/wagner/stalls", {"number": {"$gt": ""}, "area_m2": 4, "category": "food"}, 422, "body.number"),
        ("POST", "/markets/wagner/stalls", {"number": "2", "area_m2": 4, "category": "food", "x": 1}, 422, "body.x"),
        ("PUT", "/markets/wagner/stalls/1/status", {"status": "gone"}, 422, "body.status"),
        ("PUT", "/markets/wagner/stalls/1/status", {"status": "open", "note": "n" * 281}, 422, "body.note"),
        ("POST", "/markets", {"id": "Bad Id!", "name": "x", "address": "y", "municipio": 1,
                              "location": {"lon": 9, "lat": 45}}, 422, "body.id"),
        ("POST", "/markets", {"id": "ok", "name": {"$ne": None}, "address": "y", "municipio": 12,
                              "location": {"lon": 900, "lat": 45}}, 422, "body.name"),
        ("PATCH", "/markets/wagner", {"name": None}, 422, "body"),
        ("GET", "/markets?limit=0", None, 422, "query.limit"),
        ("GET", "/markets?offset=99999999999999999999", None, 422, "query.offset"),
        ("GET", "/markets?municipio=%7B%22%24gt%22%3A0%7D", None, 422, "query.municipio"),
        ("POST", "/markets/wagner/stalls/1/assignment",
         {"holder": "x", "category": "food", "start": "2026-01-02", "end": "2026-01-01"}, 422, "body.end"),
    ]  # fmt: skip
    for method, url, body, status, field in cases:
        response = await http.request(method, url, json=body, headers=office)
        assert response.status_code == status, (method, url, response.text)
        problem = response.json()
        assert problem["status"] == status and problem["detail"] and "Traceback" not in response.text
        if field:
            assert field in [e["field"] for e in problem["errors"]], (url, problem["errors"])
    malformed = await http.post(
        "/markets/wagner/stalls", content=b'{"number": "3",', headers={**office, "content-type": "application/json"}
    )
    assert malformed.status_code == 422
    huge = await http.post(
        "/markets/wagner/stalls",
        content=b'{"number": "4", "category": "food", "area_m2": 1, "pad": "' + b"x" * 2_000_000 + b'"}',
        headers={**office, "content-type": "application/json"},
    )
    assert huge.status_code == 413
    stalls = (await http.get("/markets/wagner/stalls")).json()
    assert stalls["total"] == 1 and stalls["items"][0]["version"] == 2
    events = await markets.events(at_least=3)
    assert len(events) == 3, "refused requests publish nothing"


async def test_if_match_follows_rfc_9110(markets: Markets) -> None:
    """Strong comparison: a weak tag or a bare number never matches (412); ``*`` and lists do."""
    await markets.create_market("wagner")
    await markets.create_stall("wagner", "5", holder="Latteria Bassi")
    operator = markets.operator("wagner")
    path = "/markets/wagner/stalls/5/status"
    for refused in ('W/"2"', "2", '"2" "3"', '"x"'):
        response = await markets.http.put(path, json={"status": "open"}, headers={**operator, "If-Match": refused})
        assert response.status_code == 412, refused
        assert response.json()["version"] == 2 and response.headers["content-type"] == "application/problem+json"
    listed = await markets.http.put(path, json={"status": "open"}, headers={**operator, "If-Match": '"1", "2"'})
    assert listed.status_code == 200 and listed.headers["etag"] == '"3"'
    anything = await markets.http.put(path, json={"status": "closed"}, headers={**operator, "If-Match": "*"})
    assert anything.status_code == 200 and anything.json()["version"] == 4
    both = await markets.http.put(path, json={"status": "open", "version": 3}, headers={**operator, "If-Match": '"4"'})
    assert both.status_code == 412, "If-Match and the body's version must both name the current version"
    patched = await markets.http.patch(
        "/markets/wagner", json={"notes": "x"}, headers={**markets.office, "If-Match": 'W/"1"'}
    )
    assert patched.status_code == 412
    assert (await markets.http.get("/markets/wagner/stalls/5")).json()["version"] == 4


async def test_refusals_are_italian_first_and_english_when_asked(markets: Markets) -> None:
    """A stall rule, sign-in, role, If-Match and a request's shape: every refusal in both languages,
    with the same status, ``type`` and field names."""
    http, office = markets.http, markets.office
    await markets.create_market("wagner")
    await markets.create_stall("wagner", "1", 20)
    path = "/markets/wagner/stalls/1/status"

    def said(answer: Any) -> tuple[int, str, str, str]:
        return answer.status_code, answer.headers["content-language"], answer.json()["title"], answer.json()["detail"]

    async def both(method: str, url: str, json: Any, headers: dict[str, str]) -> tuple[Any, Any]:
        """The same request answered by default (Italian) and with ``Accept-Language: en``."""
        italian = await http.request(method, url, json=json, headers=headers)
        return italian, await http.request(method, url, json=json, headers={**headers, **ENGLISH})

    vacant, vacant_en = await both("PUT", path, {"status": "open"}, office)
    assert said(vacant) == (
        409,
        "it",
        "Conflitto",
        "un banco libero non può essere aperto: assegna prima un titolare al banco 1",
    )
    assert said(vacant_en) == (
        409,
        "en",
        "Conflict",
        "a vacant stall cannot be opened: assign a holder to stall 1 first",
    )
    assert vacant.json()["type"] == vacant_en.json()["type"]

    anonymous, anonymous_en = await both("PUT", path, {"status": "closed"}, {})
    assert said(anonymous) == (
        401,
        "it",
        "Accesso richiesto",
        "occorre accedere: questa operazione richiede un token di accesso (bearer)",
    )
    assert said(anonymous_en) == (401, "en", "Unauthorized", "log in first: this needs a bearer token")
    forged = {"Authorization": "Bearer not.a.token"}
    forged_it, forged_en = await both("PUT", path, {"status": "closed"}, forged)
    assert (forged_it.json()["detail"], forged_en.json()["detail"]) == (
        "il token di accesso non è valido",
        "the token is not valid",
    )

    elsewhere = markets.operator("lagosta")
    other, other_en = await both("PUT", path, {"status": "closed"}, elsewhere)
    assert said(other) == (403, "it", "Operazione non consentita", "il tuo account non può modificare 'wagner'")
    assert said(other_en) == (403, "en", "Forbidden", "your account is not allowed to change 'wagner'")

    stale = {**office, "If-Match": '"7"'}
    late, late_en = await both("PUT", path, {"status": "maintenance"}, stale)
    assert said(late) == (
        412,
        "it",
        "Versione non corrispondente",
        "If-Match non corrisponde: il banco 1 è alla versione 1, non 7; rileggilo",
    )
    assert said(late_en) == (
        412,
        "en",
        "Precondition failed",
        "If-Match does not match: stall 1 is at version 1, not 7; read it again",
    )
    assert late.json()["current_version"] == late_en.json()["current_version"] == 1

    body = {"number": "2", "area_m2": "grande", "category": "food"}
    shape, shape_en = await both("POST", "/markets/wagner/stalls", body, office)
    assert (shape.status_code, shape.json()["title"], shape.json()["errors"]) == (
        422,
        "Dati non validi",
        [{"field": "body.area_m2", "message": "deve essere un numero"}],
    )
    assert (shape_en.json()["title"], shape_en.json()["errors"]) == (
        "Invalid input",
        [{"field": "body.area_m2", "message": "Input should be a valid number, unable to parse string as a number"}],
    )
    missing = await http.get("/markets/wagner/stalls/99")
    assert said(missing) == (404, "it", "Non trovato", "il mercato 'wagner' non ha il banco '99'")
