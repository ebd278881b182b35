"""The consumer side: every followed event updates the projected entities it concerns.

The handler runs inside the consumer's batch transaction, so an entity change, the processed event
id and (after commit) the offset move together. Entities changed here are marked ``touched`` with
the areas they left or entered; the refresher turns those marks into KPIs. While a rebuild is
running, live events are applied to the generation being built as well: field versions make the
double application harmless, and nothing published after the replay started can be missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from weakref import WeakKeyDictionary

from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession

from districts.atlas import Atlas
from districts.domain import Change, Entity
from districts.projections import area_keys_of, changes_of, placement_of
from districts.store import DistrictStore, ProjectionState
from shared.consumer import Handler, PoisonEvent
from shared.events import CloudEvent


class Projector:
    def __init__(self, store: DistrictStore, atlas: Atlas) -> None:
        self.store = store
        self.atlas = atlas
        self._states: WeakKeyDictionary[AsyncClientSession, ProjectionState] = WeakKeyDictionary()

    async def _state(self, session: AsyncClientSession) -> ProjectionState:
        """The projection state, read once per batch transaction (a session lives for one attempt)."""
        state = self._states.get(session)
        if state is None:
            state = self._states[session] = await self.store.state(session)
        return state

    @staticmethod
    def _changes(event: CloudEvent) -> list[Change]:
        try:
            return changes_of(event)
        except ValidationError as exc:
            raise PoisonEvent(f"{event.type} payload breaks the contract: {exc.errors()[:3]}") from exc

    async def handle(self, event: CloudEvent, session: AsyncClientSession) -> None:
        """The live handler: the active generation, and the one being rebuilt if any."""
        changes = self._changes(event)
        if changes:
            state = await self._state(session)
            await self.apply(state.generations, changes, state.geography, session)

    def replay_handler(self, generation: int) -> Handler:
        """The handler of a rebuild's own consumer: only the generation being built."""

        async def handle(event: CloudEvent, session: AsyncClientSession) -> None:
            changes = self._changes(event)
            if changes:
                state = await self._state(session)
                await self.apply((generation,), changes, state.geography, session)

        return handle

    async def apply(
        self, generations: Iterable[int], changes: list[Change], geography: int, session: AsyncClientSession
    ) -> None:
        locator = await self.atlas.locator(geography)
        for generation in generations:
            for change in changes:
                stored = await self.store.entity(generation, change.entity_id, session)
                entity = stored.entity if stored else Entity(change.entity_id, change.type)
                before = area_keys_of(entity)
                if not entity.apply(change):
                    continue
                if entity.is_placeable:
                    placement = placement_of(entity, locator)
                    entity.districts, entity.nil = placement.districts, placement.nil
                touched = (stored.touched_areas if stored else frozenset()) | before | area_keys_of(entity)
                await self.store.save_entity(
                    generation,
                    entity,
                    rev=(stored.rev + 1) if stored else 1,
                    geography=locator.version,
                    touched_areas=touched,
                    session=session,
                )
