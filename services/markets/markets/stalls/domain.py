"""Covered markets and their stalls: the rules a market operator and the commerce office expect.

Pure: no I/O. A stall is either assigned (it has a concession holder) or free. An assigned stall is
``open``, ``closed`` or in ``maintenance``; a free stall is ``vacant`` or in ``maintenance``.
Only assigning a holder takes a stall out of ``vacant`` (to ``closed``) and only freeing it puts it
back (to ``vacant``). Food service (*somministrazione*) may occupy at most one fifth of a market's
total stall surface. Every change of a market or a stall adds 1 to its ``version``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from markets.concessions.domain import Concession
from shared.errors import Conflict
from shared.i18n import Said
from shared.places import Location, OpeningInterval

FOOD_SERVICE_SHARE = Fraction(1, 5)
SURFACE_EPSILON_M2 = 1e-6


class StallStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    VACANT = "vacant"
    MAINTENANCE = "maintenance"


class StallCategory(StrEnum):
    """What a stall is used for; ``food_service`` is capped at 1/5 of the market's surface."""

    FOOD = "food"
    NON_FOOD = "non_food"
    FOOD_SERVICE = "food_service"
    SERVICES = "services"
    SOCIAL_CULTURAL = "social_cultural"
    CRAFT = "craft"


@dataclass(frozen=True)
class Market:
    """A covered market as the City registers it; its stalls are separate aggregates."""

    id: str
    name: str
    address: str
    municipio: int
    location: Location
    version: int
    created_at: datetime
    updated_at: datetime
    active: bool = True
    cap: str | None = None
    nil: str | None = None  # NIL (neighbourhood) name
    id_nil: int | None = None  # NIL number
    opening_hours: tuple[OpeningInterval, ...] = ()
    notes: str = ""
    boxes: int | None = None  # official number of boxes, when known

    def changed(self, changes: Mapping[str, Any], at: datetime) -> Market:
        """The market with ``changes`` applied; the same market when none differs from what it has."""
        editable = {f.name for f in fields(self)} - {"id", "version", "created_at", "updated_at"}
        unknown = set(changes) - editable
        if unknown:
            raise ValueError(f"not a market detail: {', '.join(sorted(unknown))}")
        differing = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not differing:
            return self
        return replace(self, **differing, version=self.version + 1, updated_at=at)


@dataclass(frozen=True)
class MarketQuery:
    """Which markets a listing shows: those of this municipio and/or activity (None: any)."""

    municipio: int | None = None
    active: bool | None = None


@dataclass(frozen=True)
class StallQuery:
    """Which of a market's stalls a listing shows: those with this status and/or category (None: any)."""

    status: StallStatus | None = None
    category: StallCategory | None = None


def stall_key(market_id: str, number: str) -> str:
    """The stall's identity across the platform (and its events' subject)."""
    return f"{market_id}/{number}"


def number_order(number: str) -> str:
    """A sort key putting stall numbers in natural order: 2 before 10, A2 before A10."""
    return "".join(part.zfill(8) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", number))


@dataclass(frozen=True)
class Stall:
    market_id: str
    number: str
    area_m2: float
    category: StallCategory
    status: StallStatus
    version: int
    updated_at: datetime
    concession: Concession | None = None

    @property
    def key(self) -> str:
        return stall_key(self.market_id, self.number)

    @property
    def holder(self) -> str | None:
        return self.concession.holder if self.concession else None

    @property
    def assigned(self) -> bool:
        return self.concession is not None

    def status_refusal(self, to: StallStatus) -> Said | None:
        """Why the stall cannot move to ``to`` (None when it can)."""
        if to is self.status:
            return None
        if to is StallStatus.VACANT and self.assigned:
            return Said(
                f"il banco {self.number} è assegnato a {self.holder}: per renderlo libero va tolta l'assegnazione "
                "(DELETE dell'assegnazione)",
                f"stall {self.number} is assigned to {self.holder}: free it (DELETE the assignment) to make it vacant",
            )
        if to is StallStatus.OPEN and not self.assigned:
            return Said(
                f"un banco libero non può essere aperto: assegna prima un titolare al banco {self.number}",
                f"a vacant stall cannot be opened: assign a holder to stall {self.number} first",
            )
        if to is StallStatus.CLOSED and not self.assigned:
            return Said(
                f"il banco {self.number} non ha un titolare che lo chiuda: resta libero finché non ne viene "
                "assegnato uno",
                f"stall {self.number} has no holder to close it: it stays vacant until one is assigned",
            )
        if to is StallStatus.OPEN and self.status is StallStatus.MAINTENANCE:
            return Said(
                f"il banco {self.number} è in manutenzione: va prima segnato come chiuso, poi aperto",
                f"stall {self.number} is under maintenance: set it to closed before opening it",
            )
        return None

    def change_status(self, to: StallStatus, at: datetime) -> Stall:
        """The stall with its new status; the same stall when it already has that status."""
        if to is self.status:
            return self
        refusal = self.status_refusal(to)
        if refusal:
            raise Conflict(refusal)
        return replace(self, status=to, version=self.version + 1, updated_at=at)

    def assign(self, concession: Concession, category: StallCategory, at: datetime) -> Stall:
        """The stall held under ``concession`` for ``category``: a vacant stall becomes closed."""
        if self.concession is not None:
            raise Conflict(
                Said(
                    f"il banco {self.number} è già assegnato a {self.holder}: prima va liberato",
                    f"stall {self.number} is already assigned to {self.holder}: free it first",
                )
            )
        status = StallStatus.CLOSED if self.status is StallStatus.VACANT else self.status
        return replace(
            self, concession=concession, category=category, status=status, version=self.version + 1, updated_at=at
        )

    def amend_concession(self, concession: Concession, at: datetime) -> Stall:
        """The stall held under the new terms of its concession (renewed or transferred); status unchanged."""
        if self.concession is None:
            raise Conflict(Said(f"il banco {self.number} non ha un titolare", f"stall {self.number} has no holder"))
        return replace(self, concession=concession, version=self.version + 1, updated_at=at)

    def release(self, at: datetime) -> Stall:
        """The stall without its holder: it becomes vacant."""
        if self.concession is None:
            raise Conflict(
                Said(
                    f"il banco {self.number} non ha un titolare da cui liberarlo",
                    f"stall {self.number} has no holder to free",
                )
            )
        return replace(self, concession=None, status=StallStatus.VACANT, version=self.version + 1, updated_at=at)


@dataclass(frozen=True)
class Surface:
    """A market's stall surface and how much of it food service already uses."""

    total_m2: float
    food_service_m2: float

    @classmethod
    def of(cls, stalls: Iterable[Stall]) -> Surface:
        total = food_service = 0.0
        for stall in stalls:
            total += stall.area_m2
            if stall.assigned and stall.category is StallCategory.FOOD_SERVICE:
                food_service += stall.area_m2
        return cls(total, food_service)

    @property
    def food_service_cap_m2(self) -> float:
        return self.total_m2 * float(FOOD_SERVICE_SHARE)

    def food_service_refusal(self, area_m2: float) -> Said | None:
        """Why ``area_m2`` more of food service would break the cap (None when it fits)."""
        after = self.food_service_m2 + area_m2
        if after <= self.food_service_cap_m2 + SURFACE_EPSILON_M2:
            return None
        after_m2, cap_m2, total_m2 = f"{after:.1f}", f"{self.food_service_cap_m2:.1f}", f"{self.total_m2:.1f}"
        it = {
            name: value.replace(".", ",") for name, value in (("after", after_m2), ("cap", cap_m2), ("total", total_m2))
        }
        return Said(
            it=f"la superficie per la somministrazione sarebbe di {it['after']} m², oltre il limite di {it['cap']} m² "
            f"(1/5 dei {it['total']} m² del mercato)",
            en=f"food-service surface would be {after_m2} m², over the cap of {cap_m2} m² "
            f"(1/5 of the market's {total_m2} m²)",
        )

    def with_food_service(self, area_m2: float) -> Surface:
        return replace(self, food_service_m2=self.food_service_m2 + area_m2)


def check_food_service_cap(stall: Stall, category: StallCategory, market_stalls: Iterable[Stall]) -> None:
    """Refuse to give ``stall`` to food service when that would break the market's 1/5 cap."""
    if category is not StallCategory.FOOD_SERVICE:
        return
    refusal = Surface.of(market_stalls).food_service_refusal(stall.area_m2)
    if refusal:
        raise Conflict(refusal)


@dataclass(frozen=True)
class Occupancy:
    """Stalls by status; the occupancy rate is the share of stalls that are not vacant."""

    stalls_total: int
    by_status: dict[StallStatus, int]
    occupancy_rate: float
    open_now: int

    @classmethod
    def of(cls, stalls: Iterable[Stall]) -> Occupancy:
        listed = list(stalls)
        counts = Counter(s.status for s in listed)
        total = len(listed)
        taken = total - counts.get(StallStatus.VACANT, 0)
        return cls(
            stalls_total=total,
            by_status={status: counts.get(status, 0) for status in StallStatus},
            occupancy_rate=round(taken / total, 4) if total else 0.0,
            open_now=counts.get(StallStatus.OPEN, 0),
        )


@dataclass(frozen=True)
class MarketOverview:
    """A market with what its stalls add up to: occupancy and surface."""

    market: Market
    occupancy: Occupancy
    surface: Surface

    @classmethod
    def of(cls, market: Market, stalls: Iterable[Stall]) -> MarketOverview:
        listed = [s for s in stalls if s.market_id == market.id]
        return cls(market, Occupancy.of(listed), Surface.of(listed))


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a stall's append-only status history."""

    market_id: str
    number: str
    version: int
    at: datetime
    from_status: StallStatus | None
    to_status: StallStatus
    note: str
    actor: str

    @classmethod
    def of(cls, before: Stall | None, after: Stall, note: str, actor: str) -> HistoryEntry:
        """The line recording the change from ``before`` (None at creation) to ``after``."""
        return cls(
            market_id=after.market_id,
            number=after.number,
            version=after.version,
            at=after.updated_at,
            from_status=before.status if before else None,
            to_status=after.status,
            note=note,
            actor=actor,
        )
