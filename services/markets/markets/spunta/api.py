"""HTTP routes of the daily spunta: register the traders present, assign the day, read results.

Writes are for that market's operator and the office (a trader may register themself); results
and the ranking are public.
``{date}`` is ``YYYY-MM-DD``: a date that does not exist or lies after today is refused with 422.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from markets.spunta.schemas import CandidateCreate, CandidatePublic, SpuntaAssign, SpuntaPublic, StandingPublic
from markets.spunta.service import SpuntaService
from shared.app import provide
from shared.errors import Forbidden
from shared.i18n import Said
from shared.identity import CurrentPrincipal, Role
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import Day, Slug
from shared.web.problems import CONFLICT
from shared.web.routes import ACTION

Spunta = Annotated[SpuntaService, Depends(provide(SpuntaService))]

router = APIRouter(tags=["spunta"])


# declared before "/{date}" so that "ranking" is never read as a date
@router.get("/markets/{market_id}/spunta/ranking", summary="Presences per trader at the market's spunta, most first")
async def ranking(market_id: Slug, spunta: Spunta, limit: Limit = 50, offset: Offset = 0) -> Page[StandingPublic]:
    return page_of(await spunta.ranking(market_id, limit=limit, offset=offset), StandingPublic.of, limit, offset)


@router.post(
    "/markets/{market_id}/spunta/{date}/candidates",
    dependencies=[IDEMPOTENT],
    status_code=201,
    summary="Register a trader present that day (the trader themself, the market's operator or the office); repeating it is harmless",
    responses={200: {"description": "the trader was already registered that day"}, **CONFLICT},
)
async def register(
    market_id: Slug, date: Day, body: CandidateCreate, spunta: Spunta, principal: CurrentPrincipal, response: Response
) -> CandidatePublic:
    if principal.role is Role.TRADER:
        if body.trader != principal.username.lower():
            raise Forbidden(
                Said(
                    it="un ambulante registra soltanto la propria presenza",
                    en="a trader registers only their own presence",
                ),
                code="spunta-not-yourself",
            )
    else:
        principal.require_scope(Role.MARKET_OPERATOR, market_id)
    registration = await spunta.register(market_id, date, body.trader, principal.username)
    if not registration.created:
        response.status_code = 200
    return CandidatePublic.of(registration.candidate)


@router.get("/markets/{market_id}/spunta/{date}/candidates", summary="The traders registered that day, in order")
async def candidates(market_id: Slug, date: Day, spunta: Spunta, principal: CurrentPrincipal) -> list[CandidatePublic]:
    principal.require_scope(Role.MARKET_OPERATOR, market_id)
    return [CandidatePublic.of(c) for c in await spunta.candidates(market_id, date)]


@router.post(
    "/markets/{market_id}/spunta/{date}/assign",
    **ACTION,
    summary="Assign the day's free stalls and those of absent holders to the traders present (operator or office)",
)
async def assign(
    market_id: Slug, date: Day, spunta: Spunta, principal: CurrentPrincipal, body: SpuntaAssign | None = None
) -> SpuntaPublic:
    principal.require_scope(Role.MARKET_OPERATOR, market_id)
    absent = body.absent if body else []
    return SpuntaPublic.of(await spunta.assign(market_id, date, absent, principal.username))


@router.get("/markets/{market_id}/spunta/{date}", summary="The day's result: who got which stall, who got none")
async def result(market_id: Slug, date: Day, spunta: Spunta) -> SpuntaPublic:
    return SpuntaPublic.of(await spunta.result(market_id, date))
