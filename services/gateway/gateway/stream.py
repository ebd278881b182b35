"""The live stream: a ring of recent events fanned out to Server-Sent-Events clients.

Publishing never waits for a client. Each client has a bounded queue; a client whose queue is
full is dropped (its stream ends and it reconnects with ``Last-Event-ID``), and a client whose
socket accepts nothing for ``send_timeout_s`` is disconnected, so a slow reader costs the others
nothing. A stream ends when the token that opened it expires: the client must log in again.

The ring keeps the last events for clients resuming after a short disconnection. Event ids
continue from the start time in milliseconds, so ids only grow across restarts and a client
resuming with an id from before a restart receives everything the ring holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

HEARTBEAT = b": heartbeat\n\n"
RECONNECT_MS = 3000


@dataclass(frozen=True)
class StreamMessage:
    seq: int
    type: str
    data: str

    def encode(self) -> bytes:
        return f"id: {self.seq}\nevent: {self.type}\ndata: {self.data}\n\n".encode()


class Subscription:
    def __init__(self, queue_size: int, replay: list[StreamMessage]) -> None:
        self.replay = replay
        self.dropped = False
        self._queue: asyncio.Queue[StreamMessage | None] = asyncio.Queue(maxsize=queue_size)

    def offer(self, message: StreamMessage) -> bool:
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True

    def end(self) -> None:
        """Wake the reader and make its stream finish (the queue is emptied to make room)."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def chunks(self, heartbeat_s: float, lifetime_s: float) -> AsyncGenerator[bytes, None]:
        """The stream's bytes; it ends after ``lifetime_s`` (when the caller's token expires)."""
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + lifetime_s
        yield f"retry: {RECONNECT_MS}\n\n".encode()
        for kept in self.replay:
            yield kept.encode()
        self.replay = []
        while (left := ends_at - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(self._queue.get(), min(heartbeat_s, left))
            except TimeoutError:
                if loop.time() < ends_at:
                    yield HEARTBEAT
                continue
            if message is None:
                return
            yield message.encode()


class StreamFull(Exception):
    pass


class EventHub:
    def __init__(
        self,
        *,
        ring_size: int,
        queue_size: int,
        max_clients: int,
        on_change: Callable[[int], None] = lambda clients: None,
        on_drop: Callable[[], None] = lambda: None,
        first_seq: int | None = None,
    ) -> None:
        self._ring: deque[StreamMessage] = deque(maxlen=ring_size)
        self._next = first_seq if first_seq is not None else int(time.time() * 1000)
        self._subscribers: set[Subscription] = set()
        self.queue_size = queue_size
        self.max_clients = max_clients
        self.on_change = on_change
        self.on_drop = on_drop

    @property
    def clients(self) -> int:
        return len(self._subscribers)

    @property
    def last_seq(self) -> int:
        return self._next - 1

    def publish(self, event_type: str, cloudevent: dict[str, Any]) -> StreamMessage:
        message = StreamMessage(
            self._next,
            event_type.replace("\r", " ").replace("\n", " "),
            json.dumps(cloudevent, separators=(",", ":"), ensure_ascii=False, default=str),
        )
        self._next += 1
        self._ring.append(message)
        for subscriber in list(self._subscribers):
            if not subscriber.offer(message):
                log.warning("live-stream client dropped: %d events waiting", self.queue_size)
                subscriber.dropped = True
                self.unsubscribe(subscriber)
                self.on_drop()
        return message

    def since(self, last_event_id: str | None) -> list[StreamMessage]:
        """The ring's events after ``last_event_id`` (an id not sent by this process resumes all)."""
        if not last_event_id:
            return []
        try:
            after = int(last_event_id.strip())
        except ValueError:
            return list(self._ring)
        if after > self.last_seq:
            return []
        return [m for m in self._ring if m.seq > after]

    def subscribe(self, last_event_id: str | None) -> Subscription:
        if len(self._subscribers) >= self.max_clients:
            raise StreamFull(f"the live stream already serves {self.max_clients} clients")
        subscription = Subscription(self.queue_size, self.since(last_event_id))
        self._subscribers.add(subscription)
        self.on_change(self.clients)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.discard(subscription)
            subscription.end()
            self.on_change(self.clients)

    def close(self) -> None:
        for subscription in list(self._subscribers):
            self.unsubscribe(subscription)


class EventStreamResponse(Response):
    """``text/event-stream`` that ends when the client leaves and drops a client that stops reading."""

    media_type = "text/event-stream"

    def __init__(
        self,
        hub: EventHub,
        subscription: Subscription,
        *,
        heartbeat_s: float,
        send_timeout_s: float,
        lifetime_s: float,
    ) -> None:
        self.status_code = 200
        self.background: BackgroundTask | None = None
        self.hub = hub
        self.subscription = subscription
        self.heartbeat_s = heartbeat_s
        self.send_timeout_s = send_timeout_s
        self.lifetime_s = lifetime_s
        # one stream per connection: when the stream ends (client dropped, server stopping) so does the connection
        self.init_headers({"Cache-Control": "no-store", "X-Accel-Buffering": "no", "Connection": "close"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pump = asyncio.create_task(self._pump(send))
        watch = asyncio.create_task(self._wait_for_disconnect(receive))
        try:
            await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, watch):
                task.cancel()
            await asyncio.gather(pump, watch, return_exceptions=True)
            self.hub.unsubscribe(self.subscription)
        if self.background is not None:
            await self.background()

    async def _pump(self, send: Send) -> None:
        chunks = self.subscription.chunks(self.heartbeat_s, self.lifetime_s)
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in chunks:
                await asyncio.wait_for(
                    send({"type": "http.response.body", "body": chunk, "more_body": True}), self.send_timeout_s
                )
            await asyncio.wait_for(
                send({"type": "http.response.body", "body": b"", "more_body": False}), self.send_timeout_s
            )
        except TimeoutError:
            log.warning("live-stream client not reading for %.0fs; disconnected", self.send_timeout_s)
            if not self.subscription.dropped:
                self.subscription.dropped = True
                self.hub.on_drop()
        except OSError:
            pass  # the client went away mid-write
        finally:
            with contextlib.suppress(RuntimeError):
                await chunks.aclose()

    async def _wait_for_disconnect(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
