"""The service on the real broker and database: contract, projections, restart, perimeter changes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from districts.main import create_app
from districts.projection.refresher import Refresher

from devkit.testing import running_app
from shared.events import CloudEvent, utcnow

from .conftest import Live

pytestmark = pytest.mark.integration

CENTRO = (9.19, 45.465)
OVEST = (9.12, 45.45)


async def test_contract_of_writes(
    settings: Any, office: dict[str, str], shopkeeper: dict[str, str], square: Any
) -> None:
    async for client in running_app(create_app(settings)):
        body = {"code": "centro", "name": "Centro", "perimeter": square(*CENTRO)}
        assert (await client.post("/districts", json=body)).status_code == 401
        assert (await client.post("/districts", json=body, headers=shopkeeper)).status_code == 403
        created = await client.post("/districts", json=body, headers=office)
        assert created.status_code == 201, created.text
        assert created.headers["etag"] == '"1"' and created.json()["kpis"]["shops_active"] == 0
        assert (await client.post("/districts", json=body, headers=office)).status_code == 409

        open_ring = square(*CENTRO)
        open_ring["coordinates"][0].pop()
        bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        far = {"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 0], [0, 0]]]}
        cases = [
            ({**body, "code": "x", "perimeter": open_ring}, "body.perimeter.coordinates.0"),
            ({**body, "code": "x", "perimeter": bowtie}, "body.perimeter.coordinates"),
            ({**body, "code": "x", "perimeter": far}, "body.perimeter.coordinates.0.1"),
            ({**body, "code": "x", "perimeter": {"type": "Point", "coordinates": [9, 45]}}, "body.perimeter"),
            ({**body, "code": {"$gt": ""}}, "body.code"),
            ({**body, "code": "rebuild"}, "body.code"),
            ({**body, "code": "x", "perimeter": {**square(*CENTRO), "$where": "1"}}, "body.perimeter"),
        ]
        for bad, field in cases:
            response = await client.post("/districts", json=bad, headers=office)
            assert response.status_code == 422, (field, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            fields = [e["field"] for e in response.json()["errors"]]
            assert any(f.startswith(field) for f in fields), (field, fields)

        update = {"name": "Centro", "perimeter": square(*OVEST)}
        assert (await client.put("/districts/centro", json=update, headers=shopkeeper)).status_code == 403
        stale = await client.put("/districts/centro", json=update, headers={**office, "If-Match": '"7"'})
        assert stale.status_code == 412
        assert (await client.put("/districts/nowhere", json=update, headers=office)).status_code == 404

        limits = {"occupancy_below": 0.6, "occupancy_recovered_at": 0.5}
        flapping = await client.put("/districts/centro/thresholds", json=limits, headers=office)
        assert flapping.status_code == 422
        assert flapping.json()["errors"][0]["field"] == "body.occupancy_recovered_at"
        # the raise level named as the office's form labels it, never by its field name
        said = flapping.json()["errors"][0]["message"]
        assert said.startswith("deve essere almeno pari alla soglia «Allerta se l'occupazione è sotto» (0,6)"), said
        assert "occupancy_below" not in said
        english = await client.put(
            "/districts/centro/thresholds", json=limits, headers={**office, "Accept-Language": "en"}
        )
        assert "must be at least “Alert when occupancy is below” (0.6)" in english.json()["errors"][0]["message"]
        # every field refused at once
        many = {"occupancy_below": 1.5, "occupancy_recovered_at": 0.2, "vitality_drop_days": 0}
        refused = await client.put("/districts/centro/thresholds", json=many, headers=office)
        assert [e["field"] for e in refused.json()["errors"]] == ["body.occupancy_below", "body.vitality_drop_days"]
        assert (await client.put("/districts/centro/thresholds", json={}, headers=shopkeeper)).status_code == 403
        assert (await client.get("/districts/centro/thresholds")).json()["occupancy_below"] == 0.6

        nil = {"id": 1, "name": "Duomo", "population": 16706, "area_km2": 2.34, "perimeter": square(*CENTRO)}
        assert (await client.post("/nils", json=nil)).status_code == 401
        assert (await client.post("/nils", json=nil, headers=office)).status_code == 201
        assert (await client.post("/nils", json=nil, headers=office)).status_code == 200
        assert (await client.post("/nils", json={**nil, "population": "many"}, headers=office)).status_code == 422
        assert (await client.post("/districts/rebuild")).status_code == 401
        assert (await client.get("/districts/centro/timeseries?metric=nope")).status_code == 422
        day = {"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00"}
        assert (await client.get("/districts/centro/timeseries", params=day)).json()["points"] == []
        backwards = await client.get("/districts/centro/timeseries", params={"from": day["to"], "to": day["from"]})
        assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "query.from"
        assert (await client.get("/districts?limit=501")).status_code == 422
        assert (await client.get("/districts/unknown")).status_code == 404


async def test_projections_survive_duplicates_reordering_and_restart(
    live: Live, district_kpis: Any, topic_reader: Any, square: Any
) -> None:
    markets, shops = live.settings.markets_topic, live.settings.shops_topic
    closure = live.events.shop_status("s1", "historic", "active", "closed", 2)
    stall_reopened = live.events.stall_status("m1", 3, "vacant", "open", 2)
    broken = CloudEvent(source="/shops", type="shops.shop.status_changed.v1", subject="s9", data={"shop_id": "s9"})
    async for client in running_app(create_app(live.settings)):
        for code, centre in (("centro", CENTRO), ("ovest", OVEST)):
            await live.district(client, code, centre)
        await live.nil(client, 1, "Duomo", CENTRO, population=20000, area_km2=4.9)
        await live.send(
            markets,
            [
                stall_reopened,
                stall_reopened,
                live.events.market("m1", 1, *CENTRO),
                *(live.events.stall("m1", n, s) for n, s in ((1, "open"), (2, "open"), (3, "vacant"), (4, "closed"))),
            ],
        )
        await live.send(
            shops,
            [
                closure,
                live.events.shop("s1", 1, "historic", "active", *CENTRO),
                CloudEvent.model_validate({**closure.model_dump(), "id": "redelivered-with-new-id"}),
                live.events.shop("s2", 1, "kiosk", "active", *CENTRO, year_founded=closure.time.year),
                live.events.shop("s3", 1, "shop", "active", *OVEST, year_founded=closure.time.year),
                live.events.service("s2", "svc2", "tickets", removed=True),
                live.events.service("s2", "svc1", "parcel_pickup"),
                live.events.service("s2", "svc2", "tickets"),
                CloudEvent(source="/shops", type="shops.something_new.v1", subject="s2", data={}),
                broken,
            ],
        )
        expected = {
            "shops_active": 1,
            "historic_active": 0,
            "kiosks_active": 1,
            "services_by_type": {"parcel_pickup": 1},
            "stalls_total": 4,
            "stalls_open": 3,
            "stalls_vacant": 0,
            "stall_occupancy": 1.0,
            "openings_30d": 1,
            "closures_30d": 1,
            "historic_closures_30d": 1,
            "population": 20000,
        }

        async def centro_is(values: dict[str, Any]) -> bool:
            found = await district_kpis(client, "centro")
            assert {k: found[k] for k in values} == values
            return True

        async def ovest_and_nil_are_right() -> bool:
            ovest = await district_kpis(client, "ovest")
            assert ovest["shops_active"] == 1 and ovest["openings_30d"] == 1 and ovest["stall_occupancy"] is None
            nil_view = (await client.get("/nils/1")).json()
            assert nil_view["kpis"]["shops_active"] == 1 and nil_view["kpis"]["stalls_total"] == 4
            return True

        await live.wait(lambda: centro_is(expected), what="centro KPIs")
        await live.wait(ovest_and_nil_are_right, what="ovest and NIL 1 KPIs")
        district = (await client.get("/districts/centro")).json()
        assert district["vitality"]["index"] is not None
        assert {c["name"] for c in district["vitality"]["components"]} >= {"net_openings", "service_coverage"}

    restarted = create_app(live.settings)
    async for client in running_app(restarted):
        republished = live.events.shop("s1", 1, "historic", "active", *CENTRO)
        await live.send(shops, [live.events.shop("s4", 1, "shop", "active", *CENTRO, year_founded=1990), republished])
        await live.send(markets, [live.events.stall_status("m1", 4, "closed", "vacant", 2)])
        after_restart = {**expected, "shops_active": 2, "stalls_vacant": 1, "stall_occupancy": 0.75}
        await live.wait(lambda: centro_is(after_restart), what="centro KPIs after restart")
        consumer = restarted.state.runtime.consumers[0]

        async def resumed() -> bool:
            return bool(consumer.handled == 3)

        await live.wait(resumed, what="the three new events handled")
        await asyncio.sleep(0.3)
        assert consumer.handled == 3, "a restarted consumer resumes after its committed offset"

        moved = await client.put(
            "/districts/centro",
            json={"name": "Centro", "perimeter": square(*OVEST)},
            headers={**live.office, "If-Match": '"1"'},
        )
        assert moved.status_code == 200 and moved.headers["etag"] == '"2"'
        await live.wait(lambda: centro_is({"shops_active": 1, "stalls_total": 0, "openings_30d": 1}), what="membership")

        geo = (await client.get("/districts.geojson")).json()
        assert {f["properties"]["code"] for f in geo["features"]} == {"centro", "ovest"}
        assert geo["features"][0]["geometry"]["type"] == "Polygon"
        table = (await client.get("/districts.csv")).text.splitlines()
        assert table[0].startswith("code,name,shops_active") and len(table) == 3
        series = (await client.get("/districts/centro/timeseries", params={"metric": "shops_active"})).json()
        assert [p["value"] for p in series["points"]][-1] == 1 and "from" in series

    published = await topic_reader(live.settings.districts_topic)
    updates = [e for e in published if e.type == "districts.kpis.updated.v1"]
    assert {e.subject for e in updates} == {"centro", "ovest"} and all(e.source == "/districts" for e in published)
    last = next(e for e in reversed(updates) if e.subject == "centro").data
    assert last["district"] == "centro" and last["kpis"]["shops_active"] == 1
    dead = await topic_reader(f"{shops}.dlq")
    assert [e.subject for e in dead] == ["s9"]


async def test_if_match_follows_rfc_9110_and_pages_are_bounded(live: Live, square: Any) -> None:
    async for client in running_app(create_app(live.settings)):
        await live.district(client, "centro", CENTRO)
        update = {"name": "Centro storico", "perimeter": square(*CENTRO)}

        weak = await client.put("/districts/centro", json=update, headers={**live.office, "If-Match": 'W/"1"'})
        assert weak.status_code == 412, "a weak tag never matches under the strong comparison"
        assert weak.headers["content-type"].startswith("application/problem+json")
        garbled = await client.put("/districts/centro", json=update, headers={**live.office, "If-Match": "one"})
        assert garbled.status_code == 412
        either = await client.put("/districts/centro", json=update, headers={**live.office, "If-Match": '"7", "1"'})
        assert either.status_code == 200 and either.headers["etag"] == '"2"'
        anything = await client.put("/districts/centro", json=update, headers={**live.office, "If-Match": "*"})
        assert anything.status_code == 200 and anything.headers["etag"] == '"3"'
        assert (await client.get("/districts/centro")).json()["version"] == 3

        for path in ("/districts", "/nils", "/districts/centro/alerts"):
            too_far = await client.get(path, params={"offset": 1_000_001})
            assert too_far.status_code == 422, (path, too_far.text)
            assert too_far.headers["content-type"].startswith("application/problem+json")
            assert (await client.get(path, params={"offset": 1_000_000})).status_code == 200


async def test_a_batch_shows_its_kpis_alerts_samples_and_events_without_the_refresher(
    live: Live, district_kpis: Any, topic_reader: Any
) -> None:
    """Decision 9: the projection's transaction writes what a batch moved; the refresher is stopped here
    (and every move is sampled at once, so that no sample waits for it)."""
    markets = live.settings.markets_topic
    every_move = live.settings.model_copy(update={"sample_every_s": 0})
    async for client in running_app(app := create_app(every_move)):
        await live.district(client, "centro", CENTRO)
        limits = {"occupancy_below": 0.6, "occupancy_recovered_at": 0.7}
        assert (await client.put("/districts/centro/thresholds", json=limits, headers=live.office)).status_code == 200
        await live.send(markets, [live.events.market("m1", 1, *CENTRO), live.events.stall("m1", 1, "open")])
        await live.wait(lambda: _stalls_open_is(client, district_kpis, 1), what="the first stall counted")
        await app.state.runtime.component(Refresher).stop()

        await live.send(markets, [live.events.stall("m1", n, "vacant") for n in (2, 3, 4)])
        # the first answer that shows the new stalls shows the alert they raise: both come from one commit
        found = await live.wait(lambda: _centro_when_stalls_are(client, 4), what="the batch's KPIs")
        assert found["kpis"]["stalls_vacant"] == 3 and found["kpis"]["stall_occupancy"] == 0.25
        assert [a["condition"] for a in found["open_alerts"]] == ["low_occupancy"]
        series = await client.get("/districts/centro/timeseries", params={"metric": "stalls_total"})
        assert [p["value"] for p in series.json()["points"]][-1] == 4

    published = await topic_reader(live.settings.districts_topic)
    updates = [e.data["kpis"]["stalls_total"] for e in published if e.type == "districts.kpis.updated.v1"]
    assert updates[-1] == 4
    assert any(e.type == "districts.alert.raised.v1" and e.data["condition"] == "low_occupancy" for e in published)


async def test_an_area_moving_within_the_sampling_interval_is_sampled_once_it_is_over(
    live: Live, district_kpis: Any
) -> None:
    """The series takes an area's moves at most once every ``sample_every_s``: moves that come sooner
    are not sampled, and the last of them is sampled by the refresher once the interval is over, at
    the time it was made."""
    settings = live.settings.model_copy(update={"sample_every_s": 60.0})
    markets = settings.markets_topic
    async for client in running_app(app := create_app(settings)):
        await live.district(client, "centro", CENTRO)
        await live.send(markets, [live.events.market("m1", 1, *CENTRO)])
        for n in (1, 2, 3):
            await live.send(markets, [live.events.stall("m1", n, "open")])
            await live.wait(lambda n=n: _stalls_open_is(client, district_kpis, n), what=f"{n} stalls open")
        third_move_seen = utcnow()

        async def series() -> list[dict[str, Any]]:
            found = await client.get("/districts/centro/timeseries", params={"metric": "stalls_open"})
            points: list[dict[str, Any]] = found.json()["points"]
            return points

        await asyncio.sleep(1.0)  # five idle polls of the refresher: none may sample yet
        assert [p["value"] for p in await series()] == [0], "the district's first sample only"

        refresher = app.state.runtime.component(Refresher)
        refresher.clock = lambda: utcnow() + timedelta(seconds=61)

        async def last_move_sampled() -> bool:
            return [p["value"] for p in await series()] == [0, 3]

        await live.wait(last_move_sampled, what="the last move's sample")
        at = datetime.fromisoformat((await series())[-1]["at"])
        assert at <= third_move_seen, "the sample takes the time of the move, not of the sampling"


async def _stalls_open_is(client: Any, district_kpis: Any, n: int) -> bool:
    return bool((await district_kpis(client, "centro"))["stalls_open"] == n)


async def _centro_when_stalls_are(client: Any, total: int) -> dict[str, Any] | None:
    found: dict[str, Any] = (await client.get("/districts/centro")).json()
    return found if found["kpis"]["stalls_total"] == total else None
