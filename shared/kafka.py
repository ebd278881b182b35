"""Kafka producer, topic administration and readiness, tolerant of a broker that is down."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from prometheus_client import Gauge

from shared.retry import until_done
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# How long a consumer may take to leave the broker (last commit, leave-group) when it stops. aiokafka
# retries a commit until the group's coordinator answers, so without a bound a slow or absent broker
# holds a stopping service (and its lifespan) forever.
CONSUMER_LEAVE_TIMEOUT_S = 10.0


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def client_options(settings: ServiceSettings) -> dict[str, object]:
    """Connection options shared by producers, consumers and the admin client.

    In production the brokers require TLS and SCRAM credentials (one Kafka user per service, with
    ACLs limiting it to its own topics); locally the broker is plain text on 127.0.0.1.
    """
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "client_id": settings.service_name,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism or "SCRAM-SHA-512"
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


async def ensure_topics(settings: ServiceSettings, topics: Iterable[str]) -> None:
    """Create the topics (and nothing else) if they are missing.

    With ``KAFKA_CREATE_TOPICS=false`` (production, where topics are declared as KafkaTopic
    resources and services hold no Create permission) it only checks that they exist.
    """
    wanted = sorted(set(topics))
    admin = AIOKafkaAdminClient(**client_options(settings))  # type: ignore[arg-type]
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing and not settings.kafka_create_topics:
            raise KafkaError(f"topics missing and not created by this service: {missing}")
        if missing:
            try:
                await admin.create_topics([NewTopic(t, settings.kafka_topic_partitions, 1) for t in missing])
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", missing)
    finally:
        await admin.close()


class KafkaBus:
    """The process's one producer. Starting never fails: it retries while the broker is down."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.producer = self._new_producer()
        self.started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _new_producer(self) -> AIOKafkaProducer:
        # acks=all and at-least-once; idempotent producers and transactions are deliberately not
        # used (consumers deduplicate by event id instead).
        return AIOKafkaProducer(
            **client_options(self.settings),  # type: ignore[arg-type]
            acks="all",
            linger_ms=5,
            enable_idempotence=False,
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect(), name="kafka-producer-connect")

    async def _connect(self) -> None:
        async for attempt in until_done(KafkaError, f"kafka producer connect to {self.settings.kafka_bootstrap}"):
            with attempt:
                try:
                    await self.producer.start()
                except KafkaError:
                    await self.producer.stop()
                    self.producer = self._new_producer()
                    raise
        self.started.set()
        log.info("kafka producer connected to %s", self.settings.kafka_bootstrap)

    async def check(self, timeout_s: float = 2.0) -> None:
        """Raise if the broker cannot answer a metadata request now."""
        if not self.started.is_set():
            raise ConnectionError("kafka producer not connected yet")
        await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout_s)

    async def stop(self) -> None:
        if self._task and not self._task.done():
            self._task.cancel()
        if self.started.is_set():
            await self.producer.stop()


Poll = Callable[[AIOKafkaConsumer], Awaitable[None]]


async def follow(
    new_consumer: Callable[[], AIOKafkaConsumer],
    poll: Poll,
    *,
    name: str,
    stopping: asyncio.Event,
    joined: Callable[[AIOKafkaConsumer], None] = lambda consumer: None,
    left: Callable[[], None] = lambda: None,
) -> None:
    """Keep a consumer session polling until ``stopping`` is set, across broker outages.

    Joining waits out an outage with growing pauses; a session that had joined and then lost the
    broker starts the waits afresh, so a long healthy run does not inherit an old outage's pauses.
    ``joined`` is told of each started consumer, ``left`` of each session's end.
    """
    while not stopping.is_set():
        async for attempt in until_done(KafkaError, f"{name} session"):
            with attempt:
                await _session(new_consumer(), poll, name, joined, left)


async def _session(
    consumer: AIOKafkaConsumer,
    poll: Poll,
    name: str,
    joined: Callable[[AIOKafkaConsumer], None],
    left: Callable[[], None],
) -> None:
    try:
        await consumer.start()
        joined(consumer)
        try:
            await poll(consumer)
        except KafkaError as exc:
            log.warning("%s lost kafka (%s); joining again", name, exc)
    finally:
        left()
        await _leave(consumer, name)


async def _leave(consumer: AIOKafkaConsumer, name: str) -> None:
    try:
        await asyncio.wait_for(consumer.stop(), CONSUMER_LEAVE_TIMEOUT_S)
    except KafkaError as exc:
        log.warning("%s left kafka with an error (%s)", name, exc)
    except TimeoutError:
        log.warning("%s could not leave kafka in %.0fs; closed without it", name, CONSUMER_LEAVE_TIMEOUT_S)
        await _close_what_stop_left(consumer)


async def _close_what_stop_left(consumer: AIOKafkaConsumer) -> None:
    """Close what ``stop()`` closes after the commit and leave-group it was cut short in: the group's
    heartbeat and commit-refresh tasks, the fetcher, the connections. Left running they would retry a
    gone broker for as long as the process lives. aiokafka has no public call for this."""
    coordinator = getattr(consumer, "_coordinator", None)
    closers = [
        getattr(coordinator, name, None) for name in ("_stop_heartbeat_task", "_stop_commit_offsets_refresh_task")
    ]
    for part in (getattr(consumer, "_fetcher", None), getattr(consumer, "_client", None)):
        closers.append(getattr(part, "close", None))
    for close in closers:
        if close is None:
            continue
        try:
            await asyncio.wait_for(close(), 5.0)
        except (KafkaError, OSError, TimeoutError, RuntimeError, asyncio.CancelledError) as exc:
            # a part may end cancelled or with the broker's error: the others are closed all the same
            log.debug("closing a consumer part failed: %r", exc)


async def report_lag(consumer: AIOKafkaConsumer, lag: Gauge) -> None:
    """Set ``lag{topic, partition}`` to how far the consumer is behind each assigned partition's end."""
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is not None:
            lag.labels(tp.topic, str(tp.partition)).set(max(0, highwater - await consumer.position(tp)))


async def end_offsets(
    settings: ServiceSettings, partitions: Sequence[TopicPartition], timeout_s: float = 15.0
) -> dict[TopicPartition, int]:
    """The offset after the last record of each partition: the high watermark a fetch reports.

    Not ``AIOKafkaConsumer.end_offsets()``: the local broker answers a ListOffsets request for the
    latest offset with the base offset of the most recently written record batch plus one, short of
    the end whenever that batch holds several records (decision 3). Every fetch answer carries the
    partition's true high watermark, so a consumer of its own (no group) reads each partition from
    that answer, which is never past the end, until a fetch has reported it. Kafka gives the same
    figure either way.
    """
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(
        **client_options(settings),  # type: ignore[arg-type]
        enable_auto_commit=False,
        fetch_max_wait_ms=min(settings.kafka_fetch_max_wait_ms, 100),
        max_partition_fetch_bytes=1024,
    )
    await consumer.start()
    try:
        consumer.assign(list(partitions))
        for tp, lower in (await consumer.end_offsets(list(partitions))).items():
            consumer.seek(tp, lower)
        deadline = time.monotonic() + timeout_s
        while any(consumer.highwater(tp) is None for tp in partitions):
            if time.monotonic() > deadline:
                raise KafkaError(f"no fetch answer with the end of {list(partitions)} within {timeout_s:g} s")
            await consumer.getmany(timeout_ms=100, max_records=1)
        return {tp: int(consumer.highwater(tp)) for tp in partitions}
    finally:
        await consumer.stop()
