"""Use cases on calls (*bandi*): publish, apply, evaluate (the committee), rank, award.

Awarding assigns every winning stall and records the ranking it was decided with, in the same
transaction as the stalls' ``assigned`` events and the call's ``awarded`` event, so the published
ranking is exactly the one that was applied.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from datetime import datetime

from markets.calls import events
from markets.calls.domain import (
    Application,
    Call,
    CallOverview,
    CallRanking,
    CallStatus,
    Criterion,
    DeclaredValue,
    Evaluation,
    Ranking,
    ScoredEvaluation,
    latest_evaluations,
    rank_applications,
    score,
    unscored,
)
from markets.calls.store import CallStore
from markets.concessions.domain import concession_end
from markets.concessions.service import ConcessionsService
from markets.stalls.domain import Stall, StallCategory
from markets.stalls.service import Clock
from markets.stalls.store import MarketStore
from shared.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from shared.events import utcnow
from shared.i18n import Said
from shared.identity import Principal
from shared.outbox import Outbox, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallsService:
    """Calls read the market's stalls and assign the winners the concessions' way."""

    store: CallStore
    markets: MarketStore
    concessions: ConcessionsService
    outbox: Outbox
    _: KW_ONLY
    clock: Clock = utcnow

    async def publish(
        self,
        market_id: str,
        *,
        title: str,
        description: str,
        stalls: Sequence[str],
        criteria: Sequence[Criterion],
        categories: Sequence[StallCategory],
        deadline: datetime,
        concession_years: int,
        actor: str,
    ) -> CallOverview:
        now = self.clock()
        if deadline <= now:
            raise InvalidInput("body.deadline", Said(it="deve essere nel futuro", en="must be in the future"))
        call = Call(
            id=f"{market_id}-{secrets.token_hex(4)}",
            market_id=market_id,
            title=title,
            description=description,
            stalls=tuple(stalls),
            criteria=tuple(criteria),
            categories=tuple(categories),
            deadline=deadline,
            concession_years=concession_years,
            created_at=now,
        )

        async def work(uow: UnitOfWork) -> None:
            await self.markets.get_market(market_id, uow.session)
            offered = {s.number: s for s in await self.markets.stalls_of([market_id], uow.session)}
            self._check_stalls_on_offer(call, offered)
            for other in await self.store.live_calls_with_stalls(market_id, call.stalls, uow.session):
                listed = ", ".join(sorted(set(other.stalls) & set(call.stalls)))
                raise Conflict(
                    Said(
                        it=f"i posteggi {listed} sono già offerti dal bando {other.id}",
                        en=f"stalls {listed} are already offered by call {other.id}",
                    ),
                    call=other.id,
                )
            await self.store.insert_call(call, uow.session)
            criteria = [
                events.PublishedCriterion(name=c.name, weight=c.weight, max_points=c.max_points) for c in call.criteria
            ]
            uow.emit(
                events.CallPublished(
                    call_id=call.id,
                    market_id=market_id,
                    title=title,
                    stalls=list(call.stalls),
                    categories=[c.value for c in call.categories],
                    criteria=criteria,
                    deadline=deadline,
                    concession_years=concession_years,
                    actor=actor,
                    at=now,
                )
            )

        await self.outbox.run(work)
        return CallOverview(call, call.status(now), 0)

    @staticmethod
    def _check_stalls_on_offer(call: Call, stalls: Mapping[str, Stall]) -> None:
        for number in call.stalls:
            stall = stalls.get(number)
            if stall is None:
                raise InvalidInput(
                    "body.stalls",
                    Said(
                        it=f"il posteggio {number} non esiste nel mercato {call.market_id!r}",
                        en=f"stall {number} does not exist in market {call.market_id!r}",
                    ),
                )
            if stall.assigned:
                raise Conflict(
                    Said(
                        it=f"il posteggio {number} è assegnato a {stall.holder}: un bando offre solo posteggi liberi",
                        en=f"stall {number} is assigned to {stall.holder}: a call offers free stalls only",
                    )
                )

    async def get(self, call_id: str) -> CallOverview:
        call, _ = await self.store.get_call(call_id)
        counts = await self.store.count_applications([call_id])
        return CallOverview(call, call.status(self.clock()), counts.get(call_id, 0))

    async def list_for_market(self, market_id: str, *, limit: int, offset: int) -> tuple[list[CallOverview], int]:
        await self.markets.get_market(market_id)
        return await self.list_calls(market_id, None, limit=limit, offset=offset)

    async def list_calls(
        self, market_id: str | None, status: CallStatus | None, *, limit: int, offset: int
    ) -> tuple[list[CallOverview], int]:
        """The calls of a market (of every market when None), in ``status`` (any when None), newest first."""
        now = self.clock()
        calls, total = await self.store.list_calls(market_id, status, now, limit=limit, offset=offset)
        counts = await self.store.count_applications([c.id for c in calls])
        return [CallOverview(c, c.status(now), counts.get(c.id, 0)) for c in calls], total

    async def apply(
        self,
        call_id: str,
        applicant: str,
        holder: str,
        category: StallCategory,
        preferences: Sequence[str],
        *,
        offer: str = "",
        declarations: Mapping[str, DeclaredValue] | None = None,
        documents: Sequence[str] = (),
        filed_by: str = "",
    ) -> Application:
        """``applicant``'s application (a trader's account), filed by them or by ``filed_by`` (the office)."""
        now = self.clock()
        application = Application(
            id=f"{call_id}-{secrets.token_hex(4)}",
            call_id=call_id,
            applicant=applicant,
            holder=holder,
            category=category,
            preferences=tuple(preferences),
            submitted_at=now,
            offer=offer,
            declarations=dict(declarations or {}),
            documents=tuple(documents),
            filed_by=filed_by or applicant,
        )

        async def work(uow: UnitOfWork) -> None:
            call, _ = await self.store.get_call(call_id, uow.session)
            call.check_application(application, now)
            await self.store.insert_application(application, uow.session)
            uow.emit(
                events.ApplicationSubmitted(
                    call_id=call_id,
                    application_id=application.id,
                    applicant=application.applicant,
                    holder=application.holder,
                    category=application.category.value,
                    preferences=list(application.preferences),
                    documents=len(application.documents),
                    filed_by=application.filer,
                    at=now,
                )
            )

        await self.outbox.run(work)
        return application

    async def applications(self, call_id: str, *, limit: int, offset: int) -> tuple[list[Application], int]:
        """The call's applications as the applicants declared them, in the order they came in."""
        await self.store.get_call(call_id)
        return await self.store.list_applications(call_id, limit=limit, offset=offset)

    async def applications_of(self, applicant: str | None, *, limit: int, offset: int) -> tuple[list[Application], int]:
        """A trader's applications to every call (everyone's when None), newest first."""
        return await self.store.applications_of(applicant, limit=limit, offset=offset)

    async def evaluate(
        self,
        call_id: str,
        application_id: str,
        scores: Mapping[str, float],
        reasons: Mapping[str, str],
        evaluator: str,
    ) -> list[ScoredEvaluation]:
        """Record the committee's evaluation of an application; its whole history comes back, latest last."""

        async def work(uow: UnitOfWork) -> list[ScoredEvaluation]:
            now = self.clock()
            call, _ = await self.store.get_call(call_id, uow.session)
            application = await self.store.get_application(application_id, uow.session)
            if application is None:
                raise InvalidInput(
                    "body.application",
                    Said(
                        it=f"non esiste la domanda {application_id!r}",
                        en=f"there is no application {application_id!r}",
                    ),
                )
            history = await self.store.evaluations_of(application_id, uow.session)
            evaluation = Evaluation(
                application_id=application_id,
                call_id=call_id,
                revision=len(history) + 1,
                scores=dict(scores),
                reasons=dict(reasons),
                evaluator=evaluator,
                at=now,
            )
            call.check_evaluation(application, evaluation)
            if not await self.store.evaluating(call_id, uow.session):  # awarded since it was read
                replace(call, awarded_at=now).check_evaluation(application, evaluation)
            await self.store.insert_evaluation(evaluation, uow.session)
            total, _ = score(call.criteria, evaluation.scores)
            uow.emit(
                events.ApplicationEvaluated(
                    call_id=call_id,
                    application_id=application_id,
                    revision=evaluation.revision,
                    scores=dict(evaluation.scores),
                    reasons=dict(evaluation.reasons),
                    score=total,
                    evaluator=evaluator,
                    at=now,
                )
            )
            return [self._scored(call, e) for e in [*history, evaluation]]

        return await self.outbox.run(work)

    @staticmethod
    def _scored(call: Call, evaluation: Evaluation) -> ScoredEvaluation:
        return ScoredEvaluation(evaluation, score(call.criteria, evaluation.scores)[0])

    async def evaluations(
        self, call_id: str, application_id: str | None, *, limit: int, offset: int
    ) -> tuple[list[ScoredEvaluation], int]:
        """The committee's evaluations of a call (or of one of its applications), oldest first."""
        call, _ = await self.store.get_call(call_id)
        found, total = await self.store.list_evaluations(call_id, application_id, limit=limit, offset=offset)
        return [self._scored(call, e) for e in found], total

    async def ranking(self, call_id: str, viewer: Principal | None) -> CallRanking:
        """The awarded ranking, or the provisional one (the office's eyes only until the deadline)."""
        call, awarded = await self.store.get_call(call_id)
        now = self.clock()
        status = call.status(now)
        if awarded is not None:
            return CallRanking(call, status, awarded)
        if status is CallStatus.OPEN:
            if viewer is None:
                raise Unauthorized(
                    Said(
                        it="la graduatoria di un bando aperto è riservata all'ufficio commercio: accedi",
                        en="the ranking of an open call is for the commerce office: log in",
                    )
                )
            if not viewer.is_office:
                raise Forbidden(
                    Said(
                        it="la graduatoria si pubblica dopo la scadenza",
                        en="the ranking is published after the deadline",
                    )
                )
        applications = await self.store.applications_to(call_id)
        latest = latest_evaluations(await self.store.evaluations_to(call_id))
        stalls = await self.markets.stalls_of([call.market_id])
        ranking = rank_applications(call, applications, latest, stalls)
        return CallRanking(call, status, ranking, unscored(applications, latest))

    async def award(self, call_id: str, actor: str) -> CallRanking:
        async def work(uow: UnitOfWork) -> CallRanking:
            now = self.clock()
            call, _ = await self.store.get_call(call_id, uow.session)
            call.check_awardable(now)
            applications = await self.store.applications_to(call_id, uow.session)
            latest = latest_evaluations(await self.store.evaluations_to(call_id, uow.session))
            call.check_awardable(now, unscored(applications, latest))
            stalls = await self.markets.stalls_of([call.market_id], uow.session)
            ranking = rank_applications(call, applications, latest, stalls)
            await self._assign_winners(uow, call, ranking, stalls, now, actor)
            awarded = replace(call, awarded_at=now)
            await self.store.mark_awarded(awarded, ranking, uow.session)
            uow.emit(
                events.CallAwarded(
                    call_id=call.id,
                    market_id=call.market_id,
                    awarded=[
                        events.AwardedStall(number=e.stall or "", applicant=e.applicant, score=e.score)
                        for e in ranking.awarded
                    ],
                    skipped=[
                        events.SkippedApplication(applicant=e.applicant, reason=e.reason.en, reason_it=e.reason.it)
                        for e in ranking.skipped
                    ],
                    actor=actor,
                    at=now,
                )
            )
            return CallRanking(awarded, awarded.status(now), ranking)

        result = await self.outbox.run(work)
        log.info(
            "call %s awarded: %d stalls assigned, %d applications skipped",
            call_id,
            len(result.ranking.awarded),
            len(result.ranking.skipped),
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
            terms = self.concessions.new_terms(call.market_id, entry.holder, start, end, trader=entry.applicant)
            assigned = stall.assign(terms, entry.category, now)
            note = f"awarded to {entry.holder} by call {call.id}"
            await self.concessions.save_assignment(uow, stall, assigned, note, actor)
