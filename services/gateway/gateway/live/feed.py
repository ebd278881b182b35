"""The Kafka consumer feeding the live stream.

Each gateway process reads every partition of the topics in a consumer group of its own
(``gateway-stream-<host>-<id>``) starting at the latest offset: the stream shows what happens
from now on, and replicas do not share the events among themselves. Offsets are committed
automatically, so after a broker outage the same process resumes where it was. Joining and
rejoining after an outage is the shared consumer session loop (``shared.kafka.follow``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import ValidationError

from gateway.live.hub import EventHub
from gateway.metrics import GatewayMetrics
from gateway.settings import GatewaySettings
from shared.events import CloudEvent
from shared.kafka import client_options, end_offsets, follow, report_lag
from shared.tasks import cancel

log = logging.getLogger(__name__)


class EventFeed:
    def __init__(self, settings: GatewaySettings, hub: EventHub, metrics: GatewayMetrics) -> None:
        self.settings = settings
        self.hub = hub
        self.metrics = metrics
        self.topics: Sequence[str] = settings.stream_topics
        self.group_id = f"gateway-stream-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(
            follow(
                self._new_consumer,
                self._poll,
                name=f"live-stream feed {self.group_id}",
                stopping=self._stopping,
                left=self.ready.clear,
            ),
            name="live-stream-feed",
        )

    async def stop(self) -> None:
        """Leave at once: nothing is lost, a new process starts at the latest offset anyway."""
        self._stopping.set()
        await cancel(self._task)

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.topics,
            **client_options(self.settings),
            group_id=self.group_id,
            auto_offset_reset="latest",
            enable_auto_commit=False,  # it starts at the latest offset: a commit would only slow its stop
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
        )

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=100)
            if not self.ready.is_set() and consumer.assignment():
                # the stream starts at the end as a fetch reports it (shared.kafka.end_offsets): what
                # came before, including this first answer's records, is not streamed
                for tp, end in (await end_offsets(self.settings, sorted(consumer.assignment()))).items():
                    consumer.seek(tp, end)
                self.ready.set()
                log.info("live stream following %s as %s", ", ".join(self.topics), self.group_id)
                continue
            for records in batches.values():
                for record in records:
                    self._relay(record)
                    await asyncio.sleep(0)  # let the clients' writers drain between events of a burst
            await report_lag(consumer, self.metrics.consumer_lag)

    def _relay(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self.metrics.stream_events.labels(record.topic).inc()
        try:
            event = CloudEvent.from_bytes(record.value)
        except (ValueError, ValidationError):
            log.warning("not a CloudEvent on %s at offset %d; not streamed", record.topic, record.offset)
            return
        self.hub.publish(event.type, event.model_dump(mode="json"))
