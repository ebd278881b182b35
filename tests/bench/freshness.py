"""End-to-end freshness: a stall status write until the district's KPI shows it (GET /districts/{code}).

The probe flips assigned stalls of a market inside a district, one change at a time, with the
office's token, and polls the district until ``stalls_open`` is what every accepted probe write so
far makes it (so a change that was late does not confuse the next one). The mixed load flips
stalls of the operator's own market only, so nothing else moves that count meanwhile. The baseline
is the same write until its event is seen on ``markets.events`` by a plain aiokafka reader (the
floor of any consumer: what the districts projection adds is the rest). After each write, one
message produced straight to a topic of the probe's own and read back by the same reader shows
what the broker alone takes at that moment.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from shapely.geometry import Point, shape

from devkit.topics import arrivals, tail
from shared.kafka import ensure_topics
from shared.settings import ServiceSettings
from tests.bench.harness import bearer
from tests.bench.load import StallSlot
from tests.bench.stats import ratio, summary_ms

POLL_S = 0.025
TIMEOUT_S = 30.0
PAUSE_S = 0.2
STALL_EVENT = "markets.stall.status_changed.v1"
RAW_TOPIC = "bench.freshness.raw"


@dataclass
class Probe:
    district: str
    stalls: list[StallSlot]
    # the district's stalls_open once every accepted probe write is visible; kept across runs
    expected: int | None = None


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
    # (seconds from the start of the probe to the write, write → KPI visible in ms), for the plot
    kpi_points: list[tuple[float, float]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    misses: int = 0
    refused: int = 0
    raw_sent: dict[bytes, float] = field(default_factory=dict)
    raw_seen: dict[bytes, float] = field(default_factory=dict)
    # how long each poll of the district took (the read's share of write → KPI visible)
    reads: list[float] = field(default_factory=list)


async def _listen(consumer: AIOKafkaConsumer, tally: Tally, stop: asyncio.Event) -> None:
    async for arrived, records in arrivals(consumer, stop):
        for record in records:
            if record.topic == RAW_TOPIC:
                tally.raw_seen.setdefault(record.key or b"", arrived)
                continue
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
        began = time.perf_counter()
        try:
            response = await self.http.get(f"/districts/{self.probe.district}")
        except httpx.HTTPError:
            return None
        self.tally.reads.append(time.perf_counter() - began)
        return int(response.json()["kpis"]["stalls_open"]) if response.status_code == 200 else None

    async def _flip(self, slot: StallSlot, expected_before: int) -> None:
        target = "closed" if slot.status == "open" else "open"
        expected = expected_before + (1 if target == "open" else -1)
        path = f"/markets/{slot.market}/stalls/{slot.number}"
        headers = {**bearer(self.office), "If-Match": f'"{slot.version}"'}
        began = time.perf_counter()
        response = await self.http.put(f"{path}/status", json={"status": target, "note": "freshness"}, headers=headers)
        if response.status_code != 200:
            self.tally.refused += 1
            current = await self.http.get(path)
            if current.status_code == 200:  # otherwise the next turn of this stall is refused and reads again
                stall = current.json()
                slot.version, slot.status = stall["version"], stall["status"]
            return
        slot.version, slot.status = response.json()["version"], target
        self.probe.expected = expected
        self.tally.sent[(f"{slot.market}/{slot.number}", slot.version)] = began
        while time.perf_counter() - began < TIMEOUT_S:
            if await self._stalls_open() == expected:
                took = time.perf_counter() - began
                self.tally.to_kpi.append(took)
                self.tally.kpi_points.append((began - self.tally.started, round(took * 1000, 1)))
                return
            await asyncio.sleep(POLL_S)
        self.tally.misses += 1

    async def _raw(self, producer: AIOKafkaProducer) -> None:
        """The broker alone: one message produced as the relay does (acks=all) until the reader sees it."""
        key = uuid.uuid4().hex.encode()
        self.tally.raw_sent[key] = time.perf_counter()
        await producer.send_and_wait(RAW_TOPIC, value=b"{}", key=key)
        deadline = time.perf_counter() + TIMEOUT_S
        while key not in self.tally.raw_seen and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)

    async def run(self, seconds: float, settings: ServiceSettings, topic: str) -> dict[str, Any]:
        """``settings``: the platform's; the reader fetches with the same wait as the services' consumers."""
        await ensure_topics(settings, [RAW_TOPIC])
        consumer = await tail(settings.kafka_bootstrap, [topic, RAW_TOPIC], settings.kafka_fetch_max_wait_ms)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
        await producer.start()
        stop = asyncio.Event()
        listener = asyncio.create_task(_listen(consumer, self.tally, stop))
        try:
            self.tally.started = time.perf_counter()
            until, turn = self.tally.started + seconds, 0
            while self.probe.expected is None and time.perf_counter() < until:
                self.probe.expected = await self._stalls_open()
            while time.perf_counter() < until and self.probe.expected is not None:
                await self._flip(self.probe.stalls[turn % len(self.probe.stalls)], self.probe.expected)
                await self._raw(producer)
                turn += 1
                await asyncio.sleep(PAUSE_S)
            await asyncio.sleep(0.5)  # the reader's last fetch
        finally:
            stop.set()
            await listener
            await consumer.stop()
            await producer.stop()
        return self.figures()

    def figures(self) -> dict[str, Any]:
        tally = self.tally
        to_event = [tally.seen[key] - sent for key, sent in tally.sent.items() if key in tally.seen]
        raw = [tally.raw_seen[key] - sent for key, sent in tally.raw_sent.items() if key in tally.raw_seen]
        kpi, event = summary_ms(tally.to_kpi), summary_ms(to_event)
        return {
            "district": self.probe.district,
            "stalls": [f"{s.market}/{s.number}" for s in self.probe.stalls],
            "writes": len(tally.sent),
            "refused": tally.refused,
            "not_visible_in_30s": tally.misses,
            "events_not_seen": len(tally.sent) - len(to_event),
            "write_to_kpi": kpi,
            "kpi_points": tally.kpi_points,
            "write_to_event": event,
            "raw_produce_to_seen": summary_ms(raw),
            "district_read": summary_ms(tally.reads),
            "p50_ratio": ratio(kpi["p50_ms"], event["p50_ms"]),
            "p99_ratio": ratio(kpi["p99_ms"], event["p99_ms"]),
        }
