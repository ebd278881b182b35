"""The district importer checks a row's code before it puts it in a URL: a bad code is a row error
and no request is sent (``../markets/wagner`` would otherwise address another resource)."""

from __future__ import annotations

from typing import Any

import pytest
from gateway.imports.domain import Row, RowError
from gateway.imports.importers.districts import DistrictImporter

SQUARE = {"type": "Polygon", "coordinates": [[[9.1, 45.4], [9.2, 45.4], [9.2, 45.5], [9.1, 45.4]]]}


class RecordingApi:
    """Answers every GET with 404 and records what was asked: enough for one row's load."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def get(self, path: str, **_: Any) -> dict[str, Any]:
        self.calls.append(("GET", path))
        return {"_status": 404}

    async def post(self, path: str, **_: Any) -> dict[str, Any]:
        self.calls.append(("POST", path))
        return {"_status": 201}

    async def put(self, path: str, **_: Any) -> dict[str, Any]:
        self.calls.append(("PUT", path))
        return {"_status": 200}


@pytest.mark.parametrize(
    "code", ["../markets/wagner", "isola/../../users", "isola?x=1", "isola#frag", "Isola", "isola%2f..", "a b"]
)
async def test_a_code_that_is_not_a_district_code_is_a_row_error_and_sends_nothing(code: str) -> None:
    api = RecordingApi()
    row = Row(3, {"code": code, "name": "Isola", "geometry": SQUARE})
    with pytest.raises(RowError, match="code"):
        await DistrictImporter().load(api, row)  # type: ignore[arg-type]
    assert api.calls == []


async def test_a_valid_code_is_imported() -> None:
    api = RecordingApi()
    await DistrictImporter().load(api, Row(3, {"code": "duc-isola", "name": "Isola", "geometry": SQUARE}))  # type: ignore[arg-type]
    assert api.calls == [("GET", "/districts/duc-isola"), ("POST", "/districts")]
