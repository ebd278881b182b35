"""The end of a partition as a fetch reports it, on the real local broker."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devkit.testing import LocalKafka, unique
from shared.kafka import end_offsets, ensure_topics
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_the_end_counts_every_record_of_a_batch_of_several(kafka: LocalKafka) -> None:
    settings = ServiceSettings(kafka_bootstrap=kafka.bootstrap)
    topic = unique("ends")
    await ensure_topics(settings, [topic])
    several, single, untouched = (TopicPartition(topic, n) for n in range(3))
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=200)
    await producer.start()
    try:
        sent = [await producer.send(topic, b"%d" % n, partition=0) for n in range(5)]  # one batch of five
        for future in sent:
            await future
        await producer.send_and_wait(topic, b"alone", partition=1)
    finally:
        await producer.stop()

    assert await end_offsets(settings, [several, single, untouched]) == {several: 5, single: 1, untouched: 0}

    # what the broker answers to ListOffsets: short of the end after a batch of several records; when
    # this fails the broker has been fixed, and end_offsets() can ask it directly again
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap)
    await consumer.start()
    try:
        assert (await consumer.end_offsets([several]))[several] == 1
    finally:
        await consumer.stop()


async def test_no_partitions_no_question(kafka: LocalKafka) -> None:
    assert await end_offsets(ServiceSettings(kafka_bootstrap=kafka.bootstrap), []) == {}
