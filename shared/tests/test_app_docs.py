"""A service may leave its API documentation to someone else (the gateway serves the merged one)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from shared.app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings


def _spec(**options: bool) -> ServiceSpec:
    router = APIRouter()

    @router.get("/things")
    async def things() -> list[str]:
        return []

    return ServiceSpec(name="probe", title="probe", description="docs switch", routers=[router], **options)


async def _status(app: object, path: str) -> int:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return (await client.get(path)).status_code


async def test_docs_are_served_by_default_and_can_be_turned_off() -> None:
    settings = ServiceSettings(profile="test", log_level="WARNING")
    default = create_service_app(_spec(), settings)
    assert await _status(default, "/openapi.json") == 200
    assert await _status(default, "/docs") == 200
    silent = create_service_app(_spec(openapi_docs=False), settings)
    assert await _status(silent, "/openapi.json") == 404
    assert await _status(silent, "/docs") == 404
    assert "/things" in silent.openapi()["paths"], "the schema stays available to the process itself"
