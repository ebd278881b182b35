"""HTTP routes of the markets service: markets, stalls, status, assignments, calls.

Reads are anonymous; every write checks the caller's role and scope. Versioned resources answer
with a strong ``ETag: "<version>"`` and honour ``If-Match``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from markets.call_service import CallsService
from markets.domain import Stall, StallCategory, StallStatus
from markets.schemas import (
    ApplicationIn,
    ApplicationPublic,
    AssignmentIn,
    CallCreate,
    CallPublic,
    ConcessionPublic,
    HistoryItem,
    MarketCreate,
    MarketPublic,
    MarketUpdate,
    Page,
    RankingPublic,
    StallCreate,
    StallPublic,
    StatusChange,
)
from markets.service import MarketsService
from shared.identity import CurrentPrincipal, OfficePrincipal, Principal, Role, optional_principal

ENTITY_TAG = re.compile(r'\s*"?(\d{1,18})"?\s*')


def _markets(request: Request) -> MarketsService:
    service: MarketsService = request.app.state.markets
    return service


def _calls(request: Request) -> CallsService:
    service: CallsService = request.app.state.calls
    return service


def _if_match(
    if_match: Annotated[str | None, Header(description='"<version>" as read from ETag')] = None,
) -> frozenset[int] | None:
    """The versions ``If-Match`` accepts; None when absent or ``*``. A malformed tag matches nothing."""
    if if_match is None or if_match.strip() == "*":
        return None
    return frozenset(int(m.group(1)) for tag in if_match.split(",") if (m := ENTITY_TAG.fullmatch(tag)))


Markets = Annotated[MarketsService, Depends(_markets)]
Calls = Annotated[CallsService, Depends(_calls)]
IfMatch = Annotated[frozenset[int] | None, Depends(_if_match)]
Viewer = Annotated[Principal | None, Depends(optional_principal)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]

Responses = dict[int | str, dict[str, Any]]
STALE: Responses = {412: {"description": "If-Match or version is stale; nothing was written"}}
CONFLICT: Responses = {409: {"description": "the change breaks a rule (the detail says which)"}}

router = APIRouter(tags=["markets"])
calls_router = APIRouter(tags=["calls"])


def _tagged(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def stall_public(stall: Stall) -> StallPublic:
    concession = stall.concession
    return StallPublic(
        market_id=stall.market_id,
        number=stall.number,
        area_m2=stall.area_m2,
        category=stall.category,
        holder=stall.holder,
        concession=ConcessionPublic(start=concession.start, end=concession.end) if concession else None,
        status=stall.status,
        version=stall.version,
        updated_at=stall.updated_at,
    )


def _tagged_stall(response: Response, stall: Stall) -> StallPublic:
    _tagged(response, stall.version)
    return stall_public(stall)


@router.get("/markets", summary="The covered markets, with live occupancy")
async def list_markets(
    markets: Markets,
    municipio: Annotated[int | None, Query(ge=1, le=9)] = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MarketPublic]:
    return await markets.list_markets(municipio=municipio, active=active, limit=limit, offset=offset)


@router.post("/markets", status_code=201, summary="Register a market (office)", responses=CONFLICT)
async def register_market(
    body: MarketCreate, markets: Markets, principal: OfficePrincipal, response: Response
) -> MarketPublic:
    market = await markets.register_market(body, principal.username)
    _tagged(response, market.version)
    return market


@router.get("/markets/{market_id}", summary="A market with its occupancy summary")
async def get_market(market_id: str, markets: Markets, response: Response) -> MarketPublic:
    market = await markets.get_market(market_id)
    _tagged(response, market.version)
    return market


@router.patch("/markets/{market_id}", summary="Change a market's details (office)", responses=STALE)
async def update_market(
    market_id: str,
    body: MarketUpdate,
    markets: Markets,
    principal: OfficePrincipal,
    if_match: IfMatch,
    response: Response,
) -> MarketPublic:
    market = await markets.update_market(market_id, body, if_match, principal.username)
    _tagged(response, market.version)
    return market


@router.get("/markets/{market_id}/stalls", summary="A market's stalls in number order")
async def list_stalls(
    market_id: str,
    markets: Markets,
    status: StallStatus | None = None,
    category: StallCategory | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[StallPublic]:
    stalls, total = await markets.list_stalls(market_id, status=status, category=category, limit=limit, offset=offset)
    return Page(items=[stall_public(s) for s in stalls], total=total, limit=limit, offset=offset)


@router.post("/markets/{market_id}/stalls", status_code=201, summary="Add a stall (office); it starts vacant")
async def create_stall(
    market_id: str, body: StallCreate, markets: Markets, principal: OfficePrincipal, response: Response
) -> StallPublic:
    return _tagged_stall(response, await markets.create_stall(market_id, body, principal.username))


@router.get("/markets/{market_id}/stalls/{number}", summary="A stall; ETag carries its version")
async def get_stall(market_id: str, number: str, markets: Markets, response: Response) -> StallPublic:
    return _tagged_stall(response, await markets.get_stall(market_id, number))


@router.put(
    "/markets/{market_id}/stalls/{number}/status",
    summary="Set a stall's status (the market's operators and the office)",
    responses={**STALE, **CONFLICT},
)
async def change_status(
    market_id: str,
    number: str,
    body: StatusChange,
    markets: Markets,
    principal: CurrentPrincipal,
    if_match: IfMatch,
    response: Response,
) -> StallPublic:
    principal.require_scope(Role.MARKET_OPERATOR, market_id)
    stall = await markets.change_status(
        market_id,
        number,
        body.status,
        body.note,
        expected_version=body.version,
        if_match=if_match,
        actor=principal.username,
    )
    return _tagged_stall(response, stall)


@router.get("/markets/{market_id}/stalls/{number}/history", summary="A stall's status history, newest first")
async def stall_history(
    market_id: str, number: str, markets: Markets, limit: Limit = 50, offset: Offset = 0
) -> Page[HistoryItem]:
    return await markets.history(market_id, number, limit=limit, offset=offset)


@router.post(
    "/markets/{market_id}/stalls/{number}/assignment",
    summary="Assign the stall to a holder (office); a vacant stall becomes closed",
    responses={**STALE, **CONFLICT},
)
async def assign_stall(
    market_id: str,
    number: str,
    body: AssignmentIn,
    markets: Markets,
    principal: OfficePrincipal,
    if_match: IfMatch,
    response: Response,
) -> StallPublic:
    stall = await markets.assign(market_id, number, body, if_match=if_match, actor=principal.username)
    return _tagged_stall(response, stall)


@router.delete(
    "/markets/{market_id}/stalls/{number}/assignment",
    summary="Free the stall (office); it becomes vacant",
    responses={**STALE, **CONFLICT},
)
async def free_stall(
    market_id: str, number: str, markets: Markets, principal: OfficePrincipal, if_match: IfMatch, response: Response
) -> StallPublic:
    stall = await markets.release(market_id, number, if_match=if_match, actor=principal.username)
    return _tagged_stall(response, stall)


@router.get("/markets/{market_id}/calls", summary="A market's calls, newest first")
async def list_calls(market_id: str, calls: Calls, limit: Limit = 50, offset: Offset = 0) -> Page[CallPublic]:
    return await calls.list_for_market(market_id, limit=limit, offset=offset)


@router.post(
    "/markets/{market_id}/calls",
    status_code=201,
    summary="Publish a call for free stalls (office)",
    responses=CONFLICT,
)
async def publish_call(market_id: str, body: CallCreate, calls: Calls, principal: OfficePrincipal) -> CallPublic:
    return await calls.publish(market_id, body, principal.username)


@calls_router.get("/calls/{call_id}", summary="A call and its criteria")
async def get_call(call_id: str, calls: Calls) -> CallPublic:
    return await calls.get(call_id)


@calls_router.post(
    "/calls/{call_id}/applications",
    status_code=201,
    summary="Apply to a call (any logged-in user, once per call)",
    responses=CONFLICT,
)
async def apply(call_id: str, body: ApplicationIn, calls: Calls, principal: CurrentPrincipal) -> ApplicationPublic:
    return await calls.apply(call_id, body, principal.username)


@calls_router.post(
    "/calls/{call_id}/award",
    summary="Award the call after its deadline (office): ranks, assigns, records why",
    responses=CONFLICT,
)
async def award(call_id: str, calls: Calls, principal: OfficePrincipal) -> RankingPublic:
    return await calls.award(call_id, principal.username)


@calls_router.get(
    "/calls/{call_id}/ranking",
    summary="The ranking with scores and reasons (provisional until awarded; office only before the deadline)",
)
async def ranking(call_id: str, calls: Calls, viewer: Viewer) -> RankingPublic:
    return await calls.ranking(call_id, viewer)
