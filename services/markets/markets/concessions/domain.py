"""Concessions: who holds a stall, and from when to when.

Pure: no I/O. A concession is held by a business (the holder) for a period; giving a stall a
holder and freeing it are the stall's own transitions (:meth:`markets.stalls.domain.Stall.assign`
and :meth:`~markets.stalls.domain.Stall.release`), because they change its status too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Concession:
    holder: str
    start: date
    end: date


def concession_end(start: date, years: int) -> date:
    """``start`` plus ``years`` (a concession starting on 29 February ends on 28 February)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)
