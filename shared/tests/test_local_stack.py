"""The local broker and database keep acknowledged data across crashes."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.kafka import ensure_topics
from shared.settings import ServiceSettings
from shared.testing import LocalKafka

pytestmark = pytest.mark.integration


async def _produce(bootstrap: str, topic: str, value: bytes) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        return int((await producer.send_and_wait(topic, value, partition=0)).offset)
    finally:
        await producer.stop()


async def _read(bootstrap: str, topic: str) -> list[tuple[int, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        batches = await consumer.getmany(timeout_ms=2000)
        return [(m.offset, m.value) for records in batches.values() for m in records]
    finally:
        await consumer.stop()


async def test_broker_killed_keeps_acknowledged_records_and_appends_after_them(durable_kafka: LocalKafka) -> None:
    await ensure_topics(ServiceSettings(kafka_bootstrap=durable_kafka.bootstrap), ["durable"])
    assert await _produce(durable_kafka.bootstrap, "durable", b"before") == 0
    durable_kafka.kill()
    durable_kafka.start()
    assert await _produce(durable_kafka.bootstrap, "durable", b"after") == 1
    assert await _read(durable_kafka.bootstrap, "durable") == [(0, b"before"), (1, b"after")]
