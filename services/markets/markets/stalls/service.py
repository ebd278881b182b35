"""Use cases on markets and stalls: load, apply the domain rule, save state and event together.

Each write runs in :meth:`Outbox.run` (one transaction, re-run on a write conflict), so it reads
what it changes inside the transaction and its event is published if and only if it commits.
Every use case returns domain objects; the API maps them to what it answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any

from prometheus_client import Counter

from markets.stalls import events
from markets.stalls.domain import (
    HistoryEntry,
    Market,
    MarketOverview,
    MarketQuery,
    Stall,
    StallCategory,
    StallQuery,
    StallStatus,
)
from markets.stalls.store import MarketStore
from shared.events import utcnow
from shared.i18n import Said
from shared.outbox import Outbox, UnitOfWork
from shared.versions import Precondition

Clock = Callable[[], datetime]


def market_event_fields(market: Market) -> dict[str, Any]:
    return {
        "market_id": market.id,
        "name": market.name,
        "address": market.address,
        "municipio": market.municipio,
        "nil": market.nil,
        "location": events.LocationData(lon=market.location.lon, lat=market.location.lat),
        "active": market.active,
        "version": market.version,
    }


@dataclass(frozen=True)
class StallsService:
    """Registering markets and their stalls, and the stalls' status during the day."""

    store: MarketStore
    outbox: Outbox
    _: KW_ONLY
    clock: Clock = utcnow
    status_changes: Counter | None = None

    # markets ---------------------------------------------------------------------------------

    async def register_market(self, market_id: str, details: dict[str, Any]) -> MarketOverview:
        now = self.clock()
        market = Market(id=market_id, **details, version=1, created_at=now, updated_at=now)

        async def work(uow: UnitOfWork) -> None:
            await self.store.insert_market(market, uow.session)
            uow.emit(events.MarketRegistered(**market_event_fields(market)))

        await self.outbox.run(work)
        return MarketOverview.of(market, [])

    async def update_market(
        self, market_id: str, changes: dict[str, Any], precondition: Precondition
    ) -> MarketOverview:
        """Change the details sent; a change to what the market already has is a no-op without an event."""

        async def work(uow: UnitOfWork) -> Market:
            market = await self.store.get_market(market_id, uow.session)
            precondition.check(market.version, Said(f"il mercato {market_id!r}", f"market {market_id!r}"))
            changed = market.changed(changes, self.clock())
            if changed is market:
                return market
            await self.store.save_market(changed, market.version, uow.session)
            uow.emit(events.MarketUpdated(**market_event_fields(changed)))
            return changed

        market = await self.outbox.run(work)
        return MarketOverview.of(market, await self.store.stalls_of([market_id]))

    async def get_market(self, market_id: str) -> MarketOverview:
        market = await self.store.get_market(market_id)
        return MarketOverview.of(market, await self.store.stalls_of([market_id]))

    async def list_markets(self, query: MarketQuery, *, limit: int, offset: int) -> tuple[list[MarketOverview], int]:
        markets, total = await self.store.list_markets(query, limit=limit, offset=offset)
        stalls = await self.store.stalls_of([m.id for m in markets])
        return [MarketOverview.of(m, stalls) for m in markets], total

    # stalls ----------------------------------------------------------------------------------

    async def create_stall(
        self, market_id: str, number: str, area_m2: float, category: StallCategory, actor: str
    ) -> Stall:
        """A new stall starts vacant, with no holder."""
        now = self.clock()
        stall = Stall(market_id, number, area_m2, category, StallStatus.VACANT, 1, now)

        async def work(uow: UnitOfWork) -> Stall:
            await self.store.get_market(market_id, uow.session)
            await self.store.insert_stall(stall, uow.session)
            await self.store.add_history(HistoryEntry.of(None, stall, "stall created", actor), uow.session)
            uow.emit(
                events.StallCreated(
                    market_id=market_id,
                    number=stall.number,
                    area_m2=stall.area_m2,
                    category=events.StallCategory(stall.category),
                    status=events.StallStatus(stall.status),
                    holder=None,
                    version=stall.version,
                    at=now,
                )
            )
            return stall

        return await self.outbox.run(work)

    async def get_stall(self, market_id: str, number: str) -> Stall:
        return await self.store.get_stall(market_id, number)

    async def list_stalls(
        self, market_id: str, query: StallQuery, *, limit: int, offset: int
    ) -> tuple[list[Stall], int]:
        await self.store.get_market(market_id)
        return await self.store.list_stalls(market_id, query, limit=limit, offset=offset)

    async def change_status(
        self, market_id: str, number: str, to: StallStatus, note: str, precondition: Precondition, actor: str
    ) -> Stall:
        """Move the stall to ``to``; asking for the status it already has changes nothing."""

        async def work(uow: UnitOfWork) -> tuple[Stall, bool]:
            stall = await self.store.get_stall(market_id, number, uow.session)
            precondition.check(stall.version, Said(f"il banco {number}", f"stall {number}"))
            changed = stall.change_status(to, self.clock())  # the domain rule: may raise Conflict
            if changed is stall:
                return stall, False
            await self.store.save_change(stall, changed, note, actor, uow.session)
            uow.emit(
                events.StallStatusChanged(
                    market_id=market_id,
                    number=number,
                    from_=events.StallStatus(stall.status),
                    to=events.StallStatus(changed.status),
                    note=note,
                    actor=actor,
                    version=changed.version,
                    at=changed.updated_at,
                )
            )
            return changed, True

        stall, changed = await self.outbox.run(work)
        if changed and self.status_changes is not None:
            self.status_changes.labels(to.value).inc()
        return stall

    async def history(self, market_id: str, number: str, *, limit: int, offset: int) -> tuple[list[HistoryEntry], int]:
        await self.store.get_stall(market_id, number)
        return await self.store.history_of(market_id, number, limit=limit, offset=offset)
