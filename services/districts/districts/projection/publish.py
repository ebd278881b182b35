"""Area figures turned into stored KPIs, time-series samples, alerts and published events.

Two paths write them, each in a transaction of its own kind: the projection consumer, for the
areas whose tallies a batch of events moved, in the very transaction that moves them (so a
district's KPIs show a change the moment its events are committed), and the refresher, for the
interval snapshot, the recount, the day change and the areas a change of the geography or of the
thresholds concerns. Either way the KPIs, their samples, the alert changes and the ``KpisUpdated``
events commit together, so a district never shows KPIs its alerts have not seen; the refresher and
a consumer batch writing the same area conflict, and one of them is re-run on the other's result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.client_session import AsyncClientSession

from districts.alerts.service import AlertWatch
from districts.geography.domain import Locator
from districts.projection.domain import NUMERIC_KPIS, Kpis, area_of
from districts.projection.events import KpisUpdated, kpis_payload
from districts.projection.service import known_keys, population_of
from districts.projection.store import ProjectionStore
from districts.projection.tally import Tally, measure_tally
from districts.projection.vitality import AreaFigures, StoredArea, Targets, area_figures
from shared.outbox import Outbox, UnitOfWork

if TYPE_CHECKING:
    from districts.projection.refresher import RefreshMetrics

Computed = dict[str, AreaFigures]


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _moved(previous: StoredArea | None, figures: AreaFigures) -> bool:
    if previous is None:
        return True
    before = previous.figures
    return not before.kpis.same_figures(figures.kpis) or before.vitality != figures.vitality


Sample = tuple[str, datetime, datetime, dict[str, Any]]


def _sample(key: str, figures: AreaFigures, at: datetime) -> Sample:
    kpis = figures.kpis
    return key, _hour(at), at, {n: getattr(kpis, n) for n in NUMERIC_KPIS}


@dataclass(eq=False)
class KpiPublisher:
    """Stores the figures of areas that moved, samples them, reviews their districts' alerts and emits
    ``KpisUpdated``, inside the caller's transaction."""

    projections: ProjectionStore
    alerts: AlertWatch
    outbox: Outbox
    targets: Targets
    metrics: RefreshMetrics
    sample_every: timedelta
    # what the consumer's transaction staged, counted once it commits (an attempt re-run on a
    # conflict stages again and replaces these)
    _staged: bool = field(default=False, init=False)
    _announced: int = field(default=0, init=False)

    def figures(self, tally: Tally | None, locator: Locator, key: str, now: datetime) -> AreaFigures:
        """The figures of an area at ``now`` from its tally."""
        measures = measure_tally(tally or Tally(), population_of(locator, key), now)
        return area_figures(measures, self.targets, now)

    async def publish(
        self, uow: UnitOfWork, generation: int, computed: Computed, now: datetime, *, sample_all: bool
    ) -> int:
        """Store, sample, review and announce the areas of ``computed`` whose figures moved (all of them
        sampled if ``sample_all``); return how many district KPI changes were announced."""
        session = uow.session
        previous = await self.projections.stored_areas(generation, computed, session)
        changed: dict[str, StoredArea] = {}
        samples = []
        districts: dict[str, Kpis] = {}
        for key, figures in computed.items():
            stored = previous.get(key)
            moved = _moved(stored, figures)
            code, _ = area_of(key)
            kpis = figures.kpis
            if sample_all or (moved and (stored is None or stored.may_sample(now, self.sample_every))):
                changed[key] = StoredArea(figures, sampled_at=now)
                samples.append(_sample(key, figures, now))
            elif moved and stored is not None:
                changed[key] = StoredArea(figures, stored.sampled_at, sample_due=True)
            if code is None:
                continue
            districts[code] = kpis
            if moved:
                uow.emit(KpisUpdated(district=code, kpis=kpis_payload(kpis.values()), at=now))
        await self.projections.save_areas(generation, changed, session)
        await self.projections.append_samples(samples, session)
        await self.alerts.review(uow, districts, now, sampled=sample_all)
        return sum(1 for e in uow.events if e.type == KpisUpdated.event_type)

    async def deferred_due(self, generation: int, now: datetime) -> bool:
        """Whether an area waits for a sample that is due at ``now`` (read outside a transaction, so
        that an idle poll opens none)."""
        waiting = await self.projections.unsampled_areas(generation)
        return any(area.may_sample(now, self.sample_every) for area in waiting.values())

    async def sample_deferred(self, session: AsyncClientSession, generation: int, now: datetime) -> int:
        """Sample the areas whose last move waits for its sample, once the interval since their previous
        sample has passed; the sample takes the time of the move. How many were sampled."""
        waiting = await self.projections.unsampled_areas(generation, session)
        due = {key: area for key, area in waiting.items() if area.may_sample(now, self.sample_every)}
        samples = [_sample(key, area.figures, area.figures.kpis.as_of or now) for key, area in due.items()]
        await self.projections.append_samples(samples, session)
        await self.projections.save_areas(
            generation, {key: StoredArea(area.figures, sampled_at=now) for key, area in due.items()}, session
        )
        return len(due)

    async def publish_moved(
        self, session: AsyncClientSession, generation: int, locator: Locator, tallies: dict[str, Tally], now: datetime
    ) -> None:
        """The consumer's path: the areas whose tallies a batch just moved (``tallies``: as they are now,
        in this transaction), those the geography knows. Their events go to the outbox in the same
        transaction; :meth:`committed` wakes the relay once it has committed."""
        self._staged, self._announced = False, 0
        known = known_keys(locator)
        computed = {key: self.figures(tally, locator, key, now) for key, tally in tallies.items() if key in known}
        if not computed:
            return
        uow = UnitOfWork(session)
        self._announced = await self.publish(uow, generation, computed, now, sample_all=False)
        self._staged = await self.outbox.stage(uow) > 0

    def committed(self, events: int = 0) -> None:
        """The consumer's batch has committed: what it staged in the outbox is there to be published."""
        staged, announced = self._staged, self._announced
        self._staged, self._announced = False, 0
        self.metrics.kpi_updates.inc(announced)
        if staged:
            self.outbox.wake()
