"""The districts service app: projections of markets and shops events into district KPIs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from districts.alerts.api import router as alerts_router
from districts.alerts.events import AlertRaised, AlertResolved
from districts.alerts.service import AlertMetrics, AlertsService, AlertWatch
from districts.alerts.store import AlertStore
from districts.geography.api import nil_router as nil_definitions_router
from districts.geography.api import router as geography_router
from districts.geography.current import CurrentGeography
from districts.geography.service import GeographyService
from districts.geography.store import GeographyStore
from districts.interventions.api import router as interventions_router
from districts.interventions.events import InterventionRegistered
from districts.interventions.service import InterventionsService
from districts.interventions.store import InterventionStore
from districts.mix.api import nil_router as nil_mix_router
from districts.mix.api import router as mix_router
from districts.mix.service import MixService
from districts.mix.store import BaselineStore
from districts.opendata.api import router as opendata_router
from districts.opendata.domain import Publisher
from districts.opendata.service import OpenDataService
from districts.overview.api import nil_router, router
from districts.overview.service import OverviewService
from districts.projection.api import nil_router as nil_timeseries_router
from districts.projection.api import router as timeseries_router
from districts.projection.events import KpisUpdated
from districts.projection.refresher import Refresher, RefreshMetrics
from districts.projection.service import AreaCounter, CityContents, KpiQueries, ProjectionStates, Projector
from districts.projection.store import ProjectionStore
from districts.rebuild.api import router as rebuild_router
from districts.rebuild.service import Rebuilder
from districts.rebuild.store import RebuildStore
from districts.report.api import router as report_router
from districts.report.service import ReportService
from districts.settings import DistrictsSettings
from shared.app import Runtime, ServiceSpec, create_service_app
from shared.events import utcnow

INDEXES = {
    **GeographyStore.indexes,
    **ProjectionStore.indexes,
    **AlertStore.indexes,
    **RebuildStore.indexes,
    **InterventionStore.indexes,
    **BaselineStore.indexes,
}


def create_app(settings: DistrictsSettings | None = None, *, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    """The service; ``clock`` is the time KPIs are computed at (tests move it past midnight)."""
    settings = settings or DistrictsSettings()
    topics = [settings.markets_topic, settings.shops_topic]

    async def wire(runtime: Runtime) -> None:
        assert runtime.outbox is not None
        db = runtime.mongo.db
        geography_store, projections, alert_store = GeographyStore(db), ProjectionStore(db), AlertStore(db)
        runtime.declare_schema(projections.live_schema)
        states = ProjectionStates(projections, geography_store)
        geography = CurrentGeography(geography_store, settings.geography_settle_s)
        refresher = Refresher(
            projections=projections,
            states=states,
            geography=geography,
            alerts=AlertWatch(alert_store, AlertMetrics.create(runtime.metrics)),
            outbox=runtime.outbox,
            mongo=runtime.mongo,
            settings=settings,
            metrics=RefreshMetrics.create(runtime.metrics),
            clock=clock,
        )
        projector = Projector(projections, states, geography, AreaCounter(projections), clock, refresher.publisher)
        runtime.add_consumer(
            topics,
            settings.consumer_group,
            projector.handle,
            batch_handler=projector.handle_batch,
            on_commit=refresher.publisher.committed,
        )
        geography_service = GeographyService(geography_store, runtime.mongo, on_change=refresher.request)
        alerts = AlertsService(alert_store, geography_store, on_change=refresher.request)
        figures = KpiQueries(projections, states, geography_store)
        runtime.provide(refresher)
        runtime.start_when_ready(refresher.start)
        runtime.stop_with_service(refresher.stop)
        runtime.provide(geography_service)
        runtime.provide(alerts)
        runtime.provide(figures)
        overview = OverviewService(geography_store, geography_service, figures, alerts)
        interventions = InterventionsService(
            InterventionStore(db), runtime.outbox, geography_store, projections, states
        )
        publisher = Publisher(
            settings.opendata_publisher_id, settings.opendata_publisher_name, settings.opendata_contact_email
        )
        runtime.provide(overview)
        runtime.provide(interventions)
        contents = CityContents(projections, states)
        runtime.provide(OpenDataService(overview, interventions, contents, publisher))
        mixes = MixService(projections, states, geography_store, figures, BaselineStore(db), geography)
        runtime.provide(mixes)
        runtime.provide(ReportService(overview, figures, contents, interventions, mixes))
        rebuilder = Rebuilder(
            settings=settings,
            mongo=runtime.mongo,
            consumers=runtime.new_consumer,
            jobs=RebuildStore(db),
            projections=projections,
            projector=projector,
            refresher=refresher,
            topics=topics,
        )
        runtime.provide(rebuilder)
        runtime.stop_with_service(rebuilder.stop)  # before the refresher's: the last registered stops first

    spec = ServiceSpec(
        name="districts",
        title="Districts",
        description="Urban Commerce Districts and NIL neighbourhoods: live KPIs, vitality index, alerts, "
        "time series and replay, projected from the markets and shops events.",
        routers=[
            rebuild_router,
            router,
            geography_router,
            timeseries_router,
            alerts_router,
            nil_router,
            nil_definitions_router,
            nil_timeseries_router,
            interventions_router,
            opendata_router,
            report_router,
            mix_router,
            nil_mix_router,
        ],
        publishes=settings.districts_topic,
        events=[KpisUpdated, AlertRaised, AlertResolved, InterventionRegistered],
        indexes=INDEXES,
        wire=wire,
    )
    return create_service_app(spec, settings)


app = create_app()
