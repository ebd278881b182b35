"""Deliveries the broker may make: the same events again, out of order, under new ids, and poison."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from devkit.testing import Platform, produce, unique
from shared.events import CloudEvent

from .conftest import (
    MARKETS_TOPIC,
    SHOPS_TOPIC,
    Api,
    Database,
    Market,
    check_exactly_once,
    consumed,
    eventually,
    expect_projection,
    flip_until,
    open_market,
    read_records,
    read_topic,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

COUNTED = ("shops_active", "stalls_total", "stalls_open", "stalls_vacant", "openings_30d", "closures_30d")


async def _shop_that_closed_and_reopened(api: Api, market: Market, centre: tuple[float, float]) -> str:
    shop = unique("bottega")
    body = {"id": shop, "kind": "shop", "name": "Bottega di prova", "year_founded": datetime.now(UTC).year}
    await api.write("POST", "/shops", {**body, "location": {"lon": centre[0], "lat": centre[1]}})
    await api.write("PUT", f"/shops/{shop}/status", {"status": "closed", "note": "chiuso per prova"}, expected=200)
    await api.write("PUT", f"/shops/{shop}/status", {"status": "active", "note": "riaperto"}, expected=200)
    return shop


def _settled(kpis: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in kpis.items() if name != "as_of"}


async def test_duplicated_and_reordered_deliveries_change_nothing(
    running: Platform, api: Api, database: Database
) -> None:
    centre = (9.05, 45.48)
    market = await open_market(api, "replay", centre, stalls=6)
    shop = await _shop_that_closed_and_reopened(api, market, centre)
    traffic = await flip_until(api, market, accepted=30, workers=3)
    await check_exactly_once(api, running, database, market, traffic, "before the replay")

    async def shop_counted() -> dict[str, Any]:
        kpis = await expect_projection(api, market)
        assert (kpis["shops_active"], kpis["openings_30d"], kpis["closures_30d"]) == (1, 2, 1), kpis
        return kpis

    before = _settled(await eventually(shop_counted, 60, "the shop's opening, closure and reopening"))
    ours = [e for e in await read_topic(running.kafka_bootstrap, MARKETS_TOPIC) if e.subject.startswith(market.id)]
    ours += [e for e in await read_topic(running.kafka_bootstrap, SHOPS_TOPIC) if e.subject == shop]
    again = [(e.key(), e.to_bytes()) for e in reversed(ours)]
    renamed = [CloudEvent.model_validate({**e.model_dump(), "id": unique("republished")}) for e in ours]
    random.Random(9).shuffle(renamed)
    injected = again + [(e.key(), e.to_bytes()) for e in renamed]

    counted_before = await consumed(api, running)
    for topic in (MARKETS_TOPIC, SHOPS_TOPIC):
        await produce(running.kafka_bootstrap, topic, [m for m in injected if _topic_of(m[1]) == topic])

    async def all_consumed() -> dict[str, float]:
        now = await consumed(api, running)
        seen = sum(now.values()) - sum(counted_before.values())
        assert seen >= len(injected), f"{seen} of {len(injected)} injected events consumed"
        return now

    counted_after = await eventually(all_consumed, 60, "the injected events to be consumed")
    assert _settled(await api.kpis(market.district)) == before
    assert all(before[k] == v for k, v in (await shop_counted()).items() if k in COUNTED)
    skipped = counted_after.get("duplicate", 0) - counted_before.get("duplicate", 0)
    applied = counted_after.get("processed", 0) - counted_before.get("processed", 0)
    assert skipped >= len(again)
    print(
        f"\n[duplicates and reordering] events of the district {len(ours)}, injected {len(injected)} "
        f"(same ids in reverse order {len(again)}, new ids shuffled {len(renamed)}), skipped as duplicates "
        f"{skipped:.0f}, accepted as new ids and found stale {applied:.0f}, KPIs changed 0, lost 0"
    )


def _topic_of(value: bytes) -> str:
    return MARKETS_TOPIC if CloudEvent.from_bytes(value).source == "/markets" else SHOPS_TOPIC


async def test_poison_events_go_to_the_dead_letter_topic_and_the_consumer_goes_on(
    running: Platform, api: Api, database: Database
) -> None:
    market = await open_market(api, "poison", (9.05, 45.50), stalls=2)
    await expect_projection(api, market)
    stall = f"{market.id}/{market.numbers[0]}"
    broken = CloudEvent(
        source="/markets", type="markets.stall.status_changed.v1", subject=stall, data={"market_id": market.id}
    )
    counted_before = await consumed(api, running)
    await produce(
        running.kafka_bootstrap, MARKETS_TOPIC, [(stall.encode(), b"{not json"), (broken.key(), broken.to_bytes())]
    )

    traffic = await flip_until(api, market, accepted=4, workers=1)
    await check_exactly_once(api, running, database, market, traffic, "after poison on the same partition")
    await expect_projection(api, market)

    dead = [r for r in await _dead_letters(running) if r["key"] == stall]
    reasons = sorted(r["dlq_error"].split(":")[0] for r in dead)
    assert len(dead) == 2, dead
    assert all(r["dlq_reason"] == "poison" and r["dlq_consumer_group"] == "districts" for r in dead), dead
    assert all(r["dlq_original_topic"] == MARKETS_TOPIC for r in dead), dead
    assert any("not a valid CloudEvent" in r["dlq_error"] for r in dead), reasons
    assert any("breaks the contract" in r["dlq_error"] for r in dead), reasons
    dead_lettered = (await consumed(api, running)).get("dead_lettered", 0) - counted_before.get("dead_lettered", 0)
    assert dead_lettered == 2
    assert (await api.client.get(f"{running.url('districts')}/readyz")).status_code == 200
    print(
        f"\n[poison] poison events sent 2, dead-lettered {dead_lettered:.0f} with reasons {reasons}, "
        f"updates after them on the same partition {len(traffic.accepted())}, delivered {len(traffic.accepted())}, "
        "lost 0"
    )


async def _dead_letters(platform: Platform) -> list[dict[str, str]]:
    letters = []
    for record in await read_records(platform.kafka_bootstrap, f"{MARKETS_TOPIC}.dlq"):
        headers = {name: value.decode() for name, value in record.headers}
        letters.append({"key": (record.key or b"").decode(), **headers})
    return letters
