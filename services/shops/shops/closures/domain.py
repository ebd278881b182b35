"""Closures: whole Milan days on which a shop does not open, whatever its weekly hours say.

Pure rules, no I/O. A closure covers ``first`` to ``last`` inclusive. On those days none of the
shop's services is open, and an evening interval that opened on a closed day does not run on past
its midnight either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.errors import InvalidInput
from shared.i18n import Said

MAX_DAYS = 366


@dataclass(frozen=True, kw_only=True)
class Closure:
    id: str
    shop_id: str
    first: date
    last: date
    reason: str
    created_at: datetime
    created_by: str

    @classmethod
    def declare(
        cls, *, closure_id: str, shop_id: str, first: date, last: date, reason: str, actor: str, now: datetime
    ) -> Closure:
        if last < first:
            raise InvalidInput(
                "body.to",
                Said(
                    it=f"la chiusura finisce ({last.isoformat()}) prima di cominciare ({first.isoformat()})",
                    en=f"the closure ends ({last.isoformat()}) before it starts ({first.isoformat()})",
                ),
            )
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidInput(
                "body.to",
                Said(
                    it=f"una chiusura dura al massimo {MAX_DAYS} giorni; per una chiusura definitiva cambia lo stato",
                    en=f"a closure lasts at most {MAX_DAYS} days; to close for good, change the shop's status",
                ),
            )
        return cls(
            id=closure_id, shop_id=shop_id, first=first, last=last, reason=reason, created_at=now, created_by=actor
        )

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    def same_days(self, first: date, last: date) -> bool:
        return self.first == first and self.last == last

    def overlaps(self, first: date, last: date) -> bool:
        return self.first <= last and first <= self.last


class ClosureCalendar:
    """Every shop's closures, asked which one (if any) covers a day."""

    def __init__(self, closures: Iterable[Closure] = ()) -> None:
        self._of_shop: dict[str, dict[str, Closure]] = {}
        for closure in closures:
            self.put(closure)

    def put(self, closure: Closure) -> None:
        self._of_shop.setdefault(closure.shop_id, {})[closure.id] = closure

    def remove(self, shop_id: str, closure_id: str) -> None:
        of_shop = self._of_shop.get(shop_id)
        if of_shop is not None:
            of_shop.pop(closure_id, None)
            if not of_shop:
                del self._of_shop[shop_id]

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
