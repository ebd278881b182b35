"""Use cases on concessions: grant one with a stall, renew, transfer, revoke, expire, free the stall.

The stall carries the terms of its concession (one aggregate, one version) and the concession's
record keeps its whole life; every use case writes both, the stall's history line and the event in
one transaction. A direct assignment respects the market's 1/5 food-service cap.

Expiry is idempotent and safe with several replicas: a concession expires in a transaction that
re-reads it and writes it only while it is still active at the version read, so when two replicas
expire the same concession one transaction commits and the other re-runs, finds it expired, and
neither writes nor emits anything more.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import KW_ONLY, dataclass, replace
from datetime import date, tzinfo

from markets.concessions import events
from markets.concessions.domain import Concession, ConcessionQuery, ConcessionRecord
from markets.concessions.store import ConcessionStore
from markets.settings import MARKET_ZONE
from markets.stalls.domain import Stall, StallCategory, check_food_service_cap
from markets.stalls.events import StallCategory as WireCategory
from markets.stalls.events import StallStatus as WireStatus
from markets.stalls.service import Clock
from markets.stalls.store import MarketStore
from shared.errors import Conflict, PreconditionFailed
from shared.events import utcnow
from shared.i18n import Said
from shared.outbox import Outbox, UnitOfWork
from shared.versions import Precondition

log = logging.getLogger(__name__)

SYSTEM = "system"  # the actor of what the service does by itself (a concession expiring)


@dataclass(frozen=True)
class ConcessionsService:
    store: MarketStore
    records: ConcessionStore
    outbox: Outbox
    _: KW_ONLY
    clock: Clock = utcnow
    zone: tzinfo = MARKET_ZONE

    def today(self) -> date:
        """The day it is in Milan: a concession ending on ``end`` expires when the day after begins."""
        return self.clock().astimezone(self.zone).date()

    @staticmethod
    def new_terms(market_id: str, holder: str, start: date, end: date, trader: str | None = None) -> Concession:
        """The terms of a concession about to be granted, with its own id."""
        return Concession(holder, start, end, trader, f"{market_id}-{secrets.token_hex(5)}")

    # grant and free --------------------------------------------------------------------------

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
        terms = self.new_terms(market_id, concession.holder, concession.start, concession.end, concession.trader)

        async def work(uow: UnitOfWork) -> Stall:
            stall = await self.store.get_stall(market_id, number, uow.session)
            precondition.check(stall.version, Said(f"il banco {number}", f"stall {number}"))
            assigned = stall.assign(terms, category, self.clock())
            check_food_service_cap(stall, category, await self.store.stalls_of([market_id], uow.session))
            await self.save_assignment(uow, stall, assigned, f"assigned to {terms.holder}", actor)
            return assigned

        return await self.outbox.run(work)

    async def save_assignment(self, uow: UnitOfWork, stall: Stall, assigned: Stall, note: str, actor: str) -> None:
        """Save a stall that has just been given a holder, with its concession's record, history line and event."""
        concession = assigned.concession
        assert concession is not None and concession.id is not None, "granted with new_terms"
        await self.store.save_change(stall, assigned, note, actor, uow.session)
        await self.records.insert(
            ConcessionRecord.granted(assigned.market_id, assigned.number, concession, assigned.updated_at), uow.session
        )
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
                concession_id=concession.id,
                trader=concession.trader,
            )
        )

    async def release(self, market_id: str, number: str, precondition: Precondition, actor: str) -> Stall:
        """The stall without its holder: it becomes vacant, and its concession is ``released``."""

        async def work(uow: UnitOfWork) -> Stall:
            stall = await self.store.get_stall(market_id, number, uow.session)
            precondition.check(stall.version, Said(f"il banco {number}", f"stall {number}"))
            freed = stall.release(self.clock())
            held = stall.concession
            if held is not None and held.id is not None:
                record = await self.records.get(held.id, uow.session)
                await self.records.save(record.release(freed.updated_at), record.version, uow.session)
            holder = stall.holder or ""
            await self.store.save_change(stall, freed, f"freed (held by {holder})", actor, uow.session)
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

    # the concession's life -------------------------------------------------------------------

    async def get(self, concession_id: str) -> ConcessionRecord:
        return await self.records.get(concession_id)

    async def list(self, query: ConcessionQuery, *, limit: int, offset: int) -> tuple[list[ConcessionRecord], int]:
        if query.market_id is not None:
            await self.store.get_market(query.market_id)
        return await self.records.list(query, self.today(), limit=limit, offset=offset)

    async def _held_stall(self, record: ConcessionRecord, uow: UnitOfWork) -> Stall:
        """The stall ``record`` is the concession of (it always is while the record is active)."""
        stall = await self.store.get_stall(record.market_id, record.number, uow.session)
        if stall.concession is None or stall.concession.id != record.id:
            raise Conflict(
                Said(
                    f"il banco {record.number} non è occupato in base alla concessione {record.id}",
                    f"stall {record.number} is not held under concession {record.id}",
                )
            )
        return stall

    def _event_fields(self, record: ConcessionRecord, stall: Stall, actor: str) -> dict[str, object]:
        return {
            "market_id": record.market_id,
            "number": record.number,
            "concession_id": record.id,
            "holder": record.holder,
            "trader": record.trader,
            "start": record.start,
            "end": record.end,
            "state": events.ConcessionState(record.state),
            "status": WireStatus(stall.status),
            "actor": actor,
            "version": stall.version,
            "at": record.updated_at,
        }

    async def renew(self, concession_id: str, end: date, actor: str) -> ConcessionRecord:
        """The concession running until ``end`` (after its current end)."""

        async def work(uow: UnitOfWork) -> ConcessionRecord:
            record = await self.records.get(concession_id, uow.session)
            renewed = record.renew(end, self.clock())
            stall = await self._held_stall(record, uow)
            amended = stall.amend_concession(renewed.terms, renewed.updated_at)
            await self.records.save(renewed, record.version, uow.session)
            note = f"concession {record.id} renewed until {end.isoformat()}"
            await self.store.save_change(stall, amended, note, actor, uow.session)
            uow.emit(events.ConcessionRenewed(**self._event_fields(renewed, amended, actor), previous_end=record.end))
            return renewed

        return await self.outbox.run(work)

    async def transfer(self, concession_id: str, trader: str, holder: str | None, actor: str) -> ConcessionRecord:
        """The concession held by another trader (and business, when given) for the rest of its term."""

        async def work(uow: UnitOfWork) -> ConcessionRecord:
            record = await self.records.get(concession_id, uow.session)
            moved = record.transfer(trader, holder, self.clock())
            stall = await self._held_stall(record, uow)
            amended = stall.amend_concession(moved.terms, moved.updated_at)
            await self.records.save(moved, record.version, uow.session)
            note = f"concession {record.id} transferred to {moved.holder}"
            await self.store.save_change(stall, amended, note, actor, uow.session)
            uow.emit(
                events.ConcessionTransferred(
                    **self._event_fields(moved, amended, actor),
                    previous_holder=record.holder,
                    previous_trader=record.trader,
                )
            )
            return moved

        return await self.outbox.run(work)

    async def revoke(self, concession_id: str, reason: str, actor: str) -> ConcessionRecord:
        """The concession revoked: it ends now and its stall becomes vacant."""

        async def work(uow: UnitOfWork) -> ConcessionRecord:
            record = await self.records.get(concession_id, uow.session)
            revoked = record.revoke(reason, self.clock())
            stall = await self._held_stall(record, uow)
            freed = stall.release(revoked.updated_at)
            await self.records.save(revoked, record.version, uow.session)
            note = f"concession {record.id} revoked: {reason}"
            await self.store.save_change(stall, freed, note, actor, uow.session)
            uow.emit(events.ConcessionRevoked(**self._event_fields(revoked, freed, actor), reason=reason))
            return revoked

        return await self.outbox.run(work)

    # concessions granted before they had records --------------------------------------------

    async def record_unrecorded(self, batch: int = 100) -> int:
        """Give every stall assigned before concessions had records a record of its concession
        (state ``active``, so it is listed and expires); how many this call recorded."""
        recorded = 0
        for stall in await self.store.stalls_held_without_record(batch):
            held = stall.concession
            assert held is not None
            terms = self.new_terms(stall.market_id, held.holder, held.start, held.end, held.trader)

            async def work(uow: UnitOfWork, stall: Stall = stall, terms: Concession = terms) -> None:
                await self.store.record_concession(replace(stall, concession=terms), uow.session)
                await self.records.insert(
                    ConcessionRecord.granted(stall.market_id, stall.number, terms, stall.updated_at), uow.session
                )

            try:
                await self.outbox.run(work)
            except PreconditionFailed:
                continue  # changed (or recorded by another replica) meanwhile: the next run sees it again
            recorded += 1
        return recorded

    # expiry ----------------------------------------------------------------------------------

    async def expire(self, concession_id: str, today: date) -> bool:
        """Expire the concession if it is still active and past its end; False when there was nothing to do."""

        async def work(uow: UnitOfWork) -> bool:
            record = await self.records.get(concession_id, uow.session)
            if not record.is_due(today):
                return False  # expired (or renewed, revoked…) by someone else meanwhile
            expired = record.expire(today, self.clock())
            await self.records.save(expired, record.version, uow.session)
            stall = await self.store.get_stall(record.market_id, record.number, uow.session)
            if stall.concession is None or stall.concession.id != record.id:
                log.warning("concession %s expired, but stall %s is not held under it", record.id, stall.key)
                return True
            freed = stall.release(expired.updated_at)
            note = f"concession {record.id} expired (ended {record.end.isoformat()})"
            await self.store.save_change(stall, freed, note, SYSTEM, uow.session)
            uow.emit(events.ConcessionExpired(**self._event_fields(expired, freed, SYSTEM)))
            return True

        try:
            return await self.outbox.run(work)
        except PreconditionFailed:
            return False  # another replica's write won

    async def expire_due(self, batch: int = 100) -> int:
        """Expire every concession past its end (``batch`` at a time); how many this call expired."""
        today = self.today()
        expired = 0
        while True:
            due = await self.records.due(today, batch)
            done = [await self.expire(concession_id, today) for concession_id in due]
            expired += sum(done)
            if len(due) < batch or not any(done):
                break
        if expired:
            log.info("%d concessions expired on %s", expired, today.isoformat(), extra={"expired": expired})
        return expired
