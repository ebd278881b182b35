"""A NIL's KPIs over time: sampled with its figures, checked like a district's series."""

from __future__ import annotations

from typing import Any

import pytest
from districts.main import create_app

from devkit.testing import running_app

from .conftest import Live

pytestmark = pytest.mark.integration

CENTRO = (9.19, 45.465)
OVEST = (9.12, 45.45)


async def test_nil_series_follow_the_nil_and_are_checked_like_the_districts(live: Live) -> None:
    async for client in running_app(create_app(live.settings)):
        await live.district(client, "centro", CENTRO)
        for nil_id, name, centre in ((1, "Duomo", CENTRO), (2, "Lorenteggio", OVEST)):
            await live.nil(client, nil_id, name, centre, population=10000, area_km2=1.0)
        await live.send(
            live.settings.shops_topic,
            [
                live.events.shop("s1", 1, "shop", "active", *OVEST),
                live.events.shop("s2", 1, "shop", "active", *OVEST),
                live.events.shop("s3", 1, "kiosk", "active", *CENTRO),
            ],
        )

        async def last_value(path: str, metric: str) -> Any:
            series = (await client.get(path, params={"metric": metric})).json()
            assert series["points"], series
            return series["points"][-1]["value"]

        async def lorenteggio_has_two() -> bool:
            assert await last_value("/nils/2/timeseries", "shops_active") == 2
            return True

        await live.wait(lorenteggio_has_two, what="the NIL's sample")
        await live.wait(lambda: last_value("/nils/1/timeseries", "kiosks_active"), what="Duomo's sample")
        assert await last_value("/nils/1/timeseries", "shops_active") == 1, "kiosks count among the shops"
        assert await last_value("/districts/centro/timeseries", "kiosks_active") == 1

        series = (await client.get("/nils/2/timeseries", params={"metric": "shops_active"})).json()
        assert series["nil"] == 2 and series["metric"] == "shops_active" and {"from", "to"} <= series.keys()
        default = (await client.get("/nils/2/timeseries")).json()
        assert default["metric"] == "vitality_index"

        day = {"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00"}
        assert (await client.get("/nils/2/timeseries", params=day)).json()["points"] == []
        bad = [
            ({"metric": "nope"}, "query.metric"),
            ({"from": day["to"], "to": day["from"]}, "query.from"),
            ({"from": "2026-01-01T00:00:00", "to": "2026-06-01T00:00:00"}, "query.from"),
            ({"from": "yesterday"}, "query.from"),
        ]
        for params, field in bad:
            response = await client.get("/nils/2/timeseries", params=params)
            assert response.status_code == 422, (params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["errors"][0]["field"] == field
        assert (await client.get("/nils/99/timeseries")).status_code == 404
        assert (await client.get("/nils/0/timeseries")).status_code == 422
