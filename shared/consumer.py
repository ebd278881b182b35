"""Idempotent Kafka consumer: process once in effect, commit after, dead-letter poison.

Each poll's records, from every assigned partition, are applied in one MongoDB transaction
(per partition in offset order; events of one aggregate share a partition) together with the ids
of the events it processed (unique per consumer group), so a redelivered event is recognised and skipped, and a
crash before the commit replays the batch without double effects. Offsets are committed only after
that transaction, for all the partitions at once. A message that is not a valid CloudEvent, or whose handler keeps failing after
bounded retries, goes to ``<topic>.dlq`` with the error in its headers and the consumer moves on.
An infrastructure outage (MongoDB down) is not poison: the batch is retried until it succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import ConnectionFailure, OperationFailure

from shared.events import CloudEvent, utcnow
from shared.kafka import KafkaBus, client_options, dlq_topic, follow, report_lag
from shared.logging import event_id_var
from shared.metrics import ServiceMetrics
from shared.mongo import IndexSpec, Mongo, insert, write
from shared.retry import at_most, until_done
from shared.settings import ServiceSettings
from shared.tasks import finish

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent, AsyncClientSession], Awaitable[None]]
BatchHandler = Callable[[list[CloudEvent], AsyncClientSession], Awaitable[None]]
PROCESSED_RETENTION = timedelta(days=30)


class PoisonEvent(Exception):
    """Raised by a handler for an event it can never process (it goes straight to the DLQ)."""


@dataclass
class _Item:
    record: ConsumerRecord[bytes, bytes]
    event: CloudEvent | None
    error: str | None = None


def processed_collection(group_id: str) -> str:
    return f"processed_events.{group_id}"


def processed_indexes(group_id: str) -> IndexSpec:
    return {
        processed_collection(group_id): [
            IndexModel(
                [("at", ASCENDING)], name="processed_ttl", expireAfterSeconds=int(PROCESSED_RETENTION.total_seconds())
            )
        ]
    }


def _is_infrastructure(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionFailure | KafkaError | TimeoutError | OSError):
        return True
    return isinstance(exc, OperationFailure) and exc.has_error_label("TransientTransactionError")


class IdempotentConsumer:
    def __init__(
        self,
        *,
        settings: ServiceSettings,
        mongo: Mongo,
        bus: KafkaBus,
        metrics: ServiceMetrics,
        topics: Sequence[str],
        group_id: str,
        handler: Handler,
        auto_offset_reset: str = "earliest",
        max_batch: int = 200,
        batch_handler: BatchHandler | None = None,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        """``batch_handler``, when given, replaces ``handler``: it gets the new events of a batch at
        once, in order (one event when a failing batch is retried event by event), so a projection
        can read and write in bulk. ``on_commit`` is called with the number of new events once
        their transaction has committed, so what reads the projection can wake up instead of polling."""
        self.settings = settings
        self.mongo = mongo
        self.bus = bus
        self.metrics = metrics
        self.topics = list(topics)
        self.group_id = group_id
        self.handler = handler
        self.batch_handler = batch_handler
        self.on_commit = on_commit
        self.auto_offset_reset = auto_offset_reset
        self.max_batch = max_batch
        self.processed = mongo.db[processed_collection(group_id)]
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.running = asyncio.Event()
        self.handled = 0
        self.dead_lettered = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the batch in hand, commit it, leave the group."""
        self._stopping.set()
        if not await finish(self._task, timeout_s):
            log.warning("consumer %s did not stop in %.0fs", self.group_id, timeout_s)

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.topics,
            **client_options(self.settings),  # type: ignore[arg-type]
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset=self.auto_offset_reset,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            max_poll_records=self.max_batch,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
        )

    async def _run(self) -> None:
        await follow(
            self._new_consumer,
            self._poll,
            name=f"consumer {self.group_id}",
            stopping=self._stopping,
            joined=self._joined,
            left=self._left,
        )

    def _joined(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self.running.set()

    def _left(self) -> None:
        self.running.clear()
        self._consumer = None

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=self.max_batch)
            records = [record for part in batches.values() for record in part]
            if records:
                await self._process_batch(records)
                await consumer.commit({tp: part[-1].offset + 1 for tp, part in batches.items() if part})
            await report_lag(consumer, self.metrics.consumer_lag)

    async def _process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        items = [self._parse(r) for r in records]
        for item in items:
            if item.event is None:
                await self._dead_letter(item, poison=True)
        good = [i for i in items if i.event is not None]
        if not good:
            return
        try:
            await self._apply_with_infra_retry(good)
        except Exception as exc:  # noqa: BLE001 - isolate the poison event one by one
            topics = ", ".join(sorted({i.record.topic for i in good}))
            log.warning("batch of %d on %s failed (%s); retrying event by event", len(good), topics, exc)
            for item in good:
                await self._apply_one_with_retries(item)

    def _parse(self, record: ConsumerRecord[bytes, bytes]) -> _Item:
        try:
            return _Item(record, CloudEvent.from_bytes(record.value))
        except (ValueError, ValidationError) as exc:
            return _Item(record, None, f"not a valid CloudEvent: {exc}")

    async def _apply(self, items: list[_Item]) -> tuple[int, int]:
        """Apply a batch in one transaction; return (processed, duplicates)."""
        seen: set[str] = set()

        async def work(session: AsyncClientSession) -> tuple[int, int]:
            nonlocal seen
            ids = [i.event.id for i in items if i.event]
            seen = {d["_id"] async for d in self.processed.find({"_id": {"$in": ids}}, {"_id": 1}, session=session)}
            fresh: dict[str, CloudEvent] = {}
            for item in items:
                assert item.event is not None
                if item.event.id in seen or item.event.id in fresh:
                    continue
                fresh[item.event.id] = item.event
            await self._handle(list(fresh.values()), session)
            if fresh:
                now = utcnow()
                await write(
                    [insert(self.processed, {"_id": eid, "type": e.type, "at": now}) for eid, e in fresh.items()],
                    session,
                )
            return len(fresh), len(items) - len(fresh)

        began = time.perf_counter()
        processed, duplicates = await self.mongo.transaction(work)
        self.metrics.consumer_batch_duration.observe(time.perf_counter() - began)
        self.metrics.consumer_batch_size.observe(len(items))
        committed = utcnow()
        counted: set[str] = set()
        for item in items:
            assert item.event is not None
            age = (committed - item.event.time).total_seconds()
            self.metrics.consumer_event_age.labels(item.record.topic).observe(max(0.0, age))
            duplicate = item.event.id in counted or item.event.id in seen
            outcome = "duplicate" if duplicate else "processed"
            counted.add(item.event.id)
            self.metrics.events_consumed.labels(item.record.topic, item.event.type, outcome).inc()
        self.handled += processed
        if processed and self.on_commit is not None:
            self.on_commit(processed)
        if duplicates:
            log.info(
                "skipped %d duplicate events on %s", duplicates, ", ".join(sorted({i.record.topic for i in items}))
            )
        return processed, duplicates

    async def _handle(self, events: list[CloudEvent], session: AsyncClientSession) -> None:
        if self.batch_handler is not None:
            if events:
                await self.batch_handler(events, session)
            return
        for event in events:
            token = event_id_var.set(event.id)
            try:
                await self.handler(event, session)
            finally:
                event_id_var.reset(token)

    async def _apply_with_infra_retry(self, items: list[_Item]) -> None:
        """An outage of the database is not the events' fault: wait for it, however long."""
        async for attempt in until_done(_is_infrastructure, f"consumer {self.group_id} batch"):
            with attempt:
                await self._apply(items)

    async def _apply_one_with_retries(self, item: _Item) -> None:
        """A handler gets a bounded number of attempts at one event, then the event is dead-lettered."""

        def handler_failed(exc: Exception) -> bool:
            if isinstance(exc, PoisonEvent):
                return False
            self.metrics.consumer_retries.labels(item.record.topic).inc()
            return True

        try:
            async for attempt in at_most(
                self.settings.consumer_max_retries + 1,
                handler_failed,
                f"consumer {self.group_id} event {item.record.topic}@{item.record.offset}",
                first_wait_s=self.settings.consumer_retry_backoff_s,
            ):
                with attempt:
                    await self._apply_with_infra_retry([item])
            return
        except PoisonEvent as exc:
            item.error, poison = f"rejected by handler: {exc}", True
        except Exception as exc:  # noqa: BLE001 - a handler that keeps failing sends its event to the DLQ
            item.error, poison = f"{type(exc).__name__}: {exc}", False
        await self._dead_letter(item, poison=poison)

    async def _dead_letter(self, item: _Item, *, poison: bool) -> None:
        record = item.record
        headers: list[tuple[str, bytes]] = [
            ("dlq_error", (item.error or "unknown error")[:2000].encode()),
            ("dlq_reason", b"poison" if poison else b"handler_failed"),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_consumer_group", self.group_id.encode()),
            ("dlq_failed_at", utcnow().isoformat().encode()),
        ]
        async for attempt in until_done(KafkaError, f"dead-letter publish to {dlq_topic(record.topic)}"):
            with attempt:
                await self.bus.started.wait()
                await self.bus.producer.send_and_wait(
                    dlq_topic(record.topic), value=record.value, key=record.key, headers=headers
                )
        self.dead_lettered += 1
        event_type = item.event.type if item.event else "unparseable"
        self.metrics.events_consumed.labels(record.topic, event_type, "dead_lettered").inc()
        log.error(
            "event sent to %s: %s",
            dlq_topic(record.topic),
            item.error,
            extra={"offset": record.offset, "partition": record.partition},
        )
