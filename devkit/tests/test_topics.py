"""Reading topics from outside: a tail sees only what is written after it starts, on every topic given."""

from __future__ import annotations

import asyncio

import pytest

from devkit.testing import LocalKafka, eventually, produce, unique
from devkit.topics import MissingTopic, arrivals, read_topic, tail
from shared.kafka import ensure_topics
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_a_tail_sees_what_is_written_after_it_starts_on_each_topic(kafka: LocalKafka) -> None:
    first, second = unique("tail.first"), unique("tail.second")
    await ensure_topics(ServiceSettings(kafka_bootstrap=kafka.bootstrap), [first, second])
    await produce(kafka.bootstrap, first, [(b"old", b"written before the tail")])
    consumer = await tail(kafka.bootstrap, [first, second], fetch_wait_ms=100)
    seen: list[tuple[str, bytes]] = []
    stop = asyncio.Event()

    async def listen() -> None:
        async for _arrived, records in arrivals(consumer, stop):
            seen.extend((record.topic, record.key) for record in records)

    listener = asyncio.create_task(listen())
    try:
        await produce(kafka.bootstrap, first, [(b"a", b"1")])
        await produce(kafka.bootstrap, second, [(b"b", b"2")])

        async def both() -> bool:
            return len(seen) >= 2

        await eventually(both, 15, "the two new messages")
    finally:
        stop.set()
        await listener
        await consumer.stop()
    assert sorted(seen) == sorted([(first, b"a"), (second, b"b")])


async def test_a_tail_on_a_topic_that_does_not_exist_is_refused(kafka: LocalKafka) -> None:
    missing = unique("tail.missing")
    with pytest.raises(MissingTopic, match=missing):
        await tail(kafka.bootstrap, [missing], fetch_wait_ms=100)


async def test_read_topic_reads_from_the_start_until_the_condition_holds(kafka: LocalKafka) -> None:
    topic = unique("read")
    await ensure_topics(ServiceSettings(kafka_bootstrap=kafka.bootstrap), [topic])
    await produce(kafka.bootstrap, topic, [(b"k1", b"1"), (b"k2", b"2"), (b"k3", b"3")])
    records = await read_topic(kafka.bootstrap, topic, lambda got: len(got) >= 3)
    assert sorted(r.value for r in records) == [b"1", b"2", b"3"]
