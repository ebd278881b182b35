"""The daily spunta on the real broker and database: stalls handed out count as open for that day only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from districts.main import create_app

from devkit.testing import running_app
from shared.events import CloudEvent

from .conftest import Live

pytestmark = pytest.mark.integration

CENTRO = (9.19, 45.465)
STALLS = ("stalls_total", "stalls_open", "stalls_vacant", "stall_occupancy")
DistrictKpis = Callable[[httpx.AsyncClient, str], Awaitable[dict[str, Any]]]


class Clock:
    """The service's clock, moved by the test: 2 June 2026, noon in Milan."""

    def __init__(self) -> None:
        self.at = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


async def test_stalls_handed_out_at_the_spunta_count_as_open_that_day_only(
    live: Live, district_kpis: DistrictKpis, topic_reader: Callable[[str], Awaitable[list[CloudEvent]]]
) -> None:
    clock, markets = Clock(), live.settings.markets_topic
    app = create_app(live.settings, clock=clock)
    async for client in running_app(app):
        consumer = app.state.runtime.consumers[0]

        async def centro_is(expected: tuple[int, int, int, float]) -> dict[str, Any]:
            kpis = await district_kpis(client, "centro")
            assert tuple(kpis[k] for k in STALLS) == expected, kpis
            return kpis

        async def handled(events: int, dead: int = 0) -> bool:
            return bool(consumer.handled == events and consumer.dead_lettered == dead)

        await live.district(client, "centro", CENTRO)
        # stalls 1 and 2 open, 3 closed (its holder did not come), 4, 5 and 6 vacant
        market = [live.events.market("m1", 1, *CENTRO)]
        market += [live.events.stall("m1", n, "open") for n in (1, 2, 3)]
        market += [live.events.stall_status("m1", 3, "open", "closed", 2)]
        market += [live.events.stall("m1", n, "vacant") for n in (4, 5, 6)]
        await live.send(markets, market)
        await live.wait(lambda: centro_is((6, 2, 3, 0.5)), what="the market before the spunta")

        today = live.events.spunta("m1", "2026-06-02", [4, 5], unassigned=("late",))
        await live.send(markets, [today])
        # 4 and 5 open for the day: open 2 + 2, vacant 3 - 2, occupied (6 - 1) / 6
        await live.wait(lambda: centro_is((6, 4, 1, 0.8333)), what="today's spunta counted")
        await live.wait(lambda: handled(len(market) + 1), what="the spunta handled")

        redelivered = today.model_copy(update={"id": "republished-spunta"})
        yesterday = live.events.spunta("m1", "2026-06-01", [4, 6])
        bad_day = live.events.spunta("m1", "2026-02-30", [6])
        bad_shape = live.events.spunta("m1", "2026-06-02", [6])
        bad_shape.data["assignments"] = "6"
        await live.send(markets, [today, redelivered, yesterday, bad_day, bad_shape])
        # the same event is dropped as a duplicate; a copy with a new id and yesterday's spunta are handled
        await live.wait(lambda: handled(len(market) + 3, dead=2), what="duplicates, yesterday and poison handled")
        dead = await topic_reader(f"{markets}.dlq")
        assert sorted(e.data["assignments"] == "6" for e in dead) == [False, True]
        assert {e.subject for e in dead} == {"m1/2026-02-30", "m1/2026-06-02"}
        # a later change proves every earlier event was counted: only stall 1 closing moves the numbers
        await live.send(markets, [live.events.stall_status("m1", 1, "open", "closed", 2)])
        live_view = await live.wait(lambda: centro_is((6, 3, 1, 0.8333)), what="nothing but stall 1 closing")

        started = await client.post("/districts/rebuild", headers=live.office)
        assert started.status_code == 202, started.text
        job = started.json()

        async def rebuilt() -> bool:
            state = (await client.get(f"/districts/rebuild/{job['id']}", headers=live.office)).json()["state"]
            assert state in ("running", "switching", "done"), state
            return bool(state == "done")

        await live.wait(rebuilt, timeout_s=60, what="the rebuild")
        replayed = await district_kpis(client, "centro")
        assert {k: v for k, v in replayed.items() if k != "as_of"} == {
            k: v for k, v in live_view.items() if k != "as_of"
        }

        clock.at += timedelta(days=1)
        # 3 June: 4 and 5 are vacant again (stall 3's holder is still absent; stall 1 closed)
        await live.wait(lambda: centro_is((6, 1, 3, 0.5)), what="the next day")
