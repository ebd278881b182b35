"""Markets benchmark: stall status updates per second through the gateway, and how long a status
change takes to reach a consumer of ``markets.events``.

Each worker toggles one assigned stall of a market between ``open`` and ``closed`` with its
version (``If-Match``), as an operator's phone does; a plain aiokafka reader assigned to every
partition of the topic notes when each change's event arrives. At the end every stall gets back
the status it had. Run as ``python services/markets/bench.py --gateway URL --token JWT``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from secrets import token_hex
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaConsumer
from markets.concessions.domain import Concession
from markets.settings import MarketsSettings
from markets.spunta.service import SpuntaService
from markets.spunta.store import SpuntaStore
from markets.stalls.domain import HistoryEntry, Market, Stall, StallCategory, StallStatus
from markets.stalls.events import StallStatusChanged
from markets.stalls.store import MarketStore
from pymongo import InsertOne, UpdateOne
from pymongo.errors import PyMongoError

from devkit.topics import MissingTopic, arrivals, tail
from shared.mongo import Mongo, drop_database_gradually
from shared.outbox import Outbox
from shared.places import Location

SETTLE_S = 10.0
RETRY_AFTER_MAX_S = 1.0


class BenchError(RuntimeError):
    """The benchmark cannot run against this stack (no market, no assigned stall, no broker)."""


class Tally:
    """What the workers sent and when, and what the reader saw (a plain class: the lead may load this file by path)."""

    def __init__(self) -> None:
        self.sent_at: dict[tuple[str, int], float] = {}
        self.http_s: list[float] = []
        self.event_s: list[float] = []
        self.accepted = 0
        self.refused: dict[int, int] = {}
        self.sending = True
        self.settled = asyncio.Event()

    def check_settled(self) -> None:
        """Every accepted change has been seen on the topic since the workers stopped."""
        if not self.sending and not self.sent_at:
            self.settled.set()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def _listen(consumer: AIOKafkaConsumer, tally: Tally, stop: asyncio.Event) -> None:
    async for arrived, records in arrivals(consumer, stop):
        for record in records:
            event = json.loads(record.value or b"{}")
            if event.get("type") != StallStatusChanged.event_type:
                continue
            sent = tally.sent_at.pop((event.get("subject", ""), event.get("data", {}).get("version", 0)), None)
            if sent is not None:
                tally.event_s.append(arrived - sent)
        tally.check_settled()


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("Retry-After", "0.1")), RETRY_AFTER_MAX_S)
    except ValueError:
        return 0.1


async def _send(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, waiting out the gateway's rate limit (429) as a well-behaved client does."""
    while True:
        response = await http.request(method, path, **kwargs)
        if response.status_code != 429:
            return response
        await asyncio.sleep(_retry_after(response))


async def _read_stall(http: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await _send(http, "GET", path)
    if response.status_code != 200:
        raise BenchError(f"cannot read {path}: HTTP {response.status_code}")
    stall: dict[str, Any] = response.json()
    return stall


async def _toggle(http: httpx.AsyncClient, stall: dict[str, Any], until: float, tally: Tally) -> None:
    path = f"/markets/{stall['market_id']}/stalls/{stall['number']}"
    subject = f"{stall['market_id']}/{stall['number']}"
    version, status = stall["version"], stall["status"]
    while time.perf_counter() < until:
        target = "closed" if status == "open" else "open"
        started = time.perf_counter()
        tally.sent_at[(subject, version + 1)] = started
        response = await http.put(
            f"{path}/status",
            json={"status": target, "note": "benchmark", "version": version},
            headers={"If-Match": f'"{version}"'},
        )
        tally.http_s.append(time.perf_counter() - started)
        if response.status_code == 200:
            tally.accepted += 1
            version, status = response.json()["version"], target
            continue
        tally.sent_at.pop((subject, version + 1), None)
        tally.refused[response.status_code] = tally.refused.get(response.status_code, 0) + 1
        if response.status_code == 429:
            await asyncio.sleep(_retry_after(response))
            continue
        fresh = await _read_stall(http, path)
        version, status = fresh["version"], fresh["status"]


async def _restore(http: httpx.AsyncClient, stalls: list[dict[str, Any]]) -> None:
    for stall in stalls:
        path = f"/markets/{stall['market_id']}/stalls/{stall['number']}"
        now = await _read_stall(http, path)
        if now["status"] != stall["status"]:
            body = {"status": stall["status"], "note": "benchmark: status restored", "version": now["version"]}
            await _send(http, "PUT", f"{path}/status", json=body)


async def run(
    gateway_url: str,
    token: str,
    seconds: float,
    *,
    market_id: str = "wagner",
    workers: int = 4,
    settings: MarketsSettings | None = None,
    fetch_wait_ms: int | None = None,
) -> dict[str, Any]:
    """Toggle ``workers`` stalls of ``market_id`` for ``seconds``; return throughput and latencies.

    The broker and topic come from ``settings`` (by default the environment, as the service reads it).
    ``fetch_wait_ms`` is how long the reader lets the broker hold an empty fetch: a broker that does
    not answer early when data arrives adds up to that much to the latency. By default it is the
    platform's own setting (``KAFKA_FETCH_MAX_WAIT_MS``), as the services' consumers fetch.
    """
    settings = settings or MarketsSettings()
    if fetch_wait_ms is None:
        fetch_wait_ms = settings.kafka_fetch_max_wait_ms
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=gateway_url.rstrip("/") + "/api/v1", headers=headers, timeout=10) as http:
        stalls = await _stalls_to_toggle(http, market_id, workers)
        try:
            consumer = await tail(settings.kafka_bootstrap, [settings.events_topic], fetch_wait_ms)
        except MissingTopic as exc:
            raise BenchError(str(exc)) from exc
        tally, stop = Tally(), asyncio.Event()
        listener = asyncio.create_task(_listen(consumer, tally, stop))
        try:
            started = time.perf_counter()
            until = started + seconds
            await asyncio.gather(*(_toggle(http, s, until, tally) for s in stalls))
            elapsed = time.perf_counter() - started
            tally.sending = False
            tally.check_settled()
            try:
                await asyncio.wait_for(tally.settled.wait(), SETTLE_S)
            except TimeoutError:
                pass
        finally:
            stop.set()
            await listener
            await consumer.stop()
            await _restore(http, stalls)
    return {
        "market": market_id,
        "workers": len(stalls),
        "seconds": round(elapsed, 2),
        "status_updates": tally.accepted,
        "refused_by_status": {str(code): n for code, n in sorted(tally.refused.items())},
        "status_updates_per_s": round(tally.accepted / elapsed, 1) if elapsed else 0.0,
        "http_p50_ms": _ms(percentile(tally.http_s, 0.50)),
        "http_p99_ms": _ms(percentile(tally.http_s, 0.99)),
        "fetch_wait_ms": fetch_wait_ms,
        "events_seen": len(tally.event_s),
        "events_missing": len(tally.sent_at),
        "event_p50_ms": _ms(percentile(tally.event_s, 0.50)),
        "event_p99_ms": _ms(percentile(tally.event_s, 0.99)),
    }


async def _stalls_to_toggle(http: httpx.AsyncClient, market_id: str, workers: int) -> list[dict[str, Any]]:
    listed = await _send(http, "GET", f"/markets/{market_id}/stalls", params={"limit": 500})
    if listed.status_code != 200:
        raise BenchError(f"cannot list the stalls of {market_id!r}: HTTP {listed.status_code}")
    stalls = [s for s in listed.json()["items"] if s["holder"] and s["status"] in ("open", "closed")][:workers]
    if not stalls:
        raise BenchError(f"market {market_id!r} has no assigned open or closed stall to toggle")
    return stalls


async def _bare_writes(
    collections: tuple[Any, Any, Any], client: Any, key: str, until: float, *, one_command: bool = False
) -> int:
    """One operator's stall toggled by plain PyMongo calls: the service's transaction, nothing around it.
    ``one_command``: its three writes in one ``bulkWrite``, as the service sends them, instead of one each."""
    stalls, history, outbox = collections
    done = 0
    while time.perf_counter() < until:
        async with client.start_session() as session, await session.start_transaction():
            stall = await stalls.find_one({"_id": key}, session=session)
            target = "closed" if stall["status"] == "open" else "open"
            at = datetime.now(UTC)
            guard = {"_id": key, "version": stall["version"]}
            change = {"$set": {"status": target, "version": stall["version"] + 1, "updated_at": at}}
            line = {"stall": key, "version": stall["version"] + 1, "at": at, "from": stall["status"], "to": target,
                    "note": "benchmark", "actor": "bench"}  # fmt: skip
            event = {"type": StallStatusChanged.event_type, "subject": key, "data": {"to": target}}
            staged = {"event_id": token_hex(16), "topic": "markets.events", "key": key, "type": event["type"],
                      "value": json.dumps(event).encode(), "created_at": at, "attempts": 0}  # fmt: skip
            if one_command:
                await client.bulk_write(
                    [UpdateOne(guard, change, namespace=stalls.full_name),
                     InsertOne(line, namespace=history.full_name),
                     InsertOne(staged, namespace=outbox.full_name)],
                    session=session,
                )  # fmt: skip
            else:
                await stalls.update_one(guard, change, session=session)
                await history.insert_one(line, session=session)
                await outbox.insert_one(staged, session=session)
        done += 1
    return done


async def _operations(client: Any) -> int | None:
    """Operations the database server has counted so far (``serverStatus`` opcounters), if it tells."""
    try:
        status = await client.admin.command("serverStatus")
    except PyMongoError:
        return None
    return sum(int(n) for n in status.get("opcounters", {}).values()) or None


def _per_write(before: int | None, after: int | None, writes: int) -> float | None:
    return round((after - before) / writes, 1) if before is not None and after is not None and writes else None


async def write_path(
    markets_url: str, token: str, mongo_url: str, seconds: float, *, market_id: str = "wagner", workers: int = 4
) -> dict[str, Any]:
    """Status writes/s straight to the markets service (HTTP, its use case, one transaction each)
    against a bare PyMongo loop doing the same transaction (read the stall, update it guarded by its
    version, insert its history line and its outbox event) on the same database server, with as
    many concurrent writers, each on a stall of its own; the bare loop's database is dropped at the end.

    Beside each side, the operations the whole database server counted per write: on the service's
    side they include what the writes cause elsewhere meanwhile (the outbox relay marking events
    sent, consumers of ``markets.events`` projecting them), which the bare loop does not have."""
    headers = {"Authorization": f"Bearer {token}"}
    mongo = Mongo(MarketsSettings(mongo_url=mongo_url), database=f"markets_write_bench_{token_hex(3)}")
    async with httpx.AsyncClient(base_url=markets_url.rstrip("/"), headers=headers, timeout=10) as http:
        stalls = await _stalls_to_toggle(http, market_id, workers)
        tally = Tally()
        ops_before = await _operations(mongo.client)
        started = time.perf_counter()
        try:
            await asyncio.gather(*(_toggle(http, s, started + seconds, tally) for s in stalls))
        finally:
            service_s = time.perf_counter() - started
            service_ops = _per_write(ops_before, await _operations(mongo.client), tally.accepted)
            await _restore(http, stalls)
    try:
        await mongo.ensure_indexes({**MarketStore.indexes, **Outbox.indexes})
        store, made = MarketStore(mongo.db), datetime.now(UTC)
        await store.insert_market(
            Market("bench", "Bench", "Via Bench 1", 1, Location(9.19, 45.46), 1, made, made), None
        )
        held = Concession("holder", date(2020, 1, 1), date(2040, 1, 1))
        for n in range(1, len(stalls) + 1):
            stall = Stall("bench", str(n), 20.0, StallCategory.FOOD, StallStatus.CLOSED, 1, made, held)
            await store.insert_stall(stall, None)
        collections = (store.stalls, store.history, mongo.db[Outbox(mongo, "markets.events").collection.name])
        ops_before = await _operations(mongo.client)
        started = time.perf_counter()
        until = started + seconds
        counts = await asyncio.gather(
            *(_bare_writes(collections, mongo.client, f"bench/{n}", until) for n in range(1, len(stalls) + 1))
        )
        bare_s = time.perf_counter() - started
        bare_ops = _per_write(ops_before, await _operations(mongo.client), sum(counts))
        started = time.perf_counter()
        until = started + seconds
        bulk_counts = await asyncio.gather(
            *(
                _bare_writes(collections, mongo.client, f"bench/{n}", until, one_command=True)
                for n in range(1, len(stalls) + 1)
            )
        )
        bulk_s = time.perf_counter() - started
    finally:
        await drop_database_gradually(mongo.db)
        await mongo.close()
    service_per_s, bare_per_s, bulk_per_s = tally.accepted / service_s, sum(counts) / bare_s, sum(bulk_counts) / bulk_s
    return {
        "workers": len(stalls),
        "service_writes": tally.accepted,
        "service_refused": sum(tally.refused.values()),
        "service_writes_per_s": round(service_per_s, 1),
        "service_p50_ms": _ms(percentile(tally.http_s, 0.50)),
        "service_p99_ms": _ms(percentile(tally.http_s, 0.99)),
        "bare_writes": sum(counts),
        "bare_writes_per_s": round(bare_per_s, 1),
        "service_db_operations_per_write": service_ops,
        "bare_db_operations_per_write": bare_ops,
        "service_vs_bare": round(service_per_s / bare_per_s, 3) if bare_per_s else None,
        "bare_one_command_writes_per_s": round(bulk_per_s, 1),
        "service_vs_bare_one_command": round(service_per_s / bulk_per_s, 3) if bulk_per_s else None,
    }


async def spunta(
    mongo_url: str, *, stalls: int = 40, candidates: int = 60, days: int = 3, opened: int = 10
) -> dict[str, Any]:
    """The spunta's use cases on a database of their own on ``mongo_url``: one market of ``stalls``
    (half assigned, ``opened`` of those opened in time each day), ``candidates`` traders registered
    each of ``days`` past days, then the day assigned; the database is dropped at the end."""
    rome = ZoneInfo("Europe/Rome")
    mongo = Mongo(MarketsSettings(mongo_url=mongo_url), database=f"markets_spunta_bench_{token_hex(3)}")
    clock = [datetime.now(UTC)]
    try:
        await mongo.ensure_indexes({**MarketStore.indexes, **SpuntaStore.indexes, **Outbox.indexes})
        store = MarketStore(mongo.db)
        service = SpuntaService(
            SpuntaStore(mongo.db), store, Outbox(mongo, "markets.events"), cutoff=dtime(8), clock=lambda: clock[0]
        )
        today = datetime.now(rome).date()
        first = today - timedelta(days=days)
        made = datetime.combine(first - timedelta(days=1), dtime(12), rome)
        await store.insert_market(
            Market("bench", "Bench", "Via Bench 1", 1, Location(9.19, 45.46), 1, made, made), None
        )
        held = Concession("holder", date(2020, 1, 1), date(2040, 1, 1))
        for n in range(1, stalls + 1):
            assigned = n % 2 == 0
            status = StallStatus.CLOSED if assigned else StallStatus.VACANT
            stall = Stall("bench", str(n), 20.0, StallCategory.FOOD, status, 1, made, held if assigned else None)
            await store.insert_stall(stall, None)
        register_s: list[float] = []
        assign_s: list[float] = []
        assigned_stalls = offered = 0
        for k in range(days):
            day = first + timedelta(days=k)
            for n in range(2, 2 + 2 * opened, 2):  # these holders open at 07:00
                at = datetime.combine(day, dtime(7), rome)
                await store.add_history(
                    HistoryEntry("bench", str(n), 2 + k * 2, at, StallStatus.CLOSED, StallStatus.OPEN, "", "bench"),
                    None,
                )
                close = datetime.combine(day, dtime(19), rome)
                await store.add_history(
                    HistoryEntry("bench", str(n), 3 + k * 2, close, StallStatus.OPEN, StallStatus.CLOSED, "", "bench"),
                    None,
                )
            for c in range(candidates):
                clock[0] = datetime.combine(day, dtime(7, 0, c % 60), rome) + timedelta(minutes=c // 60)
                started = time.perf_counter()
                await service.register("bench", day.isoformat(), f"trader{(c * 7 + k) % candidates:03d}", "bench")
                register_s.append(time.perf_counter() - started)
            clock[0] = datetime.combine(day, dtime(9), rome)
            started = time.perf_counter()
            result = await service.assign("bench", day.isoformat(), (), "bench")
            assign_s.append(time.perf_counter() - started)
            assigned_stalls, offered = len(result.assignments), len(result.offered)
        return {
            "stalls": stalls,
            "candidates": candidates,
            "days": days,
            "offered_last_day": offered,
            "assigned_last_day": assigned_stalls,
            "assign_ms": [_ms(s) for s in assign_s],
            "assign_max_ms": _ms(max(assign_s)),
            "register_p50_ms": _ms(percentile(register_s, 0.5)),
            "register_p99_ms": _ms(percentile(register_s, 0.99)),
        }
    finally:
        await drop_database_gradually(mongo.db)
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="a bearer token of the office or the market's operator")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--market", default="wagner")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    result = asyncio.run(run(args.gateway, args.token, args.seconds, market_id=args.market, workers=args.workers))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
