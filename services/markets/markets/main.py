"""The markets service app: ``uvicorn markets.main:app``."""

from __future__ import annotations

from fastapi import FastAPI

from markets.api import calls_router, router
from markets.call_service import CallsService
from markets.events import PUBLISHED
from markets.service import MarketsService
from markets.settings import MarketsSettings
from markets.store import MarketStore
from shared.app import Runtime, ServiceSpec, create_service_app

DESCRIPTION = (
    "Milan's covered municipal markets (Mercati Comunali Coperti): stalls with live status and "
    "optimistic concurrency, assignments and concessions, and calls (bandi) for vacant stalls."
)


def create_app(settings: MarketsSettings | None = None) -> FastAPI:
    settings = settings or MarketsSettings()

    async def wire(runtime: Runtime) -> None:
        assert runtime.outbox is not None
        state = runtime.app.state
        markets = MarketsService(MarketStore(runtime.mongo.db), runtime.outbox, state.status_changes)
        state.markets = markets
        state.calls = CallsService(markets)

    spec = ServiceSpec(
        name="markets",
        title="Markets",
        description=DESCRIPTION,
        routers=[router, calls_router],
        publishes=settings.events_topic,
        events=PUBLISHED,
        indexes=MarketStore.indexes,
        wire=wire,
    )
    app = create_service_app(spec, settings)
    app.state.status_changes = app.state.metrics.counter(
        "stall_status_changes", "Stall status changes by the status reached", ("to",)
    )
    return app


app = create_app()
