"""Weekly opening hours in Milan's wall-clock time (Europe/Rome), with DST handled.

An interval belongs to the day it opens on; ``closes`` earlier than ``opens`` means it runs past
midnight into the next day, and ``00:00``-``00:00`` (or ``00:00``-``24:00``) is the whole day. Hours
entered anew refuse any other interval that opens and closes at the same time
(:func:`refuse_same_times`); stored ones read such an interval as 24 hours. Intervals are
placed on a 7-day ring of minutes (Monday 00:00 = 0), so Sunday night runs into Monday morning.
Whether a point is open is decided on the local wall clock: on the day clocks go forward an
interval ``01:00``-``04:00`` lasts two real hours, and on the day they go back a wall-clock
interval between 02:00 and 03:00 is open during both passes. Weekly totals count wall-clock
minutes, i.e. a nominal week.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import pairwise

from shared.i18n import Said
from shops.clock import local_time

MINUTES_PER_DAY = 24 * 60
DAYS_PER_WEEK = 7
MINUTES_PER_WEEK = DAYS_PER_WEEK * MINUTES_PER_DAY
EVENING_FROM = 19 * 60
SATURDAY = 5
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
HHMM_PATTERN = HHMM.pattern


class HoursError(ValueError):
    """Opening hours that cannot be right (overlapping intervals, bad times), said in Italian and English."""

    def __init__(self, said: Said) -> None:
        super().__init__(str(said))
        self.said = said


def parse_hhmm(text: str, *, closing: bool = False) -> int:
    """``"HH:MM"`` → minutes after midnight; a closing time may also be written ``"24:00"``."""
    if not HHMM.match(text) or (text == "24:00" and not closing):
        raise HoursError(Said(it=f"{text!r} non è un orario HH:MM", en=f"{text!r} is not a time HH:MM"))
    hours, minutes = text.split(":")
    return (int(hours) * 60 + int(minutes)) % MINUTES_PER_DAY


def format_hhmm(minutes: int) -> str:
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _overlap(start: int, end: int, window_start: int, window_end: int) -> int:
    return max(0, min(end, window_end) - max(start, window_start))


@dataclass(frozen=True, order=True)
class Interval:
    day: int
    opens: int
    closes: int

    @property
    def duration(self) -> int:
        return (self.closes - self.opens) % MINUTES_PER_DAY or MINUTES_PER_DAY

    @property
    def start(self) -> int:
        """Minute of the week it opens at."""
        return self.day * MINUTES_PER_DAY + self.opens

    def segments(self) -> list[tuple[int, int]]:
        """The interval as half-open minute ranges within one week (split where Sunday wraps)."""
        end = self.start + self.duration
        if end <= MINUTES_PER_WEEK:
            return [(self.start, end)]
        return [(self.start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]


def week_minute(local: datetime) -> int:
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


@dataclass(frozen=True)
class WeeklyHours:
    intervals: tuple[Interval, ...]

    @classmethod
    def of(cls, intervals: Iterable[tuple[int, str, str]]) -> WeeklyHours:
        """Build from ``(day, "HH:MM", "HH:MM")`` triples; raises :class:`HoursError`."""
        built = []
        for day, opens, closes in intervals:
            if not 0 <= day < DAYS_PER_WEEK:
                raise HoursError(
                    Said(
                        it=f"il giorno {day} non è tra 0 (lunedì) e 6 (domenica)",
                        en=f"day {day} is not 0 (Monday) to 6 (Sunday)",
                    )
                )
            built.append(Interval(day, parse_hhmm(opens), parse_hhmm(closes, closing=True)))
        hours = cls(tuple(sorted(built)))
        hours._check_no_overlap()
        return hours

    def _check_no_overlap(self) -> None:
        placed = sorted((segment, interval) for interval in self.intervals for segment in interval.segments())
        for (first, a), (second, b) in pairwise(placed):
            if second[0] < first[1]:
                raise HoursError(
                    Said(
                        it=f"{_describe(a, 'it').capitalize()} si sovrappone a {_describe(b, 'it')}",
                        en=f"{_describe(a, 'en')} overlaps {_describe(b, 'en')}",
                    )
                )

    @cached_property
    def _ranges(self) -> tuple[tuple[int, int], ...]:
        return tuple(sorted(segment for interval in self.intervals for segment in interval.segments()))

    @cached_property
    def _starts(self) -> tuple[int, ...]:
        return tuple(start for start, _ in self._ranges)

    def is_open_at(self, minute_of_week: int) -> bool:
        """Open at this minute of the week (see :func:`week_minute`); the ranges never overlap."""
        at = bisect_right(self._starts, minute_of_week) - 1
        return at >= 0 and minute_of_week < self._ranges[at][1]

    def opened_days_ago(self, minute_of_week: int) -> int | None:
        """When open at this minute: 0 if the interval covering it opened that day, 1 if it opened the
        day before and runs past midnight; ``None`` when closed."""
        at = bisect_right(self._starts, minute_of_week) - 1
        if at < 0 or minute_of_week >= self._ranges[at][1]:
            return None
        start = self._ranges[at][0]
        if start == 0 and not any(i.start == 0 for i in self.intervals):
            return 1  # the part of a Sunday-night interval that runs into Monday
        return minute_of_week // MINUTES_PER_DAY - start // MINUTES_PER_DAY

    def is_open(self, moment: datetime) -> bool:
        return self.is_open_at(week_minute(local_time(moment)))

    def on_day_of(self, moment: datetime) -> list[tuple[str, str]]:
        """The hours of ``moment``'s Milan day: last night's spill-over first, then the day's own."""
        day = local_time(moment).weekday()
        yesterday = (day - 1) % DAYS_PER_WEEK
        spill = [
            ("00:00", format_hhmm(i.closes))
            for i in self.intervals
            if i.day == yesterday and i.opens + i.duration > MINUTES_PER_DAY
        ]
        own = [(format_hhmm(i.opens), format_hhmm(i.closes)) for i in self.intervals if i.day == day]
        return spill + own

    def _minutes_within(self, windows: Sequence[tuple[int, int]]) -> int:
        return sum(
            _overlap(start, end, w_start, w_end)
            for interval in self.intervals
            for start, end in interval.segments()
            for w_start, w_end in windows
        )

    @property
    def weekly_minutes(self) -> int:
        return sum(interval.duration for interval in self.intervals)

    @property
    def evening_minutes(self) -> int:
        """Minutes between 19:00 and midnight, on any day."""
        windows = [(d * MINUTES_PER_DAY + EVENING_FROM, (d + 1) * MINUTES_PER_DAY) for d in range(DAYS_PER_WEEK)]
        return self._minutes_within(windows)

    @property
    def weekend_minutes(self) -> int:
        """Minutes falling on Saturday or Sunday (a Friday night past midnight counts as Saturday)."""
        return self._minutes_within([(SATURDAY * MINUTES_PER_DAY, MINUTES_PER_WEEK)])


def refuse_same_times(hours: WeeklyHours) -> None:
    """Refuse an interval that opens and closes at the same time other than ``00:00``-``00:00``:
    the whole day is said that way, any other would be 24 hours that nobody meant."""
    for interval in hours.intervals:
        if interval.opens == interval.closes and interval.opens:
            raise HoursError(
                Said(
                    it=f"{_describe(interval, 'it').capitalize()}: apre e chiude alla stessa ora; "
                    "per restare aperto tutto il giorno indica 00:00-00:00",
                    en=f"{_describe(interval, 'en')}: opens and closes at the same time; "
                    "to stay open all day, give 00:00-00:00",
                )
            )


_DAY_NAMES = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _describe(interval: Interval, language: str) -> str:
    return f"{_DAY_NAMES[language][interval.day]} {format_hhmm(interval.opens)}-{format_hhmm(interval.closes)}"
