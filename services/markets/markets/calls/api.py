"""HTTP routes of calls: publish (office), apply (traders), evaluate and award (office), ranking."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from markets.calls.domain import CallStatus
from markets.calls.schemas import (
    ApplicationCreate,
    ApplicationPublic,
    CallCreate,
    CallPublic,
    EvaluationCreate,
    EvaluationHistoryPublic,
    EvaluationPublic,
    RankingPublic,
)
from markets.calls.service import CallsService
from markets.stalls.schemas import Username
from shared.app import provide
from shared.errors import Forbidden, InvalidInput
from shared.i18n import Said
from shared.identity import CurrentPrincipal, OfficePrincipal, Principal, Role, optional_principal
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import ChosenLanguage, Slug
from shared.web.routes import ACTION, CREATION

Calls = Annotated[CallsService, Depends(provide(CallsService))]
Viewer = Annotated[Principal | None, Depends(optional_principal)]

router = APIRouter()
CALLS: list[str | Enum] = ["calls"]
MARKETS: list[str | Enum] = ["markets"]


@router.get("/markets/{market_id}/calls", summary="A market's calls, newest first", tags=MARKETS)
async def list_calls(market_id: Slug, calls: Calls, limit: Limit = 50, offset: Offset = 0) -> Page[CallPublic]:
    return page_of(await calls.list_for_market(market_id, limit=limit, offset=offset), CallPublic.of, limit, offset)


@router.post(
    "/markets/{market_id}/calls",
    **CREATION,
    summary="Publish a call for free stalls (office)",
    tags=MARKETS,
)
async def publish_call(market_id: Slug, body: CallCreate, calls: Calls, principal: OfficePrincipal) -> CallPublic:
    call = await calls.publish(
        market_id,
        title=body.title,
        description=body.description,
        stalls=body.stalls,
        criteria=body.published_criteria(),
        categories=body.categories,
        deadline=body.deadline,
        concession_years=body.concession_years,
        actor=principal.username,
    )
    return CallPublic.of(call)


@router.get(
    "/calls", summary="The calls of every market, newest first; ?status=open for those taking applications", tags=CALLS
)
async def list_all_calls(
    calls: Calls, status: CallStatus | None = None, limit: Limit = 50, offset: Offset = 0
) -> Page[CallPublic]:
    return page_of(await calls.list_calls(None, status, limit=limit, offset=offset), CallPublic.of, limit, offset)


@router.get("/calls/{call_id}", summary="A call and its criteria", tags=CALLS)
async def get_call(call_id: Slug, calls: Calls) -> CallPublic:
    return CallPublic.of(await calls.get(call_id))


def applicant_of(principal: Principal, named: str | None) -> str:
    """The trader an application is for: the caller if a trader, the one named if the office files it."""
    if principal.role is Role.TRADER:
        if named is not None and named != principal.username.lower():
            raise Forbidden(
                Said(it="un ambulante presenta domanda solo per sé", en="a trader applies only for themself"),
                code="call-not-yourself",
            )
        return principal.username
    if principal.is_office:
        if named is None:
            raise InvalidInput(
                "body.trader",
                Said(
                    it="l'ufficio presenta domanda per conto di un ambulante: indicarne l'account",
                    en="the office applies on a trader's behalf: name the trader's account",
                ),
            )
        return named
    raise Forbidden(
        Said(
            it="possono presentare domanda solo gli ambulanti (o l'ufficio per loro conto)",
            en="only traders (or the office on their behalf) may apply to a call",
        ),
        code="call-traders-only",
    )


@router.post(
    "/calls/{call_id}/applications",
    **CREATION,
    summary="Apply to a call (a trader, once per call; or the office on a trader's behalf)",
    tags=CALLS,
)
async def apply(call_id: Slug, body: ApplicationCreate, calls: Calls, principal: CurrentPrincipal) -> ApplicationPublic:
    application = await calls.apply(
        call_id,
        applicant_of(principal, body.trader),
        body.holder,
        body.category,
        body.stalls,
        offer=body.offer,
        declarations=body.declarations,
        documents=body.documents,
        filed_by=principal.username,
    )
    return ApplicationPublic.of(application)


@router.get(
    "/calls/{call_id}/applications",
    summary="A call's applications as declared, in the order they came in (office)",
    tags=CALLS,
)
async def applications(
    call_id: Slug, calls: Calls, principal: OfficePrincipal, limit: Limit = 50, offset: Offset = 0
) -> Page[ApplicationPublic]:
    return page_of(await calls.applications(call_id, limit=limit, offset=offset), ApplicationPublic.of, limit, offset)


def applications_readable_by(principal: Principal, named: str | None) -> str | None:
    """Whose applications the caller reads: a trader their own; the office the trader named, or everyone's."""
    if principal.role is Role.TRADER:
        if named is not None and named != principal.username.lower():
            raise Forbidden(
                Said(
                    it="un ambulante legge soltanto le proprie domande", en="a trader reads only their own applications"
                ),
                code="call-not-yourself",
            )
        return principal.username
    if principal.is_office:
        return named
    raise Forbidden(
        Said(
            it="le domande le leggono l'ufficio commercio e, ciascuno le proprie, gli ambulanti",
            en="applications are read by the commerce office and, each their own, by traders",
        ),
        code="call-traders-only",
    )


@router.get(
    "/applications",
    summary="Applications to every call, newest first: a trader's own; for the office, the trader named "
    "(?trader=) or everyone's",
    tags=CALLS,
)
async def applications_of(
    calls: Calls,
    principal: CurrentPrincipal,
    trader: Annotated[Username | None, Query(description="the trader's account (the office only)")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ApplicationPublic]:
    applicant = applications_readable_by(principal, trader)
    found = await calls.applications_of(applicant, limit=limit, offset=offset)
    return page_of(found, ApplicationPublic.of, limit, offset)


@router.post(
    "/calls/{call_id}/evaluations",
    **CREATION,
    summary="The committee scores an application on every criterion, with reasons (office; never one's own)",
    tags=CALLS,
)
async def evaluate(
    call_id: Slug, body: EvaluationCreate, calls: Calls, principal: OfficePrincipal
) -> EvaluationHistoryPublic:
    history = await calls.evaluate(call_id, body.application, body.scores, body.reasons, principal.username)
    return EvaluationHistoryPublic.of(history)


@router.get(
    "/calls/{call_id}/evaluations",
    summary="The committee's evaluations of a call, every revision, oldest first (office)",
    tags=CALLS,
)
async def evaluations(
    call_id: Slug,
    calls: Calls,
    principal: OfficePrincipal,
    application: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EvaluationPublic]:
    found = await calls.evaluations(call_id, application, limit=limit, offset=offset)
    return page_of(found, EvaluationPublic.of, limit, offset)


@router.post(
    "/calls/{call_id}/award",
    **ACTION,
    summary="Award the call after its deadline (office): ranks, assigns, records why",
    tags=CALLS,
)
async def award(call_id: Slug, calls: Calls, principal: OfficePrincipal, language: ChosenLanguage) -> RankingPublic:
    return RankingPublic.of(await calls.award(call_id, principal.username), names=True, language=language)


@router.get(
    "/calls/{call_id}/ranking",
    summary="The ranking with scores and reasons (provisional until awarded; office only before the deadline; "
    "names for the office only)",
    tags=CALLS,
)
async def ranking(call_id: Slug, calls: Calls, viewer: Viewer, language: ChosenLanguage) -> RankingPublic:
    names = viewer is not None and viewer.is_office
    return RankingPublic.of(await calls.ranking(call_id, viewer), names=names, language=language)
