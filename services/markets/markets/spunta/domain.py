"""The daily *spunta*: the stalls nobody holds that day go to the itinerant traders present.

Pure: no I/O. On a market day the operator registers the traders (*spuntisti*) who turned up.
After the market's cut-off time every free stall and every stall whose holder did not open it
(or whom the operator marks absent) is offered; the present traders take them one each, the trader
with the most past presences at that market first (ties: who registered earlier that day). Every
trader present counts one presence, whether or not a stall was left. A day is assigned once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from markets.stalls.domain import HistoryEntry, Stall, StallStatus
from shared.errors import Conflict, InvalidInput
from shared.i18n import Said, day_said

DATE_FIELD = "path.date"
TIE_BREAK = Said(
    it="più presenze passate al mercato prima; a parità, chi si è registrato prima quel giorno",
    en="most past presences at the market first; on a tie, who registered earlier that day",
)


def market_day(text: str, today: date) -> date:
    """The day named in a path (``YYYY-MM-DD``), which must exist and not be after ``today``."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            DATE_FIELD,
            Said(
                it=f"{text!r} non è una data esistente (AAAA-MM-GG)",
                en=f"{text!r} is not a date that exists (YYYY-MM-DD)",
            ),
        ) from None
    if len(text) != 10:
        raise InvalidInput(DATE_FIELD, Said(it="la data va scritta AAAA-MM-GG", en="write the date as YYYY-MM-DD"))
    if day > today:
        said = day_said(day)
        raise InvalidInput(
            DATE_FIELD,
            Said(
                it=f"{said.it} è nel futuro: la spunta si fa il giorno stesso",
                en=f"{said.en} is in the future: the spunta is held on the day",
            ),
        )
    return day


@dataclass(frozen=True, slots=True)
class MarketDay:
    """A day at a market and the moments that matter for its spunta (aware datetimes)."""

    market_id: str
    day: date
    starts_at: datetime
    cutoff_at: datetime

    @classmethod
    def of(cls, market_id: str, day: date, cutoff: time, zone: tzinfo) -> MarketDay:
        starts = datetime.combine(day, time(0, 0), zone)
        return cls(market_id, day, starts, datetime.combine(day, cutoff, zone))

    @property
    def key(self) -> str:
        return f"{self.market_id}/{self.day.isoformat()}"

    def check_assignable(self, now: datetime) -> None:
        if now < self.cutoff_at:
            raise Conflict(
                Said(
                    it=f"la spunta si assegna dopo l'orario limite ({self.cutoff_at:%H:%M}): i titolari possono ancora aprire",
                    en=f"the spunta is assigned after the cut-off time ({self.cutoff_at:%H:%M}): holders may still open",
                ),
                code="spunta-before-cutoff",
            )

    def refuse_assigned(self) -> Conflict:
        said = day_said(self.day)
        return Conflict(
            Said(
                it=f"la spunta di {said.it} è già stata assegnata",
                en=f"the spunta of {said.en} has already been assigned",
            ),
            code="spunta-day-assigned",
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A trader present on a market day, as registered (by themself or by the operator or office)."""

    market_id: str
    day: date
    trader: str
    registered_at: datetime
    registered_by: str


@dataclass(frozen=True, slots=True)
class Assignment:
    trader: str
    stall: str


@dataclass(frozen=True, slots=True)
class SpuntaResult:
    """The day's outcome as stored and published; never changes once made."""

    market_id: str
    day: date
    assignments: tuple[Assignment, ...]
    unassigned: tuple[str, ...]
    offered: tuple[str, ...]
    assigned_at: datetime
    actor: str

    @property
    def present(self) -> tuple[str, ...]:
        return tuple(a.trader for a in self.assignments) + self.unassigned


@dataclass(frozen=True, slots=True)
class Standing:
    """A trader's presences at a market's spunta."""

    trader: str
    presences: int


def opened_by_cutoff(
    stalls: Iterable[Stall], status_at_start: Mapping[str, StallStatus], changes: Iterable[HistoryEntry]
) -> set[str]:
    """Numbers of the stalls open at some moment between the day's start and its cut-off.

    ``status_at_start`` is each stall's status when the day began (from its history);
    ``changes`` are the history lines from the day's start up to the cut-off.
    """
    opened = {number for number, status in status_at_start.items() if status is StallStatus.OPEN}
    opened.update(entry.number for entry in changes if entry.to_status is StallStatus.OPEN)
    known = {s.number for s in stalls}
    return opened & known


def offered_stalls(stalls: Sequence[Stall], opened: Collection[str], marked_absent: Collection[str]) -> tuple[str, ...]:
    """The stalls offered at the spunta, in the order the market lists them (``stalls``' order).

    A free stall that is ``vacant`` is offered; an assigned stall is offered when its holder did not
    open it by the cut-off or was marked absent. A stall in maintenance is never offered.
    """
    offered = []
    for stall in stalls:
        if stall.status is StallStatus.MAINTENANCE:
            continue
        if not stall.assigned:
            if stall.status is StallStatus.VACANT:
                offered.append(stall.number)
        elif stall.number in marked_absent or stall.number not in opened:
            offered.append(stall.number)
    return tuple(offered)


def check_marked_absent(stalls: Sequence[Stall], marked_absent: Collection[str]) -> None:
    assigned = {s.number for s in stalls if s.assigned}
    for number in sorted(marked_absent):
        if number not in assigned:
            raise InvalidInput(
                "body.absent",
                Said(
                    it=f"il posteggio {number} non ha un titolare da segnare assente",
                    en=f"stall {number} has no holder to mark absent",
                ),
            )


def rank(candidates: Sequence[Candidate], past_presences: Mapping[str, int]) -> list[Candidate]:
    """Most past presences first; ties to the earlier registration, then to the name."""
    return sorted(candidates, key=lambda c: (-past_presences.get(c.trader, 0), c.registered_at, c.trader))


def assign(
    market_day: MarketDay,
    offered: Sequence[str],
    candidates: Sequence[Candidate],
    past_presences: Mapping[str, int],
    at: datetime,
    actor: str,
) -> SpuntaResult:
    """Each offered stall, in order, to the next candidate in the ranking; one stall per candidate."""
    ranked = rank(candidates, past_presences)
    assignments = tuple(Assignment(c.trader, stall) for c, stall in zip(ranked, offered, strict=False))
    unassigned = tuple(c.trader for c in ranked[len(assignments) :])
    return SpuntaResult(market_day.market_id, market_day.day, assignments, unassigned, tuple(offered), at, actor)
