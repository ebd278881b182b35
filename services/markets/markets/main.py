"""The markets service app: ``uvicorn markets.main:app``.

Wiring only: one store per subdomain, the use cases built on them, provided to the routes by type.
"""

from __future__ import annotations

from fastapi import FastAPI

from markets.calls import api as calls_api
from markets.calls import events as calls_events
from markets.calls.service import CallsService
from markets.calls.store import CallStore
from markets.concessions import api as concessions_api
from markets.concessions import events as concessions_events
from markets.concessions.expiry import ExpiryJob
from markets.concessions.service import ConcessionsService
from markets.concessions.store import ConcessionStore
from markets.settings import MarketsSettings
from markets.spaces import api as spaces_api
from markets.spaces import events as spaces_events
from markets.spaces.service import SpacesService
from markets.spaces.store import SpaceStore
from markets.spunta import api as spunta_api
from markets.spunta import events as spunta_events
from markets.spunta.service import SpuntaService
from markets.spunta.store import SpuntaStore
from markets.stalls import api as stalls_api
from markets.stalls import events as stalls_events
from markets.stalls.service import Clock, StallsService
from markets.stalls.store import MarketStore
from shared.app import Runtime, ServiceSpec, create_service_app
from shared.events import EventData, utcnow

DESCRIPTION = (
    "Milan's covered municipal markets (Mercati Comunali Coperti): stalls with live status and "
    "optimistic concurrency, assignments and concessions over their whole life, calls (bandi) for vacant "
    "stalls, the daily spunta, and social and cultural spaces with their bookings."
)

# every event type the service publishes on its topic: its wire contract
PUBLISHED: tuple[type[EventData], ...] = (
    *stalls_events.PUBLISHED,
    *concessions_events.PUBLISHED,
    *calls_events.PUBLISHED,
    *spunta_events.PUBLISHED,
    *spaces_events.PUBLISHED,
)


def create_app(settings: MarketsSettings | None = None, *, clock: Clock = utcnow) -> FastAPI:
    settings = settings or MarketsSettings()

    async def wire(runtime: Runtime) -> None:
        outbox = runtime.outbox
        assert outbox is not None
        markets = MarketStore(runtime.mongo.db)
        status_changes = runtime.metrics.counter(
            "stall_status_changes", "Stall status changes by the status reached", ("to",)
        )
        concessions = ConcessionsService(markets, ConcessionStore(runtime.mongo.db), outbox, clock=clock)
        expiry = ExpiryJob(concessions, settings.concession_expiry_interval_s)
        runtime.provide(expiry)
        runtime.start_when_ready(expiry.start)
        runtime.stop_with_service(expiry.stop)
        runtime.provide(StallsService(markets, outbox, clock=clock, status_changes=status_changes))
        runtime.provide(concessions)
        runtime.provide(CallsService(CallStore(runtime.mongo.db), markets, concessions, outbox, clock=clock))
        runtime.provide(SpacesService(SpaceStore(runtime.mongo.db), markets, outbox, clock=clock))
        runtime.provide(
            SpuntaService(SpuntaStore(runtime.mongo.db), markets, outbox, cutoff=settings.spunta_cutoff, clock=clock)
        )

    spec = ServiceSpec(
        name="markets",
        title="Markets",
        description=DESCRIPTION,
        routers=[stalls_api.router, concessions_api.router, calls_api.router, spunta_api.router, spaces_api.router],
        publishes=settings.events_topic,
        events=PUBLISHED,
        indexes={
            **MarketStore.indexes,
            **ConcessionStore.indexes,
            **CallStore.indexes,
            **SpuntaStore.indexes,
            **SpaceStore.indexes,
        },
        wire=wire,
    )
    return create_service_app(spec, settings)


app = create_app()
