"""HTTP routes of closures: anyone reads them (the citizens' page shows them); the shop's shopkeeper or the office writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from shared.app import provide
from shared.identity import CurrentPrincipal, Role
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page
from shared.web.params import Slug
from shared.web.problems import CONFLICT
from shops.closures.schemas import ClosureCreate, ClosurePublic
from shops.closures.service import ClosuresService
from shops.register.schemas import ShopId

router = APIRouter(tags=["closures"])

Closures = Annotated[ClosuresService, Depends(provide(ClosuresService))]


@router.get("/shops/{shop_id}/closures")
async def closures_of(
    shop_id: ShopId, closures: Closures, limit: Limit = 50, offset: Offset = 0
) -> Page[ClosurePublic]:
    """The shop's closures, earliest first (anonymous)."""
    declared = await closures.of_shop(shop_id)
    items = [ClosurePublic.of(c) for c in declared[offset : offset + limit]]
    return Page[ClosurePublic].of(items, len(declared), limit, offset)


@router.post(
    "/shops/{shop_id}/closures",
    dependencies=[IDEMPOTENT],
    status_code=201,
    responses={
        200: {
            "model": ClosurePublic,
            "description": "these days were already declared closed: the closure stored then",
        },
        **CONFLICT,
    },
)
async def declare_closure(
    shop_id: ShopId, body: ClosureCreate, closures: Closures, principal: CurrentPrincipal, response: Response
) -> ClosurePublic:
    """Declare days the shop stays closed, ``from`` to ``to`` inclusive (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    hours = [r.to_domain() for r in body.hours]
    declared = await closures.declare(shop_id, body.from_, body.to, body.reason, principal.username, hours)
    if not declared.created:
        response.status_code = 200
    return ClosurePublic.of(declared.closure)


@router.delete("/shops/{shop_id}/closures/{closure_id}", status_code=204)
async def withdraw_closure(
    shop_id: ShopId, closure_id: Slug, closures: Closures, principal: CurrentPrincipal
) -> Response:
    """Withdraw a closure (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    await closures.withdraw(shop_id, closure_id)
    return Response(status_code=204)
