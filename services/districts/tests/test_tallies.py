"""Incremental KPIs against the full recount, after random streams of events on the real broker and database.

Each seed makes a small city (markets with stalls, businesses with services) and a history for it:
markets moving between districts and closing, stalls changing status and handed out at the spunta,
businesses registered, moved, closed and reopened, recognised as historic, services offered,
re-timed and removed. The events are shuffled, some are delivered twice with the same id (the
consumer drops them) and some republished with a new id (they reach the projection). After each
third of the stream, every area's KPIs read from its tally must be those the full recount from the
entities gives, today, tomorrow (the spunta's day is over) and a month on (the openings left the
window); and the district the API serves must show them too.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from districts.geography.current import CurrentGeography
from districts.geography.store import GeographyStore
from districts.main import create_app
from districts.projection.domain import (
    EntityType,
    Kpis,
    active_refs,
    district_key,
    group_by_area,
    market_day,
    measure,
    nil_key,
)
from districts.projection.service import population_of
from districts.projection.store import ProjectionStore
from districts.projection.tally import Tally, measure_tally
from pymongo import AsyncMongoClient

from devkit.testing import running_app
from shared.events import CloudEvent

from .conftest import Live

pytestmark = pytest.mark.integration

# three districts, two of them overlapping, and a NIL over one; a spot in each, one in the overlap,
# one outside every area
CENTRES = {"alfa": (9.10, 45.45), "beta": (9.20, 45.45), "gamma": (9.215, 45.45)}
NIL = (7, (9.10, 45.45), 12000)
SPOTS = [(9.10, 45.45), (9.20, 45.45), (9.21, 45.452), (9.30, 45.50)]
STALL_STATUSES = ("open", "closed", "vacant", "maintenance")
SHOP_STATUSES = ("active", "closed", "suspended")
KINDS = ("shop", "historic", "kiosk")
SERVICES = ("ritiro_pacchi", "wifi", "bagno")
NOW = datetime.now(UTC).replace(microsecond=0)


def _stamp(event: CloudEvent, at: datetime) -> CloudEvent:
    event.data["at"] = at.isoformat()
    return event


class City:
    """A random history of a small city as the markets and shops services would publish it."""

    def __init__(self, live: Live, rng: random.Random) -> None:
        self.events, self.rng = live.events, rng

    def _when(self) -> datetime:
        """A time in the last 50 days, on a whole minute well away from the 30-day edge."""
        minutes = self.rng.choice([self.rng.randint(1, 28 * 1440), self.rng.randint(32 * 1440, 50 * 1440)])
        return NOW - timedelta(minutes=minutes)

    def markets(self) -> list[CloudEvent]:
        found = []
        for market in ("m1", "m2", "m3"):
            for version in range(1, self.rng.randint(2, 4)):
                active = self.rng.random() > 0.25
                found.append(self.events.market(market, version, *self.rng.choice(SPOTS), active=active))
            for number in range(1, 7):
                status = self.rng.choice(STALL_STATUSES[:3])
                found.append(self.events.stall(market, number, status))
                for version in range(2, self.rng.randint(2, 6)):
                    after = self.rng.choice(STALL_STATUSES)
                    found.append(self.events.stall_status(market, number, status, after, version))
                    status = after
            for day in (market_day(NOW) - timedelta(days=1), market_day(NOW)):
                if self.rng.random() < 0.7:
                    found.append(self.events.spunta(market, day, self.rng.sample(range(1, 7), self.rng.randint(1, 4))))
        return found

    def shops(self) -> list[CloudEvent]:
        found = []
        for n in range(1, 11):
            shop, kind, status = f"s{n}", self.rng.choice(KINDS), self.rng.choice(SHOP_STATUSES[:2])
            founded = self.rng.choice([1920, NOW.year])
            for version in range(1, self.rng.randint(2, 8)):
                roll = self.rng.random()
                if version == 1 or roll < 0.35:
                    event = self.events.shop(
                        shop, version, kind, status, *self.rng.choice(SPOTS), founded, registered=version == 1
                    )
                    event.data["status_changed_at"] = self._when().isoformat()
                elif roll < 0.85:
                    after = self.rng.choice(SHOP_STATUSES)
                    event = _stamp(self.events.shop_status(shop, kind, status, after, version), self._when())
                    status = after
                else:
                    kind = "historic"
                    data = {"shop_id": shop, "year_founded": 1900, "version": version}
                    event = CloudEvent(source="/shops", type="shops.historic.recognised.v1", subject=shop, data=data)
                found.append(event)
            for offer in range(self.rng.randint(0, 3)):
                service_id = f"{shop}-o{offer}"
                service = self.rng.choice(SERVICES)
                found.append(self.events.service(shop, service_id, service))
                if self.rng.random() < 0.4:
                    found.append(self.events.service(shop, service_id, service, updated_to=2))
                if self.rng.random() < 0.3:
                    found.append(self.events.service(shop, service_id, service, removed=True))
        return found


def delivered(stream: list[tuple[str, CloudEvent]], rng: random.Random) -> list[tuple[str, CloudEvent]]:
    """The stream shuffled, with some events twice (same id) and some republished (new id)."""
    out = list(stream)
    for topic, event in stream:
        roll = rng.random()
        if roll < 0.15:
            out.append((topic, event))
        elif roll < 0.25:
            out.append((topic, event.model_copy(update={"id": uuid.uuid4().hex})))
    rng.shuffle(out)
    return out


async def recount(db: Any) -> tuple[dict[str, Any], dict[str, Tally], Any]:
    """Every area's contents from all the entities (the full recount), its tally, and the geography."""
    projections, geography_store = ProjectionStore(db), GeographyStore(db)
    generation, _ = await projections.generations()
    locator = await CurrentGeography(geography_store).locator(await geography_store.version())
    keys = {district_key(c) for c in locator.district_codes} | {nil_key(n) for n in locator.nil_ids}
    placed = await projections.placed(generation, None, None, None)
    stalls = await projections.children(generation, "market_id", active_refs(placed, EntityType.MARKET), None)
    services = await projections.children(generation, "shop_id", active_refs(placed, EntityType.SHOP), None)
    return group_by_area(placed, stalls, services, keys), await projections.tallies(generation, keys, None), locator


async def tallies_read_as_recounted(db: Any) -> int:
    """Assert that every area's tally reads as its recount, at three moments; return how many areas
    count something."""
    contents, tallies, locator = await recount(db)
    busy = 0
    for key in sorted(contents):
        population = population_of(locator, key)
        for now in (NOW, NOW + timedelta(days=1), NOW + timedelta(days=31)):
            recounted = measure(contents[key], population, now)
            incremental = measure_tally(tallies.get(key, Tally()), population, now)
            assert incremental == recounted, (key, now, incremental, recounted)
        busy += measure(contents[key], population, NOW).kpis.same_figures(Kpis(population=population)) is False
    return busy


async def served_as_recounted(db: Any, client: httpx.AsyncClient) -> bool:
    contents, _, locator = await recount(db)
    for code in locator.district_codes:
        key = district_key(code)
        expected = measure(contents[key], population_of(locator, key), NOW).kpis
        assert _figures(await _served(client, code)) == _figures(expected.values()), code
    return True


async def _nil_counts(client: httpx.AsyncClient, nil_id: int) -> bool:
    response = await client.get(f"/nils/{nil_id}")
    return bool(response.status_code == 200 and response.json()["kpis"]["shops_active"] == 1)


async def _served(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await client.get(f"/districts/{code}")
    assert response.status_code == 200, response.text
    kpis: dict[str, Any] = response.json()["kpis"]
    return kpis


def _figures(kpis: dict[str, Any]) -> dict[str, Any]:
    """What a count decides: everything but the time of computation and the index built from it."""
    return {k: v for k, v in Kpis.of(kpis).values().items() if k not in ("as_of", "vitality_index")}


@pytest.mark.parametrize("seed", [3, 19, 2026])
async def test_incremental_kpis_equal_the_recount_after_a_random_stream(live: Live, seed: int) -> None:
    rng = random.Random(seed)
    city = City(live, rng)
    settings = live.settings
    stream = [(settings.markets_topic, e) for e in city.markets()] + [(settings.shops_topic, e) for e in city.shops()]
    sent = delivered(stream, rng)
    app = create_app(settings)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, tz_aware=True)
    db = mongo[settings.database_name]
    try:
        async for client in running_app(app):
            consumer = app.state.runtime.consumers[0]
            for code, centre in CENTRES.items():
                await live.district(client, code, centre)
            nil_id, centre, population = NIL
            await live.nil(client, nil_id, "Settimo", centre, population=population, area_km2=1.5)
            # a first business in the NIL: once counted there, every batch is placed on this geography
            first = live.events.shop("s0", 1, "shop", "active", *centre)
            await live.send(settings.shops_topic, [first])
            await live.wait(lambda: _nil_counts(client, nil_id), what="the geography in use")
            third = len(sent) // 3
            parts = [sent[:third], sent[third : 2 * third], sent[2 * third :]]
            ids = {first.id}
            for part in parts:
                for topic, event in part:
                    await live.send(topic, [event])
                ids |= {event.id for _, event in part}

                async def handled(expected: int = len(ids)) -> bool:
                    return bool(consumer.handled + consumer.dead_lettered == expected)

                await live.wait(handled, timeout_s=60, what="every distinct event handled")
                assert consumer.dead_lettered == 0

                assert await tallies_read_as_recounted(db) >= 2, "the stream left at least two areas with something"
                await live.wait(
                    lambda: served_as_recounted(db, client), timeout_s=30, what="the API showing the recount"
                )
    finally:
        await mongo.close()
