"""The AsyncAPI contract against reality: every event the running platform publishes matches it.

The whole platform runs as real processes (broker, database, four services). The office drives
flows through the gateway that make every service publish many kinds of events; then every record
on the three topics is read from the beginning and checked against the schema of its type in the
gateway's merged ``/asyncapi.json``. A type that is published but not declared fails the test, and
so does an event whose envelope or payload differs from what the document promises.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from devkit.testing import Platform, unique
from shared.asyncapi import message_schema
from shared.identity import Principal, Role
from shared.kafka import end_offsets
from shared.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

API = "/api/v1"
TOPICS = ("markets.events", "shops.events", "districts.events")
# what the flows below make the services publish (written down here, not read from the code)
EXPECTED = {
    "markets.market.registered.v1",
    "markets.market.updated.v1",
    "markets.stall.created.v1",
    "markets.stall.assigned.v1",
    "markets.stall.status_changed.v1",
    "markets.stall.released.v1",
    "markets.concession.renewed.v1",
    "markets.concession.transferred.v1",
    "markets.concession.revoked.v1",
    "markets.concession.expired.v1",
    "markets.call.published.v1",
    "markets.call.application_submitted.v1",
    "markets.call.application_evaluated.v1",
    "markets.call.awarded.v1",
    "shops.shop.registered.v1",
    "shops.shop.updated.v1",
    "shops.shop.status_changed.v1",
    "shops.historic.recognised.v1",
    "shops.service.registered.v1",
    "shops.service.updated.v1",
    "shops.service.removed.v1",
    "districts.kpis.updated.v1",
    "districts.alert.raised.v1",
    "districts.alert.resolved.v1",
}
LOCATION = {"lon": 9.131, "lat": 45.452}


def square(lon: float, lat: float, half: float = 0.004) -> dict[str, Any]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


class Office:
    def __init__(self, client: httpx.AsyncClient, token: str, trader_token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        # a trader applies to the call: the office's committee never scores its own application
        self.trader = {"Authorization": f"Bearer {trader_token}"}

    async def send(self, method: str, path: str, body: dict[str, Any] | None = None, *, as_trader: bool = False) -> Any:
        headers = self.trader if as_trader else self.headers
        answer = await self.client.request(method, API + path, json=body, headers=headers)
        assert answer.status_code in (200, 201, 204), f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}") from None
            await asyncio.sleep(0.5)


async def drive_the_platform(office: Office) -> None:
    """Markets, stalls, a call, shops with services, a recognition, and a district that degrades and recovers."""
    district = unique("contratto")
    await office.send(
        "POST",
        "/districts",
        {"code": district, "name": "Distretto contratto", "perimeter": square(LOCATION["lon"], LOCATION["lat"])},
    )
    await office.send(
        "PUT", f"/districts/{district}/thresholds", {"occupancy_below": 0.5, "occupancy_recovered_at": 0.55}
    )

    market = unique("contratto")
    await office.send(
        "POST",
        "/markets",
        {"id": market, "name": "Mercato Contratto", "address": "Via Prova 9", "municipio": 6, "location": LOCATION},
    )
    await office.send("PATCH", f"/markets/{market}", {"notes": "orari estesi"})
    for number in ("1", "2", "3", "4"):
        await office.send("POST", f"/markets/{market}/stalls", {"number": number, "area_m2": 12, "category": "food"})
    holder = {"holder": "Banco Contratto", "category": "food", "start": "2026-01-01", "end": "2030-12-31"}
    await office.send("POST", f"/markets/{market}/stalls/1/assignment", holder)
    await office.send("PUT", f"/markets/{market}/stalls/1/status", {"status": "open", "note": "apertura"})
    await office.send("POST", f"/markets/{market}/stalls/2/assignment", {**holder, "holder": "Banco Due"})
    await office.send("DELETE", f"/markets/{market}/stalls/2/assignment")

    deadline = datetime.now(UTC) + timedelta(seconds=3)
    call = await office.send(
        "POST",
        f"/markets/{market}/calls",
        {
            "title": "Bando contratto",
            "stalls": ["3"],
            "criteria": [{"name": "offer", "weight": 1}],
            "deadline": deadline.isoformat(),
        },
    )
    application = await office.send(
        "POST",
        f"/calls/{call['id']}/applications",
        {"holder": "Ditta Contratto", "category": "food", "stalls": ["3"]},
        as_trader=True,
    )
    await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.5)
    await office.send(
        "POST",
        f"/calls/{call['id']}/evaluations",
        {"application": application["id"], "scores": {"offer": 80}, "reasons": {"offer": "offerta completa"}},
    )
    await office.send("POST", f"/calls/{call['id']}/award")
    # three stalls of four held: occupancy back above the recovery level
    await office.send("POST", f"/markets/{market}/stalls/4/assignment", {**holder, "holder": "Banco Quattro"})
    # concessions over their life: renewed and transferred (still held), revoked, and one already
    # over when recorded, which the service's scheduled job expires within a minute (4 of 7 held)
    concessions = {}
    for number, end in (("5", "2030-12-31"), ("6", "2030-12-31"), ("7", "2026-06-30")):
        await office.send("POST", f"/markets/{market}/stalls", {"number": number, "area_m2": 12, "category": "food"})
        stall = await office.send(
            "POST", f"/markets/{market}/stalls/{number}/assignment", {**holder, "holder": f"Banco {number}", "end": end}
        )
        concessions[number] = f"/concessions/{stall['concession']['id']}"
    await office.send("POST", f"{concessions['5']}/renew", {"end": "2040-12-31"})
    await office.send(
        "POST", f"{concessions['5']}/transfer", {"trader": "ambulante-contratto", "holder": "Banco Nuovo"}
    )
    await office.send("POST", f"{concessions['6']}/revoke", {"reason": "rinuncia del titolare"})

    shop = unique("bottega")
    await office.send(
        "POST",
        "/shops",
        {"id": shop, "kind": "shop", "name": "Bottega Contratto", "location": LOCATION, "year_founded": 1931},
    )
    await office.send("PATCH", f"/shops/{shop}", {"trade": "drogheria"})
    offer = await office.send(
        "POST",
        f"/shops/{shop}/services",
        {"service": "ritiro_pacchi", "hours": [{"day": 0, "opens": "08:00", "closes": "12:00"}]},
    )
    evenings = [{"day": 0, "opens": "08:00", "closes": "12:00"}, {"day": 4, "opens": "21:00", "closes": "01:00"}]
    await office.send("PUT", f"/shops/{shop}/services/{offer['id']}", {"hours": evenings})
    await office.send("DELETE", f"/shops/{shop}/services/{offer['id']}")
    await office.send(
        "POST", f"/shops/{shop}/recognition", {"founding_year": 1931, "trade": "drogheria", "continuity": "sempre"}
    )
    await office.send("POST", f"/shops/{shop}/recognition/decision", {"decision": "approve"})
    await office.send("PUT", f"/shops/{shop}/status", {"status": "closed", "note": "chiuso"})


async def read_topics(bootstrap: str) -> list[tuple[str, dict[str, Any]]]:
    """Every record on the three topics, from the first offset to the end as it is now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster's metadata
        partitions = [TopicPartition(t, p) for t in TOPICS for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await end_offsets(ServiceSettings(kafka_bootstrap=bootstrap), partitions)
        records: list[tuple[str, dict[str, Any]]] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records += [(r.topic, json.loads(r.value)) for r in batch if r.value is not None]
        return records
    finally:
        await consumer.stop()


async def merged_asyncapi(client: httpx.AsyncClient) -> dict[str, Any]:
    async def complete() -> dict[str, Any]:
        document: dict[str, Any] = (await client.get("/asyncapi.json")).json()
        assert document["x-unavailable"] == [], document["x-unavailable"]
        return document

    return await eventually(complete, 60, "every service's part of /asyncapi.json")


async def test_every_event_the_platform_publishes_matches_the_gateways_asyncapi_document(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        login = await client.post(f"{API}/auth/token", data={"username": "office", "password": "office-demo"})
        assert login.status_code == 200, login.text
        trader = platform.token(Principal(username=unique("trader"), role=Role.TRADER))
        await drive_the_platform(Office(client, login.json()["access_token"], trader))
        document = await merged_asyncapi(client)

    async def everything_published() -> list[tuple[str, dict[str, Any]]]:
        records = await read_topics(platform.kafka_bootstrap)
        missing = EXPECTED - {event.get("type") for _, event in records}
        assert not missing, f"not published yet: {sorted(missing)}"
        return records

    records = await eventually(everything_published, 90, "the flows' events on the topics")

    validators = {
        t: jsonschema_rs.validator_for(message_schema(document, t)) for t in document["components"]["messages"]
    }
    declared_on = {channel["address"]: set(channel["messages"]) for channel in document["channels"].values()}
    undeclared: Counter[str] = Counter()
    mismatches: list[str] = []
    for topic, event in records:
        event_type = event.get("type", "<no type>")
        if event_type not in declared_on.get(topic, set()):
            undeclared[f"{topic}: {event_type}"] += 1
            continue
        for error in list(validators[event_type].iter_errors(event))[:3]:
            mismatches.append(f"{event_type} {event.get('id')} at {error.instance_path}: {error.message[:200]}")
    published = Counter(event.get("type") for _, event in records)
    print(
        f"\n[asyncapi vs wire] {len(records)} events of {len(published)} types checked: {dict(sorted(published.items()))}"
    )
    assert not undeclared, f"published but not in /asyncapi.json: {dict(undeclared)}"
    assert not mismatches, "\n".join(mismatches[:20])
    assert set(published) >= EXPECTED
