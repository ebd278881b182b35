"""End-to-end freshness: a stall status write until the district's KPI shows it (GET /districts/{code}).

The probe flips assigned stalls of a market inside a district, one change at a time, with the
office's token, and polls the district until ``stalls_open`` moved by one. The mixed load flips
stalls of the operator's own market only, so nothing else moves that count meanwhile. The baseline
is the same write until its event is seen on ``markets.events`` by a plain aiokafka reader (the
floor of any consumer: what the districts projection adds is the rest).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from shapely.geometry import Point, shape

from shared.settings import ServiceSettings
from tests.bench.harness import bearer
from tests.bench.load import StallSlot
from tests.bench.stats import ratio, summary_ms

POLL_S = 0.1
TIMEOUT_S = 30.0
PAUSE_S = 0.2
STALL_EVENT = "markets.stall.status_changed.v1"


@dataclass
class Probe:
    district: str
    stalls: list[StallSlot]


async def find_probe(http: httpx.AsyncClient, avoid_market: str) -> Probe | None:
    """A district with market stalls, none of the load's market, and its assigned open/closed stalls."""
    districts = (await http.get("/districts", params={"limit": 500})).json()["items"]
    markets = (await http.get("/markets", params={"limit": 500})).json()["items"]
    for district in sorted((d for d in districts if d["kpis"]["stalls_total"]), key=lambda d: d["code"]):
        perimeter = shape((await http.get(f"/districts/{district['code']}")).json()["perimeter"])
        inside = [m["id"] for m in markets if perimeter.covers(Point(m["location"]["lon"], m["location"]["lat"]))]
        if avoid_market in inside:
            continue
        stalls = []
        for market in inside:
            listed = (await http.get(f"/markets/{market}/stalls", params={"limit": 500})).json()["items"]
            stalls += [
                StallSlot(market, s["number"], s["version"], s["status"])
                for s in listed
                if s["holder"] and s["status"] in ("open", "closed")
            ]
        if stalls:
            return Probe(district["code"], stalls[:3])
    return None


@dataclass
class Tally:
    sent: dict[tuple[str, int], float] = field(default_factory=dict)
    seen: dict[tuple[str, int], float] = field(default_factory=dict)
    to_kpi: list[float] = field(default_factory=list)
    misses: int = 0
    refused: int = 0


async def _reader(bootstrap: str, topic: str, fetch_wait_ms: int) -> AIOKafkaConsumer:
    """A consumer without a group on every partition of the topic, from its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=fetch_wait_ms)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    if not partitions:
        await consumer.stop()
        raise RuntimeError(f"topic {topic} has no partitions on {bootstrap}")
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    return consumer


async def _listen(consumer: AIOKafkaConsumer, tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=100)
        arrived = time.perf_counter()
        for records in batches.values():
            for record in records:
                event = json.loads(record.value or b"{}")
                if event.get("type") == STALL_EVENT:
                    tally.seen.setdefault((event["subject"], int(event["data"]["version"])), arrived)


class FreshnessProbe:
    def __init__(self, http: httpx.AsyncClient, office: str, probe: Probe) -> None:
        self.http = http
        self.office = office
        self.probe = probe
        self.tally = Tally()

    async def _stalls_open(self) -> int | None:
        try:
            response = await self.http.get(f"/districts/{self.probe.district}")
        except httpx.HTTPError:
            return None
        return int(response.json()["kpis"]["stalls_open"]) if response.status_code == 200 else None

    async def _flip(self, slot: StallSlot) -> None:
        before = await self._stalls_open()
        if before is None:
            return
        target = "closed" if slot.status == "open" else "open"
        expected = before + (1 if target == "open" else -1)
        path = f"/markets/{slot.market}/stalls/{slot.number}"
        headers = {**bearer(self.office), "If-Match": f'"{slot.version}"'}
        began = time.perf_counter()
        response = await self.http.put(f"{path}/status", json={"status": target, "note": "freshness"}, headers=headers)
        if response.status_code != 200:
            self.tally.refused += 1
            current = (await self.http.get(path)).json()
            slot.version, slot.status = current["version"], current["status"]
            return
        slot.version, slot.status = response.json()["version"], target
        self.tally.sent[(f"{slot.market}/{slot.number}", slot.version)] = began
        while time.perf_counter() - began < TIMEOUT_S:
            if await self._stalls_open() == expected:
                self.tally.to_kpi.append(time.perf_counter() - began)
                return
            await asyncio.sleep(POLL_S)
        self.tally.misses += 1

    async def run(self, seconds: float, settings: ServiceSettings, topic: str) -> dict[str, Any]:
        """``settings``: the platform's; the reader fetches with the same wait as the services' consumers."""
        consumer = await _reader(settings.kafka_bootstrap, topic, settings.kafka_fetch_max_wait_ms)
        stop = asyncio.Event()
        listener = asyncio.create_task(_listen(consumer, self.tally, stop))
        try:
            until, turn = time.perf_counter() + seconds, 0
            while time.perf_counter() < until:
                await self._flip(self.probe.stalls[turn % len(self.probe.stalls)])
                turn += 1
                await asyncio.sleep(PAUSE_S)
            await asyncio.sleep(0.5)  # the reader's last fetch
        finally:
            stop.set()
            await listener
            await consumer.stop()
        return self.figures()

    def figures(self) -> dict[str, Any]:
        tally = self.tally
        to_event = [tally.seen[key] - sent for key, sent in tally.sent.items() if key in tally.seen]
        kpi, event = summary_ms(tally.to_kpi), summary_ms(to_event)
        return {
            "district": self.probe.district,
            "stalls": [f"{s.market}/{s.number}" for s in self.probe.stalls],
            "writes": len(tally.sent),
            "refused": tally.refused,
            "not_visible_in_30s": tally.misses,
            "events_not_seen": len(tally.sent) - len(to_event),
            "write_to_kpi": kpi,
            "write_to_event": event,
            "p50_ratio": ratio(kpi["p50_ms"], event["p50_ms"]),
            "p99_ratio": ratio(kpi["p99_ms"], event["p99_ms"]),
        }
