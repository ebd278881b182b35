"""HTTP routes of assignments and concessions (office): give a stall a holder or free it; list the
concessions, renew, transfer or revoke one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from markets.concessions.domain import ConcessionQuery, ConcessionState
from markets.concessions.schemas import (
    AssignmentCreate,
    ConcessionRecordPublic,
    ConcessionRenewal,
    ConcessionRevocation,
    ConcessionTransfer,
)
from markets.concessions.service import ConcessionsService
from markets.stalls.api import STALE, stall_answer
from markets.stalls.schemas import StallNumberPath, StallPublic
from shared.app import provide
from shared.identity import OfficePrincipal
from shared.web.etag import IfMatch
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import SLUG_PATTERN, Slug
from shared.web.problems import CONFLICT
from shared.web.routes import ACTION

Concessions = Annotated[ConcessionsService, Depends(provide(ConcessionsService))]

router = APIRouter(tags=["markets"])


@router.post(
    "/markets/{market_id}/stalls/{number}/assignment",
    dependencies=[IDEMPOTENT],
    summary="Assign the stall to a holder (office); a vacant stall becomes closed",
    responses={**STALE, **CONFLICT},
)
async def assign_stall(
    market_id: Slug,
    number: StallNumberPath,
    body: AssignmentCreate,
    concessions: Concessions,
    principal: OfficePrincipal,
    if_match: IfMatch,
    response: Response,
) -> StallPublic:
    stall = await concessions.assign(market_id, number, body.concession(), body.category, if_match, principal.username)
    return stall_answer(response, stall)


@router.delete(
    "/markets/{market_id}/stalls/{number}/assignment",
    summary="Free the stall (office); it becomes vacant",
    responses={**STALE, **CONFLICT},
)
async def free_stall(
    market_id: Slug,
    number: StallNumberPath,
    concessions: Concessions,
    principal: OfficePrincipal,
    if_match: IfMatch,
    response: Response,
) -> StallPublic:
    return stall_answer(response, await concessions.release(market_id, number, if_match, principal.username))


@router.get("/concessions", summary="Concessions, those ending first first (office)")
async def list_concessions(
    concessions: Concessions,
    principal: OfficePrincipal,
    market: Annotated[str | None, Query(min_length=1, max_length=64, pattern=SLUG_PATTERN)] = None,
    state: ConcessionState | None = None,
    expiring_within_days: Annotated[
        int | None,
        Query(ge=0, le=3650, description="only active concessions whose last day is at most N days from today"),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ConcessionRecordPublic]:
    query = ConcessionQuery(market, state, expiring_within_days)
    return page_of(await concessions.list(query, limit=limit, offset=offset), ConcessionRecordPublic.of, limit, offset)


@router.get("/concessions/{concession_id}", summary="A concession over its whole life (office)")
async def get_concession(
    concession_id: Slug, concessions: Concessions, principal: OfficePrincipal
) -> ConcessionRecordPublic:
    return ConcessionRecordPublic.of(await concessions.get(concession_id))


@router.post(
    "/concessions/{concession_id}/renew",
    **ACTION,
    summary="Renew an active concession until a later end (office)",
)
async def renew_concession(
    concession_id: Slug, body: ConcessionRenewal, concessions: Concessions, principal: OfficePrincipal
) -> ConcessionRecordPublic:
    return ConcessionRecordPublic.of(await concessions.renew(concession_id, body.end, principal.username))


@router.post(
    "/concessions/{concession_id}/transfer",
    **ACTION,
    summary="Transfer an active concession to another trader for the rest of its term (office)",
)
async def transfer_concession(
    concession_id: Slug, body: ConcessionTransfer, concessions: Concessions, principal: OfficePrincipal
) -> ConcessionRecordPublic:
    record = await concessions.transfer(concession_id, body.trader, body.holder, principal.username)
    return ConcessionRecordPublic.of(record)


@router.post(
    "/concessions/{concession_id}/revoke",
    summary="Revoke an active concession with a reason (office); its stall becomes vacant",
    responses=CONFLICT,
)
async def revoke_concession(
    concession_id: Slug, body: ConcessionRevocation, concessions: Concessions, principal: OfficePrincipal
) -> ConcessionRecordPublic:
    return ConcessionRecordPublic.of(await concessions.revoke(concession_id, body.reason, principal.username))
