"""A consumer with a batch handler: whole batches at once, each event once, poison still isolated."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo.asynchronous.client_session import AsyncClientSession

from devkit.testing import LocalKafka, LocalMongo, make_settings, unique
from shared.consumer import IdempotentConsumer, PoisonEvent, processed_indexes
from shared.events import CloudEvent
from shared.kafka import KafkaBus, ensure_topics
from shared.metrics import ServiceMetrics
from shared.mongo import Mongo
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_batches_reach_the_handler_whole_and_poison_alone(kafka: LocalKafka, mongo: LocalMongo) -> None:
    topic, group = unique("batch.events"), unique("group")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe", consumer_max_retries=0)
    events = [CloudEvent(source="/probe", type="probe.tick.v1", subject=f"k{i}", data={"n": i}) for i in range(40)]
    poison = CloudEvent(source="/probe", type="probe.tick.v1", subject="bad", data={"n": -1})
    sizes: list[int] = []
    committed: list[int] = []

    async def project(batch: list[CloudEvent], session: AsyncClientSession) -> None:
        if any(e.data["n"] < 0 for e in batch):
            raise PoisonEvent("negative tick")
        sizes.append(len(batch))
        await session.client[settings.database_name].ticks.insert_many(
            [{"_id": e.id, "n": e.data["n"]} for e in batch], session=session
        )

    async def refuse(event: CloudEvent, session: AsyncClientSession) -> None:
        raise AssertionError("the per-event handler is not used when a batch handler is given")

    db, bus, metrics = Mongo(settings), KafkaBus(settings), ServiceMetrics("probe")
    await db.ensure_indexes(processed_indexes(group))
    await ensure_topics(settings, [topic, f"{topic}.dlq"])
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()

    async def publish(batch: list[CloudEvent]) -> None:
        for event in batch:
            await producer.send(topic, value=event.to_bytes(), key=b"one-partition")
        await producer.flush()

    async def handled(n: int, dead: int) -> None:
        for _ in range(400):
            if consumer.handled >= n and consumer.dead_lettered >= dead:
                return
            await asyncio.sleep(0.05)

    await publish(events[:20])
    bus.start()
    consumer = IdempotentConsumer(
        settings=settings, mongo=db, bus=bus, metrics=metrics, topics=[topic], group_id=group,
        handler=refuse, batch_handler=project, on_commit=committed.append,
    )  # fmt: skip
    consumer.start()
    try:
        await handled(20, 0)
        assert sizes and max(sizes) > 1, "events arrive in batches"
        await publish([poison, *events[20:], *events[:5]])
        await handled(len(events), 1)
        stored = await db.db.ticks.count_documents({})
        assert consumer.handled == len(events) == stored and consumer.dead_lettered == 1
        assert sum(committed) == len(events) and 0 not in committed, "told of each commit of new events, once"
    finally:
        await consumer.stop()
        await producer.stop()
        await bus.stop()
        await db.close()


async def test_one_transaction_spans_partitions_and_topics_and_commits_them_all(
    kafka: LocalKafka, mongo: LocalMongo
) -> None:
    topics, group = [unique("span.a"), unique("span.b")], unique("group")
    settings = make_settings(ServiceSettings, kafka, mongo, service_name="probe", kafka_topic_partitions=3)
    seen: list[set[tuple[str, int]]] = []

    async def project(batch: list[CloudEvent], session: AsyncClientSession) -> None:
        seen.append({(e.data["topic"], e.data["partition"]) for e in batch})

    async def refuse(event: CloudEvent, session: AsyncClientSession) -> None:
        raise AssertionError("the batch handler is given")

    db, bus, metrics = Mongo(settings), KafkaBus(settings), ServiceMetrics("probe")
    await db.ensure_indexes(processed_indexes(group))
    await ensure_topics(settings, [*topics, *(f"{t}.dlq" for t in topics)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    sent = 0
    for topic in topics:
        for partition in range(3):
            for n in range(5):
                data = {"topic": topic, "partition": partition, "n": n}
                event = CloudEvent(source="/probe", type="probe.tick.v1", subject=f"p{partition}", data=data)
                await producer.send(topic, value=event.to_bytes(), partition=partition)
                sent += 1
    await producer.flush()
    bus.start()
    consumer = IdempotentConsumer(
        settings=settings, mongo=db, bus=bus, metrics=metrics, topics=topics, group_id=group,
        handler=refuse, batch_handler=project,
    )  # fmt: skip
    consumer.start()
    try:
        for _ in range(400):
            if consumer.handled >= sent:
                break
            await asyncio.sleep(0.05)
        assert consumer.handled == sent
        assert max(len(parts) for parts in seen) > 1, "a poll's partitions are applied together"
        batches = metrics.registry.get_sample_value("probe_consumer_batch_duration_seconds_count")
        assert batches == len(seen) < sent
        for topic in topics:
            aged = metrics.registry.get_sample_value("probe_consumer_event_age_seconds_count", {"topic": topic})
            assert aged == 15
    finally:
        await consumer.stop()
    reader = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        for topic in topics:
            for partition in range(3):
                assert await reader.committed(TopicPartition(topic, partition)) == 5
    finally:
        await reader.stop()
        await producer.stop()
        await bus.stop()
        await db.close()
