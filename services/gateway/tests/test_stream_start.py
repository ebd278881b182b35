"""Where the live stream starts: at the end of its topics, even after a batch of several records."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer
from gateway.live.feed import EventFeed
from gateway.live.hub import EventHub
from gateway.metrics import GatewayMetrics
from gateway.settings import GatewaySettings

from devkit.testing import LocalKafka, unique
from shared.events import CloudEvent
from shared.kafka import ensure_topics
from shared.metrics import ServiceMetrics

pytestmark = pytest.mark.integration


def _event(n: int) -> bytes:
    return CloudEvent(source="/markets", type="markets.test.v1", subject=f"m/{n}", data={"n": n}).to_bytes()


async def test_the_stream_starts_after_what_was_written_before_it(kafka: LocalKafka) -> None:
    topic = unique("stream.start")
    settings = GatewaySettings(kafka_bootstrap=kafka.bootstrap, stream_topics=[topic], kafka_topic_partitions=1)
    await ensure_topics(settings, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=200)
    await producer.start()
    hub = EventHub(ring_size=100, queue_size=100, max_clients=5, first_seq=1)
    feed = EventFeed(settings, hub, GatewayMetrics(ServiceMetrics("gateway")))
    try:
        before = [await producer.send(topic, _event(n)) for n in range(5)]  # one batch of five records
        for sent in before:
            await sent
        feed.start()
        await asyncio.wait_for(feed.ready.wait(), 30)
        await producer.send_and_wait(topic, _event(99))
        for _ in range(200):
            if hub.since("0"):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything from before would have come with or before it
        streamed = [json.loads(message.data)["data"]["n"] for message in hub.since("0")]
        assert streamed == [99]
    finally:
        await feed.stop()
        await producer.stop()
