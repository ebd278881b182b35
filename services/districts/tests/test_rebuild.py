"""Rebuild by replay: the rebuilt generation equals the live one, and events arriving meanwhile are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from districts.main import create_app
from districts.projection.store import ProjectionStore, entities_collection
from districts.rebuild.domain import RebuildJob
from districts.rebuild.store import RebuildStore
from pymongo import AsyncMongoClient

from devkit.testing import running_app

pytestmark = pytest.mark.integration

CENTRO, OVEST = (9.19, 45.465), (9.12, 45.45)


def without_time(view: dict[str, Any]) -> dict[str, Any]:
    return {**view, "kpis": {k: v for k, v in view["kpis"].items() if k != "as_of"}}


async def entities(settings: Any, generation: int) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    try:
        keep = {"fields": 1, "versions": 1, "movements": 1, "districts": 1, "nil": 1}
        cursor = client[settings.database_name][entities_collection(generation)].find({}, keep)
        return {doc.pop("_id"): doc async for doc in cursor}
    finally:
        await client.close()


async def abandoned_job(settings: Any) -> str:
    """A rebuild whose process died: its generation is claimed, its heartbeat an hour old."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    try:
        store = ProjectionStore(client[settings.database_name])
        generation = await store.claim_generation()
        assert generation is not None and await store.claim_generation() is None
        old = datetime.now(UTC) - timedelta(hours=1)
        job = RebuildJob("dead", "running", generation, 1, "office", old, old, events_total=0)
        await RebuildStore(client[settings.database_name]).insert(job)
        return "dead"
    finally:
        await client.close()


async def test_rebuild_reproduces_the_live_projections(
    settings: Any, office: dict[str, str], events: Any, send: Any, wait: Any, square: Any
) -> None:
    settings = settings.model_copy(update={"rebuild_drop_delay_s": 60})
    history = [
        events.shop_status("s1", "historic", "active", "closed", 2),
        events.shop("s1", 1, "historic", "active", *CENTRO),
        events.shop("s2", 1, "kiosk", "active", *CENTRO, year_founded=None),
        events.shop("s3", 1, "shop", "active", *OVEST),
        events.service("s2", "o1", "ritiro_pacchi"),
        events.service("s2", "o2", "biglietti_trasporto"),
        events.service("s2", "o2", "biglietti_trasporto", removed=True),
    ]
    stalls = [events.market("m1", 1, *CENTRO), *(events.stall("m1", n, "open") for n in range(1, 6))]
    stalls += [events.stall_status("m1", 2, "open", "vacant", 2), events.stall_status("m1", 3, "open", "closed", 2)]
    async for client in running_app(create_app(settings)):
        for code, centre in (("centro", CENTRO), ("ovest", OVEST)):
            body = {"code": code, "name": code.title(), "perimeter": square(*centre)}
            assert (await client.post("/districts", json=body, headers=office)).status_code == 201
        nil = {"id": 1, "name": "Duomo", "population": 9000, "perimeter": square(*CENTRO, half=0.02)}
        assert (await client.post("/nils", json=nil, headers=office)).status_code == 201
        await send(settings.shops_topic, history + history[:3])
        await send(settings.markets_topic, stalls + stalls[-2:])

        async def settled() -> list[dict[str, Any]]:
            items = (await client.get("/districts")).json()["items"]
            centro = next(i for i in items if i["code"] == "centro")["kpis"]
            ovest = next(i for i in items if i["code"] == "ovest")["kpis"]
            assert (centro["shops_active"], centro["kiosks_active"], centro["closures_30d"]) == (1, 1, 1)
            assert (centro["stalls_total"], centro["stalls_open"], centro["stalls_vacant"]) == (5, 3, 1)
            assert (centro["services_total"], ovest["shops_active"]) == (1, 1)
            return [without_time(i) for i in items]

        live = await wait(settled, what="live projections")
        dead = await abandoned_job(settings)
        assert (await client.get(f"/districts/rebuild/{dead}", headers=office)).json()["state"] == "failed"
        live_nil = without_time((await client.get("/nils/1")).json())

        started = await client.post("/districts/rebuild", headers=office)
        assert started.status_code == 202, started.text
        job = started.json()
        busy = await client.post("/districts/rebuild", headers={**office, "Accept-Language": "en"})
        assert busy.status_code == 409 and busy.json()["job"] == job["id"], busy.text
        assert busy.json()["detail"] == f"a rebuild is already running: follow it at /districts/rebuild/{job['id']}"
        listed = (await client.get("/districts/rebuild", params={"limit": 2}, headers=office)).json()
        assert [j["id"] for j in listed["items"]] == [job["id"], dead] and listed["total"] >= 2, "newest first"

        async def targets_fixed() -> bool:  # the replay's ends are read before the late event is sent
            current = (await client.get(f"/districts/rebuild/{job['id']}", headers=office)).json()
            return bool(current["events_total"])

        await wait(targets_fixed, what="the rebuild's ends")
        late = events.shop("s4", 1, "shop", "active", *OVEST)
        await send(settings.shops_topic, [late])

        async def finished() -> dict[str, Any]:
            current: dict[str, Any] = (await client.get(f"/districts/rebuild/{job['id']}", headers=office)).json()
            assert current["state"] in ("running", "switching", "done"), current
            return current if current["state"] == "done" else {}

        done = await wait(finished, timeout_s=60, what="rebuild")
        assert done["events_total"] == len(history) + 3 + len(stalls) + 2 and done["progress"] == 1.0

        async def ovest_has_the_late_shop() -> list[dict[str, Any]]:
            items = [without_time(i) for i in (await client.get("/districts")).json()["items"]]
            assert next(i for i in items if i["code"] == "ovest")["kpis"]["shops_active"] == 2
            return items

        rebuilt = await wait(ovest_has_the_late_shop, what="the event published during the rebuild")
        assert next(i for i in rebuilt if i["code"] == "centro") == next(i for i in live if i["code"] == "centro")
        assert without_time((await client.get("/nils/1")).json()) == live_nil

        old, new = await entities(settings, job["previous_generation"]), await entities(settings, job["generation"])
        assert old.keys() - {"shop:s4"} == new.keys() - {"shop:s4"} and "shop:s4" in new
        assert all(old[k] == new[k] for k in old.keys() - {"shop:s4"})
