"""The consumer side: every followed event updates the projected entities it concerns.

The handler gets a whole batch inside the consumer's transaction: one read of the entities it
concerns, the changes merged in memory, one bulk write, so entity changes, the processed event ids
and (after commit) the offset move together. Each batch leaves a mark naming the areas its
entities left or entered (and the markets or shops of changed stalls and services); the refresher
turns marks into KPIs. While a rebuild is
running, live events are applied to the generation being built as well: field versions make the
double application harmless, and nothing published after the replay started can be missed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession

from districts.atlas import Atlas
from districts.domain import Change, Entity
from districts.projections import area_keys_of, changes_of, parent_ids, placement_of
from districts.store import DistrictStore, ProjectionState, StoredEntity
from shared.consumer import BatchHandler, Handler, PoisonEvent
from shared.events import CloudEvent


class Projector:
    def __init__(self, store: DistrictStore, atlas: Atlas) -> None:
        self.store = store
        self.atlas = atlas

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
            state = await self.store.state(session)
            await self.apply(state, state.generations, changes, session)

    def replay_handlers(self, generation: int) -> tuple[Handler, BatchHandler]:
        """The handlers (one event, a batch) of a rebuild's own consumer: only the generation being built."""

        async def handle_batch(events: list[CloudEvent], session: AsyncClientSession) -> None:
            changes = self._changes(events)
            if changes:
                state = await self.store.state(session)
                await self.apply(state, (generation,), changes, session)

        async def handle(event: CloudEvent, session: AsyncClientSession) -> None:
            await handle_batch([event], session)

        return handle, handle_batch

    async def apply(
        self, state: ProjectionState, generations: Iterable[int], changes: list[Change], session: AsyncClientSession
    ) -> None:
        """Merge the changes into each generation with one read and one bulk write."""
        active, geography = state.active, state.geography
        locator = await self.atlas.locator(geography)
        for generation in generations:
            stored = await self.store.entities(generation, {c.entity_id for c in changes}, session)
            entities = {key: s.entity for key, s in stored.items()}
            before = {key: area_keys_of(e) for key, e in entities.items()}
            updated: set[str] = set()
            for change in changes:
                entity = entities.setdefault(change.entity_id, Entity(change.entity_id, change.type))
                if entity.apply(change):
                    updated.add(change.entity_id)
            saved, areas, parents = [], set(), set()
            for key in sorted(updated):
                entity, previous = entities[key], stored.get(key)
                if entity.is_placeable:
                    placement = placement_of(entity, locator)
                    entity.districts, entity.nil = placement.districts, placement.nil
                areas |= before.get(key, set()) | area_keys_of(entity)
                parents |= parent_ids(entity)
                saved.append(StoredEntity(entity, previous.rev + 1 if previous else 1, locator.version))
            await self.store.save_entities(generation, saved, session)
            if generation == active:
                await self.store.add_mark(generation, areas, parents, session)
