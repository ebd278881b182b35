"""Districts benchmark: projection throughput against a plain aiokafka loop, and KPI freshness.

1. Throughput. A mix of shop, service and stall events is produced to fresh topics. A plain
   aiokafka consumer in a fresh group reads and JSON-decodes them all; then the districts service
   starts on the same topics and its consumer projects them (one MongoDB transaction per batch,
   with the processed event ids). Both are timed from their start, group join included, and from
   their first event (``*_after_first``), in the same run on the same broker. The database's floor
   for the same work is a bare loop (:func:`bare_upserts`): batches of the consumer's size, each one
   transaction checking and recording the processed ids and upserting one document per changed
   entity, on the same database server (ratio = projection ÷ bare events/s; goal 0.9 or more).
2. Freshness. With the service running and caught up, a stall status change is produced, then
   ``GET /districts/{code}`` is polled until ``stalls_open`` shows it: p50/p99 of produce → visible.
3. DUC report. The district holding the most active businesses gets a full 90-day time series (one
   sample every 5 minutes, as the refresher's interval snapshot writes it), then its PDF report
   (``GET /districts/{code}/report?format=pdf``) and its HTML page are generated one after the
   other, against ``GET /districts/{code}`` as the baseline: p50/max and the ratio of the p50s.

``run(bootstrap, mongo_url, ...)`` uses the given broker and database (fresh topics, groups and
database, dropped at the end). ``python services/districts/bench.py`` starts its own.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from districts.geography.domain import District, Nil
from districts.geography.store import GeographyStore
from districts.main import create_app
from districts.projection.store import MARKS, TIMESERIES
from districts.seed import DISTRICTS, NILS, district_body, nil_body
from districts.settings import DistrictsSettings
from pymongo import AsyncMongoClient, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from shapely.geometry import Point, Polygon, mapping

from devkit.testing import FAST_KAFKA, LocalKafka, LocalMongo, running_app, unique
from shared.events import CloudEvent, utcnow
from shared.mongo import Mongo, drop_database_gradually

MILAN = (9.10, 45.43, 9.24, 45.53)
SERIES_DAYS, SAMPLE_EVERY = 90, timedelta(minutes=5)
MARKETS, STALLS_PER_MARKET = 20, 20
POLL_S = 0.005
BATCH = 200  # the consumer's batch (shared.consumer.IdempotentConsumer's max_batch)
PROBE = "bench-probe"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else math.nan


def _event(kind: str, subject: str, data: dict[str, Any]) -> CloudEvent:
    return CloudEvent(source="/" + kind.split(".")[0], type=kind, subject=subject, data=data)


class Mix:
    """A stream of events as the markets and shops services publish them, versions in order."""

    def __init__(self, seed: int = 6) -> None:
        self.random = random.Random(seed)
        self.versions: dict[str, int] = {}
        self.stalls: dict[str, str] = {}
        self.shops: list[str] = []
        self.market_at: dict[str, dict[str, float]] = {}

    def _next(self, key: str) -> int:
        self.versions[key] = self.versions.get(key, 0) + 1
        return self.versions[key]

    def _point(self) -> dict[str, float]:
        lon0, lat0, lon1, lat1 = MILAN
        return {"lon": self.random.uniform(lon0, lon1), "lat": self.random.uniform(lat0, lat1)}

    def markets(self, count: int) -> list[CloudEvent]:
        found = []
        for m in range(count):
            market = f"m{m}"
            self.market_at[market] = self._point()
            found.append(_event("markets.market.registered.v1", market, {
                "market_id": market, "name": market, "location": self.market_at[market], "active": True,
                "version": 1,
            }))  # fmt: skip
            for n in range(STALLS_PER_MARKET):
                stall = f"{market}/{n}"
                self.stalls[stall] = "open"
                found.append(_event("markets.stall.created.v1", stall, {
                    "market_id": market, "number": str(n), "status": "open", "version": self._next(stall),
                }))  # fmt: skip
        return found

    def stall_change(self, stall: str) -> CloudEvent:
        before = self.stalls[stall]
        after = self.stalls[stall] = "closed" if before == "open" else "open"
        market, number = stall.split("/")
        data = {"market_id": market, "number": number, "from": before, "to": after, "version": self._next(stall)}
        return _event("markets.stall.status_changed.v1", stall, data)

    def one(self) -> CloudEvent:
        roll = self.random.random()
        if roll < 0.35 or not self.shops:
            shop = f"s{len(self.shops)}"
            self.shops.append(shop)
            kind = self.random.choice(["shop", "historic", "kiosk"])
            return _event("shops.shop.registered.v1", shop, {
                "shop_id": shop, "kind": kind, "location": self._point(), "status": "active",
                "year_founded": 1950, "version": self._next(shop),
            })  # fmt: skip
        shop = self.random.choice(self.shops)
        if roll < 0.5:
            data = {"shop_id": shop, "from": "active", "to": "closed", "version": self._next(shop)}
            return _event("shops.shop.status_changed.v1", shop, data)
        if roll < 0.7:
            return _event("shops.service.registered.v1", shop, {
                "shop_id": shop, "service_id": f"o{roll}", "service": "ritiro_pacchi",
                "weekly_minutes": 3000, "evening_minutes": 300, "weekend_minutes": 600,
            })  # fmt: skip
        return self.stall_change(self.random.choice(list(self.stalls)))


async def _produce(bootstrap: str, batches: list[tuple[str, list[CloudEvent]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for topic, events in batches:
            for event in events:
                await producer.send(topic, value=event.to_bytes(), key=event.key())
        await producer.flush()
    finally:
        await producer.stop()


def _reader(settings: DistrictsSettings, topics: list[str], group: str) -> AIOKafkaConsumer:
    """A consumer in a fresh group from the start of the topics, fetching as the service does."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=unique(group),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


async def plain_loop(settings: DistrictsSettings, topics: list[str], expected: int) -> dict[str, float]:
    consumer = _reader(settings, topics, "bench-plain")
    started, first, read = time.perf_counter(), 0.0, 0
    await consumer.start()
    try:
        while read < expected:
            for records in (await consumer.getmany(timeout_ms=200, max_records=1000)).values():
                first = first or time.perf_counter()
                for record in records:
                    json.loads(record.value or b"{}")
                read += len(records)
    finally:
        await consumer.stop()
    return {"seconds": time.perf_counter() - started, "after_first": time.perf_counter() - first}


async def bare_upserts(settings: DistrictsSettings, topics: list[str], expected: int) -> dict[str, float]:
    """The database's own floor for the same work: a plain consume loop (batches of the consumer's
    size) applying, in one transaction per batch, the check and record of processed ids and one
    upsert per entity the batch changes, in a database of its own on the same server."""
    consumer = _reader(settings, topics, "bench-bare")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    db = client[unique("bench_bare").replace("-", "_")]
    await db.create_collection("entities")
    await db.create_collection("processed")
    started, first, read = time.perf_counter(), 0.0, 0
    await consumer.start()
    try:
        while read < expected:
            for records in (await consumer.getmany(timeout_ms=200, max_records=BATCH)).values():
                first = first or time.perf_counter()
                events = [CloudEvent.from_bytes(record.value or b"{}") for record in records]
                async with client.start_session() as session, await session.start_transaction():
                    ids = [e.id for e in events]
                    await db["processed"].find({"_id": {"$in": ids}}, {"_id": 1}, session=session).to_list()
                    entities = {f"{e.type.split('.')[1]}:{e.subject}": e.data for e in events}
                    upserts = [
                        ReplaceOne({"_id": key}, {"fields": data}, upsert=True) for key, data in entities.items()
                    ]
                    await db["entities"].bulk_write(upserts, ordered=False, session=session)
                    await db["processed"].insert_many([{"_id": i, "at": utcnow()} for i in ids], session=session)
                read += len(records)
    finally:
        await consumer.stop()
        await drop_database_gradually(db)
        await client.close()
    return {"seconds": time.perf_counter() - started, "after_first": time.perf_counter() - first}


async def _kpi(client: httpx.AsyncClient, code: str) -> int:
    body = (await client.get(f"/districts/{code}")).json()
    return int(body["kpis"]["stalls_open"])


async def _geography(settings: DistrictsSettings, mix: Mix) -> dict[str, Any]:
    """The demo NILs and DUC districts, and a small probe district around market ``m0``."""
    centre = mix.market_at["m0"]
    probe = Polygon.from_bounds(
        centre["lon"] - 0.0005, centre["lat"] - 0.0005, centre["lon"] + 0.0005, centre["lat"] + 0.0005
    )
    mongo = Mongo(settings)
    store = GeographyStore(mongo.db)
    now = utcnow()

    async def work(session: AsyncClientSession) -> None:
        for nil in NILS:
            body = nil_body(nil)
            nil_def = Nil(body["id"], body["name"], body["population"], body.get("area_km2"), now, body["perimeter"])
            await store.save_nil(nil_def, session)
        districts = [district_body(*d) for d in DISTRICTS]
        districts.append({"code": PROBE, "name": "Probe", "perimeter": mapping(probe)})
        for body in districts:
            district = District(body["code"], body["name"], 1, now, body["perimeter"])
            await store.save_district(district, expected_version=None, session=session)
        await store.record_change("bench", session)

    try:
        await mongo.transaction(work)
    finally:
        await mongo.close()
    inside = [m for m, at in mix.market_at.items() if probe.covers(Point(at["lon"], at["lat"]))]
    return {"inside": inside}


async def run(
    kafka_bootstrap: str, mongo_url: str, *, events: int = 3000, samples: int = 100, reports: int = 10
) -> dict[str, Any]:
    """Throughput of the districts consumer vs a plain loop (``events``), then ``samples`` freshness probes,
    then ``reports`` DUC reports of one district."""
    settings = DistrictsSettings.model_validate(
        {
            "profile": "test",
            "log_level": "WARNING",
            "kafka_bootstrap": kafka_bootstrap,
            "mongo_url": mongo_url,
            "mongo_db": unique("bench_districts").replace("-", "_"),
            "markets_topic": unique("bench.markets.events"),
            "shops_topic": unique("bench.shops.events"),
            "districts_topic": unique("bench.districts.events"),
            "consumer_group": unique("bench-districts"),
            "outbox_poll_interval_s": 0.05,
            **FAST_KAFKA,
        }
    )
    mix = Mix()
    stalls = mix.markets(max(1, min(MARKETS, events // (3 * (STALLS_PER_MARKET + 1)))))
    stream = [mix.one() for _ in range(max(0, events - len(stalls)))]
    shops = [e for e in stream if e.source == "/shops"]
    markets = stalls + [e for e in stream if e.source == "/markets"]
    total = len(markets) + len(shops)
    await _produce(kafka_bootstrap, [(settings.markets_topic, markets), (settings.shops_topic, shops)])
    plain = await plain_loop(settings, [settings.markets_topic, settings.shops_topic], total)
    bare = await bare_upserts(settings, [settings.markets_topic, settings.shops_topic], total)
    probe = await _geography(settings, mix)

    app = create_app(settings)
    started = time.perf_counter()
    try:
        async for client in running_app(app):
            consumer = app.state.runtime.consumers[0]
            first = 0.0
            while consumer.handled < total:
                if consumer.handled and not first:
                    first = time.perf_counter()
                await asyncio.sleep(POLL_S)
            projected = {"seconds": time.perf_counter() - started, "after_first": time.perf_counter() - first}
            latencies = await _freshness(client, settings, mix, probe["inside"], samples)
            report = await _report(client, settings, reports)
    finally:
        cleanup: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        async with cleanup:
            await drop_database_gradually(cleanup[settings.database_name])
    rate, plain_rate = total / projected["seconds"], total / plain["seconds"]
    return {
        "events": total,
        "projection_events_per_s": round(rate),
        "projection_events_per_s_after_first": round(total / projected["after_first"]),
        "plain_events_per_s": round(plain_rate),
        "plain_events_per_s_after_first": round(total / plain["after_first"]),
        "projection_vs_plain": round(rate / plain_rate, 4),
        "bare_upserts_events_per_s": round(total / bare["seconds"]),
        "bare_upserts_events_per_s_after_first": round(total / bare["after_first"]),
        "projection_vs_bare_upserts": round(rate / (total / bare["seconds"]), 4),
        "projection_vs_bare_upserts_after_first": round(bare["after_first"] / projected["after_first"], 4),
        "freshness_samples": len(latencies),
        "freshness_p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
        "freshness_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "freshness_max_ms": round(max(latencies) * 1000, 1),
        **report,
    }


async def _stalls_open(client: httpx.AsyncClient) -> int:
    return int((await client.get(f"/districts/{PROBE}")).json()["kpis"]["stalls_open"])


async def _until(client: httpx.AsyncClient, expected: int) -> None:
    while await _stalls_open(client) != expected:
        await asyncio.sleep(POLL_S)


async def _caught_up(settings: DistrictsSettings) -> None:
    """No area waits for new KPIs any more."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    async with client:
        while await client[settings.database_name][MARKS].count_documents({}):
            await asyncio.sleep(0.05)


async def _freshness(
    client: httpx.AsyncClient, settings: DistrictsSettings, mix: Mix, inside: list[str], samples: int
) -> list[float]:
    """Produce a stall change of ``m0``, poll the probe district until ``stalls_open`` shows it.

    Measured in the steady state: after the burst has been projected and every area refreshed.
    """
    expected = sum(1 for stall, status in mix.stalls.items() if stall.split("/")[0] in inside and status == "open")
    await asyncio.wait_for(_until(client, expected), 60)
    await asyncio.wait_for(_caught_up(settings), 120)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    latencies: list[float] = []
    try:
        for i in range(samples):
            event = mix.stall_change(f"m0/{i % STALLS_PER_MARKET}")
            expected += 1 if event.data["to"] == "open" else -1
            sent = time.perf_counter()
            await producer.send_and_wait(settings.markets_topic, value=event.to_bytes(), key=event.key())
            await asyncio.wait_for(_until(client, expected), 30)
            latencies.append(time.perf_counter() - sent)
    finally:
        await producer.stop()
    return latencies


async def _series(settings: DistrictsSettings, code: str, kpis: dict[str, Any]) -> int:
    """``SERIES_DAYS`` of hourly buckets of the district's KPIs, one sample every ``SAMPLE_EVERY``."""
    end = utcnow().replace(minute=0, second=0, microsecond=0)
    start, per_hour = end - timedelta(days=SERIES_DAYS), timedelta(hours=1) // SAMPLE_EVERY
    scalars = {k: v for k, v in kpis.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    buckets = []
    for hour in range(SERIES_DAYS * 24):
        at = start + timedelta(hours=hour)
        samples = [{**scalars, "at": at + i * SAMPLE_EVERY} for i in range(per_hour)]
        buckets.append({"_id": f"{code}|{at:%Y-%m-%dT%H}", "district": code, "hour": at, "samples": samples})
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    async with client:
        await client[settings.database_name][TIMESERIES].insert_many(buckets, ordered=False)
    return len(buckets) * per_hour


async def _timed(client: httpx.AsyncClient, path: str, runs: int, **params: str) -> tuple[list[float], int]:
    took, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        answer = await client.get(path, params=params)
        took.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
        size = len(answer.content)
    return took, size


async def _report(client: httpx.AsyncClient, settings: DistrictsSettings, runs: int) -> dict[str, Any]:
    """The DUC report of the district with the most active businesses, over a full 90-day series."""
    districts = (await client.get("/districts", params={"limit": 500})).json()["items"]
    busiest = max(districts, key=lambda d: (d["kpis"]["shops_active"], d["code"]))
    code = busiest["code"]
    series = await _series(settings, code, busiest["kpis"])
    path = f"/districts/{code}"
    await _timed(client, f"{path}/report", 1, format="pdf")  # fonts and templates loaded once per process
    baseline, _ = await _timed(client, path, runs)
    pdf, pdf_bytes = await _timed(client, f"{path}/report", runs, format="pdf")
    html, html_bytes = await _timed(client, f"{path}/report", runs)
    p50 = _percentile(baseline, 0.5)
    return {
        "report_district": code,
        "report_district_businesses": busiest["kpis"]["shops_active"],
        "report_series_samples": series,
        "report_runs": runs,
        "report_pdf_p50_ms": round(_percentile(pdf, 0.5) * 1000, 1),
        "report_pdf_max_ms": round(max(pdf) * 1000, 1),
        "report_pdf_bytes": pdf_bytes,
        "report_html_p50_ms": round(_percentile(html, 0.5) * 1000, 1),
        "report_html_bytes": html_bytes,
        "district_json_p50_ms": round(p50 * 1000, 1),
        "report_pdf_vs_district_json": round(_percentile(pdf, 0.5) / p50, 1),
    }


async def _main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        kafka, mongo = LocalKafka(Path(workdir) / "kafka"), LocalMongo(Path(workdir) / "mongo")
        kafka.start()
        mongo.start()
        try:
            print(json.dumps(await run(kafka.bootstrap, mongo.url), indent=2))
        finally:
            kafka.stop()
            mongo.stop()


if __name__ == "__main__":
    asyncio.run(_main())
