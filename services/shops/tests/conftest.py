"""Fixtures for the shops tests: a running service, tokens, and an API client as the gateway sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from shops.main import create_app
from shops.settings import ShopsSettings

from devkit.client import ApiClient
from devkit.testing import LocalKafka, LocalMongo, issue_token, make_settings, running_app, unique
from devkit.topics import read_topic
from shared.events import CloudEvent
from shared.identity import Principal, Role

GATEWAY_PREFIX = "/api/v1"


class Service:
    """A running shops app, an httpx client bound to it, and a way to mint tokens."""

    def __init__(self, app: Any, client: httpx.AsyncClient, settings: ShopsSettings) -> None:
        self.app = app
        self.client = client
        self.settings = settings

    def auth(self, role: Role = Role.OFFICE, scope: str | None = None, username: str = "tester") -> dict[str, str]:
        token = issue_token(self.settings, Principal(username=username, role=role, scope=scope), timedelta(minutes=5))
        return {"Authorization": f"Bearer {token}"}

    @property
    def office(self) -> dict[str, str]:
        return self.auth(Role.OFFICE, username="office")

    def shopkeeper(self, shop_id: str) -> dict[str, str]:
        return self.auth(Role.SHOPKEEPER, shop_id, username=f"keeper-{shop_id}")

    async def published(self, until: Callable[[list[CloudEvent]], bool]) -> list[CloudEvent]:
        """This service's events so far, read from the start of its topic until ``until`` holds."""
        return await read_events(self.settings.kafka_bootstrap, self.settings.events_topic, until)

    def api_client(self) -> ApiClient:
        """The platform client the importers and the seed use, reaching this app as through the gateway."""
        api = ApiClient("http://gateway")
        api.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_strip_prefix(self.app)),
            base_url=f"http://gateway{GATEWAY_PREFIX}",
            headers=self.office,
            timeout=30,
        )
        return api


def _strip_prefix(app: Any) -> Any:
    async def gateway(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GATEWAY_PREFIX):
            path = scope["path"][len(GATEWAY_PREFIX) :]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await app(scope, receive, send)

    return gateway


@pytest.fixture
def shops_settings(kafka: LocalKafka, mongo: LocalMongo) -> Callable[..., ShopsSettings]:
    def build(**overrides: Any) -> ShopsSettings:
        values: dict[str, Any] = {"events_topic": unique("shops.events"), **overrides}
        settings: ShopsSettings = make_settings(ShopsSettings, kafka, mongo, **values)
        return settings

    return build


@pytest.fixture
async def service(shops_settings: Callable[..., ShopsSettings]) -> AsyncIterator[Service]:
    settings = shops_settings()
    app = create_app(settings)
    async for client in running_app(app):
        yield Service(app, client, settings)


async def read_events(bootstrap: str, topic: str, until: Callable[[list[CloudEvent]], bool]) -> list[CloudEvent]:
    """Read a topic from the start until ``until(events)`` holds (or 15 s pass)."""

    def events(records: list[Any]) -> list[CloudEvent]:
        return [CloudEvent.from_bytes(r.value) for r in records]

    return events(await read_topic(bootstrap, topic, lambda records: until(events(records))))
