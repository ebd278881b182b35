"""Editing a service's weekly hours with If-Match, on the real database and broker."""

from __future__ import annotations

from typing import Any

import pytest

from shared.identity import Role

pytestmark = pytest.mark.integration

HERE = {"lon": 9.1903, "lat": 45.4899}
MORNINGS = [{"day": d, "opens": "08:00", "closes": "12:00"} for d in range(7)]
# Monday: two ranges and an evening past midnight; Friday night into Saturday
SPLIT = [
    {"day": 0, "opens": "22:00", "closes": "02:00"},
    {"day": 0, "opens": "09:00", "closes": "12:30"},
    {"day": 0, "opens": "15:00", "closes": "19:00"},
    {"day": 4, "opens": "20:00", "closes": "01:00"},
]


async def a_shop_offering(service: Any, shop_id: str) -> dict[str, Any]:
    client, office = service.client, service.office
    shop = {"id": shop_id, "kind": "kiosk", "name": f"Edicola {shop_id}", "location": HERE}
    assert (await client.post("/shops", json=shop, headers=office)).status_code == 201
    added = await client.post(
        f"/shops/{shop_id}/services", json={"service": "ritiro_pacchi", "hours": MORNINGS}, headers=office
    )
    assert added.status_code == 201 and added.headers["etag"] == '"1"', added.text
    offer: dict[str, Any] = added.json()
    assert offer["version"] == 1 and offer["updated_at"] is None
    return offer


async def open_shops(service: Any, at: str) -> list[str]:
    params = {"service": "ritiro_pacchi", **HERE, "open_at": at}
    found = await service.client.get("/services/nearest", params=params)
    assert found.status_code == 200, found.text
    return [item["shop_id"] for item in found.json()["items"]]


async def test_hours_change_with_if_match_and_the_nearest_search_follows(service: Any) -> None:
    client = service.client
    offer = await a_shop_offering(service, "ed-orari")
    path = f"/shops/ed-orari/services/{offer['id']}"
    keeper = service.shopkeeper("ed-orari")
    assert await open_shops(service, "2026-07-06T10:00") == ["ed-orari"]
    assert await open_shops(service, "2026-07-06T23:00") == []

    changed = await client.put(
        path, json={"hours": SPLIT, "note": "orario estivo"}, headers={**keeper, "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    assert body["version"] == 2 and body["note"] == "orario estivo" and body["updated_at"] is not None
    assert [(h["day"], h["opens"], h["closes"]) for h in body["hours"]] == [
        (0, "09:00", "12:30"),
        (0, "15:00", "19:00"),
        (0, "22:00", "02:00"),
        (4, "20:00", "01:00"),
    ]
    listed = (await client.get("/shops/ed-orari/services")).json()["items"]
    assert listed[0]["version"] == 2 and len(listed[0]["hours"]) == 4

    # 2026-07-06 is a Monday
    assert await open_shops(service, "2026-07-06T08:30") == []
    assert await open_shops(service, "2026-07-06T12:00") == ["ed-orari"]
    assert await open_shops(service, "2026-07-06T13:00") == []
    assert await open_shops(service, "2026-07-06T16:00") == ["ed-orari"]
    assert await open_shops(service, "2026-07-07T01:30") == ["ed-orari"], "Monday's evening runs past midnight"
    assert await open_shops(service, "2026-07-07T02:00") == []
    assert await open_shops(service, "2026-07-11T00:30") == ["ed-orari"], "Friday night into Saturday"

    stale = await client.put(path, json={"hours": MORNINGS}, headers={**keeper, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["content-type"].startswith("application/problem+json")
    weak = await client.put(path, json={"hours": MORNINGS}, headers={**keeper, "If-Match": 'W/"2"'})
    assert weak.status_code == 412
    again = await client.put(
        path, json={"hours": SPLIT, "note": "orario estivo"}, headers={**keeper, "If-Match": '"2"'}
    )
    assert again.status_code == 200 and again.json()["version"] == 2, "the same hours again change nothing"
    listed = (await client.get("/shops/ed-orari/services")).json()["items"]
    assert listed[0]["version"] == 2 and listed[0]["note"] == "orario estivo", "a refused write changed nothing"

    events = await service.published(lambda seen: any(e.type == "shops.service.updated.v1" for e in seen))
    updates = [e for e in events if e.type == "shops.service.updated.v1"]
    assert len(updates) == 1, "one event for the one real change"
    data = updates[0].data
    assert data["service_id"] == offer["id"] and data["version"] == 2 and data["actor"] == "keeper-ed-orari"
    # Monday 3 h 30 + 4 h + 4 h, Friday 5 h; evening after 19:00: 2 h Monday, 4 h Friday; Saturday 1 h
    assert (data["weekly_minutes"], data["evening_minutes"], data["weekend_minutes"]) == (990, 360, 60)


async def test_overlapping_hours_and_wrong_callers_are_refused_and_change_nothing(service: Any) -> None:
    client = service.client
    offer = await a_shop_offering(service, "ed-sovrapposto")
    path = f"/shops/ed-sovrapposto/services/{offer['id']}"
    keeper = service.shopkeeper("ed-sovrapposto")
    overlapping = [{"day": 2, "opens": "09:00", "closes": "13:00"}, {"day": 2, "opens": "12:00", "closes": "18:00"}]
    refused = await client.put(path, json={"hours": overlapping}, headers={**keeper, "Accept-Language": "en"})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["body.hours"]
    assert "overlaps" in refused.json()["detail"]
    past_midnight = [{"day": 2, "opens": "20:00", "closes": "03:00"}, {"day": 3, "opens": "02:00", "closes": "05:00"}]
    assert (await client.put(path, json={"hours": past_midnight}, headers=keeper)).status_code == 422
    assert (await client.put(path, json={"hours": []}, headers=keeper)).status_code == 422
    same = [{"day": 4, "opens": "09:00", "closes": "09:00"}]
    for language, words in (("it", "Venerdì 09:00-09:00: apre e chiude alla stessa ora"), ("en", "Friday 09:00-09:00")):
        refused = await client.put(path, json={"hours": same}, headers={**keeper, "Accept-Language": language})
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["body.hours"]
        assert refused.json()["detail"].startswith(words), refused.json()["detail"]

    assert (await client.put(path, json={"hours": MORNINGS})).status_code == 401
    elsewhere = await client.put(path, json={"hours": MORNINGS}, headers=service.shopkeeper("ed-altro"))
    assert elsewhere.status_code == 403
    operator = await client.put(path, json={"hours": MORNINGS}, headers=service.auth(Role.MARKET_OPERATOR, "wagner"))
    assert operator.status_code == 403
    missing = await client.put("/shops/ed-sovrapposto/services/sv-nessuno", json={"hours": MORNINGS}, headers=keeper)
    assert missing.status_code == 404
    extra = await client.put(path, json={"hours": MORNINGS, "service": "info_turistiche"}, headers=keeper)
    assert extra.status_code == 422 and [e["field"] for e in extra.json()["errors"]] == ["body.service"]

    listed = (await client.get("/shops/ed-sovrapposto/services")).json()["items"]
    assert listed[0]["version"] == 1 and listed[0]["hours"] == offer["hours"]
    by_office = await client.put(path, json={"hours": SPLIT}, headers={**service.office, "If-Match": '"1"'})
    assert by_office.status_code == 200 and by_office.json()["version"] == 2


async def test_an_hours_refusal_is_said_in_italian_unless_english_is_asked_for(service: Any) -> None:
    client = service.client
    shop = {"id": "ed-lingua", "kind": "kiosk", "name": "Edicola lingua", "location": HERE}
    assert (await client.post("/shops", json=shop, headers=service.office)).status_code == 201
    keeper = service.shopkeeper("ed-lingua")
    overlapping = {
        "service": "ritiro_pacchi",
        "hours": [{"day": 0, "opens": "09:00", "closes": "13:00"}, {"day": 0, "opens": "12:00", "closes": "15:00"}],
    }

    italian = await client.post("/shops/ed-lingua/services", json=overlapping, headers=keeper)
    assert italian.status_code == 422 and italian.headers["content-language"] == "it"
    assert italian.json()["detail"] == "Lunedì 09:00-13:00 si sovrappone a lunedì 12:00-15:00"
    assert italian.json()["errors"] == [{"field": "body.hours", "message": italian.json()["detail"]}]

    asked = {**keeper, "Accept-Language": "en-GB,en;q=0.9,it;q=0.5"}
    english = await client.post("/shops/ed-lingua/services", json=overlapping, headers=asked)
    assert english.status_code == 422 and english.headers["content-language"] == "en"
    assert english.json()["detail"] == "Monday 09:00-13:00 overlaps Monday 12:00-15:00"
    assert english.json()["errors"] == [{"field": "body.hours", "message": english.json()["detail"]}]
    assert "accept-language" in english.headers["vary"].lower()

    assert (await client.get("/shops/ed-lingua/services")).json()["total"] == 0, "nothing half-written"
