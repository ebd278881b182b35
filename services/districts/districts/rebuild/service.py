"""Replay: rebuild every projection from the topics into a fresh generation, then switch to it.

1. A never-used generation is claimed and marked as being built; from then on the live handler
   applies each new event to it as well.
2. The end offsets of the followed topics are read: everything before them is replayed by a consumer
   of its own (a fresh group, from the beginning) into the new generation; everything after them is
   also applied live. Field versions make an event applied by both harmless.
3. When the replay's committed offsets reach those ends, the generation's KPIs are computed and one
   update of the projection state makes it the active one. The old generation keeps serving until
   then and is dropped a little later.
Alerts, monitors and the time series are history and are not rebuilt.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo.errors import PyMongoError

from districts.projection.refresher import Refresher
from districts.projection.service import Projector
from districts.projection.store import ProjectionStore
from districts.rebuild.domain import RebuildJob
from districts.rebuild.store import RebuildStore
from districts.settings import DistrictsSettings
from shared.consumer import BatchHandler, Handler, IdempotentConsumer, processed_collection, processed_indexes
from shared.errors import Conflict, NotFound
from shared.events import utcnow
from shared.i18n import Said
from shared.kafka import client_options, end_offsets
from shared.mongo import Mongo, drop_gradually
from shared.tasks import cancel

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.2
# what is dropped in the background waits as long as each batch took: at most half of the database's time
BACKGROUND_PAUSE = 1.0


class ConsumerFactory(Protocol):
    """Builds a consumer of the given topics for a group (``Runtime.new_consumer``)."""

    def __call__(
        self, topics: Sequence[str], group_id: str, handler: Handler, *, batch_handler: BatchHandler
    ) -> IdempotentConsumer: ...


@dataclass(eq=False, kw_only=True)
class Rebuilder:
    settings: DistrictsSettings
    mongo: Mongo
    consumers: ConsumerFactory
    jobs: RebuildStore
    projections: ProjectionStore
    projector: Projector
    refresher: Refresher
    topics: Sequence[str]
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    async def start(self, requested_by: str) -> RebuildJob:
        await self.reap_stale()
        generation = await self.projections.claim_generation()
        if generation is None:
            raise await self._already_running()
        active, _ = await self.projections.generations()
        now = utcnow()
        job = RebuildJob(uuid.uuid4().hex, "running", generation, active, requested_by, now, now)
        await self.jobs.insert(job)
        for leftover in await self.projections.generations_on_disk() - {active, generation}:
            self._spawn(self._drop(leftover))
        await self.projections.ensure_generation(generation)
        self._spawn(self._run(job.id, generation, active))
        return job

    async def _already_running(self) -> Conflict:
        _, building = await self.projections.generations()
        running = await self.jobs.building(building) if building is not None else None
        if running is None:
            return Conflict(Said(it="è già in corso una ricostruzione", en="a rebuild is already running"))
        return Conflict(
            Said(
                it=f"è già in corso una ricostruzione: seguila su /districts/rebuild/{running.id}",
                en=f"a rebuild is already running: follow it at /districts/rebuild/{running.id}",
            ),
            job=running.id,
        )

    async def job(self, job_id: str) -> RebuildJob:
        job = await self.jobs.job(job_id)
        if job is None:
            raise NotFound(Said(f"non esiste la ricostruzione {job_id!r}", f"no rebuild job {job_id!r}"))
        if job.stale(self._stale_before()):
            await self.reap_stale()
            job = await self.jobs.job(job_id) or job
        return job

    async def jobs_page(self, limit: int, offset: int) -> tuple[list[RebuildJob], int]:
        """The jobs, newest first; a running one whose process died shows as failed."""
        await self.reap_stale()
        return await self.jobs.page(limit, offset)

    def _stale_before(self) -> datetime:
        return utcnow() - timedelta(seconds=self.settings.rebuild_stale_after_s)

    async def reap_stale(self) -> None:
        """Give up a build whose job stopped beating (its process died), so a new one may start."""
        _, building = await self.projections.generations()
        if building is None:
            return
        job = await self.jobs.building(building)
        if job is None or job.stale(self._stale_before()):
            if job is not None:
                await self.jobs.update(job.id, state="failed", error="interrupted", finished_at=utcnow())
            await self.projections.abandon(building)
            self._spawn(self._drop(building))
            log.warning("abandoned the unfinished rebuild of generation %s", building)

    async def _drop(self, generation: int, replayed_by: str | None = None) -> None:
        """Drop a generation no one reads or writes again (and the ids its replay processed), in the
        background: gradually and pausing as long as each batch took (:meth:`ProjectionStore.drop_generation`),
        so no request waits for it and the database keeps at least half of its time for the live
        generation. Generation numbers are never used twice, and one left behind by a crash is found
        and dropped by the next rebuild."""
        began = asyncio.get_running_loop().time()
        try:
            deleted = await self.projections.drop_generation(generation, pause_ratio=BACKGROUND_PAUSE)
            if replayed_by is not None:
                deleted += await drop_gradually(
                    self.mongo.db, processed_collection(replayed_by), pause_ratio=BACKGROUND_PAUSE
                )
        except PyMongoError as exc:
            log.warning("generation %s is left for the next rebuild to drop: %s", generation, exc)
            return
        took = asyncio.get_running_loop().time() - began
        log.info("generation %s dropped: %d documents in %.1f s", generation, deleted, took)

    async def stop(self) -> None:
        await cancel(*self._tasks)

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job_id: str, generation: int, previous: int) -> None:
        group = self._group(job_id)
        try:
            await self._replay(job_id, generation, group)
            await self.jobs.update(job_id, state="switching", heartbeat_at=utcnow())
            await self.refresher.materialize(generation)
            if not await self.projections.switch_to(generation):
                raise RuntimeError("the generation was abandoned while it was being built")
        except asyncio.CancelledError:
            await self._fail(job_id, generation, "interrupted by a shutdown")
            raise
        except Exception as exc:
            log.exception("rebuild %s failed", job_id)
            await self._fail(job_id, generation, f"{type(exc).__name__}: {exc}")
            return
        self.refresher.request(full=True)
        await self.jobs.update(job_id, state="done", progress=1.0, finished_at=utcnow())
        log.info("rebuild %s done: generation %s is active", job_id, generation)
        await asyncio.sleep(self.settings.rebuild_drop_delay_s)
        await self._drop(previous, replayed_by=group)

    async def _replay(self, job_id: str, generation: int, group: str) -> None:
        """Replay the topics up to their current ends into ``generation`` with a consumer of its own."""
        handle, handle_batch = self.projector.replay_handlers(generation)
        consumer = self.consumers(self.topics, group, handle, batch_handler=handle_batch)
        async with _Offsets(self.settings, group) as offsets:
            targets = await offsets.ends(self.topics)
            await self.jobs.update(job_id, events_total=sum(targets.values()))
            await self.mongo.ensure_indexes(processed_indexes(group))
            consumer.start()
            try:
                await self._follow(job_id, offsets, targets)
            finally:
                await consumer.stop()

    async def _follow(self, job_id: str, offsets: _Offsets, targets: dict[TopicPartition, int]) -> None:
        total = sum(targets.values())
        while True:
            committed = await offsets.committed(list(targets))
            replayed = sum(min(committed.get(tp, 0), end) for tp, end in targets.items())
            progress = round(replayed / total, 4) if total else 1.0
            await self.jobs.update(job_id, events_replayed=replayed, progress=progress, heartbeat_at=utcnow())
            if replayed >= total:
                return
            await asyncio.sleep(PROGRESS_INTERVAL_S)

    def _group(self, job_id: str) -> str:
        return f"{self.settings.consumer_group}-rebuild-{job_id}"

    async def _fail(self, job_id: str, generation: int, error: str) -> None:
        try:
            await self.jobs.update(job_id, state="failed", error=error[:500], finished_at=utcnow())
            await self.projections.abandon(generation)
            if (await self.projections.generations())[0] != generation:
                await self.projections.drop_generation(generation, pause_ratio=BACKGROUND_PAUSE)
            await drop_gradually(self.mongo.db, processed_collection(self._group(job_id)), pause_ratio=BACKGROUND_PAUSE)
        except PyMongoError as exc:
            log.warning("could not clean up rebuild %s (the next rebuild will): %s", job_id, exc)


class _Offsets:
    """Reads the topics' end offsets and a group's committed offsets, without joining the group."""

    def __init__(self, settings: DistrictsSettings, group: str) -> None:
        self.settings = settings
        self.consumer = AIOKafkaConsumer(
            **client_options(settings),
            group_id=group,
            enable_auto_commit=False,
        )

    async def __aenter__(self) -> _Offsets:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def ends(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(self.consumer.partitions_for_topic(topic) or ())
        ]
        return await end_offsets(self.settings, partitions)

    async def committed(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        found = {tp: await self.consumer.committed(tp) for tp in partitions}
        return {tp: offset for tp, offset in found.items() if offset is not None}
