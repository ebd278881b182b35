"""Reading the platform's topics from outside, as tests and benchmarks do (never a service's consumer).

:func:`tail` is a consumer without a group that sees what is written from now on: it has every
partition of its topics assigned and starts at their end, so what it reads and when tells how long
a write took to reach the broker's readers. :func:`arrivals` reads it batch by batch with the time
each batch arrived. :func:`read_topic` reads a topic from its start in a group of its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka import end_offsets
from shared.settings import ServiceSettings


class MissingTopic(RuntimeError):
    """A topic to read has no partitions on the broker (it was never created)."""


async def tail(bootstrap: str, topics: Sequence[str], fetch_wait_ms: int) -> AIOKafkaConsumer:
    """A started consumer without a group on every partition of ``topics``, positioned at their end.

    ``fetch_wait_ms`` is how long the broker may hold an empty fetch: give the services' own setting
    (``kafka_fetch_max_wait_ms``) to read as quickly as their consumers do."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=fetch_wait_ms)
    await consumer.start()
    try:
        known = await consumer.topics()
        missing = [topic for topic in topics if topic not in known]
        if missing:
            raise MissingTopic(f"topics {missing} do not exist on {bootstrap}")
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        consumer.assign(partitions)
        for partition, end in (await end_offsets(ServiceSettings(kafka_bootstrap=bootstrap), partitions)).items():
            consumer.seek(partition, end)
    except BaseException:
        await consumer.stop()
        raise
    return consumer


async def arrivals(consumer: AIOKafkaConsumer, stop: asyncio.Event) -> AsyncIterator[tuple[float, list[Any]]]:
    """Each fetch of ``consumer`` until ``stop`` is set: when it arrived (``perf_counter``) and its
    records (an empty list when nothing came within 100 ms)."""
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=100)
        arrived = time.perf_counter()
        yield arrived, [record for records in batches.values() for record in records]


async def read_topic(
    bootstrap: str, topic: str, until: Callable[[list[Any]], bool], timeout_s: float = 15.0
) -> list[Any]:
    """The records of ``topic`` from its start, read in a group of its own until ``until(records)``
    holds or ``timeout_s`` pass (the topic may be created meanwhile)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"reader-{uuid.uuid4().hex[:10]}",
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        while not until(records) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=300)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records
