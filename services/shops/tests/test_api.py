"""The shops API on the real database and broker: roles and scopes, lists, versions, workflows, events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from shops.nearest.geoindex import haversine_m

from shared.identity import Role

pytestmark = pytest.mark.integration

ISOLA = {"lon": 9.1903, "lat": 45.4899}


def shop_body(name: str, kind: str = "kiosk", **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "trade": "Edicola",
        "address": "Piazzale Segrino",
        "cap": "20159",
        "municipio": 9,
        "nil": "ISOLA",
        "id_nil": 11,
        "location": ISOLA,
        **extra,
    }


def problem_fields(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [e["field"] for e in response.json().get("errors", [])]


async def test_registry_roles_lists_and_versions(service: Any) -> None:
    client, office = service.client, service.office
    body = {"id": "ed-isola", **shop_body("Edicola Segrino")}
    assert (await client.post("/shops", json=body)).status_code == 401
    assert (await client.post("/shops", json=body, headers=service.shopkeeper("ed-isola"))).status_code == 403
    created = await client.post("/shops", json=body, headers=office)
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    assert created.json()["id"] == "ed-isola" and created.json()["version"] == 1
    assert (await client.post("/shops", json=body, headers=office)).status_code == 409
    generated = await client.post("/shops", json=shop_body("Caffè Brera", kind="shop", nil="BRERA"), headers=office)
    assert generated.status_code == 201 and generated.json()["id"].startswith("caffe-brera-")
    historic = shop_body("Drogheria", kind="historic", year_founded=1936, status="closed", id_nil=2, municipio=1)
    assert (await client.put("/shops/bs-1", json=historic, headers=office)).status_code == 201
    assert (await client.put("/shops/bs-1", json=historic, headers=office)).status_code == 204

    async def total(**params: Any) -> int:
        response = await client.get("/shops", params=params)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert await total() == 3 and await total(kind="kiosk") == 1 and await total(status="closed") == 1
    assert await total(nil="isola") == 2 and await total(nil="11") == 2 and await total(municipio=1) == 1
    assert await total(q="segrino") == 1 and await total(q="drog") == 1 and await total(q=".*") == 0
    page = (await client.get("/shops", params={"limit": 2, "offset": 2})).json()
    assert (len(page["items"]), page["total"], page["limit"], page["offset"]) == (1, 3, 2, 2)
    geo = await client.get("/shops", params={"kind": "kiosk"}, headers={"Accept": "application/geo+json"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    feature = geo.json()["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [ISOLA["lon"], ISOLA["lat"]]}
    assert "location" not in feature["properties"] and feature["properties"]["id"] == "ed-isola"
    assert (await client.get("/shops?format=geojson")).json()["type"] == "FeatureCollection"

    assert problem_fields(await client.get("/shops", params={"limit": 0})) == ["query.limit"]
    assert problem_fields(await client.get("/shops", params={"offset": 2**63})) == ["query.offset"]
    assert problem_fields(await client.get("/shops", params={"kind": "bakery"})) == ["query.kind"]
    injected = await client.post("/shops", json={**body, "id": "x1", "name": {"$gt": ""}}, headers=office)
    assert injected.status_code == 422 and problem_fields(injected) == ["body.name"]
    assert await total(nil="9" * 40) == 0, "a long number is a name, never an oversized integer"
    assert problem_fields(await client.get("/shops", params={"q": "a\x00b"})) == ["query.q"]
    for nulled in ("name", "trade", "address", "location"):
        response = await client.patch("/shops/ed-isola", json={nulled: None}, headers=office)
        assert problem_fields(response) == [f"body.{nulled}"]
    assert (await client.get("/shops/no-such-shop")).status_code == 404
    assert (await client.get("/shops/$where")).status_code == 422

    patch = {"name": "Edicola Segrino 2.0"}
    assert (
        await client.patch("/shops/ed-isola", json=patch, headers=service.shopkeeper("ed-isola"))
    ).status_code == 403
    stale = await client.patch("/shops/ed-isola", json=patch, headers={**office, "If-Match": '"7"'})
    assert stale.status_code == 412
    patched = await client.patch("/shops/ed-isola", json=patch, headers={**office, "If-Match": '"1"'})
    assert patched.status_code == 200 and patched.json()["version"] == 2 and patched.headers["etag"] == '"2"'
    fetched = await client.get("/shops/ed-isola")
    assert fetched.json()["name"] == "Edicola Segrino 2.0" and fetched.headers["etag"] == '"2"'


async def test_status_and_recognition_workflow(service: Any) -> None:
    client, office = service.client, service.office
    await client.put("/shops/latteria", json=shop_body("Latteria", kind="shop", year_founded=1970), headers=office)
    await client.put("/shops/other", json=shop_body("Altro negozio", kind="shop"), headers=office)
    keeper = service.shopkeeper("latteria")
    closing = {"status": "closed", "note": "ferie lunghe"}
    assert (await client.put("/shops/latteria/status", json=closing)).status_code == 401
    assert (await client.put("/shops/other/status", json=closing, headers=keeper)).status_code == 403
    operator = service.auth(Role.MARKET_OPERATOR, "latteria")
    assert (await client.put("/shops/latteria/status", json=closing, headers=operator)).status_code == 403
    future = await client.put("/shops/latteria/status", json={**closing, "at": "2999-01-01T00:00:00Z"}, headers=keeper)
    assert future.status_code == 422 and problem_fields(future) == ["body.at"]
    year_one = await client.put(
        "/shops/latteria/status", json={**closing, "at": "0001-01-01T00:00:00+05:00"}, headers=keeper
    )
    assert problem_fields(year_one) == ["body.at"]
    closed = await client.put("/shops/latteria/status", json=closing, headers=keeper)
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["status_note"]
    reopened = await client.put("/shops/latteria/status", json={"status": "active"}, headers=office)
    assert reopened.json()["status"] == "active" and reopened.json()["version"] == 3

    application = {
        "founding_year": 1975,
        "trade": "Latteria",
        "continuity": "Stessa attività e stessa famiglia dal 1975",
        "documents": [{"title": "Licenza 1975", "kind": "licenza", "reference": "PG 1234/1975"}],
    }
    assert (
        await client.post("/shops/latteria/recognition", json=application, headers=service.shopkeeper("other"))
    ).status_code == 403
    uncited = {**application, "documents": [{"title": "Licenza", "kind": "licenza"}]}
    nothing_cited = await client.post("/shops/latteria/recognition", json=uncited, headers=keeper)
    assert nothing_cited.status_code == 422 and problem_fields(nothing_cited) == ["body.documents.0"]
    assert "riferimento" in nothing_cited.json()["detail"]
    for year in (3020, datetime.now(UTC).year + 2):
        for language, words in (
            ("it", f"L'anno di fondazione non può essere nel futuro ({year})"),
            ("en", f"The founding year cannot be in the future ({year})"),
        ):
            future_year = await client.post(
                "/shops/latteria/recognition",
                json={**application, "founding_year": year},
                headers={**keeper, "Accept-Language": language},
            )
            assert future_year.status_code == 422 and problem_fields(future_year) == ["body.founding_year"]
            assert future_year.json()["detail"] == words
    applied = await client.post("/shops/latteria/recognition", json=application, headers=keeper)
    assert applied.status_code == 201 and applied.json()["state"] == "pending"
    assert (await client.post("/shops/latteria/recognition", json=application, headers=keeper)).status_code == 409
    review = await client.get("/shops/latteria/recognition", headers=office)
    assert review.json()["application"]["documents"][0]["reference"] == "PG 1234/1975"
    pending = (await client.get("/shops", params={"recognition": "pending"})).json()
    assert [s["id"] for s in pending["items"]] == ["latteria"] and pending["items"][0]["recognition_state"] == "pending"
    decide = "/shops/latteria/recognition/decision"
    assert (await client.post(decide, json={"decision": "approve"}, headers=keeper)).status_code == 403
    assert problem_fields(await client.post(decide, json={"decision": "reject"}, headers=office)) == ["body.reason"]
    approved = await client.post(decide, json={"decision": "approve"}, headers=office)
    assert approved.status_code == 200, approved.text
    shop = approved.json()
    assert shop["kind"] == "historic" and shop["year_founded"] == 1975 and shop["historic_recognised_at"]
    assert (await client.get("/shops", params={"kind": "historic"})).json()["total"] == 1

    young = {**application, "founding_year": 2001, "continuity": "Dal 2001"}
    assert (await client.post("/shops/other/recognition", json=young, headers=office)).status_code == 201
    refused = await client.post(
        "/shops/other/recognition/decision", json={"decision": "approve"}, headers={**office, "Accept-Language": "en"}
    )
    assert refused.status_code == 409 and "founded in 2001" in refused.json()["detail"]
    rejected = await client.post(
        "/shops/other/recognition/decision", json={"decision": "reject", "reason": "Meno di 50 anni"}, headers=office
    )
    assert rejected.json()["recognition_state"] == "rejected" and rejected.json()["kind"] == "shop"

    expected = {
        ("latteria", "shops.shop.registered.v1"),
        ("other", "shops.shop.registered.v1"),
        ("latteria", "shops.shop.status_changed.v1"),
        ("latteria", "shops.historic.recognised.v1"),
    }
    events = await service.published(lambda seen: len([e for e in seen if e.subject == "latteria"]) >= 4)
    assert expected <= {(e.subject, e.type) for e in events}
    changes = [e.data for e in events if e.type == "shops.shop.status_changed.v1"]
    assert [(c["from"], c["to"], c["actor"], c["version"]) for c in changes] == [
        ("active", "closed", "keeper-latteria", 2),
        ("closed", "active", "office", 3),
    ]
    recognised = next(e.data for e in events if e.type == "shops.historic.recognised.v1")
    assert recognised["year_founded"] == 1975 and recognised["actor"] == "office" and recognised["version"] == 5


async def test_services_and_the_nearest_open_point(service: Any) -> None:
    client, office = service.client, service.office
    await client.put("/shops/ed-isola", json=shop_body("Edicola Segrino"), headers=office)
    far = {**shop_body("Edicola Lontana"), "location": {"lon": 9.2100, "lat": 45.4899}}
    await client.put("/shops/ed-far", json=far, headers=office)
    keeper = service.shopkeeper("ed-isola")
    catalogue = (await client.get("/services/catalogue")).json()
    assert {"ritiro_pacchi", "certificati_anagrafici", "bike_sharing_info"} <= {i["code"] for i in catalogue["items"]}
    assert all(i["label_it"] and i["label_en"] for i in catalogue["items"])

    parcels = {"service": "ritiro_pacchi", "hours": [{"day": 0, "opens": "09:00", "closes": "13:00"}], "note": ""}
    assert (await client.post("/shops/ed-isola/services", json=parcels)).status_code == 401
    other_keeper = service.shopkeeper("ed-far")
    assert (await client.post("/shops/ed-isola/services", json=parcels, headers=other_keeper)).status_code == 403
    bad_hours = {
        **parcels,
        "hours": [{"day": 0, "opens": "09:00", "closes": "13:00"}, {"day": 0, "opens": "12:00", "closes": "14:00"}],
    }
    assert problem_fields(await client.post("/shops/ed-isola/services", json=bad_hours, headers=keeper)) == [
        "body.hours"
    ]
    bad_day = {**parcels, "hours": [{"day": 7, "opens": "09:00", "closes": "13:00"}]}
    assert problem_fields(await client.post("/shops/ed-isola/services", json=bad_day, headers=keeper)) == [
        "body.hours.0.day"
    ]
    unknown = {**parcels, "service": "massaggi"}
    assert problem_fields(await client.post("/shops/ed-isola/services", json=unknown, headers=keeper)) == [
        "body.service"
    ]
    added = await client.post("/shops/ed-isola/services", json=parcels, headers=keeper)
    assert added.status_code == 201 and added.json()["id"].startswith("sv-")
    service_id = added.json()["id"]
    assert (await client.post("/shops/ed-isola/services", json=parcels, headers=keeper)).status_code == 409
    night = {"service": "ritiro_pacchi", "hours": [{"day": 0, "opens": "20:00", "closes": "02:00"}], "note": "notte"}
    assert (await client.post("/shops/ed-far/services", json=night, headers=office)).status_code == 201
    listed = (await client.get("/shops/ed-isola/services")).json()
    assert listed["total"] == 1 and listed["items"][0]["hours"] == parcels["hours"]

    here = {"service": "ritiro_pacchi", "lon": 9.1903, "lat": 45.4809}

    async def nearest(**params: Any) -> list[dict[str, Any]]:
        response = await client.get("/services/nearest", params={**here, **params})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    monday_morning = await nearest(open_at="2026-07-06T10:00")
    assert [i["shop_id"] for i in monday_morning] == ["ed-isola"]
    found = monday_morning[0]
    expected_m = haversine_m(here["lon"], here["lat"], ISOLA["lon"], ISOLA["lat"])
    assert abs(found["distance_m"] - expected_m) < 0.1 and 995 < found["distance_m"] < 1005
    assert found["open_now"] and found["hours_today"] == [{"opens": "09:00", "closes": "13:00"}]
    assert found["service_id"] == service_id and found["name"] == "Edicola Segrino" and found["kind"] == "kiosk"
    assert [i["shop_id"] for i in await nearest(open_at="2026-07-06T08:00:00Z")] == ["ed-isola"], "10:00 in Milan"
    assert await nearest(open_at="2026-07-06T14:00") == []
    assert [i["shop_id"] for i in await nearest(open_at="2026-07-07T01:30")] == ["ed-far"], "Monday night"
    both = await nearest(open_at="2026-07-06T14:00", open_only="false")
    assert [(i["shop_id"], i["open_now"]) for i in both] == [("ed-isola", False), ("ed-far", False)]
    assert both[0]["distance_m"] < both[1]["distance_m"]
    assert len(await nearest(open_at="2026-07-06T14:00", open_only="false", limit=1)) == 1
    response = await client.get("/services/nearest", params={**here, "service": "massaggi"})
    assert problem_fields(response) == ["query.service"]
    assert problem_fields(await client.get("/services/nearest", params={**here, "lat": 91})) == ["query.lat"]
    for when in ("lunedì", "1783324800"):  # a bare number is not read as seconds since 1970
        assert problem_fields(await client.get("/services/nearest", params={**here, "open_at": when})) == [
            "query.open_at"
        ]
    assert (await client.get("/shops/nowhere/services")).status_code == 404

    moved = await client.patch("/shops/ed-far", json={"location": {"lon": 9.1903, "lat": 45.4810}}, headers=office)
    assert moved.status_code == 200
    nearby = await nearest(open_at="2026-07-06T14:00", open_only="false")
    assert [i["shop_id"] for i in nearby] == ["ed-far", "ed-isola"] and nearby[0]["distance_m"] < 15

    await client.put("/shops/ed-isola/status", json={"status": "closed"}, headers=keeper)
    assert await nearest(open_at="2026-07-06T10:00") == [], "a closed shop offers nothing"
    await client.put("/shops/ed-isola/status", json={"status": "active"}, headers=keeper)
    assert len(await nearest(open_at="2026-07-06T10:00")) == 1
    delete = f"/shops/ed-isola/services/{service_id}"
    assert (await client.delete(delete, headers=other_keeper)).status_code == 403
    assert (await client.delete(delete, headers=keeper)).status_code == 204
    assert (await client.delete(delete, headers=keeper)).status_code == 404
    assert await nearest(open_at="2026-07-06T10:00") == []

    events = await service.published(lambda seen: any(e.type == "shops.service.removed.v1" for e in seen))
    registered = [e for e in events if e.type == "shops.service.registered.v1"]
    by_shop = {e.subject: e.data for e in registered}
    assert by_shop["ed-isola"]["weekly_minutes"] == 240 and by_shop["ed-isola"]["evening_minutes"] == 0
    assert by_shop["ed-far"]["evening_minutes"] == 240 and by_shop["ed-far"]["weekend_minutes"] == 0
    removed = next(e for e in events if e.type == "shops.service.removed.v1")
    assert removed.subject == "ed-isola" and removed.data["service_id"] == service_id
    assert removed.data["service"] == "ritiro_pacchi" and removed.data["actor"] == "keeper-ed-isola"


async def test_if_match_follows_rfc_9110(service: Any) -> None:
    client, office = service.client, service.office
    await client.put("/shops/ed-etag", json=shop_body("Edicola Etag"), headers=office)

    async def rename(if_match: str, name: str) -> int:
        response = await client.patch("/shops/ed-etag", json={"name": name}, headers={**office, "If-Match": if_match})
        return response.status_code

    assert await rename('W/"1"', "weak") == 412, "a weak tag never matches (strong comparison)"
    assert await rename('"1"x', "garbage") == 412
    assert await rename('"7", "1"', "listed") == 200, "one strong tag of a list names the version"
    assert await rename("*", "any") == 200
    stale = await client.put("/shops/ed-etag/status", json={"status": "closed"}, headers={**office, "If-Match": '"2"'})
    assert stale.status_code == 412 and stale.headers["content-type"].startswith("application/problem+json")
    shop = (await client.get("/shops/ed-etag")).json()
    assert (shop["name"], shop["status"], shop["version"]) == ("any", "active", 3)


async def test_a_shop_has_a_category_from_its_trade_unless_the_office_sets_one(service: Any) -> None:
    client, office = service.client, service.office
    listed = await client.get("/categories", headers={"Accept-Language": "en"})
    assert listed.status_code == 200 and listed.headers["content-language"] == "en"
    codes = {item["code"]: item for item in listed.json()["items"]}
    assert (
        codes["food_service"]["label"] == "Food service" and codes["food_service"]["label_it"] == "Bar e ristorazione"
    )
    assert (await client.get("/categories")).json()["items"][0]["label"] == "Alimentari", "Italian by default"

    body = {**shop_body("Forno Isola", kind="shop"), "trade": "Panificio Pasticceria"}
    created = (await client.put("/shops/forno", json=body, headers=office)).json()
    assert (created["category"], created["category_by_office"]) == ("food", False)
    retraded = await client.patch("/shops/forno", json={"trade": "Bar Tabacchi"}, headers=office)
    assert retraded.json()["category"] == "food_service", "derived again from the new trade"
    corrected = await client.patch("/shops/forno", json={"category": "culture"}, headers=office)
    assert (corrected.json()["category"], corrected.json()["category_by_office"]) == ("culture", True)
    kept = await client.patch("/shops/forno", json={"trade": "Libreria caffè"}, headers=office)
    assert kept.json()["category"] == "culture", "the office's choice stays when the trade changes"
    reset = await client.patch("/shops/forno", json={"category": None}, headers=office)
    assert (reset.json()["category"], reset.json()["category_by_office"]) == ("culture", False)  # "Libreria" first
    refused = await client.patch("/shops/forno", json={"category": "bakery"}, headers=office)
    assert problem_fields(refused) == ["body.category"]
    kiosk = (await client.put("/shops/chiosco", json={**shop_body("Chiosco"), "trade": ""}, headers=office)).json()
    assert kiosk["category"] == "newsstand"

    published = await service.published(lambda found: sum(e.subject == "forno" for e in found) >= 5)
    assert [e.data["category"] for e in published if e.subject == "forno"] == [
        "food",
        "food_service",
        "culture",
        "culture",
        "culture",
    ]
