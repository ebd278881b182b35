"""Anonymous ``/overview`` requests share one answer for a few seconds and one build while it runs.

The stand-in services count what reaches them: a burst of anonymous callers must cost the upstream
calls of one overview, not one fan-out each; the answer is built again once the cache has aged.
"""

from __future__ import annotations

import asyncio

import pytest

from .conftest import Configure, Upstreams, running_gateway

pytestmark = pytest.mark.integration

CALLERS = 25
CACHE_S = 1.0
# the calls one overview makes to the stand-ins: markets and districts lists, shops' readiness,
# and the open alerts of the one district that has some
ONE_OVERVIEW = {("GET", "/markets"), ("GET", "/districts"), ("GET", "/readyz"), ("GET", "/districts/duc-isola/alerts")}


def _overview_calls(upstreams: Upstreams, since: int) -> list[tuple[str, str]]:
    return [(method, path) for _, method, path in upstreams.hits[since:] if path != "/openapi.json"]


async def test_a_burst_of_anonymous_callers_costs_one_fan_out(upstreams: Upstreams, configure: Configure) -> None:
    settings = configure(overview_cache_s=CACHE_S)
    async with running_gateway(settings) as gateway:
        await asyncio.sleep(0.3)  # let the OpenAPI warm-up go by
        before = len(upstreams.hits)
        answers = await asyncio.gather(*(gateway.client.get("/api/v1/overview") for _ in range(CALLERS)))
        assert {a.status_code for a in answers} == {200}
        assert all(a.json() == answers[0].json() for a in answers)
        calls = _overview_calls(upstreams, before)
        assert sorted(calls) == sorted(ONE_OVERVIEW), f"{len(calls)} upstream calls for {CALLERS} callers"

        again = len(upstreams.hits)
        assert (await gateway.client.get("/api/v1/overview")).status_code == 200
        assert _overview_calls(upstreams, again) == [], "a second caller within the cache time is served from it"

        await asyncio.sleep(CACHE_S + 0.2)
        aged = len(upstreams.hits)
        assert (await gateway.client.get("/api/v1/overview")).status_code == 200
        assert sorted(_overview_calls(upstreams, aged)) == sorted(ONE_OVERVIEW), "built again once the cache aged"

        signed_in = len(upstreams.hits)
        assert (await gateway.client.get("/api/v1/overview", headers=gateway.bearer())).status_code == 200
        assert sorted(_overview_calls(upstreams, signed_in)) == sorted(ONE_OVERVIEW), "signed-in callers are not cached"
