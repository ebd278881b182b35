"""Use cases: read what they need inside the transaction, apply a rule, save state and events together.

After a transaction commits, the nearest-point index of this process is told what changed.
Who may call a use case is decided by the API (role and scope); the use cases decide what is allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.errors import NotFound, PreconditionFailed
from shared.events import utcnow
from shared.outbox import Outbox, UnitOfWork
from shops.domain import (
    Application,
    Offer,
    OpeningInterval,
    Registry,
    ServicePoint,
    Shop,
    ShopStatus,
    generated_shop_id,
)
from shops.events import (
    HistoricRecognised,
    ServiceRegistered,
    ServiceRemoved,
    ShopRegistered,
    ShopStatusChanged,
    ShopUpdated,
)
from shops.nearest import NearestFinder
from shops.store import ShopQuery, ShopStore


@dataclass(frozen=True)
class Written:
    """A shop after an upsert, and what the upsert did."""

    shop: Shop
    created: bool = False
    changed: bool = False


def _found(shop: Shop | None, shop_id: str) -> Shop:
    if shop is None:
        raise NotFound(f"no shop {shop_id!r}")
    return shop


def _check_version(shop: Shop, if_match: int | None) -> None:
    if if_match is not None and if_match != shop.version:
        raise PreconditionFailed(f"shop {shop.id!r} is at version {shop.version}, not {if_match}; reload it")


class ShopsService:
    def __init__(
        self, store: ShopStore, outbox: Outbox, nearest: NearestFinder, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.nearest = nearest
        self.clock = clock

    async def _load(self, shop_id: str, uow: UnitOfWork) -> Shop:
        return _found(await self.store.get(shop_id, uow.session), shop_id)

    async def _save(self, before: Shop, after: Shop, uow: UnitOfWork) -> None:
        await self.store.save(after, expected_version=before.version, session=uow.session)
        if after.card() != before.card():
            await self.store.copy_card_into_offers(after, uow.session)

    def _after_commit(self, before: Shop | None, after: Shop) -> None:
        if before is None or after.card() != before.card():
            self.nearest.shop_changed(after.card())

    async def get(self, shop_id: str) -> Shop:
        return _found(await self.store.get(shop_id), shop_id)

    async def search(self, query: ShopQuery, *, limit: int, offset: int) -> tuple[list[Shop], int]:
        return await self.store.search(query, limit=limit, offset=offset)

    async def register(self, shop_id: str | None, registry: Registry, status: ShopStatus) -> Shop:
        new_id = shop_id or generated_shop_id(registry.name, uuid.uuid4().hex[:6])

        async def work(uow: UnitOfWork) -> Shop:
            shop = Shop.register(new_id, registry, status, self.clock())
            await self.store.add(shop, uow.session)
            uow.emit(ShopRegistered.of(shop))
            return shop

        return await self.outbox.run(work)

    async def put(
        self, shop_id: str, registry: Registry, status: ShopStatus, actor: str, if_match: int | None
    ) -> Written:
        """Create the shop, or bring it to this registry state and status (what an import does).

        A shop already in that state is answered from a plain read, without a transaction: a
        re-import of an unchanged register costs one query per row.
        """
        current = await self.store.get(shop_id)
        if current and current.registry() == registry and current.status is status:
            _check_version(current, if_match)
            return Written(current)

        async def work(uow: UnitOfWork) -> tuple[Shop | None, Written]:
            now = self.clock()
            before = await self.store.get(shop_id, uow.session)
            if before is None:
                shop = Shop.register(shop_id, registry, status, now)
                await self.store.add(shop, uow.session)
                uow.emit(ShopRegistered.of(shop))
                return None, Written(shop, created=True, changed=True)
            _check_version(before, if_match)
            shop = before
            revised = shop.revise(registry, now)
            if revised:
                shop = revised
                uow.emit(ShopUpdated.of(shop))
            moved = shop.change_status(status, now, None, now)
            if moved:
                uow.emit(_status_changed(shop, moved, actor))
                shop = moved
            if shop is before:
                return before, Written(before)
            await self._save(before, shop, uow)
            return before, Written(shop, changed=True)

        before, written = await self.outbox.run(work)
        if written.changed:
            self._after_commit(before, written.shop)
        return written

    async def revise(self, shop_id: str, changes: dict[str, object], if_match: int | None) -> Shop:
        async def work(uow: UnitOfWork) -> tuple[Shop, Shop]:
            before = await self._load(shop_id, uow)
            _check_version(before, if_match)
            registry = Registry.model_validate({**before.registry().model_dump(), **changes})
            after = before.revise(registry, self.clock())
            if after is None:
                return before, before
            await self._save(before, after, uow)
            uow.emit(ShopUpdated.of(after))
            return before, after

        before, after = await self.outbox.run(work)
        self._after_commit(before, after)
        return after

    async def change_status(
        self,
        shop_id: str,
        to: ShopStatus,
        *,
        note: str | None,
        at: datetime | None,
        actor: str,
        if_match: int | None,
    ) -> Shop:
        async def work(uow: UnitOfWork) -> tuple[Shop, Shop]:
            now = self.clock()
            before = await self._load(shop_id, uow)
            _check_version(before, if_match)
            after = before.change_status(to, at or now, note, now)
            if after is None:
                return before, before
            await self._save(before, after, uow)
            uow.emit(_status_changed(before, after, actor))
            return before, after

        before, after = await self.outbox.run(work)
        self._after_commit(before, after)
        return after

    async def apply_for_recognition(self, shop_id: str, application: Application, actor: str) -> Shop:
        async def work(uow: UnitOfWork) -> Shop:
            before = await self._load(shop_id, uow)
            after = before.apply_for_recognition(application, actor, self.clock())
            await self._save(before, after, uow)
            return after

        return await self.outbox.run(work)

    async def decide_recognition(
        self, shop_id: str, *, approve: bool, reason: str | None, actor: str, if_match: int | None
    ) -> Shop:
        async def work(uow: UnitOfWork) -> tuple[Shop, Shop]:
            before = await self._load(shop_id, uow)
            _check_version(before, if_match)
            after = before.decide_recognition(approve, reason, actor, self.clock())
            await self._save(before, after, uow)
            if approve:
                assert after.historic_recognised_at is not None and after.year_founded is not None
                uow.emit(
                    HistoricRecognised(
                        shop_id=after.id,
                        name=after.name,
                        year_founded=after.year_founded,
                        recognised_at=after.historic_recognised_at,
                        actor=actor,
                        version=after.version,
                    )
                )
            return before, after

        before, after = await self.outbox.run(work)
        self._after_commit(before, after)
        return after

    async def offers_of(self, shop_id: str) -> list[Offer]:
        await self.get(shop_id)
        return await self.store.offers_of(shop_id)

    async def add_offer(
        self, shop_id: str, service: str, hours: tuple[OpeningInterval, ...], note: str, actor: str
    ) -> Offer:
        async def work(uow: UnitOfWork) -> tuple[Shop, Offer]:
            shop = await self._load(shop_id, uow)
            offer = Offer.create(
                offer_id=f"sv-{uuid.uuid4().hex[:12]}",
                shop=shop,
                service=service,
                hours=hours,
                note=note,
                actor=actor,
                now=self.clock(),
            )
            await self.store.add_offer(offer, shop, uow.session)
            uow.emit(ServiceRegistered.of(offer))
            return shop, offer

        shop, offer = await self.outbox.run(work)
        self.nearest.point_saved(ServicePoint(offer.id, offer.service, shop.card(), offer.weekly()))
        return offer

    async def remove_offer(self, shop_id: str, offer_id: str, actor: str) -> None:
        async def work(uow: UnitOfWork) -> None:
            offer = await self.store.get_offer(shop_id, offer_id, uow.session)
            if offer is None:
                raise NotFound(f"shop {shop_id!r} has no service {offer_id!r}")
            await self.store.remove_offer(offer_id, uow.session)
            uow.emit(
                ServiceRemoved(
                    shop_id=shop_id, service_id=offer_id, service=offer.service, actor=actor, at=self.clock()
                )
            )

        await self.outbox.run(work)
        self.nearest.point_removed(offer_id)


def _status_changed(before: Shop, after: Shop, actor: str) -> ShopStatusChanged:
    return ShopStatusChanged.model_validate(
        {
            "shop_id": after.id,
            "kind": after.kind,
            "from": before.status,
            "to": after.status,
            "at": after.status_changed_at,
            "actor": actor,
            "version": after.version,
        }
    )
