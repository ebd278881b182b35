"""The refresher sleeps until a projection commit (or a request) wakes it, not on a short poll."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from districts.geography.current import CurrentGeography
from districts.projection.refresher import Refresher
from districts.settings import DistrictsSettings


def sleeper(settle_s: float = 0.0) -> tuple[Refresher, CurrentGeography]:
    geography = CurrentGeography(store=None, settle_s=settle_s)  # type: ignore[arg-type]
    parts: dict[str, Any] = dict.fromkeys(("projections", "states", "alerts", "outbox", "mongo", "metrics"))
    refresher = Refresher(geography=geography, settings=DistrictsSettings(), **parts)
    return refresher, geography


async def slept(refresher: Refresher, deadline_in_s: float, wake_after_s: float | None = None) -> float:
    loop = asyncio.get_running_loop()
    if wake_after_s is not None:
        loop.call_later(wake_after_s, refresher.projected)
    started = time.monotonic()
    await refresher._sleep_until(loop.time() + deadline_in_s)
    return time.monotonic() - started


async def test_a_projection_commit_wakes_it_at_once() -> None:
    refresher, _ = sleeper()
    assert await slept(refresher, 5.0, wake_after_s=0.05) < 1.0


async def test_without_a_wake_up_it_sleeps_until_its_deadline() -> None:
    refresher, _ = sleeper()
    assert await slept(refresher, 0.4) >= 0.35


async def test_a_wake_up_that_came_while_it_worked_is_not_lost() -> None:
    refresher, _ = sleeper()
    refresher.request(["centro"])
    assert await slept(refresher, 5.0) < 0.5
    assert await slept(refresher, 0.3) >= 0.25, "the wake-up is used once"


async def test_a_newer_geography_wakes_it_once_settled() -> None:
    refresher, geography = sleeper(settle_s=0.2)
    geography._newest, geography._newest_seen_at = 3, time.monotonic()
    assert 0.15 <= await slept(refresher, 5.0) < 1.0
