"""Fixtures of the districts tests: settings on unique topics, tokens, event builders, a producer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from districts.settings import DistrictsSettings
from pymongo import AsyncMongoClient

from devkit.testing import LocalKafka, LocalMongo, eventually, issue_token, make_settings, unique
from shared.events import CloudEvent
from shared.identity import Principal, Role

NOW = datetime.now(UTC)


def square(lon: float, lat: float, half: float = 0.01) -> dict[str, Any]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture(name="square")
def square_fixture() -> Callable[..., dict[str, Any]]:
    return square


class Events:
    """CloudEvents as the markets and shops services publish them (docs/events.md)."""

    @staticmethod
    def _event(source: str, kind: str, subject: str, data: dict[str, Any]) -> CloudEvent:
        return CloudEvent(source=source, type=kind, subject=subject, data=data)

    def market(
        self, market_id: str, version: int, lon: float, lat: float, active: bool = True, nil: str | None = None
    ) -> CloudEvent:
        """A market as the markets service publishes it: ``nil`` is the name of its NIL, in words."""
        data = {"market_id": market_id, "name": market_id.title(), "address": "Piazza", "municipio": 1, "nil": nil}
        data.update(location={"lon": lon, "lat": lat}, active=active, version=version)
        kind = "markets.market.registered.v1" if version == 1 else "markets.market.updated.v1"
        return self._event("/markets", kind, market_id, data)

    def stall(self, market_id: str, number: int, status: str, holder: str = "holder") -> CloudEvent:
        data = {"market_id": market_id, "number": number, "area_m2": 12.5, "category": "food", "status": status}
        data.update(holder=None if status == "vacant" else holder, version=1, at=NOW.isoformat())
        return self._event("/markets", "markets.stall.created.v1", f"{market_id}/{number}", data)

    def stall_status(self, market_id: str, number: int, before: str, after: str, version: int) -> CloudEvent:
        data = {"market_id": market_id, "number": number, "from": before, "to": after, "note": None}
        data.update(actor="operator", version=version, at=NOW.isoformat())
        return self._event("/markets", "markets.stall.status_changed.v1", f"{market_id}/{number}", data)

    def spunta(
        self, market_id: str, day: date | str, stalls: list[int], unassigned: tuple[str, ...] = ()
    ) -> CloudEvent:
        """A market day's spunta handing ``stalls`` out, one per trader, as the markets service publishes it."""
        assignments = [{"trader": f"spuntista{i}", "stall": str(n)} for i, n in enumerate(stalls, 1)]
        data = {"market_id": market_id, "date": str(day), "assignments": assignments, "unassigned": list(unassigned)}
        data.update(offered=[str(n) for n in stalls], actor="operator", at=NOW.isoformat())
        return self._event("/markets", "markets.spunta.assigned.v1", f"{market_id}/{day}", data)

    def shop(
        self,
        shop_id: str,
        version: int,
        kind: str,
        status: str,
        lon: float,
        lat: float,
        year_founded: int | None = 1920,
        registered: bool = True,
        name: str | None = None,
        trade: str = "bakery",
        category: str | None = None,
    ) -> CloudEvent:
        """A shop's full state; without ``category`` as shops published it before categories existed."""
        data = {
            "shop_id": shop_id,
            "kind": kind,
            "name": name or f"Shop {shop_id}",
            "trade": trade,
            "address": "Via",
        }
        if category is not None:
            data["category"] = category
        data.update(cap="20121", municipio=1, nil=None, location={"lon": lon, "lat": lat}, year_founded=year_founded)
        data.update(status=status, status_changed_at=NOW.isoformat(), version=version, unknown_future_field=1)
        kind_name = "shops.shop.registered.v1" if registered else "shops.shop.updated.v1"
        return self._event("/shops", kind_name, shop_id, data)

    def shop_status(self, shop_id: str, kind: str, before: str, after: str, version: int) -> CloudEvent:
        data = {"shop_id": shop_id, "kind": kind, "from": before, "to": after, "at": NOW.isoformat()}
        data.update(actor="office", version=version)
        return self._event("/shops", "shops.shop.status_changed.v1", shop_id, data)

    def service(
        self, shop_id: str, service_id: str, service: str, removed: bool = False, updated_to: int | None = None
    ) -> CloudEvent:
        """A service registered (08:00-20:00 every day), removed, or with ``updated_to`` the offer's
        version after a change of hours to 09:00-13:00 on weekdays only."""
        data: dict[str, Any] = {"shop_id": shop_id, "service_id": service_id, "service": service, "actor": "x"}
        data["at"] = NOW.isoformat()
        if removed:
            return self._event("/shops", "shops.service.removed.v1", shop_id, data)
        if updated_to is not None:
            hours = [{"day": d, "opens": "09:00", "closes": "13:00"} for d in range(5)]
            data.update(hours=hours, weekly_minutes=1200, evening_minutes=0, weekend_minutes=0, version=updated_to)
            return self._event("/shops", "shops.service.updated.v1", shop_id, data)
        hours = [{"day": d, "opens": "08:00", "closes": "20:00"} for d in range(7)]
        data.update(hours=hours, weekly_minutes=5040, evening_minutes=420, weekend_minutes=1440)
        return self._event("/shops", "shops.service.registered.v1", shop_id, data)


@pytest.fixture
def events() -> Events:
    return Events()


def own_topics() -> dict[str, str]:
    """Every topic the service reads or writes, and its consumer group, named for this test alone (a
    topic added to the settings later is isolated too)."""
    fields = DistrictsSettings.model_fields
    names = [name for name in fields if name.endswith("_topic")] + ["consumer_group"]
    return {name: unique(str(fields[name].default)) for name in names}


@pytest.fixture
def settings(kafka: LocalKafka, mongo: LocalMongo) -> DistrictsSettings:
    settings: DistrictsSettings = make_settings(
        DistrictsSettings,
        kafka,
        mongo,
        **own_topics(),
        refresh_idle_poll_s=0.2,
        rebuild_drop_delay_s=0,
        sample_every_s=0.5,
    )
    return settings


def bearer_for(settings: DistrictsSettings, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, principal, timedelta(minutes=5))}"}


@pytest.fixture
def office(settings: DistrictsSettings) -> dict[str, str]:
    return bearer_for(settings, Principal(username="office", role=Role.OFFICE))


@pytest.fixture
def shopkeeper(settings: DistrictsSettings) -> dict[str, str]:
    return bearer_for(settings, Principal(username="keeper", role=Role.SHOPKEEPER, scope="s1"))


Send = Callable[[str, list[CloudEvent]], Awaitable[None]]


@pytest.fixture
async def send(kafka: LocalKafka) -> AsyncIterator[Send]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()

    async def produce(topic: str, batch: list[CloudEvent]) -> None:
        for event in batch:
            await producer.send_and_wait(topic, value=event.to_bytes(), key=event.key())

    yield produce
    await producer.stop()


@pytest.fixture
def wait() -> Callable[..., Awaitable[Any]]:
    return eventually


@dataclass(frozen=True)
class Live:
    """What an end-to-end test works with: the service's settings, the office's headers, the events the
    producers would publish and a way to send them, a poller; and the areas it sets up through the API."""

    settings: DistrictsSettings
    office: dict[str, str]
    events: Events
    send: Send
    wait: Callable[..., Awaitable[Any]]

    async def district(self, client: httpx.AsyncClient, code: str, centre: tuple[float, float]) -> None:
        """A district named after its code, a square around ``centre``."""
        body = {"code": code, "name": code.title(), "perimeter": square(*centre)}
        response = await client.post("/districts", json=body, headers=self.office)
        assert response.status_code == 201, response.text

    async def samples(self, metric: str, series: dict[str, list[tuple[datetime, float | None]]]) -> None:
        """Samples of ``metric`` written straight into each district's time series (hourly buckets)."""
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.settings.mongo_url)
        buckets = mongo[self.settings.database_name]["kpi_timeseries"]
        for code, samples in series.items():
            for at, value in samples:
                hour = at.replace(minute=0, second=0, microsecond=0)
                await buckets.update_one(
                    {"_id": f"{code}|{hour:%Y-%m-%dT%H}"},
                    {"$push": {"samples": {"at": at, metric: value}}, "$setOnInsert": {"district": code, "hour": hour}},
                    upsert=True,
                )
        await mongo.close()

    async def nil(
        self, client: httpx.AsyncClient, nil_id: int, name: str, centre: tuple[float, float], **fields: Any
    ) -> None:
        """A NIL with ``fields`` (population, area_km2) as the official file gives them, a square around ``centre``."""
        body = {"id": nil_id, "name": name, **fields, "perimeter": square(*centre)}
        response = await client.post("/nils", json=body, headers=self.office)
        assert response.status_code == 201, response.text


@pytest.fixture
def live(settings: DistrictsSettings, office: dict[str, str], events: Events, send: Send) -> Live:
    return Live(settings, office, events, send, eventually)


async def read_topic(bootstrap: str, topic: str, idle_s: float = 1.0) -> list[CloudEvent]:
    """Every event on a topic (reads until nothing new arrives for ``idle_s``)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=unique("reader"),
        auto_offset_reset="earliest",
        session_timeout_ms=1500,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    found: list[CloudEvent] = []
    try:
        quiet_since, give_up = time.monotonic(), time.monotonic() + 15
        while (time.monotonic() - quiet_since < idle_s or not consumer.assignment()) and time.monotonic() < give_up:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                found.extend(CloudEvent.from_bytes(r.value) for r in records)
                quiet_since = time.monotonic()
    finally:
        await consumer.stop()
    return found


@pytest.fixture
def topic_reader(kafka: LocalKafka) -> Callable[[str], Awaitable[list[CloudEvent]]]:
    return lambda topic: read_topic(kafka.bootstrap, topic)


async def kpis(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await client.get(f"/districts/{code}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["kpis"]
    return body


@pytest.fixture
def district_kpis() -> Callable[[httpx.AsyncClient, str], Awaitable[dict[str, Any]]]:
    return kpis
