"""A service's background parts start once it is bootstrapped and stop with it, the last registered first."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from devkit.testing import LocalKafka, LocalMongo, make_settings, running_app
from shared.app import Runtime, ServiceSpec, create_service_app
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_parts_start_before_ready_and_stop_in_reverse_order(infra: tuple[LocalKafka, LocalMongo]) -> None:
    kafka, mongo = infra
    calls: list[str] = []

    class Part:
        def __init__(self, name: str) -> None:
            self.name = name

        async def start(self) -> None:
            calls.append(f"start {self.name}")

        def start_now(self) -> None:
            calls.append(f"start {self.name} (plain function)")

        async def stop(self) -> None:
            calls.append(f"stop {self.name}")

    async def wire(runtime: Runtime) -> None:
        first, second = Part("first"), Part("second")
        runtime.start_when_ready(first.start)
        runtime.start_when_ready(second.start_now)
        runtime.stop_with_service(first.stop)
        runtime.stop_with_service(second.stop)

    spec = ServiceSpec("parts", "parts", "parts", routers=[APIRouter()], wire=wire)
    app = create_service_app(spec, make_settings(ServiceSettings, kafka, mongo, service_name="parts"))
    async for _client in running_app(app):
        assert calls == ["start first", "start second (plain function)"]
    assert calls[2:] == ["stop second", "stop first"]
