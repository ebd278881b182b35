"""Fixtures of the markets tests: the service on the real broker and database, tokens, events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from markets.main import create_app
from markets.settings import MarketsSettings
from starlette.applications import Starlette
from starlette.routing import Mount

from devkit.client import ApiClient
from devkit.testing import LocalKafka, LocalMongo, issue_token, make_settings, running_app, unique
from shared.events import CloudEvent, utcnow
from shared.identity import Principal, Role


@dataclass
class SettableClock:
    """The service's clock: the real time unless a test sets ``fixed`` (to go past a deadline)."""

    fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or utcnow()


@dataclass
class Markets:
    """The running service under test and ways to talk to it as different people."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: MarketsSettings
    bootstrap: str
    clock: SettableClock

    def token(self, role: Role = Role.OFFICE, scope: str | None = None, username: str = "office") -> str:
        principal = Principal(username=username, role=role, scope=scope)
        return issue_token(self.settings, principal, timedelta(minutes=5))

    def auth(self, role: Role = Role.OFFICE, scope: str | None = None, username: str = "office") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, scope, username)}"}

    @property
    def office(self) -> dict[str, str]:
        return self.auth()

    def operator(self, market_id: str, username: str = "operator") -> dict[str, str]:
        return self.auth(Role.MARKET_OPERATOR, market_id, username)

    def gateway(self) -> Starlette:
        """The service as the gateway exposes it, under ``/api/v1``."""
        return Starlette(routes=[Mount("/api/v1", app=self.app)])

    async def api(self) -> ApiClient:
        """An office ApiClient (as the CLI's importers and seed use) talking to the service in-process."""
        api = ApiClient("http://test")
        await api.http.aclose()
        api.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.gateway()),
            base_url="http://test/api/v1",
            headers={"Authorization": f"Bearer {self.token()}"},
        )
        return api

    async def events(self, at_least: int, *, timeout_s: float = 15.0, settle_s: float = 0.3) -> list[CloudEvent]:
        """Every event on the service's topic, once ``at_least`` are there and no more arrive."""
        return await read_events(self.bootstrap, self.settings.events_topic, at_least, timeout_s, settle_s)

    async def create_market(self, market_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "id": market_id,
            "name": f"Mercato Comunale Coperto {market_id.title()}",
            "address": "Piazza Riccardo Wagner",
            "municipio": 7,
            "location": {"lon": 9.158, "lat": 45.468},
            **fields,
        }
        response = await self.http.post("/markets", json=body, headers=self.office)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def create_stall(
        self, market_id: str, number: str, area_m2: float = 20, category: str = "food", holder: str | None = None
    ) -> dict[str, Any]:
        body = {"number": number, "area_m2": area_m2, "category": category}
        response = await self.http.post(f"/markets/{market_id}/stalls", json=body, headers=self.office)
        assert response.status_code == 201, response.text
        if holder is None:
            return dict(response.json())
        assignment = {"holder": holder, "category": category, "start": "2026-01-01", "end": "2046-01-01"}
        response = await self.http.post(
            f"/markets/{market_id}/stalls/{number}/assignment", json=assignment, headers=self.office
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


async def read_events(
    bootstrap: str, topic: str, at_least: int, timeout_s: float = 15.0, settle_s: float = 0.3
) -> list[CloudEvent]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    events: list[CloudEvent] = []
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            await consumer.topics()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100)
            fresh = [CloudEvent.from_bytes(r.value) for records in batches.values() for r in records]
            if fresh:
                events.extend(fresh)
                quiet_since = time.monotonic()
            elif len(events) >= at_least and time.monotonic() - quiet_since >= settle_s:
                break
    finally:
        await consumer.stop()
    return sorted(events, key=lambda e: e.time)


@pytest.fixture
async def markets(kafka: LocalKafka, mongo: LocalMongo) -> AsyncIterator[Markets]:
    settings = make_settings(MarketsSettings, kafka, mongo, events_topic=unique("markets.events"))
    clock = SettableClock()
    app = create_app(settings, clock=clock)
    async for client in running_app(app):
        yield Markets(app, client, settings, kafka.bootstrap, clock)


@pytest.fixture
async def replicas(kafka: LocalKafka, mongo: LocalMongo) -> AsyncIterator[tuple[Markets, Markets]]:
    """Two replicas of the service on one database and topic, with one clock, each running its
    concession expiry every 0.2 s."""
    settings = make_settings(
        MarketsSettings, kafka, mongo, events_topic=unique("markets.events"), concession_expiry_interval_s=0.2
    )
    clock = SettableClock()
    first, second = create_app(settings, clock=clock), create_app(settings, clock=clock)
    async for one in running_app(first):
        async for other in running_app(second):
            yield (
                Markets(first, one, settings, kafka.bootstrap, clock),
                Markets(second, other, settings, kafka.bootstrap, clock),
            )
