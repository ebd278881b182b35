"""Words a person reads, in Italian and English; the caller's ``Accept-Language`` picks one.

Pure (no web library): domain rules raise ``shared.errors`` exceptions carrying a ``Said``, and
``shared.web.problems`` answers in the language asked for. Italian is the default; codes stay
language-neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

LANGUAGES = ("it", "en")
DEFAULT_LANGUAGE = "it"


@dataclass(frozen=True, slots=True)
class Said:
    """One sentence in both languages."""

    it: str
    en: str

    def in_(self, language: str) -> str:
        return self.en if language == "en" else self.it

    def __str__(self) -> str:
        return self.it


MONTHS = {
    "it": (
        "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
        "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
WEEKDAYS = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def day_said(day: date) -> Said:
    """A day as people write it, with its weekday: "lunedì 7 dicembre 2026", "Monday 7 December 2026"."""

    def words(lang: str) -> str:
        return f"{WEEKDAYS[lang][day.weekday()]} {day.day} {MONTHS[lang][day.month - 1]} {day.year}"

    return Said(it=words("it"), en=words("en"))


# English digit grouping and decimal point swapped for Italian's ("1,234.5" -> "1.234,5")
ITALIAN_DIGITS = str.maketrans(",.", ".,")


def italian(number: float, spec: str) -> str:
    """``number`` formatted with ``spec`` (``",.2f"``, ``"g"``) as Italian writes it."""
    return format(number, spec).translate(ITALIAN_DIGITS)


def language(accept_language: str | None) -> str:
    """The best of ``LANGUAGES`` for an ``Accept-Language`` header (RFC 9110 weights); Italian otherwise."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
        elif primary == "*" and q > best_q and position == 0:
            best, best_q = DEFAULT_LANGUAGE, q
    return best
