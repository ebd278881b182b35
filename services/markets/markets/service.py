"""Use cases on markets and stalls: load, apply the domain rule, save state and event together.

Each write runs in :meth:`Outbox.run` (one transaction, re-run on a write conflict), so it reads
what it changes inside the transaction and its event is published if and only if it commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from pymongo.asynchronous.client_session import AsyncClientSession

from markets.domain import (
    Concession,
    HistoryEntry,
    Occupancy,
    Stall,
    StallCategory,
    StallStatus,
    Surface,
    check_food_service_cap,
    check_version,
)
from markets.events import (
    LocationData,
    MarketRegistered,
    MarketUpdated,
    StallAssigned,
    StallCreated,
    StallReleased,
    StallStatusChanged,
)
from markets.schemas import (
    AssignmentIn,
    HistoryItem,
    MarketCreate,
    MarketPublic,
    MarketUpdate,
    OccupancyPublic,
    Page,
    StallCreate,
    SurfacePublic,
)
from markets.store import MarketStore
from shared.errors import NotFound
from shared.events import utcnow
from shared.mongo import Document
from shared.outbox import Outbox, UnitOfWork

Clock = Callable[[], datetime]


def surface_public(surface: Surface) -> SurfacePublic:
    return SurfacePublic(
        total_m2=round(surface.total_m2, 2),
        food_service_m2=round(surface.food_service_m2, 2),
        food_service_cap_m2=round(surface.food_service_cap_m2, 2),
    )


def market_public(record: Document, stalls: Sequence[Stall]) -> MarketPublic:
    return MarketPublic(
        **record,
        occupancy=OccupancyPublic(**asdict(Occupancy.of(stalls))),
        surface=surface_public(Surface.of(stalls)),
    )


class MarketsService:
    def __init__(
        self, store: MarketStore, outbox: Outbox, status_changes: Counter | None = None, clock: Clock = utcnow
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.status_changes = status_changes
        self.clock = clock

    # markets ---------------------------------------------------------------------------------

    async def register_market(self, data: MarketCreate, actor: str) -> MarketPublic:
        now = self.clock()
        record: Document = {**data.model_dump(), "version": 1, "created_at": now, "updated_at": now}

        async def work(uow: UnitOfWork) -> None:
            await self.store.insert_market(record, uow.session)
            uow.emit(MarketRegistered(**self._market_event_fields(record)))

        await self.outbox.run(work)
        return market_public(record, [])

    async def update_market(
        self, market_id: str, changes: MarketUpdate, if_match: frozenset[int] | None, actor: str
    ) -> MarketPublic:
        wanted = changes.model_dump(exclude_unset=True)

        async def work(uow: UnitOfWork) -> Document:
            record = await self.get_market_record(market_id, uow.session)
            check_version(record["version"], None, if_match)
            diff = {k: v for k, v in wanted.items() if record.get(k) != v}
            if not diff:
                return record
            diff.update(version=record["version"] + 1, updated_at=self.clock())
            await self.store.update_market(market_id, diff, record["version"], uow.session)
            updated = {**record, **diff}
            uow.emit(MarketUpdated(**self._market_event_fields(updated)))
            return updated

        record = await self.outbox.run(work)
        return market_public(record, await self.store.stalls_of([market_id]))

    async def get_market(self, market_id: str) -> MarketPublic:
        record = await self.get_market_record(market_id)
        return market_public(record, await self.store.stalls_of([market_id]))

    async def list_markets(
        self, *, municipio: int | None, active: bool | None, limit: int, offset: int
    ) -> Page[MarketPublic]:
        records, total = await self.store.list_markets(municipio=municipio, active=active, limit=limit, offset=offset)
        stalls: dict[str, list[Stall]] = defaultdict(list)
        for stall in await self.store.stalls_of([r["id"] for r in records]):
            stalls[stall.market_id].append(stall)
        items = [market_public(r, stalls[r["id"]]) for r in records]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def get_market_record(self, market_id: str, session: AsyncClientSession | None = None) -> Document:
        record = await self.store.get_market(market_id, session)
        if record is None:
            raise NotFound(f"no market {market_id!r}")
        return record

    @staticmethod
    def _market_event_fields(record: Document) -> dict[str, Any]:
        return {
            "market_id": record["id"],
            "name": record["name"],
            "address": record["address"],
            "municipio": record["municipio"],
            "nil": record["nil"],
            "location": LocationData(**record["location"]),
            "active": record["active"],
            "version": record["version"],
        }

    # stalls ----------------------------------------------------------------------------------

    async def create_stall(self, market_id: str, data: StallCreate, actor: str) -> Stall:
        now = self.clock()
        stall = Stall(market_id, data.number, data.area_m2, data.category, StallStatus.VACANT, 1, now)

        async def work(uow: UnitOfWork) -> Stall:
            await self.get_market_record(market_id, uow.session)
            await self.store.insert_stall(stall, uow.session)
            await self._record(uow, None, stall, "stall created", actor)
            uow.emit(
                StallCreated(
                    market_id=market_id,
                    number=stall.number,
                    area_m2=stall.area_m2,
                    category=stall.category,
                    status=stall.status,
                    holder=None,
                    version=stall.version,
                    at=now,
                )
            )
            return stall

        return await self.outbox.run(work)

    async def get_stall(self, market_id: str, number: str) -> Stall:
        return await self._stall(market_id, number)

    async def list_stalls(
        self,
        market_id: str,
        *,
        status: StallStatus | None,
        category: StallCategory | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Stall], int]:
        await self.get_market_record(market_id)
        return await self.store.list_stalls(market_id, status=status, category=category, limit=limit, offset=offset)

    async def change_status(
        self,
        market_id: str,
        number: str,
        to: StallStatus,
        note: str,
        *,
        expected_version: int | None,
        if_match: frozenset[int] | None,
        actor: str,
    ) -> Stall:
        """Move the stall to ``to``; asking for the status it already has changes nothing."""

        async def work(uow: UnitOfWork) -> tuple[Stall, bool]:
            stall = await self._stall(market_id, number, uow.session)
            check_version(stall.version, expected_version, if_match)
            changed = stall.change_status(to, self.clock())
            if changed is stall:
                return stall, False
            await self.store.save_stall(changed, stall.version, uow.session)
            await self._record(uow, stall, changed, note, actor)
            uow.emit(
                StallStatusChanged(
                    market_id=market_id,
                    number=number,
                    from_=stall.status,
                    to=changed.status,
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

    async def assign(
        self, market_id: str, number: str, data: AssignmentIn, *, if_match: frozenset[int] | None, actor: str
    ) -> Stall:
        async def work(uow: UnitOfWork) -> Stall:
            stall = await self._stall(market_id, number, uow.session)
            check_version(stall.version, None, if_match)
            assigned = stall.assign(Concession(data.holder, data.start, data.end), data.category, self.clock())
            check_food_service_cap(stall, data.category, await self.store.stalls_of([market_id], uow.session))
            await self.save_assignment(uow, stall, assigned, f"assigned to {data.holder}", actor)
            return assigned

        return await self.outbox.run(work)

    async def save_assignment(self, uow: UnitOfWork, stall: Stall, assigned: Stall, note: str, actor: str) -> None:
        """Save a stall that has just been given a holder, with its history line and event."""
        concession = assigned.concession
        assert concession is not None
        await self.store.save_stall(assigned, stall.version, uow.session)
        await self._record(uow, stall, assigned, note, actor)
        uow.emit(
            StallAssigned(
                market_id=assigned.market_id,
                number=assigned.number,
                holder=concession.holder,
                category=assigned.category,
                start=concession.start,
                end=concession.end,
                status=assigned.status,
                actor=actor,
                version=assigned.version,
                at=assigned.updated_at,
            )
        )

    async def release(self, market_id: str, number: str, *, if_match: frozenset[int] | None, actor: str) -> Stall:
        async def work(uow: UnitOfWork) -> Stall:
            stall = await self._stall(market_id, number, uow.session)
            check_version(stall.version, None, if_match)
            freed = stall.release(self.clock())
            holder = stall.holder or ""
            await self.store.save_stall(freed, stall.version, uow.session)
            await self._record(uow, stall, freed, f"freed (held by {holder})", actor)
            uow.emit(
                StallReleased(
                    market_id=market_id,
                    number=number,
                    previous_holder=holder,
                    status=freed.status,
                    actor=actor,
                    version=freed.version,
                    at=freed.updated_at,
                )
            )
            return freed

        return await self.outbox.run(work)

    async def history(self, market_id: str, number: str, *, limit: int, offset: int) -> Page[HistoryItem]:
        await self._stall(market_id, number)
        docs, total = await self.store.history_of(market_id, number, limit=limit, offset=offset)
        return Page(items=[HistoryItem(**d) for d in docs], total=total, limit=limit, offset=offset)

    async def _stall(self, market_id: str, number: str, session: AsyncClientSession | None = None) -> Stall:
        stall = await self.store.get_stall(market_id, number, session)
        if stall is None:
            if await self.store.get_market(market_id, session) is None:
                raise NotFound(f"no market {market_id!r}")
            raise NotFound(f"no stall {number!r} in market {market_id!r}")
        return stall

    async def _record(self, uow: UnitOfWork, before: Stall | None, after: Stall, note: str, actor: str) -> None:
        entry = HistoryEntry(
            market_id=after.market_id,
            number=after.number,
            version=after.version,
            at=after.updated_at,
            from_status=before.status if before else None,
            to_status=after.status,
            note=note,
            actor=actor,
        )
        await self.store.add_history(entry, uow.session)
