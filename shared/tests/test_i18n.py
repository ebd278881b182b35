"""Days written in words, as both languages write them."""

from __future__ import annotations

from datetime import date

from shared.i18n import Said, day_said


def test_a_day_is_written_with_its_weekday_in_both_languages() -> None:
    assert day_said(date(2026, 12, 7)) == Said(it="lunedì 7 dicembre 2026", en="Monday 7 December 2026")
    assert day_said(date(2027, 1, 3)) == Said(it="domenica 3 gennaio 2027", en="Sunday 3 January 2027")
