"""The shops service: historic shops, Edicola 2.0 kiosks, what they offer and the nearest open point."""

from __future__ import annotations

from fastapi import FastAPI

from shared.app import Runtime, ServiceSpec, create_service_app
from shared.web.middleware import LargeBody
from shops.categories import api as categories_api
from shops.closures import api as closures_api
from shops.closures.service import ClosuresService
from shops.closures.store import ClosureStore
from shops.documents import api as documents_api
from shops.documents.service import DocumentsService
from shops.documents.store import DocumentStore
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
        documents = DocumentStore(runtime.mongo.db)
        runtime.provide(ShopsService(shops, runtime.outbox, card_copies=offers, watcher=finder, documents=documents))
        runtime.provide(OffersService(offers, shops, runtime.outbox, watcher=finder))
        runtime.provide(ClosuresService(ClosureStore(runtime.mongo.db), shops, runtime.outbox, watcher=finder))
        runtime.provide(DocumentsService(documents, shops))

    spec = ServiceSpec(
        name="shops",
        title="Shops",
        description="Historic shops (Botteghe Storiche), Edicola 2.0 kiosks, the services they offer with "
        "opening hours and closures, the documents they hand to the office, and the nearest open point "
        "offering a service.",
        routers=[
            register_api.router,
            categories_api.router,
            offers_api.router,
            closures_api.router,
            documents_api.router,
            nearest_api.router,
        ],
        publishes=settings.events_topic,
        events=[*register_events.PUBLISHED, *offers_events.PUBLISHED],
        indexes={**ShopStore.indexes, **OfferStore.indexes, **ClosureStore.indexes, **DocumentStore.indexes},
        wire=wire,
        large_bodies=[LargeBody("POST", r"/shops/[^/]+/documents", documents_api.UPLOAD_BODY_BYTES)],
    )
    return create_service_app(spec, settings)


app = create_app()
