"""The gateway's own lists refuse an offset past the bound (422 naming the field)."""

from __future__ import annotations

import pytest

from .conftest import RunningGateway

pytestmark = pytest.mark.integration


async def test_the_account_list_refuses_an_offset_over_the_bound(gateway: RunningGateway) -> None:
    too_far = await gateway.client.get("/api/v1/users", params={"offset": 1_000_001}, headers=gateway.bearer())
    assert too_far.status_code == 422 and too_far.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in too_far.json()["errors"]] == ["query.offset"]
    at_bound = await gateway.client.get("/api/v1/users", params={"offset": 1_000_000}, headers=gateway.bearer())
    assert at_bound.status_code == 200 and at_bound.json()["items"] == []
