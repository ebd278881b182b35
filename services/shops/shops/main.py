"""The shops service: historic shops, Edicola 2.0 kiosks, what they offer and the nearest open point."""

from __future__ import annotations

from fastapi import FastAPI

from shared.app import Runtime, ServiceSpec, create_service_app
from shops.nearest import api as nearest_api
from shops.nearest.service import NearestFinder
from shops.nearest.store import ServicePointStore
from shops.offers import api as offers_api
from shops.offers import events as offers_events
from shops.offers.service import OffersService
from shops.offers.store import OfferStore
from shops.register import api as register_api
from shops.register import events as register_events
from shops.register.service import ShopsService
from shops.register.store import ShopStore
from shops.settings import ShopsSettings


def create_app(settings: ShopsSettings | None = None) -> FastAPI:
    settings = settings or ShopsSettings()

    async def wire(runtime: Runtime) -> None:
        assert runtime.outbox is not None
        shops, offers = ShopStore(runtime.mongo.db), OfferStore(runtime.mongo.db)
        finder = NearestFinder(
            ServicePointStore(runtime.mongo.db), runtime.metrics, reload_interval_s=settings.nearest_reload_interval_s
        )
        runtime.provide(finder)
        runtime.start_when_ready(finder.start)
        runtime.stop_with_service(finder.stop)
        runtime.provide(ShopsService(shops, runtime.outbox, card_copies=offers, watcher=finder))
        runtime.provide(OffersService(offers, shops, runtime.outbox, watcher=finder))

    spec = ServiceSpec(
        name="shops",
        title="Shops",
        description="Historic shops (Botteghe Storiche), Edicola 2.0 kiosks, the services they offer with "
        "opening hours, and the nearest open point offering a service.",
        routers=[register_api.router, offers_api.router, nearest_api.router],
        publishes=settings.events_topic,
        events=[*register_events.PUBLISHED, *offers_events.PUBLISHED],
        indexes={**ShopStore.indexes, **OfferStore.indexes},
        wire=wire,
    )
    return create_service_app(spec, settings)


app = create_app()
