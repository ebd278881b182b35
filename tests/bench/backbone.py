"""Backbone figures: outbox relay throughput and write → consume latency, against raw aiokafka."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo.asynchronous.client_session import AsyncClientSession

from devkit.probe_service import NoteWritten, build
from devkit.testing import LocalKafka, LocalMongo, make_settings, running_app, unique
from shared.events import CloudEvent
from shared.kafka import ensure_topics
from shared.mongo import Mongo
from shared.outbox import Outbox, OutboxRelay, UnitOfWork
from shared.settings import ServiceSettings
from tests.bench.stats import ratio, summary_ms


async def relay_throughput(kafka: LocalKafka, mongo: LocalMongo, events: int) -> dict[str, Any]:
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="bench")
    topic = unique("bench.relay")
    await ensure_topics(settings, [topic])
    db = Mongo(settings)
    outbox = Outbox(db, topic)
    await db.ensure_indexes(Outbox.indexes)
    batch = 100
    for start in range(0, events, batch):

        async def work(uow: UnitOfWork, start: int = start) -> None:
            for i in range(start, min(events, start + batch)):
                uow.emit(NoteWritten(note_id=f"t{i % 500}", text="x" * 200))

        await outbox.run(work)
    from shared.kafka import KafkaBus
    from shared.metrics import ServiceMetrics

    bus = KafkaBus(settings)
    bus.start()
    await bus.started.wait()
    relay = OutboxRelay(outbox, bus, ServiceMetrics("bench"), batch_size=500)
    started = time.perf_counter()
    while await relay.publish_batch():
        pass
    relay_s = time.perf_counter() - started
    payloads = [NoteWritten(note_id=f"t{i % 500}", text="x" * 200).to_event() for i in range(events)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=5)
    await producer.start()
    started = time.perf_counter()
    futures = [await producer.send(topic + ".raw", value=e.to_bytes(), key=e.key()) for e in payloads]
    await asyncio.gather(*futures)
    raw_s = time.perf_counter() - started
    await producer.stop()
    await bus.stop()
    await db.close()
    return {
        "events": events,
        "relay_events_per_s": round(events / relay_s),
        "raw_producer_events_per_s": round(events / raw_s),
        "relay_vs_raw": ratio(events / relay_s, events / raw_s),
    }


async def write_to_consume_latency(kafka: LocalKafka, mongo: LocalMongo, writes: int) -> dict[str, Any]:
    """HTTP write (state + outbox in one transaction) → event consumed by an idempotent consumer."""
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="bench", outbox_poll_interval_s=0.5)
    topic = unique("bench.e2e")
    consumed: dict[str, float] = {}

    async def handler(event: CloudEvent, session: AsyncClientSession) -> None:
        consumed[event.subject] = time.perf_counter()

    app = build(settings, topic, unique("bench"), handler)
    latencies: list[float] = []
    async for client in running_app(app):
        await asyncio.sleep(2.0)  # let the consumer join its group
        for i in range(writes):
            tick = f"w{i}"
            started = time.perf_counter()
            response = await client.post("/notes", json={"id": tick, "text": "x"})
            assert response.status_code == 201
            deadline = started + 10
            while tick not in consumed and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            latencies.append(consumed.get(tick, deadline) - started)
    return {"writes": writes, **{f"write_to_consume_{k}": v for k, v in summary_ms(latencies).items()}}


async def raw_consume_loop_latency(kafka: LocalKafka, messages: int) -> dict[str, Any]:
    """Baseline: produce with acks=all and see it in a plain aiokafka consumer."""
    topic = unique("bench.rawloop")
    settings = ServiceSettings(kafka_bootstrap=kafka.bootstrap)
    await ensure_topics(settings, [topic])
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap,
        group_id=unique("raw"),
        auto_offset_reset="latest",
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    while not consumer.assignment():
        await asyncio.sleep(0.05)
    await consumer.seek_to_end()
    latencies = []
    for i in range(messages):
        started = time.perf_counter()
        await producer.send_and_wait(topic, value=b"x", key=str(i).encode())
        got = False
        while not got:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                got = got or bool(records)
        latencies.append(time.perf_counter() - started)
    await producer.stop()
    await consumer.stop()
    return {f"raw_produce_to_consume_{k}": v for k, v in summary_ms(latencies).items()}


async def run(workdir: Path, *, events: int = 5000, writes: int = 200) -> dict[str, Any]:
    kafka = LocalKafka(workdir / "kafka")
    mongo = LocalMongo(workdir / "mongo")
    kafka.start()
    mongo.start()
    try:
        results: dict[str, Any] = {}
        results.update(await relay_throughput(kafka, mongo, events))
        results.update(await write_to_consume_latency(kafka, mongo, writes))
        results.update(await raw_consume_loop_latency(kafka, writes))
        results["e2e_p50_vs_raw"] = ratio(results["write_to_consume_p50_ms"], results["raw_produce_to_consume_p50_ms"])
        return results
    finally:
        kafka.stop()
        mongo.stop()
