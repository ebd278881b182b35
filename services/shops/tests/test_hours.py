"""Opening hours: past midnight, several intervals a day, closed days, DST days, weekly totals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from shops.clock import local_time
from shops.offers.hours import HoursError, WeeklyHours

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rome(text: str) -> datetime:
    """A naive Milan wall-clock time."""
    return datetime.fromisoformat(text)


def test_interval_past_midnight_belongs_to_the_day_it_opens() -> None:
    hours = WeeklyHours.of([(FRI, "22:00", "02:00")])
    # 2026-07-10 is a Friday
    assert hours.is_open(rome("2026-07-10T23:00"))
    assert hours.is_open(rome("2026-07-11T01:59"))
    assert not hours.is_open(rome("2026-07-11T02:00"))
    assert not hours.is_open(rome("2026-07-10T21:59"))
    assert not hours.is_open(rome("2026-07-11T23:00")), "Saturday night has no interval"


def test_sunday_night_runs_into_monday_morning() -> None:
    hours = WeeklyHours.of([(SUN, "23:00", "01:00")])
    assert hours.is_open(rome("2026-07-13T00:30"))  # Monday
    assert not hours.is_open(rome("2026-07-13T01:00"))
    assert hours.weekly_minutes == 120 and hours.weekend_minutes == 60


def test_several_intervals_a_day_and_closed_days() -> None:
    hours = WeeklyHours.of([(d, "09:00", "13:00") for d in range(5)] + [(d, "15:00", "19:00") for d in range(5)])
    assert hours.is_open(rome("2026-07-08T10:00"))  # Wednesday
    assert not hours.is_open(rome("2026-07-08T14:00")), "lunch break"
    assert hours.is_open(rome("2026-07-08T15:00"))
    assert not hours.is_open(rome("2026-07-11T10:00")), "closed on Saturday"
    assert not hours.is_open(rome("2026-07-12T10:00")), "closed on Sunday"


def test_whole_day_and_midnight_closing() -> None:
    hours = WeeklyHours.of([(WED, "00:00", "00:00"), (THU, "18:00", "24:00")])
    assert hours.is_open(rome("2026-07-08T00:00")) and hours.is_open(rome("2026-07-08T23:59"))
    assert not hours.is_open(rome("2026-07-09T00:00"))
    assert hours.is_open(rome("2026-07-09T23:59")) and not hours.is_open(rome("2026-07-10T00:00"))
    assert hours.weekly_minutes == 24 * 60 + 6 * 60


def test_utc_instants_are_read_on_the_milan_clock_summer_and_winter() -> None:
    hours = WeeklyHours.of([(MON, "09:00", "10:00")])
    assert hours.is_open(utc("2026-07-06T07:30"))  # 09:30 CEST
    assert not hours.is_open(utc("2026-07-06T08:30"))  # 10:30 CEST
    assert hours.is_open(utc("2026-01-05T08:30"))  # 09:30 CET


def test_spring_forward_day_follows_the_wall_clock() -> None:
    # 2026-03-29: at 02:00 CET clocks jump to 03:00 CEST; 01:00-04:00 lasts two real hours
    hours = WeeklyHours.of([(SUN, "01:00", "04:00")])
    assert hours.is_open(utc("2026-03-29T00:30"))  # 01:30 CET
    assert hours.is_open(utc("2026-03-29T01:30"))  # 03:30 CEST
    assert not hours.is_open(utc("2026-03-29T02:00"))  # 04:00 CEST
    moved = local_time(rome("2026-03-29T02:30"))
    assert (moved.hour, moved.minute, moved.utcoffset()) == (3, 30, local_time(utc("2026-03-29T01:30")).utcoffset())


def test_fall_back_day_opens_both_passes_of_the_repeated_hour() -> None:
    # 2026-10-25: at 03:00 CEST clocks go back to 02:00 CET; 02:00-02:30 happens twice
    hours = WeeklyHours.of([(SUN, "02:00", "02:30")])
    assert hours.is_open(utc("2026-10-25T00:15"))  # 02:15 CEST
    assert hours.is_open(utc("2026-10-25T01:15"))  # 02:15 CET
    assert not hours.is_open(utc("2026-10-25T01:45"))  # 02:45 CET


def test_weekly_evening_and_weekend_minutes() -> None:
    hours = WeeklyHours.of([(FRI, "18:00", "02:00"), (SAT, "10:00", "20:00")])
    assert hours.weekly_minutes == 8 * 60 + 10 * 60
    assert hours.evening_minutes == 5 * 60 + 60, "Friday 19-24 and Saturday 19-20"
    assert hours.weekend_minutes == 2 * 60 + 10 * 60, "Friday night after midnight is Saturday"


def test_hours_of_the_day_include_last_nights_spill_over() -> None:
    hours = WeeklyHours.of([(FRI, "22:00", "02:00"), (SAT, "10:00", "20:00")])
    assert hours.on_day_of(rome("2026-07-11T12:00")) == [("00:00", "02:00"), ("10:00", "20:00")]
    assert hours.on_day_of(rome("2026-07-10T12:00")) == [("22:00", "02:00")]
    assert hours.on_day_of(rome("2026-07-12T12:00")) == []


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        ([(MON, "09:00", "13:00"), (MON, "12:00", "14:00")], "si sovrappone"),
        ([(SUN, "23:00", "02:00"), (MON, "01:00", "03:00")], "si sovrappone"),
        ([(MON, "25:00", "26:00")], "non è un orario"),
        ([(MON, "24:00", "02:00")], "non è un orario"),
        ([(7, "09:00", "10:00")], "il giorno 7"),
    ],
)
def test_impossible_hours_are_refused(intervals: list[tuple[int, str, str]], message: str) -> None:
    with pytest.raises(HoursError, match=message):
        WeeklyHours.of(intervals)


def test_touching_intervals_are_fine() -> None:
    assert WeeklyHours.of([(MON, "09:00", "13:00"), (MON, "13:00", "15:00")]).weekly_minutes == 360
