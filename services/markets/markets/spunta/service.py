"""Use cases of the daily spunta: register the traders present, assign the day, read the results.

Registration and assignment each write the market day's document in their transaction, so two
assignments of the same day (or a registration racing one) cannot both win: the one that loses
re-runs, finds the stored result and returns it without a second event.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime, time, tzinfo

from markets.settings import MARKET_ZONE
from markets.spunta import events
from markets.spunta.domain import (
    Candidate,
    MarketDay,
    SpuntaResult,
    Standing,
    assign,
    check_marked_absent,
    market_day,
    offered_stalls,
    opened_by_cutoff,
)
from markets.spunta.store import SpuntaStore
from markets.stalls.service import Clock
from markets.stalls.store import MarketStore
from shared.errors import NotFound
from shared.i18n import Said, day_said
from shared.outbox import Outbox, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Registration:
    candidate: Candidate
    created: bool  # False when the trader was already registered that day (an idempotent repeat)


@dataclass(frozen=True)
class SpuntaService:
    store: SpuntaStore
    markets: MarketStore
    outbox: Outbox
    _: KW_ONLY
    cutoff: time
    clock: Clock
    zone: tzinfo = MARKET_ZONE

    def _now(self) -> datetime:
        """The clock's time in UTC, as the database gives it back (a stored answer equals a fresh one)."""
        now = self.clock().astimezone(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def _day(self, market_id: str, text: str) -> MarketDay:
        today = self._now().astimezone(self.zone).date()
        return MarketDay.of(market_id, market_day(text, today), self.cutoff, self.zone)

    async def register(self, market_id: str, day_text: str, trader: str, actor: str) -> Registration:
        the_day = self._day(market_id, day_text)

        async def work(uow: UnitOfWork) -> Registration:
            await self.markets.get_market(market_id, uow.session)
            if await self.store.touch_day(the_day, uow.session) is not None:
                raise the_day.refuse_assigned()
            existing = await self.store.find_candidate(the_day, trader, uow.session)
            if existing is not None:
                return Registration(existing, created=False)
            candidate = Candidate(market_id, the_day.day, trader, self._now(), actor)
            await self.store.add_candidate(candidate, uow.session)
            return Registration(candidate, created=True)

        return await self.outbox.run(work)

    async def assign(self, market_id: str, day_text: str, marked_absent: Collection[str], actor: str) -> SpuntaResult:
        the_day = self._day(market_id, day_text)

        async def work(uow: UnitOfWork) -> SpuntaResult:
            session = uow.session
            await self.markets.get_market(market_id, session)
            done = await self.store.touch_day(the_day, session)
            if done is not None:
                return done  # assigned already: the same answer, no second event
            now = self._now()
            the_day.check_assignable(now)
            stalls = await self.markets.stalls_of([market_id], session)
            check_marked_absent(stalls, marked_absent)
            at_start = await self.markets.statuses_at(market_id, the_day.starts_at, session)
            changes = await self.markets.changes_between(market_id, the_day.starts_at, the_day.cutoff_at, session)
            offered = offered_stalls(stalls, opened_by_cutoff(stalls, at_start, changes), marked_absent)
            candidates = await self.store.candidates_of(the_day, session)
            past = await self.store.presences_before(the_day, [c.trader for c in candidates], session)
            result = assign(the_day, offered, candidates, past, now, actor)
            await self.store.save_result(the_day, result, session)
            uow.emit(
                events.SpuntaAssigned(
                    market_id=market_id,
                    date=the_day.day,
                    assignments=[events.SpuntaStall(trader=a.trader, stall=a.stall) for a in result.assignments],
                    unassigned=list(result.unassigned),
                    offered=list(result.offered),
                    actor=actor,
                    at=now,
                )
            )
            return result

        result = await self.outbox.run(work)
        log.info(
            "spunta %s %s: %d stalls offered, %d assigned, %d traders without a stall",
            market_id,
            result.day,
            len(result.offered),
            len(result.assignments),
            len(result.unassigned),
            extra={"market_id": market_id, "actor": actor},
        )
        return result

    async def result(self, market_id: str, day_text: str) -> SpuntaResult:
        the_day = self._day(market_id, day_text)
        await self.markets.get_market(market_id)
        found = await self.store.get_result(the_day)
        if found is None:
            said = day_said(the_day.day)
            raise NotFound(
                Said(
                    it=f"la spunta di {said.it} a {market_id} non è ancora stata assegnata",
                    en=f"the spunta of {said.en} at {market_id} has not been assigned yet",
                ),
                code="spunta-not-assigned",
            )
        return found

    async def candidates(self, market_id: str, day_text: str) -> list[Candidate]:
        the_day = self._day(market_id, day_text)
        await self.markets.get_market(market_id)
        return await self.store.candidates_of(the_day)

    async def ranking(self, market_id: str, *, limit: int, offset: int) -> tuple[list[Standing], int]:
        await self.markets.get_market(market_id)
        return await self.store.standings(market_id, limit=limit, offset=offset)
