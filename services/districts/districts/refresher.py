"""Turns projected entities into area KPIs, time-series samples, alerts and published events.

It runs beside the consumers. A committed batch moves a consumer's counter, which the refresher
notices within a tick; another replica's work is found by a slow poll. Only the areas named by the
marks the batches left are recomputed, and their KPIs, samples, alert changes and events are written
in one outbox transaction. The marks are deleted afterwards, so a crash in between only means
computing the same numbers again (which publishes nothing). Marks are only ever inserted by the
consumers and deleted here, so the two never contend for the same documents.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter, Histogram
from pymongo.asynchronous.client_session import AsyncClientSession

from districts.alerts import Decision, Thresholds, decide, peak, readings, record_peak
from districts.atlas import Atlas
from districts.domain import NUMERIC_KPIS, Entity, EntityType, Kpis
from districts.events import AlertRaised, AlertResolved, KpisUpdated
from districts.geography import Locator, Placement
from districts.projections import (
    area_keys_of,
    district_key,
    group_by_area,
    measure,
    nil_key,
    placement_keys,
    placement_of,
)
from districts.settings import DistrictsSettings
from districts.store import DistrictStore, Mark
from districts.vitality import Targets, Vitality, vitality
from shared.events import utcnow
from shared.metrics import ServiceMetrics
from shared.mongo import Document
from shared.outbox import Outbox, UnitOfWork

log = logging.getLogger(__name__)
MARK_BATCH = 1000
SWEEP_BATCH = 1000
SWEEP_PASSES = 20

Computed = dict[str, tuple[Kpis, Vitality]]


@dataclass(frozen=True)
class RefreshMetrics:
    duration: Histogram
    kpi_updates: Counter
    alerts: Counter

    @classmethod
    def create(cls, metrics: ServiceMetrics) -> RefreshMetrics:
        return cls(
            duration=metrics.histogram("refresh_duration_seconds", "Time to recompute the changed areas"),
            kpi_updates=metrics.counter("kpi_updates", "District KPI changes published"),
            alerts=metrics.counter("alerts", "Alerts raised and resolved", ("condition", "action")),
        )


def _area_of(key: str) -> tuple[str | None, int | None]:
    kind, _, ref = key.partition(":")
    return (ref, None) if kind == "district" else (None, int(ref))


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


class Refresher:
    def __init__(
        self,
        *,
        store: DistrictStore,
        atlas: Atlas,
        outbox: Outbox,
        settings: DistrictsSettings,
        metrics: RefreshMetrics,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.atlas = atlas
        self.outbox = outbox
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.targets = Targets(settings.services_per_1000_target, settings.extended_hours_target)
        self._pending: set[str] = set()
        self._pending_full = True
        self._geography = -1
        self._indexed: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._progress: Callable[[], int] = lambda: 0

    def start(self, progress: Callable[[], int]) -> None:
        self._progress = progress
        self._task = asyncio.create_task(self._loop(), name="districts-refresher")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, 10)
            except TimeoutError:
                self._task.cancel()

    def request(self, codes: Iterable[str] = (), *, full: bool = False) -> None:
        """Recompute these districts (or every area) soon, even if no entity changed."""
        self._pending.update(district_key(code) for code in codes)
        self._pending_full = self._pending_full or full
        self._wake.set()

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        seen, last_poll, delay = -1, float("-inf"), 0.2
        next_snapshot = loop.time() + self.settings.snapshot_interval_s
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.refresh_tick_s)
            except TimeoutError:
                pass
            self._wake.clear()
            now, progress = loop.time(), self._progress()
            snapshot = now >= next_snapshot
            idle_poll = now - last_poll >= self.settings.refresh_idle_poll_s
            asked = self._pending or self._pending_full or self.atlas.due()
            if not (progress != seen or snapshot or idle_poll or asked):
                continue
            seen, last_poll = progress, now
            try:
                await self.refresh(snapshot=snapshot, sweep=idle_poll or snapshot)
                delay = 0.2
                if snapshot:
                    next_snapshot = now + self.settings.snapshot_interval_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep refreshing after any failure, it is retried
                log.warning("refresh failed (%s: %s); retrying in %.1fs", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def refresh(self, *, snapshot: bool = False, sweep: bool = True) -> None:
        """One cycle: fix placements, recompute what changed, publish, forget the marks.

        Placements are checked when the geography changed and otherwise only when ``sweep`` is
        asked (the loop asks on its slow poll): a batch placed on an older geography while a
        perimeter was changing is re-placed then.
        """
        started = time.perf_counter()
        state = await self.store.state()
        if state.active not in self._indexed:
            await self.store.ensure_generation(state.active)
            self._indexed.add(state.active)
        locator = await self.atlas.locator(state.geography)
        if sweep or locator.version != self._geography:
            for generation in state.generations:
                await self.sweep(generation, locator, mark=generation == state.active)
        marks = await self.store.marks(state.active, MARK_BATCH)
        known = self._known_keys(locator)
        full = snapshot or self._pending_full or locator.version != self._geography
        pending, self._pending, self._pending_full = self._pending, set(), False
        try:
            keys = known if full else (await self._affected(state.active, marks) | pending) & known
            if keys:
                await self._publish(state.active, locator, keys, sample_all=snapshot)
        except BaseException:
            self._pending |= pending
            self._pending_full = self._pending_full or full
            raise
        await self.store.drop_marks(state.active, marks)
        self._geography = locator.version
        if len(marks) == MARK_BATCH:
            self._wake.set()
        if keys:
            self.metrics.duration.observe(time.perf_counter() - started)

    async def materialize(self, generation: int) -> None:
        """Compute every area of a rebuilt generation, silently, before it is switched on."""
        state = await self.store.state()
        locator = await self.atlas.locator(state.geography)
        await self.sweep(generation, locator, mark=False)
        now = self.clock()

        async def work(session: AsyncClientSession) -> None:
            computed = await self._compute(generation, locator, self._known_keys(locator), session, now)
            await self.store.save_areas(generation, [_area_doc(k, *v) for k, v in computed.items()], session)

        await self.outbox.mongo.transaction(work)

    async def sweep(self, generation: int, locator: Locator, *, mark: bool) -> None:
        """Re-place the businesses and markets placed on an older geography."""
        for _ in range(SWEEP_PASSES):
            batch = await self.store.misplaced(generation, locator.version, SWEEP_BATCH)
            placed = [(stored, placement_of(stored.entity, locator)) for stored in batch]
            await self.store.update_placements(generation, locator.version, placed)
            if mark:
                moved = [area_keys_of(s.entity) | placement_keys(p) for s, p in placed if _moved_to(s.entity, p)]
                await self.store.add_mark(generation, set().union(*moved), (), None)
            if len(batch) < SWEEP_BATCH:
                return

    @staticmethod
    def _known_keys(locator: Locator) -> set[str]:
        return {district_key(c) for c in locator.district_codes} | {nil_key(n) for n in locator.nil_ids}

    async def _affected(self, generation: int, marks: list[Mark]) -> set[str]:
        keys: set[str] = set().union(*(m.areas for m in marks))
        parents: set[str] = set().union(*(m.parents for m in marks))
        for parent in await self.store.by_ids(generation, parents) if parents else []:
            keys |= area_keys_of(parent)
        return keys

    async def _compute(
        self, generation: int, locator: Locator, keys: set[str], session: AsyncClientSession, now: datetime
    ) -> Computed:
        codes = [c for c, _ in map(_area_of, keys) if c is not None]
        nil_ids = [n for _, n in map(_area_of, keys) if n is not None]
        everywhere = keys == self._known_keys(locator)
        placed = await self.store.placed(
            generation, None if everywhere else codes, None if everywhere else nil_ids, session
        )
        markets = _active_refs(placed, EntityType.MARKET)
        shops = _active_refs(placed, EntityType.SHOP)
        stalls = await self.store.children(generation, "market_id", markets, session) if markets else []
        services = await self.store.children(generation, "shop_id", shops, session) if shops else []
        computed: Computed = {}
        for key, contents in group_by_area(placed, stalls, services, keys).items():
            code, nil_id = _area_of(key)
            population = locator.populations.get(code) if code else locator.nil_population(nil_id or 0)
            measures = measure(contents, population, now)
            index = vitality(measures, self.targets)
            computed[key] = (measures.kpis.model_copy(update={"vitality_index": index.index, "as_of": now}), index)
        return computed

    async def _publish(self, generation: int, locator: Locator, keys: set[str], *, sample_all: bool) -> None:
        now = self.clock()

        async def work(uow: UnitOfWork) -> int:
            session = uow.session
            computed = await self._compute(generation, locator, keys, session, now)
            previous = await self.store.areas(generation, keys, session)
            docs, samples, districts = [], [], {}
            for key, (kpis, index) in computed.items():
                moved = _moved(previous.get(key), kpis, index)
                code, _ = _area_of(key)
                if moved or sample_all:
                    docs.append(_area_doc(key, kpis, index))
                if code is None:
                    continue
                districts[code] = kpis
                if moved or sample_all:
                    samples.append((code, _hour(now), now, {n: getattr(kpis, n) for n in NUMERIC_KPIS}))
                if moved:
                    uow.emit(KpisUpdated(district=code, kpis=kpis.model_dump(mode="json"), at=now))
            await self.store.save_areas(generation, docs, session)
            await self.store.append_samples(samples, session)
            await self._alerts(uow, districts, now, sampled=sample_all)
            return sum(1 for e in uow.events if e.type == KpisUpdated.event_type)

        published = await self.outbox.run(work)
        self.metrics.kpi_updates.inc(published)

    async def _alerts(self, uow: UnitOfWork, districts: dict[str, Kpis], now: datetime, *, sampled: bool) -> None:
        """Raise and resolve alerts; the vitality highs come from the interval samples only, so the
        passing values of a burst of events (an import) are not taken for a level to fall from."""
        session = uow.session
        thresholds = await self.store.thresholds_of(list(districts), session)
        monitors = await self.store.monitors(districts, session)
        open_alerts: dict[str, dict[str, Document]] = {code: {} for code in districts}
        for doc in await self.store.open_alerts(districts, session):
            open_alerts[doc["district"]][doc["key"]] = doc
        for code, kpis in districts.items():
            limits = Thresholds.model_validate(thresholds.get(code, {}))
            peaks = monitors.get(code, {}).get("peaks", {})
            if sampled:
                peaks = record_peak(peaks, now, kpis.vitality_index)
                await self.store.save_monitor(code, peaks, session)
            found = readings(kpis, limits, peak(peaks, now, limits.vitality_drop_days))
            for decision in decide(found, set(open_alerts[code])):
                await self._apply(uow, code, decision, open_alerts[code], now)

    async def _apply(
        self, uow: UnitOfWork, code: str, decision: Decision, open_alerts: dict[str, Document], now: datetime
    ) -> None:
        r = decision.reading
        state = "open" if decision.action == "raise" else "resolved"
        entry: Document = {"at": now, "state": state, "detail": r.detail, "value": r.value}
        if decision.action == "raise":
            alert_id = str(uuid.uuid4())
            doc: Document = {"_id": alert_id, "district": code, "condition": r.condition.value, "key": r.key}
            doc.update(state=state, raised_at=now, resolved_at=None, detail=r.detail, value=r.value)
            await self.store.insert_alert({**doc, "threshold": r.threshold, "history": [entry]}, uow.session)
            kind: type[AlertRaised] = AlertRaised
        else:
            alert_id = open_alerts[r.key]["_id"]
            await self.store.resolve_alert(alert_id, now, entry, uow.session)
            kind = AlertResolved
        event = kind(
            alert_id=alert_id,
            district=code,
            condition=r.condition.value,
            detail=r.detail,
            value=r.value,
            threshold=r.threshold,
            at=now,
        )
        uow.emit(event)
        self.metrics.alerts.labels(r.condition.value, decision.action).inc()
        log.info("alert %s: %s in %s (%s)", decision.action, r.key, code, r.detail, extra={"alert_id": alert_id})


def _moved_to(entity: Entity, placement: Placement) -> bool:
    return placement.districts != entity.districts or placement.nil != entity.nil


def _active_refs(entities: list[Entity], kind: EntityType) -> set[str]:
    return {e.ref for e in entities if e.type is kind and e.active}


def _moved(previous: Document | None, kpis: Kpis, index: Vitality) -> bool:
    if previous is None:
        return True
    before = Kpis.model_validate(previous["kpis"]).comparable()
    return before != kpis.comparable() or previous.get("vitality") != index.model_dump()


def _area_doc(key: str, kpis: Kpis, index: Vitality) -> Document:
    return {"_id": key, "kpis": kpis.model_dump(), "vitality": index.model_dump()}
