"""Fixtures of the fault-injection tests: one platform of real processes, its users, traffic and ledgers.

The platform (durable broker on the local S3 store, durable database, the four services) is shared by
the fault tests of this folder; each test checks that every component runs before it starts, builds
its own district, market and stalls, and counts what the services accepted, what the broker carried
and what the districts projections applied.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from devkit.testing import Platform, running_platform, unique
from devkit.testing import eventually as devkit_eventually
from shared.events import CloudEvent

FAULT_ENV = {
    "RATE_LIMIT_ENABLED": "false",
    "CONSUMER_MAX_RETRIES": "2",
    "CONSUMER_RETRY_BACKOFF_S": "0.05",
    "MONGO_TIMEOUT_MS": "1000",
}
MARKETS_TOPIC, SHOPS_TOPIC = "markets.events", "shops.events"
STATUS_CHANGED = "markets.stall.status_changed.v1"
PROCESSED = "processed_events.districts"
OFFICE_PASSWORD = "office-demo"
OPERATOR_PASSWORD = "operator-faults-2026"


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from running_platform(tmp_path_factory.mktemp("faults"), **FAULT_ENV)


@pytest.fixture
def running(platform: Platform) -> Platform:
    """The platform with every component up, whatever the previous test did to it."""
    for name in platform.components:
        platform.start_one(name)
    return platform


# the platform's processes restart under these tests: a refused connection is "not yet" too
eventually = partial(devkit_eventually, interval_s=0.2, not_yet=(AssertionError, httpx.TransportError))


def square(lon: float, lat: float, half: float = 0.004) -> dict[str, Any]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@dataclass
class Api:
    """The public API of the platform's gateway, as the commerce office."""

    client: httpx.AsyncClient
    office: dict[str, str]

    async def login(self, username: str, password: str) -> dict[str, str]:
        answer = await self.client.post("/auth/token", data={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def write(self, method: str, path: str, body: dict[str, Any], expected: int = 201) -> dict[str, Any]:
        answer = await self.client.request(method, path, json=body, headers=self.office)
        assert answer.status_code == expected, f"{method} {path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    async def kpis(self, district: str) -> dict[str, Any]:
        answer = await self.client.get(f"/districts/{district}")
        assert answer.status_code == 200, answer.text
        kpis: dict[str, Any] = answer.json()["kpis"]
        return kpis

    async def stalls(self, market_id: str) -> dict[str, dict[str, Any]]:
        answer = await self.client.get(f"/markets/{market_id}/stalls", params={"limit": 500})
        assert answer.status_code == 200, answer.text
        return {s["number"]: s for s in answer.json()["items"]}

    async def history(self, market_id: str, number: str) -> list[dict[str, Any]]:
        answer = await self.client.get(f"/markets/{market_id}/stalls/{number}/history", params={"limit": 500})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


@pytest.fixture(scope="package")
async def api(platform: Platform) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=f"{platform.gateway}/api/v1", timeout=30) as client:
        answer = await client.post("/auth/token", data={"username": "office", "password": OFFICE_PASSWORD})
        assert answer.status_code == 200, answer.text
        yield Api(client, {"Authorization": f"Bearer {answer.json()['access_token']}"})


@dataclass
class Market:
    """A district with one market inside it, its stalls assigned (status closed), and its operator."""

    id: str
    district: str
    numbers: list[str]
    operator: dict[str, str]


async def open_market(api: Api, name: str, centre: tuple[float, float], stalls: int) -> Market:
    slug = unique(name)
    await api.write("POST", "/districts", {"code": slug, "name": name.title(), "perimeter": square(*centre)})
    market = {"id": slug, "name": f"Mercato {name}", "address": "Via delle Prove 1", "municipio": 1}
    await api.write("POST", "/markets", {**market, "location": {"lon": centre[0], "lat": centre[1]}})
    numbers = [str(n) for n in range(1, stalls + 1)]
    holder = {"holder": "Banco di prova", "category": "food", "start": "2026-01-01", "end": "2035-12-31"}
    for number in numbers:
        await api.write("POST", f"/markets/{slug}/stalls", {"number": number, "area_m2": 12.5, "category": "food"})
        await api.write("POST", f"/markets/{slug}/stalls/{number}/assignment", holder, expected=200)
    account = {"username": slug, "password": OPERATOR_PASSWORD, "role": "market_operator", "scope": slug}
    await api.write("POST", "/users", account)
    return Market(slug, slug, numbers, await api.login(slug, OPERATOR_PASSWORD))


@pytest.fixture
def market_factory(api: Api) -> Callable[[str, tuple[float, float], int], Awaitable[Market]]:
    return lambda name, centre, stalls: open_market(api, name, centre, stalls)


@dataclass
class Update:
    number: str
    status: str
    note: str
    http_status: int = 0
    version: int | None = None
    changed: bool = False
    problem_json: bool = False
    detail: str = ""


NOTE_PREFIX = "flip-"


@dataclass
class StallTraffic:
    """Market operators flipping their stalls open and closed, one request per stall at a time."""

    api: Api
    market: Market
    workers: int = 4
    pause_s: float = 0.0
    sent: list[Update] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        stalls = await self.api.stalls(self.market.id)
        for worker in range(self.workers):
            owned: dict[str, dict[str, Any] | None] = {
                n: stalls[n] for n in self.market.numbers[worker :: self.workers]
            }
            self._tasks.append(asyncio.create_task(self._flip(worker, owned)))

    async def _flip(self, worker: int, stalls: dict[str, dict[str, Any] | None]) -> None:
        """Flip the worker's stalls in turn; after an unclear answer, read the stall before changing it."""
        numbers = list(stalls)
        turn = 0
        while not self._stop.is_set():
            number = numbers[turn % len(numbers)]
            turn += 1
            known = stalls[number] or await self._read(number)
            if known is None:
                await asyncio.sleep(0.2)
                continue
            update = Update(number, "closed" if known["status"] == "open" else "open", f"{NOTE_PREFIX}w{worker}-{turn}")
            self.sent.append(update)
            stalls[number] = None
            try:
                answer = await self.api.client.put(
                    f"/markets/{self.market.id}/stalls/{number}/status",
                    json={"status": update.status, "note": update.note},
                    headers=self.market.operator,
                    timeout=15,
                )
            except httpx.TransportError:
                update.http_status = -1
                continue
            update.http_status = answer.status_code
            update.problem_json = answer.headers.get("content-type", "").startswith("application/problem+json")
            if update.problem_json:
                update.detail = str(answer.json().get("detail", ""))[:160]
            if answer.status_code == 200:
                stall = answer.json()
                update.version, update.changed = stall["version"], stall["version"] > known["version"]
                stalls[number] = stall
            await asyncio.sleep(self.pause_s)

    async def _read(self, number: str) -> dict[str, Any] | None:
        try:
            answer = await self.api.client.get(f"/markets/{self.market.id}/stalls/{number}", timeout=5)
        except httpx.TransportError:
            return None
        if answer.status_code != 200:
            return None
        stall: dict[str, Any] = answer.json()
        return stall

    def accepted(self) -> list[Update]:
        """The updates answered 200 that changed their stall."""
        return [u for u in self.sent if u.http_status == 200 and u.changed]

    async def until_accepted(self, count: int, timeout_s: float = 60) -> None:
        async def enough() -> bool:
            return len(self.accepted()) >= count

        await eventually(enough, timeout_s, f"{count} accepted stall updates")

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def refusals(self) -> dict[str, int]:
        """Why updates were refused: the problem documents' details, counted."""
        counts: dict[str, int] = {}
        for update in self.sent:
            if update.http_status != 200:
                reason = f"{update.http_status} {update.detail}".strip()
                counts[reason] = counts.get(reason, 0) + 1
        return counts

    def outcomes(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for update in self.sent:
            counts[update.http_status] = counts.get(update.http_status, 0) + 1
        return counts


async def flip_until(api: Api, market: Market, accepted: int, workers: int, timeout_s: float = 60) -> StallTraffic:
    """Operators flip stalls until ``accepted`` updates changed one; the traffic, stopped."""
    traffic = StallTraffic(api, market, workers=workers)
    await traffic.start()
    try:
        await traffic.until_accepted(accepted, timeout_s)
    finally:
        await traffic.stop()
    return traffic


async def read_records(bootstrap: str, topic: str, idle_s: float = 1.5, limit_s: float = 30) -> list[Any]:
    """Every record on ``topic`` from the beginning (until nothing new arrives for ``idle_s``)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=unique("fault-reader"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        quiet_since, give_up = time.monotonic(), time.monotonic() + limit_s
        while (time.monotonic() - quiet_since < idle_s or not consumer.assignment()) and time.monotonic() < give_up:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found.extend(records)
                quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return found


async def read_topic(bootstrap: str, topic: str) -> list[CloudEvent]:
    """The CloudEvents on ``topic``, leaving out the poison the tests put there."""
    events = []
    for record in await read_records(bootstrap, topic):
        try:
            events.append(CloudEvent.from_bytes(record.value))
        except (ValueError, ValidationError):
            continue
    return events


class Database:
    """Read-only looks into the services' databases, to see what a crash left behind."""

    def __init__(self, url: str) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, serverSelectionTimeoutMS=5000)

    async def processed_ids(self, ids: set[str]) -> set[str]:
        """Which of ``ids`` the districts consumer has recorded as processed."""
        found = self.client["districts"][PROCESSED].find({"_id": {"$in": sorted(ids)}}, {"_id": 1})
        return {d["_id"] async for d in found}

    async def processed_since(self, since: datetime, event_type: str) -> int:
        return await self.client["districts"][PROCESSED].count_documents({"type": event_type, "at": {"$gte": since}})

    async def outbox_backlog(self, service: str) -> int:
        return await self.client[service]["outbox"].count_documents({"sent_at": None})


@pytest.fixture(scope="package")
async def database(platform: Platform) -> AsyncIterator[Database]:
    looks = Database(platform.mongo_url)
    yield looks
    await looks.client.close()


@dataclass(frozen=True)
class Ledger:
    """What the markets service committed for a market's stalls, and what the broker carried of it."""

    changes: dict[tuple[str, int], dict[str, Any]]  # (stall, version) -> history entry
    event_ids: dict[tuple[str, int], set[str]]  # (stall, version) -> ids of status_changed events
    records: int  # status_changed records on the topic, redeliveries included


async def ledger(api: Api, platform: Platform, market: Market) -> Ledger:
    changes = {}
    for number in market.numbers:
        for entry in await api.history(market.id, number):
            if entry["note"].startswith(NOTE_PREFIX):
                changes[(number, entry["version"])] = entry
    event_ids: dict[tuple[str, int], set[str]] = {}
    records = 0
    for event in await read_topic(platform.kafka_bootstrap, MARKETS_TOPIC):
        data = event.data
        if event.type == STATUS_CHANGED and event.source == "/markets" and data.get("market_id") == market.id:
            if "number" not in data or "version" not in data:
                continue  # a contract-breaking event the poison test injected
            records += 1
            event_ids.setdefault((data["number"], data["version"]), set()).add(event.id)
    return Ledger(changes, event_ids, records)


async def expect_projection(api: Api, market: Market, timeout_s: float = 60) -> dict[str, Any]:
    """Wait until the district's stall KPIs match the markets service's stalls; return the KPIs."""
    truth = await api.stalls(market.id)
    statuses = [s["status"] for s in truth.values()]
    expected = {
        "stalls_total": len(statuses),
        "stalls_open": statuses.count("open"),
        "stalls_vacant": statuses.count("vacant"),
    }

    async def matches() -> dict[str, Any]:
        kpis = await api.kpis(market.district)
        assert {k: kpis[k] for k in expected} == expected, (kpis, expected)
        return kpis

    kpis: dict[str, Any] = await eventually(matches, timeout_s, f"district {market.district} to match {expected}")
    return kpis


async def check_exactly_once(
    api: Api, platform: Platform, database: Database, market: Market, traffic: StallTraffic, title: str
) -> None:
    """Every accepted update is committed once, carried by one event id, and applied by the districts."""

    async def published() -> bool:
        return await database.outbox_backlog("markets") == 0

    await eventually(published, 60, "the markets outbox to be published")
    found = await ledger(api, platform, market)
    accepted = traffic.accepted()
    for update in accepted:
        entry = found.changes.get((update.number, update.version or 0))
        if entry is None or entry["note"] != update.note:
            history = [(h["version"], h["note"], h["to"], h["at"]) for h in await api.history(market.id, update.number)]
            sent = [(u.note, u.http_status, u.version) for u in traffic.sent if u.number == update.number]
            raise AssertionError(f"accepted update lost: {update}\nhistory {history}\nsent {sent}")
    notes = [entry["note"] for entry in found.changes.values()]
    assert len(notes) == len(set(notes)), "an update was applied twice"
    unknown = set(notes) - {u.note for u in traffic.sent}
    assert not unknown, f"changes nobody asked for: {unknown}"
    missing = [key for key in found.changes if key not in found.event_ids]
    assert not missing, f"committed changes without an event: {missing}"
    doubled = {key: ids for key, ids in found.event_ids.items() if len(ids) > 1}
    assert not doubled, f"one change published under several event ids: {doubled}"
    wanted = {next(iter(found.event_ids[key])) for key in found.changes}
    delivered = await eventually(
        lambda: _all_processed(database, wanted), 60, "the districts consumer to process every change"
    )
    committed_not_accepted = len(found.changes) - len(accepted)
    print(
        f"\n[{title}] updates sent {len(traffic.sent)}, accepted {len(accepted)}, "
        f"answers {dict(sorted(traffic.outcomes().items()))}, committed {len(found.changes)} "
        f"(of which with an unknown outcome for the client {committed_not_accepted}), "
        f"events on the topic {found.records} (redeliveries {found.records - len(found.event_ids)}), "
        f"delivered to the districts {len(delivered)}, lost {len(found.changes) - len(delivered)}"
    )
    if traffic.refusals():
        print(f"[{title}] refusals {traffic.refusals()}")


async def _all_processed(database: Database, wanted: set[str]) -> set[str]:
    done = await database.processed_ids(wanted)
    assert done == wanted, f"{len(wanted - done)} of {len(wanted)} not processed yet"
    return done


async def consumed(api: Api, platform: Platform) -> dict[str, float]:
    """The districts consumer's events by outcome (processed, duplicate, dead_lettered) since it started."""
    answer = await api.client.get(f"{platform.url('districts')}/metrics")
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == "districts_events_consumed_total":
                outcome = sample.labels["outcome"]
                totals[outcome] = totals.get(outcome, 0.0) + sample.value
    return totals


def service_pids(platform: Platform) -> dict[str, int | None]:
    return {name: platform.components[name].process.recorded_pid() for name in ("markets", "districts", "gateway")}


def log_text(platform: Platform, name: str) -> str:
    path = Path(platform.components[name].process.log_file)
    return path.read_text(errors="replace") if path.exists() else ""
