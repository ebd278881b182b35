"""HTTP routes of markets and stalls: registration, details, stalls, status, history.

Reads are anonymous; every write checks the caller's role and scope. Versioned resources answer
with a strong ``ETag: "<version>"`` and honour ``If-Match``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from markets.stalls.domain import MarketOverview, MarketQuery, Stall, StallCategory, StallQuery, StallStatus
from markets.stalls.schemas import (
    HistoryEntryPublic,
    MarketCreate,
    MarketPublic,
    MarketUpdate,
    StallCreate,
    StallNumberPath,
    StallPublic,
    StatusUpdate,
)
from markets.stalls.service import StallsService
from shared.app import provide
from shared.identity import CurrentPrincipal, OfficePrincipal, Role
from shared.web.etag import IfMatch, set_etag
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import Slug
from shared.web.problems import CONFLICT
from shared.web.routes import CREATION

Stalls = Annotated[StallsService, Depends(provide(StallsService))]

Responses = dict[int | str, dict[str, Any]]
STALE: Responses = {412: {"description": "If-Match or version is stale; nothing was written"}}

router = APIRouter(tags=["markets"])


def market_answer(response: Response, market: MarketOverview) -> MarketPublic:
    """The market as the API shows it, its version in ``ETag``."""
    set_etag(response, market.market.version)
    return MarketPublic.of(market)


def stall_answer(response: Response, stall: Stall) -> StallPublic:
    """The stall as the API shows it, its version in ``ETag``."""
    set_etag(response, stall.version)
    return StallPublic.of(stall)


@router.get("/markets", summary="The covered markets, with live occupancy")
async def list_markets(
    stalls: Stalls,
    municipio: Annotated[int | None, Query(ge=1, le=9)] = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MarketPublic]:
    found = await stalls.list_markets(MarketQuery(municipio, active), limit=limit, offset=offset)
    return page_of(found, MarketPublic.of, limit, offset)


@router.post("/markets", **CREATION, summary="Register a market (office)")
async def register_market(
    body: MarketCreate, stalls: Stalls, principal: OfficePrincipal, response: Response
) -> MarketPublic:
    return market_answer(response, await stalls.register_market(body.id, body.details()))


@router.get("/markets/{market_id}", summary="A market with its occupancy summary")
async def get_market(market_id: Slug, stalls: Stalls, response: Response) -> MarketPublic:
    return market_answer(response, await stalls.get_market(market_id))


@router.patch("/markets/{market_id}", summary="Change a market's details (office)", responses=STALE)
async def update_market(
    market_id: Slug,
    body: MarketUpdate,
    stalls: Stalls,
    principal: OfficePrincipal,
    if_match: IfMatch,
    response: Response,
) -> MarketPublic:
    return market_answer(response, await stalls.update_market(market_id, body.changes(), if_match))


@router.get("/markets/{market_id}/stalls", summary="A market's stalls in number order")
async def list_stalls(
    market_id: Slug,
    stalls: Stalls,
    status: StallStatus | None = None,
    category: StallCategory | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[StallPublic]:
    found = await stalls.list_stalls(market_id, StallQuery(status, category), limit=limit, offset=offset)
    return page_of(found, StallPublic.of, limit, offset)


@router.post(
    "/markets/{market_id}/stalls",
    dependencies=[IDEMPOTENT],
    status_code=201,
    summary="Add a stall (office); it starts vacant",
)
async def create_stall(
    market_id: Slug, body: StallCreate, stalls: Stalls, principal: OfficePrincipal, response: Response
) -> StallPublic:
    stall = await stalls.create_stall(market_id, body.number, body.area_m2, body.category, principal.username)
    return stall_answer(response, stall)


@router.get("/markets/{market_id}/stalls/{number}", summary="A stall; ETag carries its version")
async def get_stall(market_id: Slug, number: StallNumberPath, stalls: Stalls, response: Response) -> StallPublic:
    return stall_answer(response, await stalls.get_stall(market_id, number))


@router.put(
    "/markets/{market_id}/stalls/{number}/status",
    summary="Set a stall's status (the market's operators and the office)",
    responses={**STALE, **CONFLICT},
)
async def change_status(
    market_id: Slug,
    number: StallNumberPath,
    body: StatusUpdate,
    stalls: Stalls,
    principal: CurrentPrincipal,
    if_match: IfMatch,
    response: Response,
) -> StallPublic:
    principal.require_scope(Role.MARKET_OPERATOR, market_id)
    precondition = if_match.and_version(body.version)
    stall = await stalls.change_status(market_id, number, body.status, body.note, precondition, principal.username)
    return stall_answer(response, stall)


@router.get("/markets/{market_id}/stalls/{number}/history", summary="A stall's status history, newest first")
async def stall_history(
    market_id: Slug, number: StallNumberPath, stalls: Stalls, limit: Limit = 50, offset: Offset = 0
) -> Page[HistoryEntryPublic]:
    found = await stalls.history(market_id, number, limit=limit, offset=offset)
    return page_of(found, HistoryEntryPublic.of, limit, offset)
