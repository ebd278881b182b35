"""Transactional outbox: state and events are saved together; a relay publishes them.

A use case runs in :meth:`Outbox.run`: its writes and the events it emits commit in one MongoDB
transaction, so an accepted write can never lose its event. The :class:`OutboxRelay` publishes
pending events with acks=all in insertion order, deletes them once the broker has them, and keeps
retrying with backoff while the broker is down: every document in the outbox is an event still to
publish. Delivery is at-least-once (a crash between publish and delete re-sends);
consumers deduplicate by event id. One relay per service holds a lease, so replicas do not publish
the same backlog concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared.events import CloudEvent, EventData, utcnow
from shared.kafka import KafkaBus
from shared.metrics import ServiceMetrics
from shared.mongo import IndexSpec, Mongo, delete_gradually, drop_index_if_present, insert, write
from shared.retry import until_done
from shared.tasks import finish

log = logging.getLogger(__name__)
T = TypeVar("T")

OUTBOX = "outbox"
LEASES = "outbox_lease"
# what pauses the relay until it ends: the broker or the database unreachable
OUTAGES = (KafkaError, PyMongoError, OSError, TimeoutError)
# an outbox written before the relay deleted what it published: its sent documents kept a
# ``sent_at`` and expired after 7 days through these indexes (decision 2)
RETIRED_INDEXES = ("pending", "sent_ttl")
# what is still to publish: every document but one an earlier relay (a replica of the previous
# version, during a rolling update) marked sent and has not yet been deleted by ``retire_sent``
PENDING: dict[str, Any] = {"sent_at": None}


class UnitOfWork:
    """What a use case sees inside its transaction: the session and a place to emit events."""

    def __init__(self, session: AsyncClientSession) -> None:
        self.session = session
        self.events: list[CloudEvent] = []

    def emit(self, event: EventData | CloudEvent) -> CloudEvent:
        cloud_event = event if isinstance(event, CloudEvent) else event.to_event()
        self.events.append(cloud_event)
        return cloud_event


class Outbox:
    def __init__(self, mongo: Mongo, topic: str) -> None:
        self.mongo = mongo
        self.topic = topic
        self.collection = mongo.db[OUTBOX]
        self.pending = asyncio.Event()

    # the outbox holds only what is still to publish, read in ``_id`` order: no index beside ``_id``
    indexes: IndexSpec = {OUTBOX: [], LEASES: []}

    async def retire_sent(self) -> int:
        """Make an outbox written by an earlier relay look like one of this relay's: delete what that
        relay had published and marked ``sent_at`` (a batch at a time), and drop the indexes it
        kept them by. Run before the relay starts; safe to run at every start. How many went."""
        deleted = await delete_gradually(self.collection, {"sent_at": {"$ne": None}})
        for name in RETIRED_INDEXES:
            await drop_index_if_present(self.collection, name)
        if deleted:
            log.info("outbox of %s: %d events published before this version deleted", self.topic, deleted)
        return deleted

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run a use case's writes and its events in one transaction, then wake the relay."""

        async def in_transaction(session: AsyncClientSession) -> tuple[T, int]:
            uow = UnitOfWork(session)
            result = await work(uow)
            return result, await self.stage(uow)

        result, emitted = await self.mongo.transaction(in_transaction)
        if emitted:
            self.mongo.after_commit(self.pending.set)
        return result

    async def stage(self, uow: UnitOfWork) -> int:
        """Save the events a use case emitted in its transaction; how many. :meth:`run` does it for its
        own; a caller with a transaction of its own (a consumer's batch) calls :meth:`wake` once it
        has committed. They go to the server with the transaction's other queued writes
        (:func:`shared.mongo.write`)."""
        if uow.events:
            await write([insert(self.collection, self._document(e)) for e in uow.events], uow.session)
        return len(uow.events)

    def wake(self) -> None:
        """Staged events are committed: the relay publishes them now rather than at its next poll."""
        self.pending.set()

    def _document(self, event: CloudEvent) -> dict[str, Any]:
        return {
            "_id": ObjectId(),
            "event_id": event.id,
            "topic": self.topic,
            "key": event.subject,
            "type": event.type,
            "value": event.to_bytes(),
            "created_at": utcnow(),
            "attempts": 0,
        }

    async def backlog(self) -> int:
        return await self.collection.count_documents(PENDING)


@dataclass(eq=False)
class OutboxRelay:
    """Background task publishing the outbox to Kafka."""

    outbox: Outbox
    bus: KafkaBus
    metrics: ServiceMetrics
    _: KW_ONLY
    batch_size: int = 200
    poll_interval_s: float = 0.5
    lease_ttl_s: float = 10.0
    _lease_until: datetime | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _last_backlog_check: float = field(default=0.0, init=False)
    published: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.lease_ttl = timedelta(seconds=self.lease_ttl_s)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self, drain_timeout_s: float = 5.0) -> None:
        """Stop after the batch in flight; publish what is pending if the broker answers in time."""
        self._stopping.set()
        self.outbox.pending.set()
        await finish(self._task, drain_timeout_s)
        try:
            await self.outbox.mongo.db[LEASES].delete_one({"_id": self.outbox.topic, "owner": self.owner})
        except PyMongoError:
            pass

    async def _acquire_lease(self) -> bool:
        """Take or renew the publishing lease; renewal is a write, so only past half its life."""
        now = utcnow()
        if self._lease_until is not None and now < self._lease_until - self.lease_ttl / 2:
            return True
        try:
            doc = await self.outbox.mongo.db[LEASES].find_one_and_update(
                {"_id": self.outbox.topic, "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + self.lease_ttl}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            self._lease_until = None
            return False
        held = doc is not None and doc.get("owner") == self.owner
        self._lease_until = now + self.lease_ttl if held else None
        return held

    async def _loop(self) -> None:
        await self.bus.started.wait()
        finished = False
        while not finished:
            # a fresh backoff for every turn: an outage's pauses end with the outage
            try:
                async for attempt in until_done(self._paused, f"outbox relay of {self.outbox.topic}", first_wait_s=0.1):
                    with attempt:
                        finished = await self._turn()
            except OUTAGES:
                return  # stopping during an outage: the next relay publishes what is pending

    def _paused(self, exc: Exception) -> bool:
        """An outage pauses the relay until it ends, unless the relay is stopping."""
        if not isinstance(exc, OUTAGES):
            return False
        self.metrics.outbox_publish_failures.inc()
        return not self._stopping.is_set()

    async def _turn(self) -> bool:
        """Publish one batch or wait for work; True once stopping with nothing left to publish."""
        if not await self._acquire_lease():
            if self._stopping.is_set():
                return True
            await asyncio.sleep(self.lease_ttl.total_seconds() / 3)
            return False
        # cleared before looking, so that a commit made while the batch is read and published (not
        # only one made after) wakes the wait below instead of being taken for this turn's
        self.outbox.pending.clear()
        if await self.publish_batch():
            return False
        if self._stopping.is_set():
            return True
        await self._wait_for_work()
        return False

    async def _wait_for_work(self) -> None:
        try:
            await asyncio.wait_for(self.outbox.pending.wait(), self.poll_interval_s)
        except TimeoutError:
            pass

    async def publish_batch(self) -> int:
        """Publish one batch of pending events in order; return how many were published."""
        docs = await self.outbox.collection.find(PENDING).sort("_id", ASCENDING).limit(self.batch_size).to_list()
        await self._report_backlog(len(docs))
        if not docs:
            return 0
        producer = self.bus.producer
        futures = [
            await producer.send(
                doc["topic"],
                value=doc["value"],
                key=doc["key"].encode(),
                headers=[("ce_type", doc["type"].encode()), ("ce_id", doc["event_id"].encode())],
            )
            for doc in docs
        ]
        results = await asyncio.gather(*futures, return_exceptions=True)
        done = [doc for doc, res in zip(docs, results, strict=True) if not isinstance(res, BaseException)]
        if done:
            # the broker has them: they leave the outbox (decision 2)
            acknowledged = utcnow()
            await self.outbox.collection.delete_many({"_id": {"$in": [d["_id"] for d in done]}})
            for doc in done:
                self.metrics.events_published.labels(doc["topic"], doc["type"]).inc()
                age = (acknowledged - doc["created_at"]).total_seconds()
                self.metrics.outbox_publish_age.labels(doc["topic"]).observe(max(0.0, age))
            self.published += len(done)
        failures = [res for res in results if isinstance(res, BaseException)]
        if failures:
            raise failures[0] if isinstance(failures[0], Exception) else KafkaError(str(failures[0]))
        return len(done)

    async def _report_backlog(self, fetched: int) -> None:
        loop = asyncio.get_running_loop()
        if fetched == 0:
            self.metrics.outbox_backlog.set(0)
            return
        if loop.time() - self._last_backlog_check >= 1.0:
            self._last_backlog_check = loop.time()
            self.metrics.outbox_backlog.set(await self.outbox.backlog())
