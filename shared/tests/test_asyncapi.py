"""The AsyncAPI document a service spec yields: served next to /openapi.json, refusing ambiguity."""

from __future__ import annotations

from typing import ClassVar

import httpx
import pytest

from shared import asyncapi
from shared.app import ServiceSpec, create_service_app
from shared.events import EventData
from shared.settings import ServiceSettings


class ParcelLeft(EventData):
    """A parcel left the kiosk."""

    event_type: ClassVar[str] = "probe.parcel.left.v1"
    source: ClassVar[str] = "/probe"
    parcel_id: str
    weight_g: int


class ParcelReturned(ParcelLeft):
    event_type: ClassVar[str] = "probe.parcel.returned.v1"
    reason: str | None = None


async def _get(app: object, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get(path)


async def test_a_publishing_service_serves_its_events_and_one_that_publishes_nothing_does_not() -> None:
    settings = ServiceSettings(profile="test", log_level="WARNING")
    spec = ServiceSpec(
        name="probe",
        title="Probe",
        description="d",
        routers=[],
        publishes="probe.events",
        events=[ParcelLeft, ParcelReturned],
    )
    document = (await _get(create_service_app(spec, settings), "/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0"
    assert document["channels"]["probe.events"]["address"] == "probe.events"
    messages = document["components"]["messages"]
    assert list(messages) == ["probe.parcel.left.v1", "probe.parcel.returned.v1"]
    assert messages["probe.parcel.left.v1"]["summary"] == "A parcel left the kiosk."
    returned = document["components"]["schemas"]["ParcelReturned"]
    assert set(returned["required"]) == {"parcel_id", "weight_g"}, "a field with a default is optional"
    assert "reason" in returned["properties"]
    silent = ServiceSpec(name="quiet", title="Quiet", description="d", routers=[])
    assert (await _get(create_service_app(silent, settings), "/asyncapi.json")).status_code == 404


def test_two_models_with_one_type_or_events_without_a_topic_are_refused() -> None:
    class Impostor(ParcelLeft):
        pass  # inherits probe.parcel.left.v1

    with pytest.raises(ValueError, match=r"both declare probe\.parcel\.left\.v1"):
        asyncapi.document(title="t", version="1", description="d", topic="t", events=[ParcelLeft, Impostor])
    with pytest.raises(ValueError, match="no topic"):
        ServiceSpec(name="probe", title="Probe", description="d", routers=[], events=[ParcelLeft])


def test_a_model_that_is_not_an_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="not a publishable event"):
        asyncapi.document(title="t", version="1", description="d", topic="t", events=[EventData])
