"""A creation whose answer is lost as the database is SIGKILLed, retried under the same
Idempotency-Key once the database is back: the retry gets the first answer, and one shop exists."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from shops.main import create_app
from shops.settings import ShopsSettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devkit.testing import LocalKafka, LocalMongo, eventually, issue_token, make_settings, running_app, unique
from shared.identity import Principal, Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# a newsstand of Porta Venezia (the id is left to the service, so a second creation is a second shop)
SHOP = {"kind": "kiosk", "trade": "Giornali e riviste", "location": {"lon": 9.2055, "lat": 45.4741}}


class AnswerLost(Exception):
    """The connection dropped before the answer reached the client."""


class KillsTheDatabaseBeforeAnswering:
    """Stands between the client and the service: when the service starts its answer to the next
    POST (its transaction has committed), the database is SIGKILLed and the answer never arrives."""

    def __init__(self, app: ASGIApp, database: LocalMongo) -> None:
        self.app = app
        self.database = database
        self.armed = False
        self.killed_after_s: float | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not self.armed:
            await self.app(scope, receive, send)
            return
        self.armed = False
        started = time.perf_counter()

        async def lose(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.database.kill()
                self.killed_after_s = time.perf_counter() - started
                raise AnswerLost

        await self.app(scope, receive, lose)


@pytest.fixture
async def shops(
    kafka: LocalKafka, durable_mongo: LocalMongo
) -> AsyncIterator[tuple[Any, ShopsSettings, httpx.AsyncClient]]:
    settings = make_settings(
        ShopsSettings,
        kafka,
        durable_mongo,
        events_topic=unique("shops.events"),
        mongo_timeout_ms=1000,
        idempotency_lease_s=3.0,
    )
    app = create_app(settings)
    async for client in running_app(app):
        yield app, settings, client


async def test_a_creation_answered_as_the_database_dies_is_created_once_and_answered_to_the_retry(
    shops: tuple[Any, ShopsSettings, httpx.AsyncClient], durable_mongo: LocalMongo
) -> None:
    app, settings, _ = shops
    guard = KillsTheDatabaseBeforeAnswering(app, durable_mongo)
    token = issue_token(settings, Principal(username="office", role=Role.OFFICE), timedelta(minutes=5))
    name = f"Edicola {uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f'"{uuid.uuid4()}"'}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://test") as client:
        guard.armed = True
        with pytest.raises(AnswerLost):
            await client.post("/shops", json={**SHOP, "name": name}, headers=headers)
        assert guard.killed_after_s is not None
        lost_at = time.perf_counter()
        await asyncio.to_thread(durable_mongo.start)
        retries: list[int] = []

        async def retried() -> httpx.Response | None:
            answer = await client.post("/shops", json={**SHOP, "name": name}, headers=headers)
            retries.append(answer.status_code)
            return answer if answer.status_code < 500 else None

        answer = await eventually(retried, 60, "an answer to the retry", interval_s=0.2)
        answered_after_s = time.perf_counter() - lost_at
        found = await client.get("/shops", params={"q": name})
        assert found.status_code == 200, found.text
        shops_named = [s["id"] for s in found.json()["items"]]
        assert len(shops_named) == 1, f"one shop expected, the retry made {len(shops_named)}"
        assert answer.status_code == 201, answer.text
        assert answer.headers.get("idempotent-replayed") == "true", "the retry must get the first answer"
        assert answer.json()["id"] == shops_named[0]
    print(
        f"[idempotent retry] database killed {guard.killed_after_s * 1000:.0f} ms into the request; "
        f"first answer replayed {answered_after_s:.1f} s after the loss, retries answered {retries}"
    )
