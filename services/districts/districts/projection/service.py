"""The consumer side: every followed event updates the projected entities it concerns.

The handler gets a whole batch inside the consumer's transaction: one read of the entities it
concerns, the changes merged in memory, one bulk write, and in the same transaction the tallies of
the areas the changed entities (or the stalls and services of a changed market or business) left,
entered or stayed in are moved by what they counted before and count now
(:mod:`districts.projection.tally`), so entity changes, area tallies, the processed event ids and
(after commit) the offset move together. The KPIs of the areas whose tallies moved are written in
that same transaction too, with their samples, alert changes and events
(:mod:`districts.projection.publish`), so a change is visible the moment its batch commits.
While a rebuild is running, live events are applied to the generation being built as well: field
versions make the double application harmless (an entity that does not change moves no tally),
and nothing published after the replay started can be missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession

from districts.geography.current import CurrentGeography
from districts.geography.domain import Locator
from districts.geography.store import GeographyStore
from districts.projection.changes import changes_of
from districts.projection.domain import (
    NUMERIC_KPIS,
    AreaContents,
    Change,
    Entity,
    EntityType,
    ProjectionState,
    Series,
    StoredEntity,
    area_keys_of,
    area_of,
    district_key,
    group_by_area,
    nil_key,
    placement_of,
    unknown_metric,
)
from districts.projection.store import ProjectionStore
from districts.projection.tally import Tally, deltas, parent_id
from districts.projection.vitality import NO_FIGURES, AreaFigures
from shared.consumer import BatchHandler, Handler, PoisonEvent
from shared.errors import InvalidInput
from shared.events import CloudEvent, utcnow
from shared.i18n import Said

if TYPE_CHECKING:
    from districts.projection.publish import KpiPublisher

DEFAULT_SPAN = timedelta(hours=24)
LONGEST_SPAN = timedelta(days=92)


@dataclass(frozen=True)
class ProjectionStates:
    """Reads the projection state: the generations (projection store) and the geography version."""

    projections: ProjectionStore
    geography: GeographyStore

    async def current(self, session: AsyncClientSession | None = None) -> ProjectionState:
        if session is None:  # outside a transaction the two reads go at once
            (active, building), geography = await asyncio.gather(
                self.projections.generations(), self.geography.version()
            )
            return ProjectionState(active, building, geography)
        active, building = await self.projections.generations(session)
        return ProjectionState(active, building, await self.geography.version(session))


@dataclass(frozen=True)
class Projector:
    store: ProjectionStore
    states: ProjectionStates
    geography: CurrentGeography
    counter: AreaCounter
    clock: Callable[[], datetime] = utcnow
    # writes the KPIs of the areas a batch moved in its own transaction; without it the batch leaves
    # marks for the refresher to turn into KPIs
    publisher: KpiPublisher | None = None

    @staticmethod
    def _changes(events: list[CloudEvent]) -> list[Change]:
        changes = []
        for event in events:
            try:
                changes += changes_of(event)
            except ValidationError as exc:
                raise PoisonEvent(f"{event.type} payload breaks the contract: {exc.errors()[:3]}") from exc
        return changes

    async def handle(self, event: CloudEvent, session: AsyncClientSession) -> None:
        await self.handle_batch([event], session)

    async def handle_batch(self, events: list[CloudEvent], session: AsyncClientSession) -> None:
        """The live handler: the active generation, and the one being rebuilt if any."""
        changes = self._changes(events)
        if changes:
            state = await self.states.current(session)
            await self.apply(state, state.generations, changes, session)

    def replay_handlers(self, generation: int) -> tuple[Handler, BatchHandler]:
        """The handlers (one event, a batch) of a rebuild's own consumer: only the generation being built."""

        async def handle_batch(events: list[CloudEvent], session: AsyncClientSession) -> None:
            changes = self._changes(events)
            if changes:
                state = await self.states.current(session)
                await self.apply(state, (generation,), changes, session)

        async def handle(event: CloudEvent, session: AsyncClientSession) -> None:
            await handle_batch([event], session)

        return handle, handle_batch

    async def apply(
        self, state: ProjectionState, generations: Iterable[int], changes: list[Change], session: AsyncClientSession
    ) -> None:
        """Merge the changes into each generation with one read and one bulk write, and move the tallies
        of the areas they touch (:mod:`districts.projection.tally`) in the same transaction."""
        active, geography = state.active, state.geography
        locator = await self.geography.locator(geography)
        now = self.clock()
        for generation in generations:
            stored = await self.store.entities(generation, {c.entity_id for c in changes}, session)
            entities = {key: s.entity for key, s in stored.items()}
            before = {key: e.copy() for key, e in entities.items()}
            updated: set[str] = set()
            for change in changes:
                entity = entities.setdefault(change.entity_id, Entity(change.entity_id, change.type))
                if entity.apply(change):
                    updated.add(change.entity_id)
            saved = []
            for key in sorted(updated):
                entity, previous = entities[key], stored.get(key)
                if entity.is_placeable:
                    placement = placement_of(entity, locator)
                    entity.districts, entity.nil = placement.districts, placement.nil
                saved.append(StoredEntity(entity, previous.rev + 1 if previous else 1, locator.version))
            await self.store.save_entities(generation, saved, session)
            after = {key: entities[key] for key in updated}
            moved = await self.counter.count(
                generation, {k: before[k] for k in updated if k in before}, after, now, session
            )
            if generation != active:
                continue
            if self.publisher is None:
                await self.store.add_mark(generation, moved, (), session)
            else:
                await self.publisher.publish_moved(session, generation, locator, moved, now)


@dataclass(frozen=True)
class AreaCounter:
    """Moves the tallies of the areas touched by changed entities."""

    store: ProjectionStore

    async def count(
        self,
        generation: int,
        before: dict[str, Entity],
        after: dict[str, Entity],
        now: datetime,
        session: AsyncClientSession,
    ) -> dict[str, Tally]:
        """Apply the deltas of entities that changed from ``before`` (absent: new) to ``after``; return the
        areas whose tallies moved, with their tallies as now saved. The stalls or services of a market
        or business whose areas or activity changed move with it. An area the geography in use does
        not know yet (a NIL named by its producer, a district being created) is counted too: its
        tally is right the moment it becomes known."""
        parents = {p for e in (*before.values(), *after.values()) if (p := parent_id(e)) and p not in after}
        unchanged = {e.id: e for e in await self.store.by_ids(generation, parents, session)} if parents else {}
        moved_parents = [
            e for key, e in after.items() if e.is_placeable and _as_parent(before.get(key)) != _as_parent(e)
        ]
        # The parents read here are written (their revision bumped), so that a change that moves one of
        # them (and carries its stalls or services) and this one cannot both commit, each on a view of
        # the other from before it: the later one is re-run on the newer state.
        await self.store.touch(generation, unchanged, session)
        contributors = set(after)
        for kind, parent_field in ((EntityType.MARKET, "market_id"), (EntityType.SHOP, "shop_id")):
            refs = [e.ref for e in moved_parents if e.type is kind]
            children = await self.store.children(generation, parent_field, refs, session) if refs else []
            for child in children:
                if child.id not in after:
                    unchanged[child.id] = child
                    contributors.add(child.id)
        found = deltas({**unchanged, **before}, {**unchanged, **after}, contributors)
        tallies = await self.store.tallies(generation, found, session)
        counted = {key: delta.applied_to(tallies.get(key, Tally())).pruned(now) for key, delta in found.items()}
        await self.store.save_tallies(generation, counted, session)
        return counted


def _as_parent(entity: Entity | None) -> tuple[bool, frozenset[str]] | None:
    """What a market or business passes on to its stalls or services: whether it operates, and where."""
    return None if entity is None else (entity.active, frozenset(area_keys_of(entity)))


def known_keys(locator: Locator) -> set[str]:
    """The keys of every district and NIL of a geography."""
    return {district_key(c) for c in locator.district_codes} | {nil_key(n) for n in locator.nil_ids}


def population_of(locator: Locator, key: str) -> int | None:
    code, nil_id = area_of(key)
    return locator.populations.get(code) if code else locator.nil_population(nil_id or 0)


@dataclass(frozen=True)
class CityContents:
    """Everything the active generation holds: markets with their stalls, businesses with their services."""

    store: ProjectionStore
    states: ProjectionStates

    async def city(self) -> AreaContents:
        """Every projected market and business, the stalls of those markets and the services of those businesses."""
        generation = (await self.states.current()).active
        placed = await self.store.placed(generation, None, None, None)
        markets = [e for e in placed if e.type is EntityType.MARKET]
        shops = [e for e in placed if e.type is EntityType.SHOP]
        stalls = await self.store.children(generation, "market_id", [m.ref for m in markets], None)
        services = await self.store.children(generation, "shop_id", [s.ref for s in shops], None)
        return AreaContents(
            shops=sorted(shops, key=lambda e: e.id),
            markets=sorted(markets, key=lambda e: e.id),
            stalls=sorted((e for e in stalls if e.type is EntityType.STALL), key=lambda e: e.id),
            services=sorted((e for e in services if e.type is EntityType.SERVICE), key=lambda e: e.id),
        )

    async def district(self, code: str) -> AreaContents:
        """What a district holds as its KPIs count it: its businesses and markets (closed ones too), the
        stalls of its operating markets and the services on offer at its active businesses."""
        generation = (await self.states.current()).active
        placed = await self.store.placed(generation, [code], None, None)
        markets = [e.ref for e in placed if e.type is EntityType.MARKET]
        shops = [e.ref for e in placed if e.type is EntityType.SHOP]
        stalls = await self.store.children(generation, "market_id", markets, None)
        services = await self.store.children(generation, "shop_id", shops, None)
        key = district_key(code)
        found = group_by_area(
            sorted(placed, key=lambda e: e.id),
            sorted((e for e in stalls if e.type is EntityType.STALL), key=lambda e: e.id),
            sorted((e for e in services if e.type is EntityType.SERVICE), key=lambda e: e.id),
            [key],
        )[key]
        return found


@dataclass(frozen=True)
class KpiQueries:
    """The figures of areas as the active generation shows them, and a district's KPIs over time."""

    store: ProjectionStore
    states: ProjectionStates
    districts: GeographyStore
    clock: Callable[[], datetime] = utcnow

    async def figures(self, keys: Iterable[str]) -> dict[str, AreaFigures]:
        """Figures by area key; an area not computed yet has empty figures."""
        keys = list(keys)
        active, _ = await self.store.generations()  # the geography's version is not needed here
        found = await self.store.areas(active, keys)
        return {key: found.get(key, NO_FIGURES) for key in keys}

    async def timeseries(self, code: str, metric: str, start: datetime | None, end: datetime | None) -> Series:
        """A district's series: the range asked (default: the last 24 h) and the samples of ``metric`` in it."""
        return await self._series(district_key(code), lambda: self.districts.require_district(code), metric, start, end)

    async def timeseries_of(
        self, code: str, metrics: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, Series]:
        """Several series of a district over the same range, read at once (the range is checked as for one)."""
        for metric in metrics:
            start, end = self._range(metric, start, end)
        await self.districts.require_district(code)
        found = await self.store.samples_of(district_key(code), metrics, start, end)
        return {metric: Series(metric, start, end, found[metric]) for metric in metrics}

    async def nil_timeseries(self, nil_id: int, metric: str, start: datetime | None, end: datetime | None) -> Series:
        """A NIL's series, with the same metrics, buckets and checks as a district's."""
        return await self._series(nil_key(nil_id), lambda: self.districts.require_nil(nil_id), metric, start, end)

    async def _series(
        self,
        key: str,
        require_area: Callable[[], Awaitable[object]],
        metric: str,
        start: datetime | None,
        end: datetime | None,
    ) -> Series:
        """The range and metric are checked first (422), then that the area exists (404)."""
        start, end = self._range(metric, start, end)
        await require_area()
        return Series(metric, start, end, await self.store.samples(key, metric, start, end))

    def _range(self, metric: str, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
        """Check the metric and the range asked; default: the last 24 h; at most 92 days."""
        if metric not in NUMERIC_KPIS:
            raise InvalidInput("query.metric", unknown_metric())
        end = _aware(end) if end else self.clock()
        start = _aware(start) if start else end - DEFAULT_SPAN
        if start >= end:
            raise InvalidInput("query.from", Said("deve venire prima di 'to'", "must be before 'to'"))
        if end - start > LONGEST_SPAN:
            raise InvalidInput(
                "query.from",
                Said(
                    f"l'intervallo può coprire al massimo {LONGEST_SPAN.days} giorni",
                    f"the range may span at most {LONGEST_SPAN.days} days",
                ),
            )
        return start, end


def _aware(at: datetime) -> datetime:
    """A time given without an offset is read as UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
