"""The live stream's hub: a ring of recent events fanned out to Server-Sent-Events clients.

Publishing never waits for a client. Each client has a bounded queue; a client whose queue is
full is dropped (its stream ends and it reconnects with ``Last-Event-ID``); the response
(:mod:`gateway.live.stream`) disconnects a client whose socket accepts nothing for a while, so a
slow reader costs the others nothing. A stream ends when the token that opened it expires.

The ring keeps the last events for clients resuming after a short disconnection. Event ids
continue from the start time in milliseconds, so ids only grow across restarts and a client
resuming with an id from before a restart receives everything the ring holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from sse_starlette import ServerSentEvent

log = logging.getLogger(__name__)

RECONNECT_MS = 3000
SEP = "\n"


@dataclass(frozen=True)
class StreamMessage:
    seq: int
    type: str
    data: str

    def event(self) -> ServerSentEvent:
        return ServerSentEvent(self.data, id=str(self.seq), event=self.type, sep=SEP)

    def encode(self) -> bytes:
        return self.event().encode()


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

    async def events(self, lifetime_s: float) -> AsyncGenerator[ServerSentEvent, None]:
        """The stream's events; it ends after ``lifetime_s`` (when the caller's token expires).

        Raises :class:`ClientDropped` when the hub dropped this client for falling behind.
        """
        yield ServerSentEvent(retry=RECONNECT_MS, sep=SEP)
        for kept in self.replay:
            yield kept.event()
        self.replay = []
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + lifetime_s
        while (left := ends_at - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(self._queue.get(), left)
            except TimeoutError:
                return
            if message is None:
                if self.dropped:
                    raise ClientDropped
                return
            yield message.event()


class ClientDropped(Exception):
    """The client fell ``queue_size`` events behind; its stream is cut so that it reconnects."""


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
