"""Use cases on concessions: give a stall a holder, free it.

The concession is kept with its stall (one aggregate, one version), so these use cases write
through the stalls' store; a direct assignment respects the market's 1/5 food-service cap.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from markets.concessions import events
from markets.concessions.domain import Concession
from markets.stalls.domain import HistoryEntry, Stall, StallCategory, check_food_service_cap
from markets.stalls.events import StallCategory as WireCategory
from markets.stalls.events import StallStatus as WireStatus
from markets.stalls.service import Clock
from markets.stalls.store import MarketStore
from shared.events import utcnow
from shared.outbox import Outbox, UnitOfWork
from shared.versions import Precondition


@dataclass(frozen=True)
class ConcessionsService:
    store: MarketStore
    outbox: Outbox
    _: KW_ONLY
    clock: Clock = utcnow

    async def assign(
        self,
        market_id: str,
        number: str,
        concession: Concession,
        category: StallCategory,
        precondition: Precondition,
        actor: str,
    ) -> Stall:
        """The stall held under ``concession``; refused when food service would break the 1/5 cap."""

        async def work(uow: UnitOfWork) -> Stall:
            stall = await self.store.get_stall(market_id, number, uow.session)
            precondition.check(stall.version, f"stall {number}")
            assigned = stall.assign(concession, category, self.clock())
            check_food_service_cap(stall, category, await self.store.stalls_of([market_id], uow.session))
            await self.save_assignment(uow, stall, assigned, f"assigned to {concession.holder}", actor)
            return assigned

        return await self.outbox.run(work)

    async def save_assignment(self, uow: UnitOfWork, stall: Stall, assigned: Stall, note: str, actor: str) -> None:
        """Save a stall that has just been given a holder, with its history line and event."""
        concession = assigned.concession
        assert concession is not None
        await self.store.save_stall(assigned, stall.version, uow.session)
        await self.store.add_history(HistoryEntry.of(stall, assigned, note, actor), uow.session)
        uow.emit(
            events.StallAssigned(
                market_id=assigned.market_id,
                number=assigned.number,
                holder=concession.holder,
                category=WireCategory(assigned.category),
                start=concession.start,
                end=concession.end,
                status=WireStatus(assigned.status),
                actor=actor,
                version=assigned.version,
                at=assigned.updated_at,
            )
        )

    async def release(self, market_id: str, number: str, precondition: Precondition, actor: str) -> Stall:
        """The stall without its holder: it becomes vacant."""

        async def work(uow: UnitOfWork) -> Stall:
            stall = await self.store.get_stall(market_id, number, uow.session)
            precondition.check(stall.version, f"stall {number}")
            freed = stall.release(self.clock())
            holder = stall.holder or ""
            await self.store.save_stall(freed, stall.version, uow.session)
            await self.store.add_history(HistoryEntry.of(stall, freed, f"freed (held by {holder})", actor), uow.session)
            uow.emit(
                events.StallReleased(
                    market_id=market_id,
                    number=number,
                    previous_holder=holder,
                    status=WireStatus(freed.status),
                    actor=actor,
                    version=freed.version,
                    at=freed.updated_at,
                )
            )
            return freed

        return await self.outbox.run(work)
