"""A consumer session stops in bounded time even when the broker has gone: a stopping service is never held."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from aiokafka import AIOKafkaConsumer

import shared.kafka
from devkit.testing import LocalKafka, unique
from shared.kafka import follow

pytestmark = pytest.mark.integration


async def test_a_session_stops_within_its_leave_bound_after_the_broker_died(
    durable_kafka: LocalKafka, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shared.kafka, "CONSUMER_LEAVE_TIMEOUT_S", 1.0)
    topic = unique("leave")
    joined = asyncio.Event()
    stopping = asyncio.Event()

    def consumer() -> AIOKafkaConsumer:
        # auto-commit on: closing it commits, which aiokafka retries until a coordinator answers
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=durable_kafka.bootstrap,
            group_id=unique("leaving"),
            enable_auto_commit=True,
            auto_offset_reset="earliest",
            session_timeout_ms=1500,
            heartbeat_interval_ms=500,
        )

    async def poll(consumer: AIOKafkaConsumer) -> None:
        while not stopping.is_set():
            await consumer.getmany(timeout_ms=100)
            if consumer.assignment():
                joined.set()

    task = asyncio.create_task(follow(consumer, poll, name="leave test", stopping=stopping))
    await asyncio.wait_for(joined.wait(), 60)

    durable_kafka.kill()
    started = time.monotonic()
    stopping.set()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=20)
    took = time.monotonic() - started
    assert done, "the consumer session still had not stopped 20 s after its broker died"
    print(f"\n[leave] stopped {took:.1f} s after the broker was killed (bound 1 s + close)")
    assert took < 10
    # and nothing of it keeps retrying the gone broker (its heartbeat and fetcher log every half second)
    caplog.clear()
    await asyncio.sleep(3)
    retrying = [r.getMessage() for r in caplog.records if r.name.startswith("aiokafka") and r.levelno >= logging.ERROR]
    assert not retrying, f"the stopped consumer still runs: {retrying[:3]}"
