"""Closures use cases: declare, list and withdraw the days a shop stays closed.

A closure is written in a transaction that first reads the shop and its other closures: a repeated
request finds its closure and a closure overlapping another is refused (two racing requests could
still both be stored; overlapping closures only mean the same days twice, which every reader
handles). After the commit, the nearest-point search of this process is told
(:class:`ClosureWatcher`); other replicas see it at their next reload.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from shared.errors import NotFound
from shared.events import utcnow
from shared.i18n import Said
from shared.outbox import Outbox, UnitOfWork
from shops.clock import local_time
from shops.closures.domain import Closure, DayRange
from shops.closures.store import ClosureStore
from shops.register.store import ShopStore


class ClosureWatcher(Protocol):
    """Told, after the commit, that a closure was declared or withdrawn."""

    def closure_declared(self, closure: Closure) -> None: ...

    def closure_withdrawn(self, shop_id: str, closure_id: str) -> None: ...


@dataclass(frozen=True)
class Declared:
    closure: Closure
    created: bool


@dataclass
class ClosuresService:
    closures: ClosureStore
    shops: ShopStore
    outbox: Outbox
    watcher: ClosureWatcher
    clock: Callable[[], datetime] = utcnow

    async def of_shop(self, shop_id: str) -> list[Closure]:
        await self.shops.existing(shop_id)
        return await self.closures.of_shop(shop_id)

    async def declare(
        self, shop_id: str, first: date, last: date, reason: str, actor: str, hours: Sequence[DayRange] = ()
    ) -> Declared:
        """Store the closure; the one already stored for exactly these days when the request is repeated."""

        async def work(uow: UnitOfWork) -> Declared:
            await self.shops.existing(shop_id, uow.session)
            now = self.clock()
            closure = Closure.declare(
                closure_id=f"cl-{uuid.uuid4().hex[:12]}",
                shop_id=shop_id,
                first=first,
                last=last,
                reason=reason,
                actor=actor,
                now=now,
                hours=hours,
            )
            closure.check_not_over(local_time(now).date())
            for other in await self.closures.of_shop(shop_id, uow.session):
                if other.same_days(first, last):
                    return Declared(other, created=False)
                if other.overlaps(first, last):
                    raise other.refuse_overlap()
            await self.closures.add(closure, uow.session)
            return Declared(closure, created=True)

        declared = await self.outbox.run(work)
        if declared.created:
            self.watcher.closure_declared(declared.closure)
        return declared

    async def withdraw(self, shop_id: str, closure_id: str) -> None:
        async def work(uow: UnitOfWork) -> None:
            await self.shops.existing(shop_id, uow.session)
            if await self.closures.get(shop_id, closure_id, uow.session) is None:
                raise NotFound(
                    Said(
                        it=f"il negozio {shop_id!r} non ha la chiusura {closure_id!r}",
                        en=f"shop {shop_id!r} has no closure {closure_id!r}",
                    )
                )
            await self.closures.remove(closure_id, uow.session)

        await self.outbox.run(work)
        self.watcher.closure_withdrawn(shop_id, closure_id)
