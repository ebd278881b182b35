"""The districts service app: projections of markets and shops events into district KPIs."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from districts.api import nil_router, router
from districts.atlas import Atlas
from districts.events import AlertRaised, AlertResolved, KpisUpdated
from districts.projector import Projector
from districts.rebuild import Rebuilder
from districts.refresher import Refresher, RefreshMetrics
from districts.service import DistrictsService
from districts.settings import DistrictsSettings
from districts.store import DistrictStore
from shared.app import Runtime, ServiceSpec, create_service_app


@dataclass(frozen=True)
class Parts:
    store: DistrictStore
    refresher: Refresher
    rebuilder: Rebuilder


def create_app(settings: DistrictsSettings | None = None) -> FastAPI:
    settings = settings or DistrictsSettings()
    topics = [settings.markets_topic, settings.shops_topic]

    async def wire(runtime: Runtime) -> None:
        assert runtime.outbox is not None
        store = DistrictStore(runtime.mongo.db)
        atlas = Atlas(store, settings.geography_settle_s)
        projector = Projector(store, atlas)
        runtime.add_consumer(topics, settings.consumer_group, projector.handle, batch_handler=projector.handle_batch)
        refresher = Refresher(
            store=store,
            atlas=atlas,
            outbox=runtime.outbox,
            settings=settings,
            metrics=RefreshMetrics.create(runtime.metrics),
        )
        rebuilder = Rebuilder(
            settings=settings,
            mongo=runtime.mongo,
            bus=runtime.bus,
            metrics=runtime.metrics,
            store=store,
            projector=projector,
            refresher=refresher,
            topics=topics,
        )
        runtime.app.state.parts = Parts(store, refresher, rebuilder)
        runtime.app.state.districts = DistrictsService(store, runtime.mongo, refresher)
        runtime.app.state.rebuilder = rebuilder

    async def on_ready(runtime: Runtime) -> None:
        parts: Parts = runtime.app.state.parts
        live = [c for c in runtime.consumers if c.group_id == settings.consumer_group]
        parts.refresher.start(progress=lambda: sum(c.handled for c in live))

    async def on_stop(runtime: Runtime) -> None:
        parts: Parts = runtime.app.state.parts
        await parts.rebuilder.stop()
        await parts.refresher.stop()

    spec = ServiceSpec(
        name="districts",
        title="Districts",
        description="Urban Commerce Districts and NIL neighbourhoods: live KPIs, vitality index, alerts, "
        "time series and replay, projected from the markets and shops events.",
        routers=[router, nil_router],
        publishes=settings.districts_topic,
        events=[KpisUpdated, AlertRaised, AlertResolved],
        indexes=DistrictStore.indexes,
        wire=wire,
        on_ready=on_ready,
        on_stop=on_stop,
    )
    return create_service_app(spec, settings)


app = create_app()
