"""HTTP routes of the register: shops, status, historic recognition. Who may call what is decided here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from shared.app import provide
from shared.errors import NotFound
from shared.i18n import Said
from shared.identity import CurrentPrincipal, OfficePrincipal, Role
from shared.web.etag import IfMatch, set_etag
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page
from shared.web.problems import CONFLICT
from shops.register.domain import RecognitionState, Shop, ShopKind, ShopQuery, ShopStatus
from shops.register.schemas import (
    ApplicationCreate,
    RecognitionDecision,
    RecognitionPublic,
    ShopCreate,
    ShopId,
    ShopPublic,
    ShopPut,
    ShopUpdate,
    StatusChange,
    feature_collection,
)
from shops.register.service import ShopsService

GEOJSON = "application/geo+json"
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # search text becomes a regex, which may not hold control characters
router = APIRouter(tags=["shops"])

Shops = Annotated[ShopsService, Depends(provide(ShopsService))]


def shop_response(shop: Shop, status_code: int = 200) -> JSONResponse:
    """The shop as :class:`ShopPublic`, with its version as ``ETag``."""
    response = JSONResponse(ShopPublic.of(shop).model_dump(mode="json"), status_code=status_code)
    set_etag(response, shop.version)
    return response


# the answer to a write whose If-Match names a version the shop no longer has
STALE: dict[int | str, dict[str, Any]] = {412: {"description": "If-Match names a version the shop no longer has"}}


@router.get("/shops", response_model=Page[ShopPublic], responses={200: {"content": {GEOJSON: {}}}})
async def list_shops(
    shops: Shops,
    request: Request,
    kind: ShopKind | None = None,
    status: ShopStatus | None = None,
    nil: Annotated[
        str | None, Query(max_length=120, pattern=PRINTABLE, description="NIL id (e.g. 9) or name (e.g. BRERA)")
    ] = None,
    municipio: Annotated[int | None, Query(ge=1, le=9)] = None,
    q: Annotated[str | None, Query(max_length=100, pattern=PRINTABLE, description="words in the name or trade")] = None,
    recognition: Annotated[RecognitionState | None, Query(description="historic-shop application state")] = None,
    output: Annotated[str | None, Query(alias="format", pattern="^(json|geojson)$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    query = ShopQuery(kind=kind, status=status, nil=nil, municipio=municipio, q=q, recognition=recognition)
    found, total = await shops.search(query, limit=limit, offset=offset)
    page = Page[ShopPublic].of([ShopPublic.of(s) for s in found], total, limit, offset)
    wants_geojson = output == "geojson" or (output is None and GEOJSON in request.headers.get("accept", ""))
    if wants_geojson:
        return JSONResponse(feature_collection(page), media_type=GEOJSON)
    return page


@router.post("/shops", dependencies=[IDEMPOTENT], status_code=201, response_model=ShopPublic, responses=CONFLICT)
async def register_shop(body: ShopCreate, shops: Shops, _: OfficePrincipal) -> JSONResponse:
    return shop_response(await shops.register(body.id, body.registry(), body.status), 201)


@router.put(
    "/shops/{shop_id}",
    response_model=ShopPublic,
    responses={
        201: {"description": "created"},
        204: {"description": "already in this state; nothing changed"},
        **STALE,
    },
)
async def put_shop(
    shop_id: ShopId, body: ShopPut, shops: Shops, principal: OfficePrincipal, precondition: IfMatch
) -> Response:
    """Create the shop or bring it to this state (one request per imported row: 201, 200 or 204)."""
    written = await shops.put(shop_id, body.registry(), body.status, principal.username, precondition)
    if not written.changed:
        unchanged = Response(status_code=204)
        set_etag(unchanged, written.shop.version)
        return unchanged
    return shop_response(written.shop, 201 if written.created else 200)


@router.get("/shops/{shop_id}", response_model=ShopPublic)
async def get_shop(shop_id: ShopId, shops: Shops) -> JSONResponse:
    return shop_response(await shops.get(shop_id))


@router.patch("/shops/{shop_id}", response_model=ShopPublic, responses=STALE)
async def patch_shop(
    shop_id: ShopId, body: ShopUpdate, shops: Shops, _: OfficePrincipal, precondition: IfMatch
) -> JSONResponse:
    return shop_response(await shops.revise(shop_id, body.changes(), precondition))


@router.put("/shops/{shop_id}/status", response_model=ShopPublic, responses=STALE)
async def change_status(
    shop_id: ShopId, body: StatusChange, shops: Shops, principal: CurrentPrincipal, precondition: IfMatch
) -> JSONResponse:
    """Close or reopen (that shop's shopkeeper or the office); closing emits shops.shop.status_changed.v1."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    shop = await shops.change_status(
        shop_id, body.status, note=body.note, at=body.at, actor=principal.username, precondition=precondition
    )
    return shop_response(shop)


@router.post("/shops/{shop_id}/recognition", dependencies=[IDEMPOTENT], status_code=201, responses=CONFLICT)
async def apply_for_recognition(
    shop_id: ShopId, body: ApplicationCreate, shops: Shops, principal: CurrentPrincipal
) -> RecognitionPublic:
    """Apply for historic-shop status (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    shop = await shops.apply_for_recognition(shop_id, body.application(), principal.username)
    assert shop.recognition is not None
    return RecognitionPublic.of(shop.recognition)


@router.get("/shops/{shop_id}/recognition")
async def get_recognition(shop_id: ShopId, shops: Shops, principal: CurrentPrincipal) -> RecognitionPublic:
    """The latest application with its documents (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    shop = await shops.get(shop_id)
    if shop.recognition is None:
        raise NotFound(
            Said(
                it=f"il negozio {shop_id!r} non ha chiesto il riconoscimento di bottega storica",
                en=f"shop {shop_id!r} has not applied for historic recognition",
            )
        )
    return RecognitionPublic.of(shop.recognition)


@router.post("/shops/{shop_id}/recognition/decision", response_model=ShopPublic, responses=STALE)
async def decide_recognition(
    shop_id: ShopId, body: RecognitionDecision, shops: Shops, principal: OfficePrincipal, precondition: IfMatch
) -> JSONResponse:
    """Approve (at least 50 years in the trade, checked today) or reject with a reason (office)."""
    shop = await shops.decide_recognition(
        shop_id,
        approve=body.decision == "approve",
        reason=body.reason,
        actor=principal.username,
        precondition=precondition,
    )
    return shop_response(shop)
