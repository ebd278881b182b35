"""Each publishing service serves a valid AsyncAPI 3.0 document of the events it declares."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime

import jsonschema_rs
import pytest
from gateway.access import AccessPolicy
from gateway.contracts.asyncapi import merge
from gateway.contracts.openapi import merge as merge_openapi
from gateway.main import app as gateway_app
from markets.main import app as markets_app
from markets.stalls.events import StallStatusChanged

from shared.asyncapi import message_schema

from .conftest import ASYNCAPI_SCHEMA, PUBLISHERS, served_document, service_app

RECORDED_SHA256 = "abe96881dbfaad495ccbb6bd8d3fb43ca18a13b9d7564849ccb66f39d5e5b20f"


def test_the_vendored_specification_schema_is_the_recorded_release() -> None:
    assert hashlib.sha256(ASYNCAPI_SCHEMA.read_bytes()).hexdigest() == RECORDED_SHA256


@pytest.mark.parametrize("service", PUBLISHERS)
async def test_a_service_document_is_valid_asyncapi_3(
    service: str, asyncapi_validator: jsonschema_rs.Validator
) -> None:
    app = service_app(service)
    document = await served_document(app)
    errors = [f"{e.instance_path}: {e.message[:200]}" for e in asyncapi_validator.iter_errors(document)]
    assert errors == []
    topic = app.state.settings.model_dump()["districts_topic" if service == "districts" else "events_topic"]
    assert list(document["channels"]) == [topic]
    assert document["channels"][topic]["address"] == topic
    (operation,) = document["operations"].values()
    assert operation["action"] == "send"
    messages = document["components"]["messages"]
    assert len(messages) >= 3
    for event_type, message in messages.items():
        assert event_type.startswith(f"{service}.") and event_type.endswith(".v1")
        assert message["payload"]["properties"]["type"]["const"] == event_type
        data_ref = message["payload"]["properties"]["data"]["$ref"]
        assert data_ref.removeprefix("#/components/schemas/") in document["components"]["schemas"]
    assert {m["$ref"].rsplit("/", 1)[1] for m in operation["messages"]} == set(messages)


async def test_a_document_breaking_the_specification_is_refused(asyncapi_validator: jsonschema_rs.Validator) -> None:
    document = await served_document(markets_app)
    wrong_action = copy.deepcopy(document)
    next(iter(wrong_action["operations"].values()))["action"] = "publish"  # AsyncAPI 2 wording
    no_address_type = copy.deepcopy(document)
    next(iter(no_address_type["channels"].values()))["address"] = 42
    unknown_field = {**copy.deepcopy(document), "topics": {}}
    for broken in (wrong_action, no_address_type, unknown_field):
        assert not asyncapi_validator.is_valid(broken)


async def test_an_event_as_published_matches_its_message_and_a_different_one_does_not() -> None:
    document = await served_document(markets_app)
    schema = jsonschema_rs.validator_for(message_schema(document, StallStatusChanged.event_type))
    changed = StallStatusChanged(
        market_id="wagner",
        number="12",
        from_="closed",
        to="open",
        note="",
        actor="operator-wagner",
        version=3,
        at=datetime(2026, 12, 5, 9, 0, tzinfo=UTC),
    )
    wire = json.loads(changed.to_event().to_bytes())
    assert schema.is_valid(wire), list(schema.iter_errors(wire))
    assert wire["data"]["from"] == "closed"
    as_another_type = {**wire, "type": "markets.stall.released.v1"}
    unknown_status = {**wire, "data": {**wire["data"], "to": "demolished"}}
    missing_field = {**wire, "data": {k: v for k, v in wire["data"].items() if k != "version"}}
    no_envelope = wire["data"]
    for wrong in (as_another_type, unknown_status, missing_field, no_envelope):
        assert not schema.is_valid(wrong), wrong


async def test_the_gateway_merges_the_services_documents_into_one_valid_document(
    asyncapi_validator: jsonschema_rs.Validator,
) -> None:
    documents = {service: await served_document(service_app(service)) for service in ("markets", "shops")}
    merged = merge(documents, ["districts"], "1.0.0")
    assert [f"{e.instance_path}: {e.message[:200]}" for e in asyncapi_validator.iter_errors(merged)] == []
    assert merged["x-unavailable"] == ["districts"]
    assert list(merged["channels"]) == ["markets.events", "shops.events"]
    every_type = {t for d in documents.values() for t in d["components"]["messages"]}
    assert set(merged["components"]["messages"]) == every_type
    schemas = merged["components"]["schemas"]
    assert "markets_StallStatusChanged" in schemas and "shops_ShopRegistered" in schemas
    assert not [name for name in schemas if not name.startswith(("markets_", "shops_"))]
    refs = {r for r in _refs(merged) if r.startswith("#/components/schemas/")}
    assert refs and all(r.removeprefix("#/components/schemas/") in schemas for r in refs), "a reference left dangling"
    # a message's schema taken from the merged document checks an event as before
    envelope = jsonschema_rs.validator_for(message_schema(merged, "shops.service.removed.v1"))
    removed = {
        "shop_id": "s1",
        "service_id": "sv1",
        "service": "parcel",
        "actor": "office",
        "at": "2026-12-05T09:00:00Z",
    }
    assert envelope.is_valid(
        {
            "specversion": "1.0",
            "id": "e1",
            "source": "/shops",
            "type": "shops.service.removed.v1",
            "subject": "s1",
            "time": "2026-12-05T09:00:00Z",
            "data": removed,
        }
    )


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref" and isinstance(v, str)] + [
            r for v in node.values() for r in _refs(v)
        ]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def test_the_gateways_public_api_documents_the_asyncapi_route() -> None:
    merged = merge_openapi(gateway_app.openapi(), {}, [], AccessPolicy())
    operation = merged["paths"]["/asyncapi.json"]["get"]
    assert "AsyncAPI" in operation["summary"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["required"] == ["asyncapi", "info"]
    assert "/openapi.json" not in merged["paths"], (
        "the documents stay what they were: only the AsyncAPI one is an operation"
    )
