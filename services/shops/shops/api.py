"""HTTP routes for shops: registry, status, historic recognition. Who may call what is decided here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from shared.errors import NotFound, PreconditionFailed
from shared.identity import CurrentPrincipal, OfficePrincipal, Role
from shops.domain import (
    SHOP_ID_PATTERN,
    Application,
    Recognition,
    RecognitionState,
    Registry,
    Shop,
    ShopKind,
    ShopStatus,
)
from shops.schemas import (
    Decision,
    Page,
    ShopCreate,
    ShopPatch,
    ShopPublic,
    ShopPut,
    StatusChange,
    feature_collection,
)
from shops.service import ShopsService
from shops.store import ShopQuery

GEOJSON = "application/geo+json"
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # search text becomes a regex, which may not hold control characters
router = APIRouter(tags=["shops"])


def shops_service(request: Request) -> ShopsService:
    service: ShopsService = request.app.state.shops
    return service


Shops = Annotated[ShopsService, Depends(shops_service)]
ShopId = Annotated[str, Path(pattern=SHOP_ID_PATTERN, description="e.g. bs-12 (historic register), ed-1234 (kiosk)")]
IfMatch = Annotated[str | None, Header(description='the shop\'s version as ETag, e.g. "3"')]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def expected_version(if_match: str | None) -> int | None:
    """The version named by an ``If-Match`` header (``"3"``, ``W/"3"``, ``*`` = any)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionFailed(f"If-Match {if_match!r} names no version of this shop")
    return int(tag)


def registry_of(body: ShopPut) -> Registry:
    return Registry.model_validate(body.model_dump(include=set(Registry.model_fields)))


def shop_response(shop: Shop, status_code: int = 200) -> JSONResponse:
    return JSONResponse(
        ShopPublic.of(shop).model_dump(mode="json"), status_code=status_code, headers={"ETag": f'"{shop.version}"'}
    )


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
    page = Page[ShopPublic](items=[ShopPublic.of(s) for s in found], total=total, limit=limit, offset=offset)
    wants_geojson = output == "geojson" or (output is None and GEOJSON in request.headers.get("accept", ""))
    if wants_geojson:
        return JSONResponse(feature_collection(page), media_type=GEOJSON)
    return page


@router.post("/shops", status_code=201, response_model=ShopPublic)
async def register_shop(body: ShopCreate, shops: Shops, _: OfficePrincipal) -> JSONResponse:
    shop = await shops.register(body.id, registry_of(body), body.status)
    return shop_response(shop, 201)


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
    shop_id: ShopId, body: ShopPut, shops: Shops, principal: OfficePrincipal, if_match: IfMatch = None
) -> Response:
    """Create the shop or bring it to this state (one request per imported row: 201, 200 or 204)."""
    written = await shops.put(shop_id, registry_of(body), body.status, principal.username, expected_version(if_match))
    if not written.changed:
        return Response(status_code=204, headers={"ETag": f'"{written.shop.version}"'})
    return shop_response(written.shop, 201 if written.created else 200)


@router.get("/shops/{shop_id}", response_model=ShopPublic)
async def get_shop(shop_id: ShopId, shops: Shops) -> JSONResponse:
    return shop_response(await shops.get(shop_id))


@router.patch("/shops/{shop_id}", response_model=ShopPublic, responses=STALE)
async def patch_shop(
    shop_id: ShopId, body: ShopPatch, shops: Shops, _: OfficePrincipal, if_match: IfMatch = None
) -> JSONResponse:
    changes = body.model_dump(exclude_unset=True)
    return shop_response(await shops.revise(shop_id, changes, expected_version(if_match)))


@router.put("/shops/{shop_id}/status", response_model=ShopPublic, responses=STALE)
async def change_status(
    shop_id: ShopId, body: StatusChange, shops: Shops, principal: CurrentPrincipal, if_match: IfMatch = None
) -> JSONResponse:
    """Close or reopen (that shop's shopkeeper or the office); closing emits shops.shop.status_changed.v1."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    shop = await shops.change_status(
        shop_id,
        body.status,
        note=body.note,
        at=body.at,
        actor=principal.username,
        if_match=expected_version(if_match),
    )
    return shop_response(shop)


@router.post("/shops/{shop_id}/recognition", status_code=201, response_model=Recognition)
async def apply_for_recognition(
    shop_id: ShopId, body: Application, shops: Shops, principal: CurrentPrincipal
) -> Recognition:
    """Apply for historic-shop status (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    shop = await shops.apply_for_recognition(shop_id, body, principal.username)
    assert shop.recognition is not None
    return shop.recognition


@router.get("/shops/{shop_id}/recognition", response_model=Recognition)
async def get_recognition(shop_id: ShopId, shops: Shops, principal: CurrentPrincipal) -> Recognition:
    """The latest application with its documents (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    shop = await shops.get(shop_id)
    if shop.recognition is None:
        raise NotFound(f"shop {shop_id!r} has not applied for historic recognition")
    return shop.recognition


@router.post("/shops/{shop_id}/recognition/decision", response_model=ShopPublic, responses=STALE)
async def decide_recognition(
    shop_id: ShopId, body: Decision, shops: Shops, principal: OfficePrincipal, if_match: IfMatch = None
) -> JSONResponse:
    """Approve (at least 50 years in the trade, checked today) or reject with a reason (office)."""
    shop = await shops.decide_recognition(
        shop_id,
        approve=body.decision == "approve",
        reason=body.reason,
        actor=principal.username,
        if_match=expected_version(if_match),
    )
    return shop_response(shop)
