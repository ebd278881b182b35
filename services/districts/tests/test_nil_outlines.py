"""The NILs' outlines for maps: every NIL's shape with its name, simplified by a few metres at most."""

from __future__ import annotations

import pytest
from districts.main import create_app
from shapely.geometry import shape

from devkit.testing import running_app

from .conftest import Live

pytestmark = pytest.mark.integration

# a square of about 780 by 1,100 m whose edges carry points 1 m off the straight line: detail a map
# does not need, which the outline drops
WEST, EAST, SOUTH, NORTH = 9.10, 9.11, 45.44, 45.45


def _jagged_square() -> dict[str, object]:
    steps = 50
    south = [[WEST + (EAST - WEST) * i / steps, SOUTH + (0.00001 if i % 2 else 0)] for i in range(steps)]
    east = [[EAST, SOUTH + (NORTH - SOUTH) * i / steps] for i in range(steps)]
    north = [[EAST - (EAST - WEST) * i / steps, NORTH] for i in range(steps)]
    west = [[WEST, NORTH - (NORTH - SOUTH) * i / steps] for i in range(steps)]
    ring = [*south, *east, *north, *west]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


async def test_nil_outlines_carry_names_and_lose_only_detail(live: Live) -> None:
    async for client in running_app(create_app(live.settings)):
        await live.nil(client, 61, "Giambellino", (9.14, 45.45), population=24000, area_km2=1.2)
        jagged = {"id": 62, "name": "Lorenteggio", "population": 32000, "area_km2": 0.9, "perimeter": _jagged_square()}
        assert (await client.post("/nils", json=jagged, headers=live.office)).status_code == 201

        answer = await client.get("/nils.geojson")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/geo+json"
        features = {f["id"]: f for f in answer.json()["features"]}
        assert {f["properties"]["name"] for f in features.values()} >= {"Giambellino", "Lorenteggio"}
        assert features[62]["properties"] == {"id": 62, "name": "Lorenteggio", "population": 32000}
        assert "kpis" not in features[61]["properties"]

        outline = features[62]["geometry"]
        points = len(outline["coordinates"][0])
        assert points < 20, f"the jagged edge was kept: {points} points"
        original = shape(_jagged_square())
        drawn = shape(outline)
        # the same place, within a few metres: the areas differ by well under 1 %
        assert abs(drawn.area - original.area) / original.area < 0.01
        assert drawn.symmetric_difference(original).area / original.area < 0.01
        print(f"\n[nil outlines] the jagged NIL: 201 points → {points}")
