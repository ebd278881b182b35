"""Concessions: who holds a stall, from when to when, and how a concession ends.

Pure: no I/O. A concession is held by a business (the holder), optionally through a trader's
account, for a period. Giving a stall a holder and freeing it are the stall's own transitions
(:meth:`markets.stalls.domain.Stall.assign` and :meth:`~markets.stalls.domain.Stall.release`),
because they change its status too; the stall carries the terms of the concession it is held under.

A concession's whole life is a :class:`ConcessionRecord`: ``active`` from its grant until it is
renewed (a later end), transferred (another trader), or ends — ``expired`` once a day past its
``end`` has begun, ``revoked`` by the office with a reason, ``released`` when the office frees the
stall. An ended concession stays on record and changes no more.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from shared.errors import Conflict, InvalidInput
from shared.i18n import Said


@dataclass(frozen=True)
class Concession:
    """The terms a stall is held under (``id`` is None for stalls assigned before concessions had records)."""

    holder: str
    start: date
    end: date
    trader: str | None = None
    id: str | None = None


def concession_end(start: date, years: int) -> date:
    """``start`` plus ``years`` (a concession starting on 29 February ends on 28 February)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


class ConcessionState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    RELEASED = "released"


@dataclass(frozen=True)
class ConcessionQuery:
    """Which concessions a listing shows: of this market, in this state, ending within ``days`` of today."""

    market_id: str | None = None
    state: ConcessionState | None = None
    expiring_within_days: int | None = None

    def __post_init__(self) -> None:
        if self.expiring_within_days is not None and self.state not in (None, ConcessionState.ACTIVE):
            raise InvalidInput(
                "query.state",
                Said(
                    it="le concessioni in scadenza sono quelle attive: togliere state o usare state=active",
                    en="concessions expiring soon are active ones: leave out state or use state=active",
                ),
            )

    def ending_by(self, today: date) -> date | None:
        """The last end date a listing of concessions expiring soon includes (None: any)."""
        if self.expiring_within_days is None:
            return None
        return date.fromordinal(today.toordinal() + self.expiring_within_days)


@dataclass(frozen=True)
class ConcessionRecord:
    """One concession over its whole life; ``version`` grows by 1 with every change."""

    id: str
    market_id: str
    number: str
    holder: str
    trader: str | None
    start: date
    end: date
    state: ConcessionState
    version: int
    granted_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    reason: str = ""

    @classmethod
    def granted(cls, market_id: str, number: str, terms: Concession, at: datetime) -> ConcessionRecord:
        assert terms.id is not None, "a granted concession has an id"
        return cls(
            id=terms.id,
            market_id=market_id,
            number=number,
            holder=terms.holder,
            trader=terms.trader,
            start=terms.start,
            end=terms.end,
            state=ConcessionState.ACTIVE,
            version=1,
            granted_at=at,
            updated_at=at,
        )

    @property
    def terms(self) -> Concession:
        """What the stall carries of this concession."""
        return Concession(self.holder, self.start, self.end, self.trader, self.id)

    def is_due(self, today: date) -> bool:
        """True when the concession is active and ``today`` lies past its end."""
        return self.state is ConcessionState.ACTIVE and self.end < today

    def _check_active(self) -> None:
        if self.state is not ConcessionState.ACTIVE:
            raise Conflict(
                Said(
                    it=f"la concessione {self.id} non è più attiva (stato: {self.state})",
                    en=f"concession {self.id} is no longer active (state: {self.state})",
                ),
                code="concession-ended",
                state=self.state.value,
            )

    def renew(self, end: date, at: datetime) -> ConcessionRecord:
        """The concession running until ``end``, which must come after its current end."""
        self._check_active()
        if end <= self.end:
            raise InvalidInput(
                "body.end",
                Said(
                    it=f"il rinnovo deve terminare dopo la scadenza attuale ({self.end.isoformat()})",
                    en=f"a renewal must end after the current end ({self.end.isoformat()})",
                ),
            )
        return replace(self, end=end, version=self.version + 1, updated_at=at)

    def transfer(self, trader: str, holder: str | None, at: datetime) -> ConcessionRecord:
        """The concession held by another trader (and business, when ``holder`` is given) until its end."""
        self._check_active()
        new_holder = holder or self.holder
        if trader == self.trader:
            raise Conflict(
                Said(
                    it=f"la concessione {self.id} è già di {trader}",
                    en=f"concession {self.id} is already held by {trader}",
                ),
                code="concession-same-trader",
            )
        return replace(self, trader=trader, holder=new_holder, version=self.version + 1, updated_at=at)

    def revoke(self, reason: str, at: datetime) -> ConcessionRecord:
        """The concession revoked by the office: it ends now and its stall is freed."""
        self._check_active()
        return replace(
            self, state=ConcessionState.REVOKED, ended_at=at, reason=reason, version=self.version + 1, updated_at=at
        )

    def release(self, at: datetime) -> ConcessionRecord:
        """The concession ended because the office freed its stall."""
        self._check_active()
        return replace(self, state=ConcessionState.RELEASED, ended_at=at, version=self.version + 1, updated_at=at)

    def expire(self, today: date, at: datetime) -> ConcessionRecord:
        """The concession expired; refused unless it is active and ``today`` is past its end."""
        if not self.is_due(today):
            raise Conflict(
                Said(
                    f"la concessione {self.id} non scade il {today.isoformat()}",
                    f"concession {self.id} is not due to expire on {today.isoformat()}",
                )
            )
        return replace(self, state=ConcessionState.EXPIRED, ended_at=at, version=self.version + 1, updated_at=at)
