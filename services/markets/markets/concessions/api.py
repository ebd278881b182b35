"""HTTP routes of assignments: the office gives a stall a holder or frees it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from markets.concessions.schemas import AssignmentCreate
from markets.concessions.service import ConcessionsService
from markets.stalls.api import STALE, stall_answer
from markets.stalls.schemas import StallNumberPath, StallPublic
from shared.app import provide
from shared.identity import OfficePrincipal
from shared.web.etag import IfMatch
from shared.web.params import Slug
from shared.web.problems import CONFLICT

Concessions = Annotated[ConcessionsService, Depends(provide(ConcessionsService))]

router = APIRouter(tags=["markets"])


@router.post(
    "/markets/{market_id}/stalls/{number}/assignment",
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
