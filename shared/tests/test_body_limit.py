"""Bodies over the limit get 413, whether their length is announced or they arrive in chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter
from pydantic import BaseModel

from shared.app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings


class Note(BaseModel):
    text: str


def _app() -> object:
    router = APIRouter()

    @router.post("/notes")
    async def write(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    spec = ServiceSpec(name="probe", title="probe", description="body limit", routers=[router])
    return create_service_app(spec, ServiceSettings(profile="test", log_level="WARNING", max_body_bytes=1000))


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 300):
        yield body[start : start + 300]


async def test_a_body_over_the_limit_gets_413_announced_or_streamed() -> None:
    big = b'{"text": "' + b"x" * 5000 + b'"}'
    small = b'{"text": "fits"}'
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://test") as client:
        announced = await client.post("/notes", content=big, headers=headers)
        streamed = await client.post("/notes", content=_chunks(big), headers=headers)
        fits = await client.post("/notes", content=_chunks(small), headers=headers)
    assert (announced.status_code, streamed.status_code, fits.status_code) == (413, 413, 200)
    assert streamed.headers["content-type"] == "application/problem+json"
    assert fits.json() == {"length": 4}
