"""Social and cultural spaces of a market, and their bookings (the market as a neighbourhood place).

Pure: no I/O. A space (a room, a covered square, an unused block of stalls) is booked for a period
``[starts_at, ends_at)``; two bookings of one space that are both live may not overlap (one ending
at 18:00 and the next starting at 18:00 do not). A public booking shows in the market's anonymous
agenda. A cancelled booking stays on record and frees its period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.errors import Conflict, Forbidden, InvalidInput
from shared.i18n import Said

LONGEST_BOOKING = timedelta(days=31)


@dataclass(frozen=True)
class Space:
    market_id: str
    code: str
    name: str
    capacity: int
    created_at: datetime

    @property
    def key(self) -> str:
        return f"{self.market_id}/{self.code}"


@dataclass(frozen=True)
class BookingQuery:
    """Which of a market's live bookings a listing shows: those of one space (None: of every space),
    only the public ones when ``public_only``, overlapping ``[since, until)`` (None: open)."""

    space: str | None = None
    public_only: bool = False
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Booking:
    id: str
    market_id: str
    space: str  # the space's code
    title: str
    organiser: str
    starts_at: datetime
    ends_at: datetime
    public: bool
    booked_by: str
    created_at: datetime
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    expected_people: int | None = None  # how many the organiser expects, at most the space's capacity

    def overlaps(self, other: Booking) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def check_period(self, now: datetime) -> None:
        """Refuse a period that ends before it starts, lies in the past or lasts over a month."""
        if self.ends_at <= self.starts_at:
            raise InvalidInput(
                "body.ends_at",
                Said(it="deve essere dopo l'inizio (starts_at)", en="must be after starts_at"),
            )
        if self.starts_at < now:
            raise InvalidInput("body.starts_at", Said(it="è già passato", en="is in the past"))
        if self.ends_at - self.starts_at > LONGEST_BOOKING:
            raise InvalidInput(
                "body.ends_at",
                Said(it="una prenotazione dura al massimo 31 giorni", en="a booking lasts at most 31 days"),
            )

    def check_capacity(self, space: Space) -> None:
        """Refuse a booking that expects more people than the space holds."""
        if self.expected_people is not None and self.expected_people > space.capacity:
            raise InvalidInput(
                "body.expected_people",
                Said(
                    it=f"lo spazio {space.code} accoglie al massimo {space.capacity} persone",
                    en=f"space {space.code} holds at most {space.capacity} people",
                ),
                capacity=space.capacity,
            )

    def refuse_overlap(self) -> Conflict:
        """The refusal of a booking that collides with this one."""
        return Conflict(
            Said(
                it=f"lo spazio {self.space} è già prenotato da {self.starts_at.isoformat()} a "
                f"{self.ends_at.isoformat()} (prenotazione {self.id}: {self.title})",
                en=f"space {self.space} is already booked from {self.starts_at.isoformat()} to "
                f"{self.ends_at.isoformat()} (booking {self.id}: {self.title})",
            ),
            code="space-booked",
            booking=self.id,
        )

    def cancel(self, by: str, at: datetime) -> Booking:
        if self.cancelled_at is not None:
            raise Conflict(
                Said(it=f"la prenotazione {self.id} è già annullata", en=f"booking {self.id} is already cancelled"),
                code="booking-cancelled",
            )
        return replace(self, cancelled_at=at, cancelled_by=by)


def check_can_cancel(booking: Booking, username: str, may_manage: bool) -> None:
    """The office and the market's operators cancel any booking; anyone else only their own."""
    if not may_manage and booking.booked_by != username:
        raise Forbidden(
            Said(
                it="si possono annullare solo le proprie prenotazioni",
                en="you may cancel only your own bookings",
            )
        )
