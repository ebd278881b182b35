"""Offers use cases: what a shop offers, added and removed with their events in one transaction.

After a commit, the nearest-point index of this process is told what changed (:class:`OfferWatcher`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from shared.errors import NotFound
from shared.events import utcnow
from shared.i18n import Said
from shared.outbox import Outbox, UnitOfWork
from shared.places import OpeningInterval
from shared.versions import Precondition
from shops.offers import events
from shops.offers.domain import Offer
from shops.offers.store import OfferStore
from shops.register.domain import ShopCard
from shops.register.store import ShopStore


class OfferWatcher(Protocol):
    """Told, after the commit, that an offer was added or removed."""

    def offer_added(self, offer: Offer, card: ShopCard) -> None: ...

    def offer_removed(self, offer_id: str) -> None: ...


@dataclass
class OffersService:
    offers: OfferStore
    shops: ShopStore
    outbox: Outbox
    watcher: OfferWatcher
    clock: Callable[[], datetime] = utcnow

    async def offers_of(self, shop_id: str) -> list[Offer]:
        await self.shops.existing(shop_id)
        return await self.offers.of_shop(shop_id)

    async def add(self, shop_id: str, code: str, hours: Sequence[OpeningInterval], note: str, actor: str) -> Offer:
        async def work(uow: UnitOfWork) -> tuple[ShopCard, Offer]:
            shop = await self.shops.existing(shop_id, uow.session)
            offer = Offer.create(
                offer_id=f"sv-{uuid.uuid4().hex[:12]}",
                shop=shop,
                code=code,
                hours=hours,
                note=note,
                actor=actor,
                now=self.clock(),
            )
            await self.offers.add(offer, shop.card(), uow.session)
            uow.emit(_registered(offer))
            return shop.card(), offer

        card, offer = await self.outbox.run(work)
        # once committed: a keyed request commits with its answer, after this returns
        self.outbox.mongo.after_commit(partial(self.watcher.offer_added, offer, card))
        return offer

    async def revise(
        self,
        shop_id: str,
        offer_id: str,
        hours: Sequence[OpeningInterval],
        note: str,
        actor: str,
        precondition: Precondition,
    ) -> Offer:
        """New weekly hours and note for an offer; the same offer (no write, no event) when nothing changes."""

        async def work(uow: UnitOfWork) -> tuple[ShopCard, Offer, bool]:
            shop = await self.shops.existing(shop_id, uow.session)
            before = await self.offers.get(shop_id, offer_id, uow.session)
            if before is None:
                raise NotFound(no_such_offer(shop_id, offer_id))
            precondition.check(before.version, Said(f"il servizio {offer_id!r}", f"service {offer_id!r}"))
            after = before.revise(hours, note, self.clock())
            if after is None:
                return shop.card(), before, False
            await self.offers.save(after, expected_version=before.version, session=uow.session)
            uow.emit(_updated(after, actor))
            return shop.card(), after, True

        card, offer, changed = await self.outbox.run(work)
        if changed:
            self.watcher.offer_added(offer, card)
        return offer

    async def remove(self, shop_id: str, offer_id: str, actor: str) -> None:
        async def work(uow: UnitOfWork) -> None:
            offer = await self.offers.get(shop_id, offer_id, uow.session)
            if offer is None:
                raise NotFound(no_such_offer(shop_id, offer_id))
            await self.offers.remove(offer_id, uow.session)
            uow.emit(
                events.OfferRemoved(
                    shop_id=shop_id, service_id=offer_id, service=offer.code, actor=actor, at=self.clock()
                )
            )

        await self.outbox.run(work)
        self.watcher.offer_removed(offer_id)


def no_such_offer(shop_id: str, offer_id: str) -> Said:
    return Said(
        it=f"il negozio {shop_id!r} non ha il servizio {offer_id!r}", en=f"shop {shop_id!r} has no service {offer_id!r}"
    )


def _registered(offer: Offer) -> events.OfferRegistered:
    return events.OfferRegistered(**_hours_payload(offer), actor=offer.created_by, at=offer.created_at)


def _updated(offer: Offer, actor: str) -> events.OfferUpdated:
    assert offer.updated_at is not None
    return events.OfferUpdated(**_hours_payload(offer), actor=actor, at=offer.updated_at, version=offer.version)


def _hours_payload(offer: Offer) -> dict[str, Any]:
    weekly = offer.weekly()
    return dict(
        shop_id=offer.shop_id,
        service_id=offer.id,
        service=offer.code,
        hours=tuple(events.OpeningHours(day=h.day, opens=h.opens, closes=h.closes) for h in offer.hours),
        weekly_minutes=weekly.weekly_minutes,
        evening_minutes=weekly.evening_minutes,
        weekend_minutes=weekly.weekend_minutes,
    )
