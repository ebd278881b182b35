"""HTTP routes of offers: the catalogue and what each shop offers (public paths say "services")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from shared.app import provide
from shared.identity import CurrentPrincipal, Role
from shared.web.etag import IfMatch, set_etag
from shared.web.idempotency import IDEMPOTENT
from shared.web.pagination import Limit, Offset, Page
from shared.web.params import Slug
from shops.offers.domain import CATALOGUE
from shops.offers.schemas import CatalogueItem, OfferCreate, OfferPublic, OfferPut
from shops.offers.service import OffersService
from shops.register.schemas import ShopId

router = APIRouter(tags=["services"])

Offers = Annotated[OffersService, Depends(provide(OffersService))]


@router.get("/services/catalogue")
async def catalogue() -> Page[CatalogueItem]:
    items = [CatalogueItem.of(entry) for entry in CATALOGUE]
    return Page[CatalogueItem].of(items, len(items), len(items), 0)


@router.get("/shops/{shop_id}/services")
async def offers_of(shop_id: ShopId, offers: Offers, limit: Limit = 50, offset: Offset = 0) -> Page[OfferPublic]:
    offered = await offers.offers_of(shop_id)
    items = [OfferPublic.of(o) for o in offered[offset : offset + limit]]
    return Page[OfferPublic].of(items, len(offered), limit, offset)


@router.post("/shops/{shop_id}/services", dependencies=[IDEMPOTENT], status_code=201)
async def add_offer(
    shop_id: ShopId, body: OfferCreate, offers: Offers, principal: CurrentPrincipal, response: Response
) -> OfferPublic:
    """Offer a service with weekly hours (that shop's shopkeeper or the office)."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    hours = [h.interval() for h in body.hours]
    offer = await offers.add(shop_id, body.service, hours, body.note, principal.username)
    set_etag(response, offer.version)
    return OfferPublic.of(offer)


@router.put(
    "/shops/{shop_id}/services/{service_id}",
    responses={412: {"description": "If-Match names a version the service no longer has"}},
)
async def revise_offer(
    shop_id: ShopId,
    service_id: Slug,
    body: OfferPut,
    offers: Offers,
    principal: CurrentPrincipal,
    precondition: IfMatch,
    response: Response,
) -> OfferPublic:
    """Change a service's weekly hours and note (that shop's shopkeeper or the office); ETag = version."""
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    hours = [h.interval() for h in body.hours]
    offer = await offers.revise(shop_id, service_id, hours, body.note, principal.username, precondition)
    set_etag(response, offer.version)
    return OfferPublic.of(offer)


@router.delete("/shops/{shop_id}/services/{service_id}", status_code=204)
async def remove_offer(shop_id: ShopId, service_id: Slug, offers: Offers, principal: CurrentPrincipal) -> Response:
    principal.require_scope(Role.SHOPKEEPER, shop_id)
    await offers.remove(shop_id, service_id, principal.username)
    return Response(status_code=204)
