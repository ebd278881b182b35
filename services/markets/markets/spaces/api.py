"""HTTP routes of a market's social and cultural spaces: create (office), book (the office, the
market's operators, traders), cancel, list bookings, and the anonymous agenda of public events.

``from`` and ``to`` are ISO 8601 times; one without an offset is Milan time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from markets.settings import MARKET_ZONE
from markets.spaces.domain import BookingQuery, check_can_cancel
from markets.spaces.schemas import (
    OUTSIDE_CALENDAR,
    AgendaEntryPublic,
    BookingCreate,
    BookingIdPath,
    BookingPublic,
    SpaceCodePath,
    SpaceCreate,
    SpacePublic,
    in_the_platforms_time,
)
from markets.spaces.service import SpacesService
from shared.app import provide
from shared.errors import Forbidden, InvalidInput
from shared.i18n import Said
from shared.identity import CurrentPrincipal, OfficePrincipal, Principal, Role
from shared.web.pagination import Limit, Offset, Page, page_of
from shared.web.params import Moment, Slug
from shared.web.problems import CONFLICT
from shared.web.routes import CREATION

Spaces = Annotated[SpacesService, Depends(provide(SpacesService))]
From = Annotated[Moment | None, Query(alias="from", description="bookings ending after this time")]
To = Annotated[Moment | None, Query(alias="to", description="bookings starting before this time")]

router = APIRouter(tags=["spaces"])


def _in_milan(moment: datetime | None, field: str) -> datetime | None:
    """``moment`` with Milan's offset when it has none; one at the calendar's edge is refused."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=MARKET_ZONE)
    try:
        return in_the_platforms_time(aware)
    except ValueError:
        raise InvalidInput(field, OUTSIDE_CALENDAR) from None


def _booking_query(code: str | None, since: datetime | None, until: datetime | None) -> BookingQuery:
    """The bookings of a space (or the public ones of every space when ``code`` is None) overlapping
    ``[from, to)``, the bounds read as Milan time where they have no offset."""
    return BookingQuery(code, code is None, _in_milan(since, "query.from"), _in_milan(until, "query.to"))


def _may_manage(principal: Principal, market_id: str) -> bool:
    return principal.is_office or (principal.role is Role.MARKET_OPERATOR and principal.scope == market_id)


def _require_booker(principal: Principal, market_id: str) -> None:
    """The office, the market's operators and traders book the market's spaces."""
    if not (_may_manage(principal, market_id) or principal.role is Role.TRADER):
        raise Forbidden(
            Said(
                it="prenotano gli spazi l'ufficio, gli operatori del mercato e gli ambulanti",
                en="spaces are booked by the office, the market's operators and traders",
            ),
            code="space-not-allowed",
        )


@router.get("/markets/{market_id}/spaces", summary="A market's social and cultural spaces")
async def list_spaces(market_id: Slug, spaces: Spaces) -> list[SpacePublic]:
    return [SpacePublic.of(s) for s in await spaces.spaces(market_id)]


@router.post(
    "/markets/{market_id}/spaces",
    **CREATION,
    summary="Add a space (office)",
)
async def create_space(market_id: Slug, body: SpaceCreate, spaces: Spaces, principal: OfficePrincipal) -> SpacePublic:
    space = await spaces.create(market_id, body.code, body.name, body.capacity, principal.username)
    return SpacePublic.of(space)


@router.post(
    "/markets/{market_id}/spaces/{code}/bookings",
    **CREATION,
    summary="Book a space (the office, the market's operators, traders); an overlapping booking is refused",
)
async def book(
    market_id: Slug, code: SpaceCodePath, body: BookingCreate, spaces: Spaces, principal: CurrentPrincipal
) -> BookingPublic:
    _require_booker(principal, market_id)
    booking = await spaces.book(
        market_id,
        code,
        title=body.title,
        organiser=body.organiser,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        public=body.public,
        actor=principal.username,
        expected_people=body.expected_people,
    )
    return BookingPublic.of(booking)


@router.get(
    "/markets/{market_id}/spaces/{code}/bookings",
    summary="A space's bookings overlapping [from, to), earliest first (logged-in accounts)",
)
async def bookings(
    market_id: Slug,
    code: SpaceCodePath,
    spaces: Spaces,
    principal: CurrentPrincipal,
    since: From = None,
    until: To = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[BookingPublic]:
    found = await spaces.bookings(market_id, _booking_query(code, since, until), limit=limit, offset=offset)
    return page_of(found, BookingPublic.of, limit, offset)


@router.delete(
    "/markets/{market_id}/spaces/{code}/bookings/{booking_id}",
    summary="Cancel a booking (the office, the market's operators, or who booked it)",
    responses=CONFLICT,
)
async def cancel(
    market_id: Slug, code: SpaceCodePath, booking_id: BookingIdPath, spaces: Spaces, principal: CurrentPrincipal
) -> BookingPublic:
    _require_booker(principal, market_id)
    booking = await spaces.booking(market_id, code, booking_id)
    check_can_cancel(booking, principal.username, _may_manage(principal, market_id))
    return BookingPublic.of(await spaces.cancel(booking, principal.username))


@router.get("/markets/{market_id}/agenda", summary="The market's public events, earliest first (anonymous)")
async def agenda(
    market_id: Slug, spaces: Spaces, since: From = None, until: To = None, limit: Limit = 50, offset: Offset = 0
) -> Page[AgendaEntryPublic]:
    found = await spaces.bookings(market_id, _booking_query(None, since, until), limit=limit, offset=offset)
    return page_of(found, AgendaEntryPublic.of, limit, offset)
