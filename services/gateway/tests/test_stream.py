"""The live stream: events from the topics to the office's browsers, resumable, and safe from slow readers."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from devkit.testing import LocalKafka
from shared.events import CloudEvent

from .conftest import RunningGateway

pytestmark = pytest.mark.integration


@dataclass
class SseReader:
    """Reads a text/event-stream answer into messages and comment lines."""

    lines: AsyncIterator[str]
    messages: list[dict[str, str]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    async def until(self, count: int, timeout_s: float = 10.0) -> list[dict[str, str]]:
        current: dict[str, str] = {}

        async def read() -> None:
            nonlocal current
            while len(self.messages) < count:
                line = await anext(self.lines)
                if line.startswith(":"):
                    self.comments.append(line)
                elif not line:
                    if "data" in current:
                        self.messages.append(current)
                    current = {}
                else:
                    name, _, value = line.partition(":")
                    current[name] = value.removeprefix(" ")

        await asyncio.wait_for(read(), timeout_s)
        return self.messages[:count]

    async def heartbeat(self, timeout_s: float) -> None:
        async def read() -> None:
            while await anext(self.lines) != ": heartbeat":
                pass

        await asyncio.wait_for(read(), timeout_s)


@asynccontextmanager
async def sse(
    gateway: RunningGateway, last_event_id: str | None = None, token_ttl_s: float = 300
) -> AsyncIterator[SseReader]:
    headers = {"Authorization": f"Bearer {gateway.token(ttl_s=token_ttl_s)}"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=10) as client,
        client.stream("GET", "/api/v1/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SseReader(response.aiter_lines())


def stall_event(market: str, number: int, to: str) -> CloudEvent:
    return CloudEvent(
        source="/markets",
        type="markets.stall.status_changed.v1",
        subject=f"{market}/{number}",
        data={"market_id": market, "number": number, "from": "closed", "to": to, "version": 2},
    )


async def publish(kafka: LocalKafka, topic: str, events: list[CloudEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, event.to_bytes(), key=event.key())
    finally:
        await producer.stop()


async def _feed_ready(gateway: RunningGateway) -> None:
    deadline = time.monotonic() + 20
    while gateway.app.state.gateway.feed is None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.wait_for(gateway.app.state.gateway.feed.ready.wait(), 20)


async def test_events_reach_the_office_live_and_resume_after_a_disconnection(
    gateway: RunningGateway, kafka: LocalKafka
) -> None:
    await _feed_ready(gateway)
    markets_topic, _, districts_topic = gateway.settings.stream_topics
    # one stall, so one partition: the order of its events is kept
    first = [stall_event("wagner", 1, "open"), stall_event("wagner", 1, "maintenance")]
    later = [stall_event("wagner", 1, "closed")]
    alert = CloudEvent(source="/districts", type="districts.alert.raised.v1", subject="duc-isola", data={"x": 1})
    async with sse(gateway) as reader:
        started = time.perf_counter()
        await publish(kafka, markets_topic, first)
        received = await reader.until(2)
        print(f"topic -> browser stream latency {(time.perf_counter() - started) * 1000:.0f} ms for 2 events")
        assert [m["event"] for m in received] == ["markets.stall.status_changed.v1"] * 2
        assert [json.loads(m["data"])["id"] for m in received] == [e.id for e in first]
        assert json.loads(received[0]["data"])["data"]["to"] == "open"
        assert int(received[1]["id"]) == int(received[0]["id"]) + 1
        await reader.heartbeat(gateway.settings.sse_heartbeat_s * 3)
    last_seen = received[0]["id"]

    await publish(kafka, markets_topic, later)
    await publish(kafka, districts_topic, [alert])
    deadline = time.monotonic() + 10
    while gateway.app.state.gateway.hub.last_seq < int(received[1]["id"]) + 2:
        assert time.monotonic() < deadline, "events published while nobody listened never reached the ring"
        await asyncio.sleep(0.05)
    async with sse(gateway, last_event_id=last_seen) as reader:
        resumed = await reader.until(3)
        ids = [json.loads(m["data"])["id"] for m in resumed]
        assert ids[0] == first[1].id and set(ids[1:]) == {later[0].id, alert.id}, "two topics: no order between them"
        assert {m["event"] for m in resumed} == {"markets.stall.status_changed.v1", "districts.alert.raised.v1"}
    deadline = time.monotonic() + 5
    while "gateway_sse_clients 0.0" not in (metrics := (await gateway.client.get("/metrics")).text):
        assert time.monotonic() < deadline, "a client that left is still counted"
        await asyncio.sleep(0.05)
    assert f'gateway_stream_events_total{{topic="{markets_topic}"}} 3.0' in metrics


async def test_a_client_that_stops_reading_is_dropped_without_slowing_the_others(gateway: RunningGateway) -> None:
    hub = gateway.app.state.gateway.hub
    host, port = gateway.url.removeprefix("http://").split(":")
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect((host, int(port)))
    token = gateway.token()
    slow.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    padding = "x" * 24_000
    total = 400
    try:
        async with sse(gateway) as fast:
            deadline = time.monotonic() + 5
            while hub.clients < 2:
                assert time.monotonic() < deadline, "the slow client never subscribed"
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            reading = asyncio.create_task(fast.until(total, timeout_s=30))
            for i in range(total):
                hub.publish("markets.stall.status_changed.v1", {"id": f"e{i}", "data": {"padding": padding}})
                await asyncio.sleep(0.001)
            got = await reading
            elapsed = time.perf_counter() - started
            assert [json.loads(m["data"])["id"] for m in got] == [f"e{i}" for i in range(total)]
            print(f"fast client received {total} events of 24 kB in {elapsed:.2f}s while the slow one was dropped")
            assert hub.clients == 1, "the slow client must have been dropped"
        metrics = (await gateway.client.get("/metrics")).text
        assert "gateway_sse_dropped_clients_total 1.0" in metrics
        slow.setblocking(False)
        loop = asyncio.get_running_loop()
        received = 0
        while chunk := await asyncio.wait_for(loop.sock_recv(slow, 1 << 20), 10):
            received += len(chunk)
        assert received < total * len(padding), "the slow client was cut off, not served everything"
    finally:
        slow.close()


async def test_a_stream_ends_when_its_token_expires(gateway: RunningGateway) -> None:
    ttl_s = 3.0  # ten heartbeats long, so that the stream is seen serving before its token runs out
    started = time.perf_counter()
    async with sse(gateway, token_ttl_s=ttl_s) as reader:
        with pytest.raises(StopAsyncIteration):
            await reader.until(1, timeout_s=ttl_s + 5)
    assert time.perf_counter() - started < ttl_s + 3, "the stream outlived its token"
    assert ": heartbeat" in reader.comments
