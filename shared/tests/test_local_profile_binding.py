"""A process in the local profile serves loopback only, even when its server was bound to every address.

The settings refuse ``HOST`` outside loopback at start-up (``test_settings.py``); this covers the
other way round, a server started with ``--host 0.0.0.0`` whatever ``HOST`` says: a request that
arrives on a non-loopback interface is refused before any route sees it.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import uvicorn
from fastapi import APIRouter

from devkit.stack.processes import free_port
from shared.app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _app(profile: str) -> object:
    extra = {"host": "0.0.0.0"} if profile == "prod" else {}
    settings = ServiceSettings(
        profile=profile,  # type: ignore[arg-type]
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        mongo_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        mongo_timeout_ms=200,
        **extra,
    )
    spec = ServiceSpec(name="probe", title="probe", description="probe", routers=[APIRouter()])
    return create_service_app(spec, settings)


async def _statuses(profile: str, address: str) -> tuple[int, int]:
    port = free_port()
    config = uvicorn.Config(_app(profile), host="0.0.0.0", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the server stopped during start-up")
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(timeout=5) as client:
            outside = await client.get(f"http://{address}:{port}/healthz")
            inside = await client.get(f"http://127.0.0.1:{port}/healthz")
        if outside.status_code == 403:
            assert outside.headers["content-type"].startswith("application/problem+json")
        return outside.status_code, inside.status_code
    finally:
        server.should_exit = True
        await task


async def test_a_local_profile_process_refuses_requests_from_outside_the_machine() -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect through")
    assert await _statuses("local", address) == (403, 200)
    assert await _statuses("prod", address) == (200, 200), "prod serves every interface it is bound to"
