"""The shops service: historic shops, Edicola 2.0 kiosks, their services and the nearest open point."""

from __future__ import annotations

from fastapi import FastAPI

from shared.app import Runtime, ServiceSpec, create_service_app
from shops import api, api_offers
from shops.events import PUBLISHED
from shops.nearest import NearestFinder
from shops.service import ShopsService
from shops.settings import ShopsSettings
from shops.store import ShopStore


def create_app(settings: ShopsSettings | None = None) -> FastAPI:
    settings = settings or ShopsSettings()

    async def wire(runtime: Runtime) -> None:
        assert runtime.outbox is not None
        store = ShopStore(runtime.mongo.db)
        finder = NearestFinder(store, runtime.metrics, reload_interval_s=settings.nearest_reload_interval_s)
        runtime.app.state.nearest = finder
        runtime.app.state.shops = ShopsService(store, runtime.outbox, finder)

    async def on_ready(runtime: Runtime) -> None:
        finder: NearestFinder = runtime.app.state.nearest
        await finder.start()

    async def on_stop(runtime: Runtime) -> None:
        finder: NearestFinder = runtime.app.state.nearest
        await finder.stop()

    spec = ServiceSpec(
        name="shops",
        title="Shops",
        description="Historic shops (Botteghe Storiche), Edicola 2.0 kiosks, the services they offer with "
        "opening hours, and the nearest open point offering a service.",
        routers=[api.router, api_offers.router],
        publishes=settings.events_topic,
        events=PUBLISHED,
        indexes=ShopStore.indexes,
        wire=wire,
        on_ready=on_ready,
        on_stop=on_stop,
    )
    return create_service_app(spec, settings)


app = create_app()
