"""Where a place is and when it opens: the value types every service that registers places shares.

Pure: no I/O. Markets and shops both keep a point in WGS84 degrees and weekly opening intervals
written as the City publishes them; the rules about those hours (overlaps, openings past midnight)
belong to the service that applies them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """WGS84 degrees."""

    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class OpeningInterval:
    """One opening as written: ``day`` 0 = Monday … 6 = Sunday, ``opens`` and ``closes`` as ``HH:MM``."""

    day: int
    opens: str
    closes: str
