"""The one way a service process is assembled: settings, logging, adapters, health, lifespan.

A service describes itself with a :class:`ServiceSpec` (its routers, collections and indexes, the
topic it publishes, how to wire its use cases) and gets a FastAPI app whose lifespan connects MongoDB
and Kafka without ever failing on an outage: infrastructure bootstrap (collections, indexes, topics,
relay, consumers) retries in the background while ``/readyz`` says what is missing. Every collection
the service will use exists before it reports ready, so no collection is created while it serves.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from shared import asyncapi, tasks
from shared.consumer import Handler, IdempotentConsumer, processed_indexes
from shared.events import EventData
from shared.health import health_router
from shared.idempotency import IdempotencyStore
from shared.kafka import KafkaBus, dlq_topic, ensure_topics
from shared.logging import configure_logging
from shared.metrics import ServiceMetrics
from shared.mongo import IndexSpec, Mongo
from shared.outbox import Outbox, OutboxRelay
from shared.retry import until_done
from shared.settings import ServiceSettings
from shared.tokens import KeyFeed, TokenVerifier
from shared.web.idempotency import IdempotencyMiddleware, document_idempotent_answers
from shared.web.middleware import (
    BodySizeLimitMiddleware,
    LargeBody,
    LoopbackOnlyMiddleware,
    RequestContextMiddleware,
)
from shared.web.problems import install_error_handlers

log = logging.getLogger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]
# collections whose names depend on stored state (e.g. a projection's current generation)
SchemaSource = Callable[[], Awaitable[IndexSpec]]
T = TypeVar("T")


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    publishes: str | None = None
    # every event type the service publishes on ``publishes``: its wire contract (AsyncAPI)
    events: Sequence[type[EventData]] = ()
    # every collection the service's stores use, with its indexes (an empty list for none); the
    # runtime adds those of the outbox, its lease and each consumer's processed events
    indexes: IndexSpec = field(default_factory=dict)
    wire: Hook | None = None
    on_ready: Hook | None = None
    on_stop: Hook | None = None
    version: str = "1.0.0"
    # False for a service that serves its own API documentation (the gateway serves the merged one)
    openapi_docs: bool = True
    # False for the gateway, which signs the tokens and feeds its own verifier
    fetch_token_keys: bool = True
    # routes that take a larger body than ``max_body_bytes`` (uploads), each with its own limit
    large_bodies: Sequence[LargeBody] = ()

    def __post_init__(self) -> None:
        if self.events and not self.publishes:
            raise ValueError(f"{self.name} declares events but no topic to publish them on")


class Runtime:
    """Everything a running service holds: adapters, outbox, relay and consumers."""

    def __init__(self, app: FastAPI, spec: ServiceSpec, settings: ServiceSettings) -> None:
        self.app = app
        self.spec = spec
        self.settings = settings
        self.metrics: ServiceMetrics = app.state.metrics
        self.mongo = Mongo(settings)
        self.bus = KafkaBus(settings)
        self.outbox = Outbox(self.mongo, spec.publishes) if spec.publishes else None
        self.relay: OutboxRelay | None = None
        self.consumers: list[IdempotentConsumer] = []
        # the stored answers to keyed requests (shared.web.idempotency): every service may take them
        self.indexes: IndexSpec = {**spec.indexes, **IdempotencyStore.indexes}
        self.schema_sources: list[SchemaSource] = []
        self.topics: set[str] = set()
        self.ready = asyncio.Event()
        self._bootstrap_task: asyncio.Task[None] | None = None
        self.last_bootstrap_error = "starting"
        self.components: dict[type, object] = {}
        self._on_ready: list[Callable[[], Awaitable[None] | None]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        # verifies bearer tokens (shared.identity); the gateway gives it its own keys in ``wire``
        self.tokens = TokenVerifier(issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        if settings.jwt_public_keys:
            self.tokens.set_jwks(json.loads(settings.jwt_public_keys))
        self.key_feed: KeyFeed | None = None
        self.provide(self.tokens)
        if self.outbox:
            self.indexes.update(Outbox.indexes)
            self.topics.add(self.outbox.topic)

    def provide(self, component: object, kind: type | None = None) -> None:
        """Make a use-case object (or any collaborator) available to routes through :func:`provide`."""
        self.components[kind or type(component)] = component

    def start_when_ready(self, start: Callable[[], Awaitable[None] | None]) -> None:
        """Call ``start`` (e.g. a background task's) once the bootstrap is done, before the service is ready."""
        self._on_ready.append(start)

    def stop_with_service(self, stop: Callable[[], Awaitable[None]]) -> None:
        """Await ``stop`` when the service stops, before its consumers do (the last registered first)."""
        self._on_stop.append(stop)

    def component(self, kind: type[T]) -> T:
        try:
            return cast(T, self.components[kind])
        except KeyError:
            raise LookupError(f"{self.spec.name} provides no {kind.__name__}; wire it in main.py") from None

    def declare_schema(self, source: SchemaSource) -> None:
        """Collections (and indexes) named from stored state, created at bootstrap with the declared ones."""
        self.schema_sources.append(source)

    async def schema(self) -> IndexSpec:
        """Every collection the service uses now, with its indexes."""
        schema = dict(self.indexes)
        for source in self.schema_sources:
            schema.update(await source())
        return schema

    def new_consumer(
        self, topics: Sequence[str], group_id: str, handler: Handler, **options: Any
    ) -> IdempotentConsumer:
        """A consumer on this service's adapters that the caller starts and stops (e.g. a replay)."""
        return IdempotentConsumer(
            settings=self.settings,
            mongo=self.mongo,
            bus=self.bus,
            metrics=self.metrics,
            topics=topics,
            group_id=group_id,
            handler=handler,
            **options,
        )

    def add_consumer(
        self, topics: Sequence[str], group_id: str, handler: Handler, **options: Any
    ) -> IdempotentConsumer:
        """A consumer started with the service (once the bootstrap is done) and stopped with it."""
        consumer = self.new_consumer(topics, group_id, handler, **options)
        self.consumers.append(consumer)
        self.indexes.update(processed_indexes(group_id))
        self.topics.update(topics)
        self.topics.update(dlq_topic(t) for t in topics)
        return consumer

    async def start(self) -> None:
        self.bus.start()
        if self.spec.fetch_token_keys and not self.settings.jwt_public_keys:
            self.key_feed = KeyFeed(
                self.tokens,
                self.settings.gateway_url,
                keys_every_s=self.settings.token_keys_refresh_s,
                revocations_every_s=self.settings.revocation_poll_s,
            )
            self.key_feed.start()
        if self.spec.wire:
            await self.spec.wire(self)
        self._bootstrap_task = asyncio.create_task(self._bootstrap(), name="bootstrap")

    def _bootstrap_failed(self, exc: Exception) -> bool:
        """Any outage during the bootstrap is reported by ``/readyz`` and retried."""
        self.last_bootstrap_error = f"{type(exc).__name__}: {exc}"
        return True

    async def _bootstrap(self) -> None:
        async for attempt in until_done(
            self._bootstrap_failed, f"{self.spec.name} bootstrap (collections, indexes, topics)"
        ):
            with attempt:
                await self.mongo.ensure_indexes(await self.schema())
                if self.outbox:
                    await self.outbox.retire_sent()
                if self.topics:
                    await ensure_topics(self.settings, self.topics)
        if self.outbox:
            self.relay = OutboxRelay(
                self.outbox,
                self.bus,
                self.metrics,
                batch_size=self.settings.outbox_batch_size,
                poll_interval_s=self.settings.outbox_poll_interval_s,
            )
            self.relay.start()
        for consumer in self.consumers:
            consumer.start()
        for start in self._on_ready:
            started = start()
            if started is not None:
                await started
        if self.spec.on_ready:
            await self.spec.on_ready(self)
        self.last_bootstrap_error = ""
        self.ready.set()
        log.info("%s ready", self.spec.name)

    async def stop(self) -> None:
        await tasks.cancel(self._bootstrap_task)
        if self.spec.on_stop:
            await self.spec.on_stop(self)
        for stop in reversed(self._on_stop):
            await stop()
        await asyncio.gather(*(c.stop() for c in self.consumers))
        if self.relay:
            await self.relay.stop()
        await self.bus.stop()
        await self.mongo.close()
        if self.key_feed:
            await self.key_feed.stop()

    async def check_mongo(self) -> None:
        await self.mongo.ping()

    async def check_kafka(self) -> None:
        await self.bus.check()

    async def check_token_keys(self) -> None:
        if not self.tokens.has_keys:
            reason = self.key_feed.last_error if self.key_feed else "none configured"
            raise RuntimeError(f"the gateway's token keys are not loaded ({reason})")

    async def check_bootstrap(self) -> None:
        if not self.ready.is_set():
            raise RuntimeError(self.last_bootstrap_error or "starting")


def provide(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A FastAPI dependency returning the ``kind`` object the service wired: ``Depends(provide(X))``."""

    # a coroutine, so FastAPI calls it in the event loop rather than in a worker thread
    async def dependency(request: Request) -> T:
        runtime: Runtime = request.app.state.runtime
        return runtime.component(kind)

    dependency.__name__ = f"provide_{kind.__name__}"
    return dependency


def asyncapi_router(spec: ServiceSpec) -> APIRouter:
    """``GET /asyncapi.json``: the AsyncAPI 3.0 document of the events the service publishes."""
    assert spec.publishes is not None
    document = asyncapi.document(
        title=f"{spec.title} events",
        version=spec.version,
        description=f"The events the {spec.name} service publishes on {spec.publishes}.",
        topic=spec.publishes,
        events=spec.events,
    )
    router = APIRouter(include_in_schema=False)

    @router.get("/asyncapi.json")
    async def asyncapi_document() -> JSONResponse:
        return JSONResponse(document)

    return router


def _document_with(app: FastAPI, complete: Callable[[dict[str, Any]], None]) -> None:
    """Let ``complete`` add to the app's OpenAPI document what its routes cannot declare themselves."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            complete(generate())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_service_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    configure_logging(spec.name, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(app, spec, settings)
        app.state.runtime = runtime
        app.state.readiness_checks = {
            "mongodb": runtime.check_mongo,
            "kafka": runtime.check_kafka,
            "startup": runtime.check_bootstrap,
            "token_keys": runtime.check_token_keys,
        }
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        openapi_url="/openapi.json" if spec.openapi_docs else None,
    )
    app.state.settings = settings
    app.state.metrics = ServiceMetrics(spec.name)
    install_error_handlers(app)
    app.include_router(health_router())
    for router in spec.routers:
        app.include_router(router)
    if spec.publishes:
        app.include_router(asyncapi_router(spec))
    _document_with(app, document_idempotent_answers)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, large=spec.large_bodies)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    if settings.profile == "local":
        app.add_middleware(LoopbackOnlyMiddleware)
    return app
