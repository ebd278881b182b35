"""Register use cases: read what they need inside the transaction, apply a rule, save state and events together.

A shop's card (name, kind, address, location, whether it is active) is copied elsewhere: into the
documents of what it offers, in the shop's own transaction (:class:`CardCopies`), and into the
nearest-point index of this process after the commit (:class:`ShopWatcher`). Who may call a use
case is decided by the API (role and scope); the use cases decide what is allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from pymongo.asynchronous.client_session import AsyncClientSession

from shared.events import utcnow
from shared.i18n import Said
from shared.outbox import Outbox, UnitOfWork
from shared.versions import Precondition
from shops.register import events
from shops.register.domain import (
    Application,
    Registry,
    Shop,
    ShopCard,
    ShopQuery,
    ShopStatus,
    check_changes,
    generated_shop_id,
)
from shops.register.store import ShopStore


class CardCopies(Protocol):
    """Where copies of a shop's card live, brought up to date in the same transaction as the shop."""

    async def copy_card(self, card: ShopCard, session: AsyncClientSession) -> None: ...


class ShopDocuments(Protocol):
    """Where the documents a shop uploaded are kept."""

    async def owned(self, shop_id: str, document_ids: Collection[str]) -> set[str]: ...


class ShopWatcher(Protocol):
    """Told, after the commit, that a shop's card changed."""

    def shop_changed(self, card: ShopCard) -> None: ...


@dataclass(frozen=True)
class Written:
    """A shop after an upsert, and what the upsert did."""

    shop: Shop
    created: bool = False
    changed: bool = False


def _check(precondition: Precondition, shop: Shop) -> None:
    precondition.check(shop.version, Said(f"il negozio {shop.id!r}", f"shop {shop.id!r}"))


@dataclass
class ShopsService:
    store: ShopStore
    outbox: Outbox
    card_copies: CardCopies
    watcher: ShopWatcher
    documents: ShopDocuments
    clock: Callable[[], datetime] = utcnow

    async def _load(self, shop_id: str, uow: UnitOfWork) -> Shop:
        return await self.store.existing(shop_id, uow.session)

    async def _save(self, before: Shop, after: Shop, uow: UnitOfWork) -> None:
        await self.store.save(after, expected_version=before.version, session=uow.session)
        if after.card() != before.card():
            await self.card_copies.copy_card(after.card(), uow.session)

    def _after_commit(self, before: Shop | None, after: Shop) -> None:
        if before is None or after.card() != before.card():
            self.outbox.mongo.after_commit(partial(self.watcher.shop_changed, after.card()))

    async def get(self, shop_id: str) -> Shop:
        return await self.store.existing(shop_id)

    async def search(self, query: ShopQuery, *, limit: int, offset: int) -> tuple[list[Shop], int]:
        return await self.store.search(query, limit=limit, offset=offset)

    async def register(self, shop_id: str | None, registry: Registry, status: ShopStatus) -> Shop:
        new_id = shop_id or generated_shop_id(registry.name, uuid.uuid4().hex[:6])

        async def work(uow: UnitOfWork) -> Shop:
            shop = Shop.register(new_id, registry, status, self.clock())
            await self.store.add(shop, uow.session)
            uow.emit(_registry_event(events.ShopRegistered, shop))
            return shop

        return await self.outbox.run(work)

    async def put(
        self, shop_id: str, registry: Registry, status: ShopStatus, actor: str, precondition: Precondition
    ) -> Written:
        """Create the shop, or bring it to this registry state and status (what an import does).

        A shop already in that state is answered from a plain read, without a transaction: a
        re-import of an unchanged register costs one query per row.
        """
        current = await self.store.get(shop_id)
        if current and current.registry() == registry and current.status is status:
            _check(precondition, current)
            return Written(current)

        async def work(uow: UnitOfWork) -> tuple[Shop | None, Written]:
            now = self.clock()
            before = await self.store.get(shop_id, uow.session)
            if before is None:
                shop = Shop.register(shop_id, registry, status, now)
                await self.store.add(shop, uow.session)
                uow.emit(_registry_event(events.ShopRegistered, shop))
                return None, Written(shop, created=True, changed=True)
            _check(precondition, before)
            shop = before
            revised = shop.revise(registry, now)
            if revised:
                shop = revised
                uow.emit(_registry_event(events.ShopUpdated, shop))
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

    async def revise(self, shop_id: str, changes: Mapping[str, Any], precondition: Precondition) -> Shop:
        """Change some registry fields (``changes`` names fields of :class:`Registry`)."""
        check_changes(changes)

        async def work(uow: UnitOfWork) -> tuple[Shop, Shop]:
            before = await self._load(shop_id, uow)
            _check(precondition, before)
            after = before.revise(replace(before.registry(), **changes), self.clock())
            if after is None:
                return before, before
            await self._save(before, after, uow)
            uow.emit(_registry_event(events.ShopUpdated, after))
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
        precondition: Precondition,
    ) -> Shop:
        async def work(uow: UnitOfWork) -> tuple[Shop, Shop]:
            now = self.clock()
            before = await self._load(shop_id, uow)
            _check(precondition, before)
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
            cited = application.document_ids
            uploaded = frozenset(await self.documents.owned(shop_id, cited)) if cited else frozenset()
            after = before.apply_for_recognition(application, actor, self.clock(), uploaded)
            await self._save(before, after, uow)
            return after

        return await self.outbox.run(work)

    async def decide_recognition(
        self, shop_id: str, *, approve: bool, reason: str | None, actor: str, precondition: Precondition
    ) -> Shop:
        async def work(uow: UnitOfWork) -> tuple[Shop, Shop]:
            before = await self._load(shop_id, uow)
            _check(precondition, before)
            after = before.decide_recognition(approve, reason, actor, self.clock())
            await self._save(before, after, uow)
            if approve:
                recognised = {"recognised_at": after.historic_recognised_at, "actor": actor}
                uow.emit(events.HistoricRecognised.model_validate(_payload(after, **recognised)))
            return before, after

        before, after = await self.outbox.run(work)
        self._after_commit(before, after)
        return after


def _payload(shop: Shop, **more: object) -> dict[str, object]:
    """The shop's fields under their published names, for an event model to pick its own from."""
    return {**asdict(shop), "shop_id": shop.id, **more}


def _registry_event(kind: type[events.ShopRegistered], shop: Shop) -> events.ShopRegistered:
    return kind.model_validate(_payload(shop))


def _status_changed(before: Shop, after: Shop, actor: str) -> events.ShopStatusChanged:
    moved = {"from": before.status, "to": after.status, "at": after.status_changed_at, "actor": actor}
    return events.ShopStatusChanged.model_validate(_payload(after, **moved))
