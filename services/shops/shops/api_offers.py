"""HTTP routes for services: the catalogue, what each shop offers, the nearest open point."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from shared.errors import InvalidInput
from shared.events import utcnow
from shared.identity import CurrentPrincipal, Role
from shops.api import Limit, Offset, ShopId, Shops
from shops.catalogue import CATALOGUE, SERVICE_CODES
from shops.hours import local_time
from shops.nearest import NearestFinder
from shops.schemas import CatalogueItem, NearbyPublic, NearestPage, OfferCreate, OfferPublic, Page

router = APIRouter(tags=["services"])


@router.get("/services/catalogue", response_model=Page[CatalogueItem])
async def catalogue() -> Page[CatalogueItem]:
    items = [CatalogueItem.of(entry) for entry in CATALOGUE]
    return Page[CatalogueItem](items=items, total=len(items), limit=len(items), offset=0)


@router.get("/shops/{shop_id}/services", response_model=Page[OfferPublic])
async def offers_of(shop_id: ShopId, shops: Shops, limit: Limit = 50, offset: Offset = 0) -> Page[OfferPublic]:
    offers = await shops.offers_of(shop_id)
    items = [OfferPublic.of(o) for o in offers[offset : offset + limit]]
    return Page[OfferPublic](items=items, total=len(offers), limit=limit, offset=offset)


@router.post("/shops/{shop_id}/services", status_code=201, response_model=OfferPublic)
async def add_offer(shop_id: ShopId, body: OfferCreate, shops: Shops, principal: CurrentPrincipal) -> OfferPublic:
    """Offer a service with weekly hours (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    offer = await shops.add_offer(shop_id, body.service, tuple(body.hours), body.note, principal.username)
    return OfferPublic.of(offer)


@router.delete("/shops/{shop_id}/services/{service_id}", status_code=204)
async def remove_offer(
    shop_id: ShopId, service_id: Annotated[str, Path(max_length=64)], shops: Shops, principal: CurrentPrincipal
) -> Response:
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    await shops.remove_offer(shop_id, service_id, principal.username)
    return Response(status_code=204)


@router.get("/services/nearest", response_model=NearestPage)
async def nearest(
    request: Request,
    service: Annotated[str, Query(max_length=60, examples=["ritiro_pacchi"])],
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    open_at: Annotated[
        datetime | None, Query(description="ISO time; without offset it is Milan time; default now")
    ] = None,
    open_only: Annotated[bool, Query(description="false: also points closed at open_at")] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 10,
) -> NearestPage:
    """Points offering ``service`` closest first (great-circle metres), open at ``open_at`` (anonymous)."""
    if service not in SERVICE_CODES:
        raise InvalidInput("query.service", f"{service!r} is not in the service catalogue")
    finder: NearestFinder = request.app.state.nearest
    try:
        at = local_time(open_at or utcnow())
    except OverflowError as exc:
        raise InvalidInput("query.open_at", "the time is outside the calendar") from exc
    found = await finder.find(service, lon, lat, at, limit=limit, open_only=open_only)
    return NearestPage(items=[NearbyPublic.of(f) for f in found], service=service, open_at=at, limit=limit)
