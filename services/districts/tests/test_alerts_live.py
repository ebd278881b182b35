"""Alerts end to end: a KPI hovering around its threshold raises one alert and resolves it once."""

from __future__ import annotations

from typing import Any

import pytest
from districts.main import create_app

from devkit.testing import running_app
from shared.identity import Principal, Role

from .conftest import Live, bearer_for

pytestmark = pytest.mark.integration

CENTRE = (9.19, 45.465)


async def test_alerts_are_raised_and_resolved_once(live: Live, district_kpis: Any, topic_reader: Any) -> None:
    settings = live.settings.model_copy(update={"snapshot_interval_s": 1.0})
    versions = dict.fromkeys(range(1, 9), 1)
    status = {n: "vacant" if n <= 4 else "open" for n in versions}

    async def set_stall(number: int, to: str, vacant_after: int) -> None:
        versions[number] += 1
        await live.send(
            settings.markets_topic, [live.events.stall_status("m1", number, status[number], to, versions[number])]
        )
        status[number] = to
        await live.wait(lambda: _vacant_is(client, vacant_after), what=f"{vacant_after} vacant stalls")

    async def _vacant_is(client: Any, n: int) -> bool:
        return bool((await district_kpis(client, "mercato"))["stalls_vacant"] == n)

    async for client in running_app(create_app(settings)):
        await live.district(client, "mercato", CENTRE)
        limits = {"vitality_drop_over": 100, "vitality_drop_recovered_at": 50, "required_services": ["ritiro_pacchi"]}
        put = await client.put("/districts/mercato/thresholds", json=limits, headers=live.office)
        assert put.status_code == 200 and put.json()["occupancy_below"] == 0.6

        await live.send(settings.markets_topic, [live.events.market("m1", 1, *CENTRE)])
        await live.send(settings.markets_topic, [live.events.stall("m1", n, s) for n, s in status.items()])
        await live.wait(lambda: _vacant_is(client, 4), what="4 vacant stalls of 8")
        district = (await client.get("/districts/mercato")).json()
        assert sorted(a["condition"] for a in district["open_alerts"]) == ["low_occupancy", "service_missing"]
        low = next(a for a in district["open_alerts"] if a["condition"] == "low_occupancy")
        assert low["detail_it"].startswith("occupazione dei posteggi 50%") and low["acknowledged_by"] is None
        acknowledge = f"/districts/mercato/alerts/{low['id']}/acknowledge"
        assert (await client.post(acknowledge)).status_code == 401
        seen = await client.post(acknowledge, headers=live.office)
        assert seen.status_code == 200 and seen.json()["acknowledged_by"] == "office", seen.text
        colleague = bearer_for(live.settings, Principal(username="ufficio-2", role=Role.OFFICE))
        again = await client.post(acknowledge, headers=colleague)
        assert again.json()["acknowledged_at"] == seen.json()["acknowledged_at"], "the first acknowledgement stays"
        assert again.json()["acknowledged_by"] == "office"
        unknown = await client.post("/districts/mercato/alerts/no-such-alert/acknowledge", headers=live.office)
        assert unknown.status_code == 404 and "non ha l'allerta" in unknown.json()["detail"]

        await set_stall(1, "open", 3)  # 62.5 %: between the levels, nothing changes
        await set_stall(5, "vacant", 4)  # 50 %: already open, no second alert
        await set_stall(5, "open", 3)
        await set_stall(2, "open", 2)  # 75 %: resolved
        await set_stall(6, "vacant", 3)  # 62.5 %: not low enough to raise again

        await live.send(
            settings.shops_topic,
            [live.events.shop("k1", 1, "kiosk", "active", *CENTRE), live.events.service("k1", "o1", "ritiro_pacchi")],
        )
        await live.wait(lambda: _no_open_alerts(client), what="every alert resolved")
        history = (await client.get("/districts/mercato/alerts")).json()
        assert history["total"] == 2 and {a["state"] for a in history["items"]} == {"resolved"}
        assert all([h["state"] for h in a["history"]] == ["open", "resolved"] for a in history["items"])
        assert (await client.get("/districts/mercato/alerts", params={"state": "open"})).json()["total"] == 0

        async def sampled_without_a_change() -> bool:
            points = (await client.get("/districts/mercato/timeseries", params={"metric": "stalls_vacant"})).json()
            return [p["value"] for p in points["points"]][-4:] == [3, 3, 3, 3]

        await live.wait(sampled_without_a_change, what="samples every second while nothing changes")

    published = await topic_reader(settings.districts_topic)
    alerts = sorted((e.type.split(".")[-2], e.data["condition"]) for e in published if ".alert." in e.type)
    assert alerts == [
        ("raised", "low_occupancy"),
        ("raised", "service_missing"),
        ("resolved", "low_occupancy"),
        ("resolved", "service_missing"),
    ]
    raised = next(
        e for e in published if e.type == "districts.alert.raised.v1" and e.data["condition"] == "low_occupancy"
    )
    assert raised.subject == "mercato" and raised.data["value"] == 0.5 and raised.data["threshold"] == 0.6


async def _no_open_alerts(client: Any) -> bool:
    return not (await client.get("/districts/mercato")).json()["open_alerts"]
