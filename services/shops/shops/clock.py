"""Milan's wall clock (Europe/Rome): the calendar every rule of the shops service reads."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def local_time(moment: datetime) -> datetime:
    """The Milan wall-clock time of ``moment``; a naive value is read as Milan time.

    A naive time inside the spring-forward gap does not exist on the wall clock; it is moved
    forward to the real instant (02:30 → 03:30), which is what an appointment there means.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ROME).astimezone(UTC)
    return moment.astimezone(ROME)
