"""Concessions over their whole life through the API, on the real broker and database, with their events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from markets.concessions.expiry import ExpiryJob

from devkit.testing import eventually
from shared.events import CloudEvent
from shared.identity import Role

if TYPE_CHECKING:
    from conftest import Markets

pytestmark = pytest.mark.integration

ENGLISH = {"Accept-Language": "en"}
EXPIRED = "markets.concession.expired.v1"


async def assign(
    markets: Markets, market_id: str, number: str, end: str, *, trader: str | None = None, holder: str = "Banco"
) -> dict[str, Any]:
    """Give the stall (made vacant first) a concession from 2026-01-01 to ``end``; the concession's record."""
    await markets.create_stall(market_id, number)
    body = {"holder": holder, "category": "food", "start": "2026-01-01", "end": end}
    if trader:
        body["trader"] = trader
    stall = await markets.http.post(
        f"/markets/{market_id}/stalls/{number}/assignment", json=body, headers=markets.office
    )
    assert stall.status_code == 200, stall.text
    concession_id = stall.json()["concession"]["id"]
    record = await markets.http.get(f"/concessions/{concession_id}", headers=markets.office)
    assert record.status_code == 200, record.text
    return dict(record.json())


async def stall_of(markets: Markets, market_id: str, number: str) -> dict[str, Any]:
    response = await markets.http.get(f"/markets/{market_id}/stalls/{number}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def of_type(events: list[CloudEvent], event_type: str) -> list[dict[str, Any]]:
    return [e.data for e in events if e.type == event_type]


async def test_a_concession_past_its_end_expires_by_itself_and_frees_its_stall(
    replicas: tuple[Markets, Markets],
) -> None:
    markets, _ = replicas
    markets.clock.fixed = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    await markets.create_market("wagner")
    record = await assign(markets, "wagner", "7", "2027-03-31", trader="anna", holder="Frutta Anna")
    assert (record["state"], record["trader"], record["end"]) == ("active", "anna", "2027-03-31")
    stall = await stall_of(markets, "wagner", "7")
    assert stall["holder"] == "Frutta Anna" and stall["status"] == "closed"

    # 23:30 in Milan on its last day (21:30 UTC, summer time): still held, however often the job runs
    markets.clock.fixed = datetime(2027, 3, 31, 21, 30, tzinfo=UTC)
    await asyncio.sleep(1.0)
    assert (await stall_of(markets, "wagner", "7"))["holder"] == "Frutta Anna"

    # 00:30 on 1 April in Milan (still 31 March in UTC): the next run expires it and frees the stall
    markets.clock.fixed = datetime(2027, 3, 31, 22, 30, tzinfo=UTC)

    async def freed() -> dict[str, Any]:
        stall = await stall_of(markets, "wagner", "7")
        assert stall["status"] == "vacant", stall
        return stall

    stall = await eventually(freed, 15, "the expired concession's stall to be vacant")
    assert stall["holder"] is None and stall["concession"] is None
    record = (await markets.http.get(f"/concessions/{record['id']}", headers=markets.office)).json()
    assert record["state"] == "expired" and record["ended_at"] is not None and record["version"] == 2

    expired = of_type(await markets.events(at_least=4), EXPIRED)
    assert len(expired) == 1
    assert expired[0] | {"at": None} == {
        "market_id": "wagner",
        "number": "7",
        "concession_id": record["id"],
        "holder": "Frutta Anna",
        "trader": "anna",
        "start": "2026-01-01",
        "end": "2027-03-31",
        "state": "expired",
        "status": "vacant",
        "actor": "system",
        "version": stall["version"],
        "at": None,
    }
    history = (await markets.http.get("/markets/wagner/stalls/7/history")).json()["items"]
    assert history[0]["to"] == "vacant" and history[0]["actor"] == "system" and "expired" in history[0]["note"]


async def test_two_replicas_racing_expire_each_concession_once(replicas: tuple[Markets, Markets]) -> None:
    first, second = replicas
    first.clock.fixed = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)
    await first.create_market("lorenteggio")
    numbers = [str(n) for n in range(1, 7)]
    for number in numbers:
        await assign(first, "lorenteggio", number, "2027-06-30")

    first.clock.fixed = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # the same clock for both replicas
    jobs = [m.app.state.runtime.component(ExpiryJob) for m in replicas]
    # both replicas' scheduled runs, and two more runs of each at the same moment
    ran = await asyncio.gather(*(job.run_once() for job in jobs * 2))
    assert sum(ran) <= len(numbers)

    async def all_vacant() -> bool:
        stalls = (await second.http.get("/markets/lorenteggio/stalls")).json()["items"]
        assert [s["status"] for s in stalls] == ["vacant"] * len(numbers)
        return True

    await eventually(all_vacant, 15, "every stall freed")
    assert await asyncio.gather(*(job.run_once() for job in jobs)) == [0, 0], "nothing left to expire"
    events = await first.events(at_least=3 * len(numbers))
    expired = of_type(events, EXPIRED)
    assert sorted(e["number"] for e in expired) == numbers, "one expiry event per concession"
    listed = (await first.http.get("/concessions?market=lorenteggio&state=expired", headers=first.office)).json()
    assert listed["total"] == len(numbers) and {c["version"] for c in listed["items"]} == {2}


async def test_renewal_transfer_and_revocation_are_explicit_with_their_events(markets: Markets) -> None:
    http, office = markets.http, markets.office
    markets.clock.fixed = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    await markets.create_market("wagner")
    record = await assign(markets, "wagner", "12", "2027-06-30", trader="anna", holder="Frutta Anna")
    concession = f"/concessions/{record['id']}"

    # only the office
    for who in (markets.operator("wagner"), markets.auth(Role.TRADER, None, "anna")):
        for path, body in (
            ("renew", {"end": "2030-06-30"}),
            ("revoke", {"reason": "x"}),
            ("transfer", {"trader": "b"}),
        ):
            assert (await http.post(f"{concession}/{path}", json=body, headers=who)).status_code == 403
        assert (await http.get(concession, headers=who)).status_code == 403
    assert (await http.post(f"{concession}/renew", json={"end": "2030-06-30"})).status_code == 401
    assert (
        await http.post("/concessions/nessuna/renew", json={"end": "2030-06-30"}, headers=office)
    ).status_code == 404

    # renewal: bad dates name the field and change nothing
    for end in ("2027-02-30", "2027-06-30", "2027-01-01", "30/06/2030"):
        refused = await http.post(f"{concession}/renew", json={"end": end}, headers=office)
        assert refused.status_code == 422, (end, refused.text)
        assert refused.json()["errors"][0]["field"] == "body.end", refused.text
    renewed = await http.post(f"{concession}/renew", json={"end": "2032-06-30"}, headers=office)
    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["end"], renewed.json()["version"], renewed.json()["state"]) == ("2032-06-30", 2, "active")
    stall = await stall_of(markets, "wagner", "12")
    assert stall["concession"] == {"id": record["id"], "start": "2026-01-01", "end": "2032-06-30"}

    # transfer to another trader and business
    moved = await http.post(
        f"{concession}/transfer", json={"trader": "Bruno", "holder": "Formaggi Bruno"}, headers=office
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["trader"], moved.json()["holder"], moved.json()["end"]) == (
        "bruno",
        "Formaggi Bruno",
        "2032-06-30",
    )
    again = await http.post(f"{concession}/transfer", json={"trader": "bruno"}, headers=office)
    assert again.status_code == 409
    assert (await stall_of(markets, "wagner", "12"))["holder"] == "Formaggi Bruno"

    # revocation needs a reason; it frees the stall; an ended concession changes no more
    no_reason = await http.post(f"{concession}/revoke", json={"reason": ""}, headers=office)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "body.reason"
    revoked = await http.post(f"{concession}/revoke", json={"reason": "canoni non pagati da sei mesi"}, headers=office)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked" and revoked.json()["reason"] == "canoni non pagati da sei mesi"
    stall = await stall_of(markets, "wagner", "12")
    assert (stall["status"], stall["holder"]) == ("vacant", None)
    for path, body in (
        ("renew", {"end": "2040-01-01"}),
        ("revoke", {"reason": "x"}),
        ("transfer", {"trader": "carla"}),
    ):
        late = await http.post(f"{concession}/{path}", json=body, headers={**office, **ENGLISH})
        assert late.status_code == 409 and late.json()["code"] == "concession-ended", late.text
        assert "no longer active" in late.json()["detail"]

    events = await markets.events(at_least=6)
    subject = [e for e in events if e.subject == "wagner/12"]
    assert [e.type for e in subject] == [
        "markets.stall.created.v1",
        "markets.stall.assigned.v1",
        "markets.concession.renewed.v1",
        "markets.concession.transferred.v1",
        "markets.concession.revoked.v1",
    ]
    assigned, renewal, transfer, revocation = (e.data for e in subject[1:])
    assert (assigned["concession_id"], assigned["trader"]) == (record["id"], "anna")
    assert (renewal["previous_end"], renewal["end"], renewal["status"]) == ("2027-06-30", "2032-06-30", "closed")
    assert (transfer["previous_trader"], transfer["trader"], transfer["previous_holder"]) == (
        "anna",
        "bruno",
        "Frutta Anna",
    )
    assert (revocation["reason"], revocation["status"], revocation["state"]) == (
        "canoni non pagati da sei mesi",
        "vacant",
        "revoked",
    )
    assert [e.data["version"] for e in subject] == [1, 2, 3, 4, 5], "the stall's versions, in order"


async def test_concessions_expiring_within_days_are_listed_for_the_office(markets: Markets) -> None:
    http, office = markets.http, markets.office
    markets.clock.fixed = datetime(2027, 1, 10, 10, 0, tzinfo=UTC)
    await markets.create_market("wagner")
    await markets.create_market("morsenchio")
    ends = {"1": "2027-01-15", "2": "2027-02-20", "3": "2028-01-01", "4": "2027-01-11"}
    ids = {n: (await assign(markets, "wagner", n, end))["id"] for n, end in ends.items()}
    ids["m1"] = (await assign(markets, "morsenchio", "1", "2027-01-12"))["id"]
    revoked = await http.post(f"/concessions/{ids['4']}/revoke", json={"reason": "rinuncia"}, headers=office)
    assert revoked.status_code == 200

    async def listed(query: str) -> list[str]:
        response = await http.get(f"/concessions?{query}", headers=office)
        assert response.status_code == 200, response.text
        return [f"{c['market_id']}/{c['number']}" for c in response.json()["items"]]

    assert await listed("expiring_within_days=7") == ["morsenchio/1", "wagner/1"], "ending first first, active only"
    assert await listed("expiring_within_days=2") == ["morsenchio/1"]
    assert await listed("expiring_within_days=0") == []
    assert await listed("expiring_within_days=45") == ["morsenchio/1", "wagner/1", "wagner/2"]
    assert await listed("market=wagner&expiring_within_days=7") == ["wagner/1"]
    assert await listed("market=wagner") == ["wagner/4", "wagner/1", "wagner/2", "wagner/3"]
    assert await listed("state=revoked") == ["wagner/4"]
    page = (await http.get("/concessions?expiring_within_days=7&limit=1&offset=1", headers=office)).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)

    for query, field in (
        ("expiring_within_days=-1", "query.expiring_within_days"),
        ("expiring_within_days=sette", "query.expiring_within_days"),
        ("state=expired&expiring_within_days=3", "query.state"),
        ("market=%7B%22%24ne%22%3A1%7D", "query.market"),
    ):
        refused = await http.get(f"/concessions?{query}", headers=office)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    assert (await http.get("/concessions?market=nessuno", headers=office)).status_code == 404
    assert (await http.get("/concessions", headers=markets.operator("wagner"))).status_code == 403
    assert (await http.get("/concessions")).status_code == 401


async def test_only_traders_apply_once_per_call_or_the_office_for_them(markets: Markets) -> None:
    http, office = markets.http, markets.office
    await markets.create_market("wagner")
    await markets.create_stall("wagner", "1")
    deadline = datetime(2099, 1, 1, tzinfo=UTC).isoformat()
    body = {"title": "Bando", "stalls": ["1"], "criteria": [{"name": "offer", "weight": 1}], "deadline": deadline}
    published = await http.post("/markets/wagner/calls", json=body, headers=office)
    assert published.status_code == 201, published.text
    applications = f"/calls/{published.json()['id']}/applications"
    form = {"holder": "Frutta Anna", "category": "food"}

    for who, code in (
        (markets.operator("wagner", "op"), "call-traders-only"),
        (markets.auth(Role.SHOPKEEPER, "bottega", "negoziante"), "call-traders-only"),
        (markets.auth(Role.TRADER, None, "anna"), "call-not-yourself"),
    ):
        refused = await http.post(applications, json={**form, "trader": "bruno"}, headers=who)
        assert refused.status_code == 403 and refused.json()["code"] == code, refused.text
    unnamed = await http.post(applications, json=form, headers=office)
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "body.trader"
    assert (await http.get(f"/calls/{published.json()['id']}")).json()["applications"] == 0, "nothing written"

    anna = markets.auth(Role.TRADER, None, "anna")
    first = await http.post(applications, json=form, headers=anna)
    assert first.status_code == 201, first.text
    assert (first.json()["applicant"], first.json()["filed_by"]) == ("anna", "anna")
    for again, headers in ((form, anna), ({**form, "trader": "anna"}, office)):
        twice = await http.post(applications, json={**again, "holder": "Altra Ditta"}, headers={**headers, **ENGLISH})
        assert twice.status_code == 409, twice.text
        assert twice.json()["application"] == first.json()["id"] and first.json()["id"] in twice.json()["detail"]
    for_bruno = await http.post(applications, json={**form, "trader": "Bruno"}, headers=office)
    assert for_bruno.status_code == 201, for_bruno.text
    assert (for_bruno.json()["applicant"], for_bruno.json()["filed_by"]) == ("bruno", "office")

    # the same trader applying twice at the same moment: one application, the other told which
    carla = markets.auth(Role.TRADER, None, "carla")
    racing = await asyncio.gather(*(http.post(applications, json=form, headers=carla) for _ in range(4)))
    assert sorted(r.status_code for r in racing) == [201, 409, 409, 409], [r.text for r in racing]
    won = next(r.json()["id"] for r in racing if r.status_code == 201)
    assert {r.json()["application"] for r in racing if r.status_code == 409} == {won}
    assert (await http.get(f"/calls/{published.json()['id']}")).json()["applications"] == 3


async def test_a_stall_assigned_before_concessions_had_records_gets_one_and_expires(markets: Markets) -> None:
    markets.clock.fixed = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    await markets.create_market("wagner")
    await assign(markets, "wagner", "3", "2027-03-31", holder="Banco Storico")
    # as such a stall is stored: its concession has no id and no record
    db = markets.app.state.runtime.mongo.db
    await db["stalls"].update_one({"_id": "wagner/3"}, {"$unset": {"concession.id": "", "concession.trader": ""}})
    await db["concessions"].delete_many({})
    before = await stall_of(markets, "wagner", "3")
    assert before["concession"]["id"] is None

    job = markets.app.state.runtime.component(ExpiryJob)
    assert await job.run_once() == 0
    stall = await stall_of(markets, "wagner", "3")
    assert stall["concession"]["id"] and stall["version"] == before["version"], "only the id is added"
    listed = (await markets.http.get("/concessions?market=wagner", headers=markets.office)).json()["items"]
    assert [(c["id"], c["holder"], c["end"], c["state"]) for c in listed] == [
        (stall["concession"]["id"], "Banco Storico", "2027-03-31", "active")
    ]
    assert await job.run_once() == 0, "recorded once"
    markets.clock.fixed = datetime(2027, 4, 1, 9, 0, tzinfo=UTC)
    assert await job.run_once() == 1
    assert (await stall_of(markets, "wagner", "3"))["status"] == "vacant"


async def test_concession_refusals_are_italian_first_and_english_when_asked(markets: Markets) -> None:
    http, office = markets.http, markets.office
    await markets.create_market("wagner")
    await assign(markets, "wagner", "3", "2030-12-31", holder="Pane Carla")
    await markets.create_stall("wagner", "4")

    async def both(method: str, url: str, json: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        italian = await http.request(method, url, json=json, headers=office)
        english = await http.request(method, url, json=json, headers={**office, **ENGLISH})
        assert italian.status_code == english.status_code and italian.json()["type"] == english.json()["type"]
        return italian.json(), english.json()

    terms = {"holder": "Banco", "category": "food", "start": "2026-01-01", "end": "2030-12-31"}
    held, held_en = await both("POST", "/markets/wagner/stalls/3/assignment", terms)
    assert (held["status"], held["detail"]) == (409, "il banco 3 è già assegnato a Pane Carla: prima va liberato")
    assert held_en["detail"] == "stall 3 is already assigned to Pane Carla: free it first"

    backwards, backwards_en = await both("POST", "/markets/wagner/stalls/4/assignment", {**terms, "end": "2025-12-31"})
    assert backwards["errors"] == [{"field": "body.end", "message": "la fine deve venire dopo l'inizio (start)"}]
    assert backwards_en["errors"] == [{"field": "body.end", "message": "Value error, end must be after start"}]

    unknown, unknown_en = await both("GET", "/concessions/nessuna")
    assert (unknown["status"], unknown["title"], unknown["detail"]) == (
        404,
        "Non trovato",
        "non esiste la concessione 'nessuna'",
    )
    assert (unknown_en["title"], unknown_en["detail"]) == ("Not found", "no concession 'nessuna'")

    freed, freed_en = await both("DELETE", "/markets/wagner/stalls/4/assignment")
    assert freed["detail"] == "il banco 4 non ha un titolare da cui liberarlo"
    assert freed_en["detail"] == "stall 4 has no holder to free"
