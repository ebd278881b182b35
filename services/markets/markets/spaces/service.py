"""Use cases of a market's spaces: create one, book it, cancel a booking, read bookings and the agenda.

A booking's transaction writes its space's document before it looks for overlapping bookings, so
of two overlapping bookings sent at once exactly one is stored: the other's transaction conflicts,
is re-run, finds the winner and is refused with 409 naming it.
"""

from __future__ import annotations

import secrets
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime

from markets.spaces import events
from markets.spaces.domain import Booking, BookingQuery, Space
from markets.spaces.store import SpaceStore
from markets.stalls.service import Clock
from markets.stalls.store import MarketStore
from shared.errors import InvalidInput
from shared.events import utcnow
from shared.i18n import Said
from shared.outbox import Outbox, UnitOfWork


def _stored(moment: datetime) -> datetime:
    """``moment`` as the database gives it back: UTC, to the millisecond."""
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class SpacesService:
    store: SpaceStore
    markets: MarketStore
    outbox: Outbox
    _: KW_ONLY
    clock: Clock = utcnow

    async def create(self, market_id: str, code: str, name: str, capacity: int, actor: str) -> Space:
        space = Space(market_id, code, name, capacity, _stored(self.clock()))

        async def work(uow: UnitOfWork) -> Space:
            await self.markets.get_market(market_id, uow.session)
            await self.store.insert_space(space, uow.session)
            uow.emit(
                events.SpaceCreated(
                    market_id=market_id, space=code, name=name, capacity=capacity, actor=actor, at=space.created_at
                )
            )
            return space

        return await self.outbox.run(work)

    async def spaces(self, market_id: str) -> list[Space]:
        await self.markets.get_market(market_id)
        return await self.store.spaces_of(market_id)

    async def book(
        self,
        market_id: str,
        code: str,
        *,
        title: str,
        organiser: str,
        starts_at: datetime,
        ends_at: datetime,
        public: bool,
        actor: str,
        expected_people: int | None = None,
    ) -> Booking:
        now = _stored(self.clock())
        booking = Booking(
            id=f"{code}-{secrets.token_hex(5)}",
            market_id=market_id,
            space=code,
            title=title,
            organiser=organiser,
            starts_at=_stored(starts_at),
            ends_at=_stored(ends_at),
            public=public,
            booked_by=actor,
            created_at=now,
            expected_people=expected_people,
        )
        booking.check_period(now)

        async def work(uow: UnitOfWork) -> Booking:
            space = await self.store.get_space(market_id, code, uow.session)
            booking.check_capacity(space)
            await self.store.lock(space, uow.session)
            colliding = await self.store.live_overlapping(booking, uow.session)
            if colliding:
                raise colliding[0].refuse_overlap()
            await self.store.insert_booking(booking, uow.session)
            uow.emit(events.SpaceBooked(**self._event_fields(booking, actor, now)))
            return booking

        return await self.outbox.run(work)

    @staticmethod
    def _event_fields(booking: Booking, actor: str, at: datetime) -> dict[str, object]:
        return {
            "market_id": booking.market_id,
            "space": booking.space,
            "booking_id": booking.id,
            "title": booking.title,
            "organiser": booking.organiser,
            "starts_at": booking.starts_at,
            "ends_at": booking.ends_at,
            "public": booking.public,
            "expected_people": booking.expected_people,
            "actor": actor,
            "at": at,
        }

    async def booking(self, market_id: str, code: str, booking_id: str) -> Booking:
        return await self.store.get_booking(market_id, code, booking_id)

    async def cancel(self, booking: Booking, actor: str) -> Booking:
        now = _stored(self.clock())
        cancelled = booking.cancel(actor, now)

        async def work(uow: UnitOfWork) -> Booking:
            space = await self.store.get_space(booking.market_id, booking.space, uow.session)
            await self.store.lock(space, uow.session)
            await self.store.save_cancelled(cancelled, uow.session)
            uow.emit(events.BookingCancelled(**self._event_fields(cancelled, actor, now)))
            return cancelled

        return await self.outbox.run(work)

    async def bookings(
        self, market_id: str, query: BookingQuery, *, limit: int, offset: int
    ) -> tuple[list[Booking], int]:
        if query.since is not None and query.until is not None and query.until <= query.since:
            raise InvalidInput("query.to", Said("deve essere dopo l'inizio (from)", "must be after from"))
        if query.space is None:
            await self.markets.get_market(market_id)
        else:
            await self.store.get_space(market_id, query.space)
        return await self.store.list_bookings(market_id, query, limit=limit, offset=offset)
