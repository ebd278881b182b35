"""Use cases on calls (*bandi*): publish, apply, rank, award.

Awarding assigns every winning stall and records the ranking it was decided with, in the same
transaction as the stalls' ``assigned`` events and the call's ``awarded`` event, so the published
ranking is exactly the one that was applied.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from markets.calls import (
    TIE_BREAK,
    Application,
    Call,
    CallStatus,
    Criterion,
    Outcome,
    Ranking,
    rank_applications,
    score,
)
from markets.domain import Concession, Stall, concession_end
from markets.events import AwardedStall, CallAwarded, SkippedApplication
from markets.schemas import (
    ApplicationIn,
    ApplicationPublic,
    CallCreate,
    CallPublic,
    CriterionIn,
    Page,
    RankingEntry,
    RankingPublic,
    ScoreLinePublic,
)
from markets.service import MarketsService, surface_public
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from shared.identity import Principal
from shared.mongo import Document
from shared.outbox import UnitOfWork

log = logging.getLogger(__name__)


def call_public(call: Call, applications: int, now: datetime) -> CallPublic:
    return CallPublic(
        id=call.id,
        market_id=call.market_id,
        title=call.title,
        description=call.description,
        stalls=list(call.stalls),
        criteria=[
            CriterionIn(name=c.name, weight=c.weight, max_points=c.max_points, description=c.description)
            for c in call.criteria
        ],
        categories=list(call.categories),
        deadline=call.deadline,
        concession_years=call.concession_years,
        status=call.status(now),
        applications=applications,
        created_at=call.created_at,
        awarded_at=call.awarded_at,
    )


def ranking_public(call: Call, ranking: Ranking, now: datetime) -> RankingPublic:
    return RankingPublic(
        call_id=call.id,
        market_id=call.market_id,
        status=call.status(now),
        provisional=call.awarded_at is None,
        tie_break=TIE_BREAK,
        unavailable_stalls=list(ranking.unavailable_stalls),
        surface_before=surface_public(ranking.surface_before),
        surface_after=surface_public(ranking.surface_after),
        items=[
            RankingEntry(
                rank=e.rank,
                applicant=e.application.applicant,
                holder=e.application.holder,
                category=e.application.category,
                score=e.score,
                breakdown=[ScoreLinePublic(**vars(line)) for line in e.breakdown],
                outcome=e.outcome,
                stall=e.stall,
                reason=e.reason,
            )
            for e in ranking.entries
        ],
    )


class CallsService:
    """Calls share the markets' store, outbox and clock, and assign stalls the markets' way."""

    def __init__(self, markets: MarketsService) -> None:
        self.markets = markets
        self.store = markets.store
        self.outbox = markets.outbox

    def now(self) -> datetime:
        return self.markets.clock()

    async def publish(self, market_id: str, data: CallCreate, actor: str) -> CallPublic:
        now = self.now()
        if data.deadline <= now:
            raise InvalidInput("body.deadline", "must be in the future")
        call = Call(
            id=f"{market_id}-{secrets.token_hex(4)}",
            market_id=market_id,
            title=data.title,
            description=data.description,
            stalls=tuple(data.stalls),
            criteria=tuple(Criterion(c.name, c.weight, c.max_points, c.description) for c in data.criteria),
            categories=tuple(data.categories),
            deadline=data.deadline,
            concession_years=data.concession_years,
            created_at=now,
        )

        async def work(uow: UnitOfWork) -> None:
            await self.markets.get_market_record(market_id, uow.session)
            stalls = {s.number: s for s in await self.store.stalls_of([market_id], uow.session)}
            self._check_stalls_on_offer(call, stalls)
            for other in await self.store.live_calls_with_stalls(market_id, call.stalls, uow.session):
                shared = sorted(set(other.stalls) & set(call.stalls))
                raise Conflict(f"stalls {', '.join(shared)} are already offered by call {other.id}")
            await self.store.insert_call(call, uow.session)

        await self.outbox.run(work)
        return call_public(call, 0, now)

    @staticmethod
    def _check_stalls_on_offer(call: Call, stalls: dict[str, Stall]) -> None:
        for number in call.stalls:
            stall = stalls.get(number)
            if stall is None:
                raise InvalidInput("body.stalls", f"stall {number} does not exist in market {call.market_id!r}")
            if stall.assigned:
                raise Conflict(f"stall {number} is assigned to {stall.holder}: a call offers free stalls only")

    async def get(self, call_id: str) -> CallPublic:
        call, _ = await self._call(call_id)
        counts = await self.store.count_applications([call_id])
        return call_public(call, counts.get(call_id, 0), self.now())

    async def list_for_market(self, market_id: str, *, limit: int, offset: int) -> Page[CallPublic]:
        await self.markets.get_market_record(market_id)
        calls, total = await self.store.list_calls(market_id, limit=limit, offset=offset)
        counts = await self.store.count_applications([c.id for c in calls])
        now = self.now()
        items = [call_public(c, counts.get(c.id, 0), now) for c in calls]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def apply(self, call_id: str, data: ApplicationIn, applicant: str) -> ApplicationPublic:
        now = self.now()
        application = Application(
            call_id=call_id,
            applicant=applicant,
            holder=data.holder,
            category=data.category,
            preferences=tuple(data.stalls),
            scores=dict(data.scores),
            submitted_at=now,
        )
        application_id = f"{call_id}-{secrets.token_hex(4)}"

        async def work(uow: UnitOfWork) -> Call:
            call, _ = await self._call(call_id, uow)
            call.check_application(application, now)
            await self.store.insert_application(application_id, application, uow.session)
            return call

        call = await self.outbox.run(work)
        total, _ = score(call.criteria, application.scores)
        return ApplicationPublic(
            id=application_id,
            call_id=call_id,
            applicant=applicant,
            holder=application.holder,
            category=application.category,
            stalls=list(application.preferences),
            scores=dict(application.scores),
            score=total,
            submitted_at=now,
        )

    async def ranking(self, call_id: str, viewer: Principal | None) -> RankingPublic:
        """The awarded ranking, or the provisional one (the office's eyes only until the deadline)."""
        call, result = await self._call(call_id)
        if result is not None:
            return RankingPublic.model_validate(result)
        now = self.now()
        if call.status(now) is CallStatus.OPEN:
            if viewer is None:
                raise Unauthorized("the ranking of an open call is for the commerce office: log in")
            if not viewer.is_office:
                raise Forbidden("the ranking is published after the deadline")
        applications = await self.store.applications_to(call_id)
        stalls = await self.store.stalls_of([call.market_id])
        return ranking_public(call, rank_applications(call, applications, stalls), now)

    async def award(self, call_id: str, actor: str) -> RankingPublic:
        async def work(uow: UnitOfWork) -> RankingPublic:
            now = self.now()
            call, _ = await self._call(call_id, uow)
            call.check_awardable(now)
            applications = await self.store.applications_to(call_id, uow.session)
            stalls = await self.store.stalls_of([call.market_id], uow.session)
            ranking = rank_applications(call, applications, stalls)
            await self._assign_winners(uow, call, ranking, stalls, now, actor)
            awarded = replace(call, awarded_at=now)
            result = ranking_public(awarded, ranking, now)
            await self.store.mark_awarded(awarded, result.model_dump(mode="json"), uow.session)
            uow.emit(
                CallAwarded(
                    call_id=call.id,
                    market_id=call.market_id,
                    awarded=[
                        AwardedStall(number=e.stall or "", applicant=e.application.applicant, score=e.score)
                        for e in ranking.awarded
                    ],
                    skipped=[
                        SkippedApplication(applicant=e.application.applicant, reason=e.reason) for e in ranking.skipped
                    ],
                    actor=actor,
                    at=now,
                )
            )
            return result

        result = await self.outbox.run(work)
        awarded = sum(1 for item in result.items if item.outcome is Outcome.AWARDED)
        log.info(
            "call %s awarded: %d stalls assigned, %d applications skipped",
            call_id,
            awarded,
            len(result.items) - awarded,
            extra={"call_id": call_id, "actor": actor},
        )
        return result

    async def _assign_winners(
        self, uow: UnitOfWork, call: Call, ranking: Ranking, stalls: Sequence[Stall], now: datetime, actor: str
    ) -> None:
        by_number = {s.number: s for s in stalls}
        start = now.date()
        end = concession_end(start, call.concession_years)
        for entry in ranking.awarded:
            assert entry.stall is not None
            stall = by_number[entry.stall]
            holder = entry.application.holder
            assigned = stall.assign(Concession(holder, start, end), entry.application.category, now)
            await self.markets.save_assignment(uow, stall, assigned, f"awarded to {holder} by call {call.id}", actor)

    async def _call(self, call_id: str, uow: UnitOfWork | None = None) -> tuple[Call, Document | None]:
        found = await self.store.get_call(call_id, uow.session if uow else None)
        if found is None:
            raise NotFound(f"no call {call_id!r}")
        return found
