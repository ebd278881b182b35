"""Closures: whole Milan days on which a shop does not open, or opens only at exceptional hours.

Pure rules, no I/O. A closure covers ``first`` to ``last`` inclusive. On those days the shop's
weekly hours do not apply: with no ``hours`` none of its services is open (a holiday, a sick day);
with ``hours`` (exceptional hours, such as Christmas Eve 09:00-13:00) its services are open only
within those ranges of each day. Either way an evening interval that opened on such a day, or the
day before, does not run on past midnight into the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.errors import Conflict, InvalidInput
from shared.i18n import MONTHS, Said

MAX_DAYS = 366
MAX_RANGES = 4
MINUTES_PER_DAY = 24 * 60


def days_text(first: date, last: date, language: str) -> str:
    """Days as a reader writes them: "8 dicembre 2026", "8-10 dicembre 2026" (en dash), "28 novembre - 3 dicembre 2026"."""
    months = MONTHS[language]
    end = f"{last.day} {months[last.month - 1]} {last.year}"
    if first == last:
        return end
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}\u2013{end}"
    start = f"{first.day} {months[first.month - 1]}" + ("" if first.year == last.year else f" {first.year}")
    return f"{start} \u2013 {end}"


def said_days(first: date, last: date) -> tuple[str, str]:
    """:func:`days_text` in Italian and in English."""
    return days_text(first, last, "it"), days_text(first, last, "en")


@dataclass(frozen=True)
class DayRange:
    """Exceptional opening hours within one day: ``opens`` to ``closes``, minutes after midnight."""

    opens: int
    closes: int

    def holds(self, minute: int) -> bool:
        return self.opens <= minute < self.closes

    def text(self) -> tuple[str, str]:
        return (_hhmm(self.opens), _hhmm(self.closes))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_ranges(ranges: Iterable[DayRange]) -> tuple[DayRange, ...]:
    """Exceptional hours in order; a range that ends before it starts, or two that overlap → 422."""
    ordered = tuple(sorted(ranges, key=lambda r: r.opens))
    if len(ordered) > MAX_RANGES:
        raise InvalidInput(
            "body.hours",
            Said(it=f"al massimo {MAX_RANGES} fasce orarie", en=f"at most {MAX_RANGES} ranges of hours"),
        )
    for number, current in enumerate(ordered):
        opens, closes = current.text()
        if current.closes <= current.opens:
            raise InvalidInput(
                "body.hours",
                Said(
                    it=f"La fascia {opens}-{closes} finisce prima di cominciare (gli orari ridotti restano nel giorno)",
                    en=f"The range {opens}-{closes} ends before it starts (reduced hours stay within the day)",
                ),
            )
        if number and ordered[number - 1].closes > current.opens:
            before = "-".join(ordered[number - 1].text())
            raise InvalidInput(
                "body.hours",
                Said(
                    it=f"Le fasce {before} e {opens}-{closes} si sovrappongono",
                    en=f"The ranges {before} and {opens}-{closes} overlap",
                ),
            )
    return ordered


@dataclass(frozen=True, kw_only=True)
class Closure:
    id: str
    shop_id: str
    first: date
    last: date
    reason: str
    created_at: datetime
    created_by: str
    hours: tuple[DayRange, ...] = ()  # exceptional hours; none: closed all day

    @classmethod
    def declare(
        cls,
        *,
        closure_id: str,
        shop_id: str,
        first: date,
        last: date,
        reason: str,
        actor: str,
        now: datetime,
        hours: Iterable[DayRange] = (),
    ) -> Closure:
        if last < first:
            (last_it, last_en), (first_it, first_en) = said_days(last, last), said_days(first, first)
            raise InvalidInput(
                "body.to",
                Said(
                    it=f"L'ultimo giorno ({last_it}) non può venire prima del primo ({first_it})",
                    en=f"The last day ({last_en}) cannot come before the first ({first_en})",
                ),
            )
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidInput(
                "body.to",
                Said(
                    it=f"Una chiusura dura al massimo {MAX_DAYS} giorni; per una chiusura definitiva cambia lo stato",
                    en=f"A closure lasts at most {MAX_DAYS} days; to close for good, change the shop's status",
                ),
            )
        return cls(
            id=closure_id,
            shop_id=shop_id,
            first=first,
            last=last,
            reason=reason,
            created_at=now,
            created_by=actor,
            hours=check_ranges(hours),
        )

    def check_not_over(self, today: date) -> None:
        """Refuse a closure whose last day is before ``today`` (Milan): no one would ever see it."""
        if self.last < today:
            days_it, days_en = said_days(self.first, self.last)
            raise InvalidInput(
                "body.to",
                Said(
                    it=f"Questa chiusura è già finita ({days_it}): indica giorni da oggi in poi",
                    en=f"This closure is already over ({days_en}): give days from today on",
                ),
            )

    def refuse_overlap(self) -> Conflict:
        """The refusal of a closure declared over some of this one's days."""
        days_it, days_en = said_days(self.first, self.last)
        return Conflict(
            Said(
                it=f"Questi giorni si sovrappongono a una chiusura già dichiarata ({days_it}): "
                "eliminala prima di dichiararne una diversa",
                en=f"These days overlap a closure already declared ({days_en}): "
                "delete it before declaring a different one",
            ),
            closure=self.id,
            **{"from": self.first.isoformat(), "to": self.last.isoformat()},
        )

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    def open_at(self, minute: int) -> bool:
        """Open at this minute of a covered day (only within exceptional hours)."""
        return any(r.holds(minute) for r in self.hours)

    def hours_text(self) -> list[tuple[str, str]]:
        return [r.text() for r in self.hours]

    def same_days(self, first: date, last: date) -> bool:
        return self.first == first and self.last == last

    def overlaps(self, first: date, last: date) -> bool:
        return self.first <= last and first <= self.last


class ClosureCalendar:
    """Every shop's closures, asked which one (if any) covers a day."""

    def __init__(self, closures: Iterable[Closure] = ()) -> None:
        self._of_shop: dict[str, dict[str, Closure]] = {}
        self._with_hours: dict[date, frozenset[str]] = {}
        for closure in closures:
            self.put(closure)

    def put(self, closure: Closure) -> None:
        self._of_shop.setdefault(closure.shop_id, {})[closure.id] = closure
        self._with_hours.clear()

    def remove(self, shop_id: str, closure_id: str) -> None:
        of_shop = self._of_shop.get(shop_id)
        if of_shop is not None:
            of_shop.pop(closure_id, None)
            if not of_shop:
                del self._of_shop[shop_id]
        self._with_hours.clear()

    def with_hours_on(self, day: date) -> frozenset[str]:
        """The shops that open on ``day`` only at the exceptional hours of a closure (worked out once a day)."""
        found = self._with_hours.get(day)
        if found is None:
            found = frozenset(
                shop_id
                for shop_id, closures in self._of_shop.items()
                if (closure := next((c for c in closures.values() if c.covers(day)), None)) and closure.hours
            )
            self._with_hours[day] = found
        return found

    def closure_on(self, shop_id: str, day: date) -> Closure | None:
        of_shop = self._of_shop.get(shop_id)
        if not of_shop:
            return None
        return next((c for c in of_shop.values() if c.covers(day)), None)

    def keeps_closed(self, shop_id: str, day: date, opened_days_ago: int | None) -> bool:
        """Whether closures keep the shop shut on ``day`` for a session that opened ``opened_days_ago``."""
        if shop_id not in self._of_shop:
            return False
        if self.closure_on(shop_id, day):
            return True
        return bool(opened_days_ago) and self.closure_on(shop_id, day - timedelta(days=1)) is not None

    def is_open(self, shop_id: str, day: date, minute: int, opened_days_ago: int | None) -> bool:
        """Open at ``minute`` of ``day``: by the exceptional hours of a closure covering it, else by the
        weekly hours (``opened_days_ago``: when their current session opened; None when they say closed)."""
        closure = self.closure_on(shop_id, day)
        if closure is not None:
            return closure.open_at(minute)
        return opened_days_ago is not None and not self.keeps_closed(shop_id, day, opened_days_ago)
