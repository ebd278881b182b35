"""Turns the areas' tallies into KPIs, time-series samples, alerts and published events outside the
event batches; recounts them as a check.

The consumer keeps each area's tally current in the transaction that projects the events
(:mod:`districts.projection.tally`) and, in that same transaction, writes the KPIs of the areas
it moved (:mod:`districts.projection.publish`, decision 9). This part runs beside the consumers for
everything else and sleeps until there is something to do: a change of the geography or the
thresholds wakes it (:meth:`Refresher.request`), as a projection commit can
(:meth:`Refresher.projected`, for marks); timers wake it for the interval snapshot, for the slow
poll that finds marks left by a re-placement sweep, and when a newer geography has settled. The
areas named by the marks get their figures read from their tallies at this moment (never from all
their entities), and their KPIs, samples, alert changes and events are written in one outbox
transaction, so a district never shows KPIs its alerts have not seen. The marks are deleted
afterwards, so a crash in between only means reading the same numbers again (which publishes
nothing). When the day changes in Milan every area's figures are read again, so stalls handed out
at yesterday's spunta stop counting as open.

The full recount from the entities stays as the check and the rebuild path: every
``recount_interval_s``, after a change of geography or a re-placement, when asked (a rebuild asks
after its switch), and for a rebuilt generation before it is switched on. Its figures come from
the entities directly; a tally that reads otherwise is reported (a warning and the
``kpi_tally_drift`` counter) and replaced, as is a missing one; a tally that reads right is left
alone. Tallies are written here only when the recount replaces them, so the two seldom contend for
the same documents; a consumer batch writing the figures of an area this writes too conflicts with
it, and one of the two is re-run. A failed cycle is retried with backoff
(:func:`shared.retry.until_done`) until it succeeds or the service stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from prometheus_client import Counter, Histogram
from pymongo.asynchronous.client_session import AsyncClientSession

from districts.alerts.service import AlertWatch
from districts.geography.current import CurrentGeography
from districts.geography.domain import Locator
from districts.projection.domain import (
    AreaContents,
    EntityType,
    active_refs,
    area_keys_of,
    area_of,
    district_key,
    group_by_area,
    market_day,
    measure,
    moved_to,
    placement_of,
)
from districts.projection.publish import Computed, KpiPublisher
from districts.projection.service import AreaCounter, ProjectionStates, known_keys, population_of
from districts.projection.store import Mark, ProjectionStore
from districts.projection.tally import Tally, measure_tally, tally_of
from districts.projection.vitality import StoredArea, Targets, area_figures
from districts.settings import DistrictsSettings
from shared.events import utcnow
from shared.metrics import ServiceMetrics
from shared.mongo import Mongo
from shared.outbox import Outbox, UnitOfWork
from shared.retry import until_done

log = logging.getLogger(__name__)
MARK_BATCH = 1000
SWEEP_BATCH = 1000
SWEEP_PASSES = 20


@dataclass(frozen=True)
class RefreshMetrics:
    duration: Histogram
    kpi_updates: Counter
    drifted: Counter

    @classmethod
    def create(cls, metrics: ServiceMetrics) -> RefreshMetrics:
        return cls(
            duration=metrics.histogram("refresh_duration_seconds", "Time to recompute the changed areas"),
            kpi_updates=metrics.counter("kpi_updates", "District KPI changes published"),
            drifted=metrics.counter("kpi_tally_drift", "Areas whose incremental KPIs differed from the recount"),
        )


@dataclass(eq=False, kw_only=True)
class Refresher:
    projections: ProjectionStore
    states: ProjectionStates
    geography: CurrentGeography
    alerts: AlertWatch
    outbox: Outbox
    mongo: Mongo
    settings: DistrictsSettings
    metrics: RefreshMetrics
    clock: Callable[[], datetime] = utcnow
    _pending: set[str] = field(default_factory=set, init=False)
    _pending_full: bool = field(default=True, init=False)
    _geography: int = field(default=-1, init=False)
    _day: date | None = field(default=None, init=False)
    _next_recount: float = field(default=0.0, init=False)
    _indexed: set[int] = field(default_factory=set, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.targets = Targets(self.settings.services_per_1000_target, self.settings.extended_hours_target)
        self.counter = AreaCounter(self.projections)
        self.publisher = KpiPublisher(
            self.projections,
            self.alerts,
            self.outbox,
            self.targets,
            self.metrics,
            timedelta(seconds=self.settings.sample_every_s),
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="districts-refresher")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, 10)
            except TimeoutError:
                self._task.cancel()

    def projected(self, events: int = 1) -> None:
        """A batch of projected events has committed: its marks are there to be read."""
        self._wake.set()

    def request(self, codes: Iterable[str] = (), *, full: bool = False) -> None:
        """Recompute these districts (or every area) soon, even if no entity changed."""
        self._pending.update(district_key(code) for code in codes)
        self._pending_full = self._pending_full or full
        self._wake.set()

    async def _sleep_until(self, deadline: float) -> None:
        """Until woken, or until ``deadline`` (or a newer geography settling) comes first."""
        loop = asyncio.get_running_loop()
        settles_in = self.geography.due_in()
        timeout = deadline - loop.time() if settles_in is None else min(deadline - loop.time(), settles_in)
        if timeout > 0:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
        self._wake.clear()

    def _retryable(self, exc: Exception) -> bool:
        """Any failure of a cycle is retried (the next attempt starts afresh), unless stopping."""
        return not self._stopping.is_set()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        idle_poll_s, interval_s = self.settings.refresh_idle_poll_s, self.settings.snapshot_interval_s
        last_poll, next_snapshot = float("-inf"), loop.time() + interval_s
        while not self._stopping.is_set():
            await self._sleep_until(min(next_snapshot, last_poll + idle_poll_s))
            if self._stopping.is_set():
                return
            now = loop.time()
            snapshot = now >= next_snapshot
            sweep = snapshot or now - last_poll >= idle_poll_s
            try:
                async for attempt in until_done(self._retryable, "districts refresh"):
                    with attempt:
                        await self.refresh(snapshot=snapshot, sweep=sweep)
            except Exception:  # noqa: BLE001 - only a failure while stopping gets here
                return
            last_poll = now
            if snapshot:
                next_snapshot = now + interval_s

    async def refresh(self, *, snapshot: bool = False, sweep: bool = True) -> None:
        """One cycle: fix placements, bring the figures of what changed up to date, publish, forget the marks.

        Placements are checked when the geography changed and otherwise only when ``sweep`` is
        asked (the loop asks on its slow poll): a batch placed on an older geography while a
        perimeter was changing is re-placed then, and the tallies are recounted from the entities.
        """
        started = time.perf_counter()
        state = await self.states.current()
        if state.active not in self._indexed:
            await self.projections.ensure_generation(state.active)
            self._indexed.add(state.active)
        locator = await self.geography.locator(state.geography)
        replaced = False
        if sweep or locator.version != self._geography:
            for generation in state.generations:
                moved = await self.sweep(generation, locator, mark=generation == state.active)
                replaced = replaced or (moved and generation == state.active)
        marks = await self.projections.marks(state.active, MARK_BATCH)
        known = known_keys(locator)
        today = market_day(self.clock())
        recount_due = time.monotonic() >= self._next_recount
        recount = self._pending_full or replaced or recount_due or locator.version != self._geography
        every = snapshot or recount or today != self._day
        pending, self._pending, self._pending_full = self._pending, set(), False
        try:
            keys = known if every else (await self._affected(state.active, marks) | pending) & known
            if keys:
                await self._publish(state.active, locator, keys, sample_all=snapshot, recount=recount)
        except BaseException:
            self._pending |= pending
            self._pending_full = self._pending_full or recount
            raise
        await self.projections.drop_marks(state.active, marks)
        if sweep and not snapshot:
            await self._sample_deferred(state.active)
        self._geography, self._day = locator.version, today
        if recount:
            self._next_recount = time.monotonic() + self.settings.recount_interval_s
        if len(marks) == MARK_BATCH:
            self._wake.set()
        if keys:
            self.metrics.duration.observe(time.perf_counter() - started)

    async def _sample_deferred(self, generation: int) -> None:
        now = self.clock()
        if not await self.publisher.deferred_due(generation, now):
            return

        async def work(session: AsyncClientSession) -> int:
            return await self.publisher.sample_deferred(session, generation, now)

        await self.mongo.transaction(work)

    async def materialize(self, generation: int) -> None:
        """Count every area of a rebuilt generation from its entities, silently, before it is switched on."""
        state = await self.states.current()
        locator = await self.geography.locator(state.geography)
        await self.sweep(generation, locator, mark=False)
        now = self.clock()

        async def work(session: AsyncClientSession) -> None:
            figures, replaced = await self._recount(generation, locator, known_keys(locator), session, now)
            await self.projections.save_tallies(generation, replaced, session)
            await self.projections.save_areas(generation, {k: StoredArea(f) for k, f in figures.items()}, session)

        await self.mongo.transaction(work)

    async def sweep(self, generation: int, locator: Locator, *, mark: bool) -> bool:
        """Re-place the businesses and markets placed on an older geography, moving the tallies of the
        areas they (and their stalls or services) leave and enter in the same transaction; True if
        any moved."""
        moved_any = False
        for _ in range(SWEEP_PASSES):

            async def work(session: AsyncClientSession) -> tuple[int, set[str]]:
                batch = await self.projections.misplaced(generation, locator.version, SWEEP_BATCH, session)
                placed = [(stored, placement_of(stored.entity, locator)) for stored in batch]
                await self.projections.update_placements(generation, locator.version, placed, session)
                before, after = {}, {}
                for stored, placement in placed:
                    entity = stored.entity
                    if moved_to(entity, placement):
                        before[entity.id] = entity.copy()
                        entity.districts, entity.nil = placement.districts, placement.nil
                        after[entity.id] = entity
                touched = (
                    set(await self.counter.count(generation, before, after, self.clock(), session)) if after else set()
                )
                if mark:
                    await self.projections.add_mark(generation, touched, (), session)
                return len(batch), touched

            size, touched = await self.mongo.transaction(work)
            moved_any = moved_any or bool(touched)
            if size < SWEEP_BATCH:
                break
        return moved_any

    async def _affected(self, generation: int, marks: list[Mark]) -> set[str]:
        keys: set[str] = set().union(*(m.areas for m in marks))
        parents: set[str] = set().union(*(m.parents for m in marks))
        for parent in await self.projections.by_ids(generation, parents) if parents else []:
            keys |= area_keys_of(parent)
        return keys

    async def _contents(
        self, generation: int, locator: Locator, keys: set[str], session: AsyncClientSession
    ) -> dict[str, AreaContents]:
        """What each area holds, read from all of its entities."""
        codes = [c for c, _ in map(area_of, keys) if c is not None]
        nil_ids = [n for _, n in map(area_of, keys) if n is not None]
        everywhere = keys == known_keys(locator)
        placed = await self.projections.placed(
            generation, None if everywhere else codes, None if everywhere else nil_ids, session
        )
        markets = active_refs(placed, EntityType.MARKET)
        shops = active_refs(placed, EntityType.SHOP)
        stalls = await self.projections.children(generation, "market_id", markets, session) if markets else []
        services = await self.projections.children(generation, "shop_id", shops, session) if shops else []
        return group_by_area(placed, stalls, services, keys)

    async def _recount(
        self, generation: int, locator: Locator, keys: set[str], session: AsyncClientSession, now: datetime
    ) -> tuple[Computed, dict[str, Tally]]:
        """The full recount of the areas from their entities: their figures, and the tallies to replace.

        The figures come from the entities directly (:func:`measure`). A kept tally that reads
        otherwise is reported as drifted (a warning and the ``kpi_tally_drift`` counter) and
        replaced, as is a missing one; a tally that reads right is left alone, so the recount does
        not contend with the consumers for the tallies they are moving meanwhile.
        """
        contents = await self._contents(generation, locator, keys, session)
        kept = await self.projections.tallies(generation, keys, session)
        figures: Computed = {}
        replaced: dict[str, Tally] = {}
        for key, found in contents.items():
            population = population_of(locator, key)
            measures = measure(found, population, now)
            figures[key] = area_figures(measures, self.targets, now)
            if key not in kept or measure_tally(kept[key], population, now) != measures:
                replaced[key] = tally_of(found).pruned(now)
        drifted = sorted(key for key in replaced if key in kept)
        if drifted:
            log.warning("incremental KPIs of %d areas differed from the recount: %s", len(drifted), drifted[:10])
            self.metrics.drifted.inc(len(drifted))
        return figures, replaced

    async def _publish(
        self, generation: int, locator: Locator, keys: set[str], *, sample_all: bool, recount: bool
    ) -> None:
        """Figures of ``keys`` at this moment from their tallies (recounted from the entities first if
        asked); those that moved are stored, sampled, reviewed for alerts and published."""
        now = self.clock()

        async def work(uow: UnitOfWork) -> int:
            session = uow.session
            if recount:
                computed, replaced = await self._recount(generation, locator, keys, session, now)
                await self.projections.save_tallies(generation, replaced, session)
            else:
                tallies = await self.projections.tallies(generation, keys, session)
                computed = {key: self.publisher.figures(tallies.get(key), locator, key, now) for key in keys}
            return await self.publisher.publish(uow, generation, computed, now, sample_all=sample_all)

        published = await self.outbox.run(work)
        self.metrics.kpi_updates.inc(published)
