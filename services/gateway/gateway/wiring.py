"""The parts of a running gateway, built once per process and shared by the routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import Request
from pymongo.errors import PyMongoError

from gateway.access import AccessPolicy
from gateway.accounts.service import AccountService
from gateway.accounts.store import AccountStore
from gateway.contracts.asyncapi import MergedAsyncAPI
from gateway.contracts.openapi import MergedOpenAPI
from gateway.imports.service import ImportService
from gateway.imports.store import ImportStore
from gateway.live.feed import EventFeed
from gateway.live.hub import EventHub
from gateway.mail import Mailer
from gateway.metrics import GatewayMetrics
from gateway.notices.service import AlertNotices
from gateway.notices.store import NoticeStore
from gateway.overview import OverviewBuilder
from gateway.passwords import Passwords
from gateway.paths import TemplateIndex
from gateway.proxy import Proxy
from gateway.ratelimit import RateLimiter
from gateway.registrations.service import RegistrationService
from gateway.registrations.store import RegistrationStore
from gateway.settings import GatewaySettings
from shared.app import Runtime
from shared.metrics import ServiceMetrics
from shared.retry import at_most
from shared.tasks import cancel
from shared.tokens import TokenSigner, generate_private_pem, load_private_key, load_public_keys

log = logging.getLogger(__name__)
# one group for every gateway replica: each new alert is told once
ALERT_NOTICES_GROUP = "gateway-alert-notices"


class Gateway:
    def __init__(
        self,
        settings: GatewaySettings,
        metrics: ServiceMetrics,
        own_openapi: Callable[[], dict[str, Any]],
    ):
        self.settings = settings
        self.metrics = GatewayMetrics(metrics)
        self.policy = AccessPolicy()
        self.proxy = Proxy(settings, self.metrics)
        self.overview = OverviewBuilder(self.proxy, settings.overview_cache_s)
        self.per_address = RateLimiter(settings.rate_limit_ip_per_s, settings.rate_limit_ip_burst)
        self.per_token = RateLimiter(settings.rate_limit_token_per_s, settings.rate_limit_token_burst)
        self.hub = EventHub(
            ring_size=settings.sse_ring_size,
            queue_size=settings.sse_client_queue,
            max_clients=settings.sse_max_clients,
            on_change=self.metrics.sse_clients.set,
            on_drop=self.metrics.sse_dropped.inc,
        )
        self.openapi = MergedOpenAPI(self.proxy, own_openapi, self.policy, settings.openapi_refresh_s)
        self.asyncapi = MergedAsyncAPI(self.proxy, settings.openapi_refresh_s, lambda: own_openapi()["info"]["version"])
        # route templates label the metrics of proxied requests (never raw paths with ids)
        self.templates = TemplateIndex(self.policy.templates())
        self.openapi.on_change(lambda spec: self.templates.replace([*self.policy.templates(), *spec["paths"]]))
        self.passwords = Passwords()
        self.signer = _signer(settings)
        self._accounts: AccountService | None = None
        self.feed: EventFeed | None = None
        self._warm: list[asyncio.Task[None]] = []
        self._revocations: asyncio.Task[None] | None = None

    @property
    def accounts(self) -> AccountService:
        if self._accounts is None:
            raise RuntimeError("the gateway is not started")
        return self._accounts

    async def wire(self, runtime: Runtime) -> None:
        store = AccountStore(runtime.mongo.db)
        runtime.tokens.set_keys(self.signer.public_keys)
        self._accounts = AccountService(
            self.settings, store, self.passwords, self.signer, runtime.tokens, self.metrics, self.proxy, runtime.mongo
        )
        runtime.provide(self._accounts)
        runtime.provide(
            RegistrationService(
                self.settings,
                RegistrationStore(runtime.mongo.db),
                self._accounts,
                store,
                runtime.mongo,
                Mailer(self.settings),
                self.proxy,
                self.signer,
                self.metrics,
            )
        )
        # imports call the gateway's own public API in process, as the office account that uploaded the file
        imports = ImportService(self.settings, ImportStore(runtime.mongo.db), self._accounts, runtime.app)
        runtime.provide(imports)
        runtime.start_when_ready(imports.start)
        runtime.stop_with_service(imports.stop)
        runtime.topics.update(self.settings.stream_topics)
        notices = AlertNotices(
            self.settings, NoticeStore(runtime.mongo.db), Mailer(self.settings), httpx.AsyncClient(timeout=10.0)
        )
        if notices.wanted:
            runtime.add_consumer([self.settings.alert_topic], ALERT_NOTICES_GROUP, notices.record)
            runtime.start_when_ready(notices.start)
            runtime.stop_with_service(notices.stop)
        self._revocations = asyncio.create_task(self._poll_revocations(), name="revocation-poll")

    async def _poll_revocations(self) -> None:
        """The in-memory revocation list, used only when the database cannot answer a request's check."""
        while True:
            with contextlib.suppress(PyMongoError):
                await self.accounts.poll_revocations()
            await asyncio.sleep(self.settings.revocation_poll_s)

    async def on_ready(self, runtime: Runtime) -> None:
        self.feed = EventFeed(self.settings, self.hub, self.metrics)
        self.feed.start()
        self._warm = [
            asyncio.create_task(self.openapi.warm(), name="openapi-warm-up"),
            asyncio.create_task(self.asyncapi.warm(), name="asyncapi-warm-up"),
        ]
        if self.settings.profile == "local":
            await create_with_retries("local demo accounts", self._create_demo_users)
        if self.settings.bootstrap_office_username and self.settings.bootstrap_office_password:
            await create_with_retries("bootstrap office account", self._create_bootstrap_office)

    async def _create_demo_users(self) -> None:
        await self.accounts.create_local_demo_users(self.settings.demo_password)

    async def _create_bootstrap_office(self) -> None:
        assert self.settings.bootstrap_office_username and self.settings.bootstrap_office_password
        await self.accounts.ensure_office_account(
            self.settings.bootstrap_office_username, self.settings.bootstrap_office_password
        )

    async def on_stop(self, runtime: Runtime) -> None:
        self.hub.close()
        await cancel(*self._warm, self._revocations)
        if self.feed:
            await self.feed.stop()
        await self.proxy.close()


async def create_with_retries(what: str, create: Callable[[], Awaitable[None]]) -> None:
    """Create first accounts despite a database that is briefly unavailable; give up (logged) after a few tries."""
    try:
        async for attempt in at_most(10, PyMongoError, what, first_wait_s=0.2):
            with attempt:
                await create()
    except PyMongoError as exc:
        log.error("the %s could not be created (%s)", what, type(exc).__name__)


def _signer(settings: GatewaySettings) -> TokenSigner:
    """The signing key from the settings; outside prod (which refuses to start without one) a key
    made for this process only, so tokens do not survive a restart."""
    if settings.jwt_private_key:
        key = load_private_key(settings.jwt_private_key)
    else:
        log.warning("JWT_PRIVATE_KEY is not set: signing with a key made for this process only")
        key = load_private_key(generate_private_pem())
    previous = load_public_keys(settings.jwt_previous_keys) if settings.jwt_previous_keys else []
    return TokenSigner(key, previous, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


async def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway
