"""The event backbone against the real broker and database started by the harness."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import ASCENDING, IndexModel

from devkit.probe_service import NoteWritten, build
from devkit.testing import LocalKafka, LocalMongo, eventually, make_settings, produce, running_app, unique
from devkit.topics import read_topic
from shared.events import CloudEvent
from shared.mongo import Mongo
from shared.outbox import Outbox
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def seen_counts(settings: ServiceSettings) -> dict[str, int]:
    mongo = Mongo(settings)
    try:
        return {d["_id"]: d["count"] async for d in mongo.db.seen.find()}
    finally:
        await mongo.close()


async def test_write_is_published_and_consumed_once(infra: tuple[LocalKafka, LocalMongo]) -> None:
    kafka, mongo = infra
    topic = unique("probe.events")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe")
    async for client in running_app(build(settings, topic, unique("group"))):
        started = time.perf_counter()
        response = await client.post("/notes", json={"id": "n1", "text": "hello"})
        assert response.status_code == 201
        await eventually(lambda: _has(settings, "n1"), what="projection of n1")
        latency = time.perf_counter() - started
        print(f"write -> consumed latency {latency * 1000:.0f} ms")
        records = await read_topic(kafka.bootstrap, topic, lambda got: len(got) >= 1)
        assert len(records) == 1
        event = CloudEvent.from_bytes(records[0].value)
        assert event.type == "probe.note.written.v1" and event.subject == "n1" and records[0].key == b"n1"
        assert event.specversion == "1.0" and event.source == "/probe"
        metrics = (await client.get("/metrics")).text
        assert 'probe_events_published_total{topic="%s",type="probe.note.written.v1"} 1.0' % topic in metrics
        assert 'probe_outbox_publish_age_seconds_count{topic="%s"} 1.0' % topic in metrics
        assert "probe_consumer_lag" in metrics and "probe_outbox_backlog 0.0" in metrics
        assert 'probe_http_requests_total{method="POST",route="/notes",status="201"} 1.0' in metrics


async def _has(settings: ServiceSettings, note_id: str, count: int = 1) -> bool:
    return (await seen_counts(settings)).get(note_id) == count


async def test_every_collection_exists_before_the_service_is_ready(infra: tuple[LocalKafka, LocalMongo]) -> None:
    """No collection is created while the service serves: its own, the outbox, its lease, processed events."""
    kafka, mongo = infra
    topic, group = unique("probe.events"), unique("group")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe")
    app = build(settings, topic, group)
    async for _client in running_app(app):
        names = set(await app.state.runtime.mongo.db.list_collection_names())
        assert {"notes", "seen", "outbox", "outbox_lease", f"processed_events.{group}"} <= names, names


async def test_outbox_keeps_writes_while_broker_is_down(durable_kafka: LocalKafka, mongo: LocalMongo) -> None:
    topic = unique("probe.events")
    settings = make_settings(ServiceSettings, durable_kafka, mongo, service_name="probe")
    async for client in running_app(build(settings, topic, unique("group"))):
        assert (await client.post("/notes", json={"id": "before", "text": "x"})).status_code == 201
        await eventually(lambda: _has(settings, "before"), what="first note")
        durable_kafka.kill()
        accepted = []
        for i in range(5):
            response = await client.post("/notes", json={"id": f"during-{i}", "text": "x"})
            assert response.status_code == 201, response.text
            accepted.append(f"during-{i}")
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "kafka" in ready.json()["detail"]
        assert ready.headers["content-type"].startswith("application/problem+json")
        await asyncio.sleep(1.0)
        durable_kafka.start()
        for note in accepted:
            await eventually(lambda note=note: _has(settings, note), timeout_s=60, what=f"delivery of {note}")
        counts = await seen_counts(settings)
        print(f"accepted during outage {len(accepted)}, delivered {sum(counts[n] for n in accepted)}, lost 0")
        assert all(counts[n] == 1 for n in [*accepted, "before"])
        await eventually(lambda: _ready(client), timeout_s=30, what="readiness after broker restart")


async def _ready(client: Any) -> bool:
    return bool((await client.get("/readyz")).status_code == 200)


async def test_commit_without_publish_is_delivered_after_restart(infra: tuple[LocalKafka, LocalMongo]) -> None:
    """A process killed right after committing (before its relay ran) loses nothing."""
    kafka, mongo = infra
    topic = unique("probe.events")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe")
    db = Mongo(settings)
    outbox = Outbox(db, topic)

    async def work(uow: Any) -> None:
        await db.db.notes.insert_one({"_id": "orphan", "text": "x"}, session=uow.session)
        uow.emit(NoteWritten(note_id="orphan", text="x"))

    await outbox.run(work)
    assert await outbox.backlog() == 1
    await db.close()
    async for _client in running_app(build(settings, topic, unique("group"))):
        await eventually(lambda: _has(settings, "orphan"), what="orphaned event delivered")


async def test_an_outbox_of_the_previous_version_is_taken_over(infra: tuple[LocalKafka, LocalMongo]) -> None:
    """The relay used to mark what it published and keep it 7 days: at start the marked events go
    (never published again), the indexes they were kept by are dropped, an unmarked one is still
    published, and from then on every published event leaves the outbox."""
    kafka, mongo = infra
    topic = unique("probe.events")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe")
    db = Mongo(settings)
    outbox = Outbox(db, topic)
    await db.db.create_collection("outbox")
    await db.db.outbox.create_indexes(
        [
            IndexModel([("sent_at", ASCENDING), ("_id", ASCENDING)], name="pending"),
            IndexModel([("sent_at", ASCENDING)], name="sent_ttl", expireAfterSeconds=7 * 86400),
        ]
    )
    published_before = [NoteWritten(note_id=f"old-{i}", text="x").to_event() for i in range(450)]
    waiting = NoteWritten(note_id="waiting", text="x").to_event()
    await db.db.outbox.insert_many(
        [{**outbox._document(e), "sent_at": datetime.now(UTC)} for e in published_before]
        + [{**outbox._document(waiting), "sent_at": None}]
    )
    await db.close()
    app = build(settings, topic, unique("group"))
    async for client in running_app(app):
        await eventually(lambda: _has(settings, "waiting"), what="the unmarked event delivered")
        collection = app.state.runtime.mongo.db.outbox
        assert [ix["name"] async for ix in await collection.list_indexes()] == ["_id_"]
        await eventually(lambda: _outbox_empty(collection), what="the published event deleted")
        assert (await client.post("/notes", json={"id": "new", "text": "x"})).status_code == 201
        await eventually(lambda: _has(settings, "new"), what="a new note delivered")
        await eventually(lambda: _outbox_empty(collection), what="the new event deleted once published")
        records = await read_topic(kafka.bootstrap, topic, lambda got: len(got) >= 2)
        assert sorted(CloudEvent.from_bytes(r.value).subject for r in records) == ["new", "waiting"]
        assert not any(note.startswith("old-") for note in await seen_counts(settings))


async def _outbox_empty(collection: Any) -> bool:
    return bool(await collection.count_documents({}) == 0)


async def test_duplicates_are_processed_once(infra: tuple[LocalKafka, LocalMongo]) -> None:
    kafka, mongo = infra
    topic = unique("probe.events")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe")
    event = NoteWritten(note_id="dup", text="x").to_event()
    async for client in running_app(build(settings, topic, unique("group"))):
        await produce(kafka.bootstrap, topic, [(b"dup", event.to_bytes())] * 3)
        marker = NoteWritten(note_id="marker", text="x").to_event()
        await produce(kafka.bootstrap, topic, [(b"marker", marker.to_bytes())])
        await eventually(lambda: _has(settings, "marker"), what="marker")
        assert (await seen_counts(settings))["dup"] == 1
        metrics = (await client.get("/metrics")).text
        assert 'outcome="duplicate"' in metrics


async def test_poison_messages_go_to_the_dlq_and_the_consumer_keeps_going(infra: tuple[LocalKafka, LocalMongo]) -> None:
    kafka, mongo = infra
    topic = unique("probe.events")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe", consumer_max_retries=2)
    async for _client in running_app(build(settings, topic, unique("group"))):
        await produce(
            kafka.bootstrap,
            topic,
            [
                (b"garbage", b"{not json"),
                (b"p", NoteWritten(note_id="p", text="poison").to_event().to_bytes()),
                (b"b", NoteWritten(note_id="b", text="boom").to_event().to_bytes()),
                (b"ok", NoteWritten(note_id="ok", text="fine").to_event().to_bytes()),
            ],
        )
        await eventually(lambda: _has(settings, "ok"), what="good event after poison")
        dead = await read_topic(kafka.bootstrap, f"{topic}.dlq", lambda got: len(got) >= 3)
        reasons = {r.key: dict(r.headers) for r in dead}
        assert set(reasons) == {b"garbage", b"p", b"b"}
        assert b"not a valid CloudEvent" in reasons[b"garbage"]["dlq_error"]
        assert reasons[b"p"]["dlq_error"].startswith(b"rejected by handler")
        assert [reasons[k]["dlq_reason"] for k in (b"garbage", b"p", b"b")] == [b"poison", b"poison", b"handler_failed"]
        assert b"ValueError" in reasons[b"b"]["dlq_error"]
        assert reasons[b"b"]["dlq_original_topic"] == topic.encode()
        counts = await seen_counts(settings)
        assert "p" not in counts and "b" not in counts


async def test_consumer_resumes_from_committed_offset(infra: tuple[LocalKafka, LocalMongo]) -> None:
    kafka, mongo = infra
    topic, group = unique("probe.events"), unique("group")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe")
    first = [NoteWritten(note_id=f"a{i}", text="x").to_event() for i in range(20)]
    second = [NoteWritten(note_id=f"b{i}", text="x").to_event() for i in range(15)]
    async for _client in running_app(build(settings, topic, group)):
        await produce(kafka.bootstrap, topic, [(e.key(), e.to_bytes()) for e in first])
        await eventually(lambda: _count(settings, 20), what="first 20")
    await produce(kafka.bootstrap, topic, [(e.key(), e.to_bytes()) for e in second])
    app = build(settings, topic, group)
    async for _client in running_app(app):
        await eventually(lambda: _count(settings, 35), what="all 35")
        await asyncio.sleep(0.5)
        consumer = app.state.runtime.consumers[0]
        assert consumer.handled == 15, "a restarted consumer must resume after its committed offset"
    assert set((await seen_counts(settings)).values()) == {1}


async def _count(settings: ServiceSettings, n: int) -> bool:
    return len(await seen_counts(settings)) == n


async def test_readiness_follows_mongodb(kafka: LocalKafka, durable_mongo: LocalMongo) -> None:
    topic = unique("probe.events")
    settings = make_settings(ServiceSettings, kafka, durable_mongo, service_name="probe", mongo_timeout_ms=800)
    async for client in running_app(build(settings, topic)):
        assert (await client.get("/readyz")).status_code == 200
        durable_mongo.stop()  # stopped, as in the contract; crash recovery is exercised in tests/faults
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "mongodb" in ready.json()["detail"]
        write = await client.post("/notes", json={"id": "while-down", "text": "x"})
        assert write.status_code == 503
        assert write.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in write.text
        durable_mongo.start()
        await eventually(lambda: _ready(client), timeout_s=30, what="ready again")
        assert (await client.post("/notes", json={"id": "after", "text": "x"})).status_code == 201
