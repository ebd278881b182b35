"""Lists refuse an offset past the bound (422 naming the field) instead of making the database skip it."""

from __future__ import annotations

import pytest
from districts.main import create_app
from districts.settings import DistrictsSettings

from devkit.testing import running_app

pytestmark = pytest.mark.integration

BOUND = 1_000_000


async def test_offsets_over_the_bound_are_refused(settings: DistrictsSettings, office: dict[str, str]) -> None:
    async for client in running_app(create_app(settings)):
        for path in ("/districts", "/nils", "/districts/anywhere/alerts"):
            too_far = await client.get(path, params={"offset": BOUND + 1}, headers=office)
            assert too_far.status_code == 422, (path, too_far.status_code, too_far.text)
            assert too_far.headers["content-type"].startswith("application/problem+json")
            assert [e["field"] for e in too_far.json()["errors"]] == ["query.offset"]
            at_bound = await client.get(path, params={"offset": BOUND}, headers=office)
            assert at_bound.status_code in (200, 404), (path, at_bound.status_code)
