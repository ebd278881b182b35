"""The machine-readable contract of a service's events: an AsyncAPI 3.0 document.

Built from the event models a service declares (``ServiceSpec.events``): one channel, the topic
the service publishes on; one message per event type, whose payload is the CloudEvents 1.0
structured envelope with ``type`` and ``source`` fixed and ``data`` the JSON Schema pydantic
derives from the model (serialization mode: what ``EventData.to_event`` puts on the wire); one
``send`` operation. Schemas live under ``components.schemas`` and are referenced from there, as in
an OpenAPI document, so the gateway merges the services' documents the way it merges OpenAPI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from shared.events import JSON, SPECVERSION, EventData

ASYNCAPI = "3.0.0"
# structured-mode CloudEvents: the whole envelope is the message body
CONTENT_TYPE = "application/cloudevents+json"
SCHEMA_REF = "#/components/schemas/"
KAFKA_BINDING_VERSION = "0.5.0"

Document = dict[str, Any]


def _check(events: Sequence[type[EventData]]) -> None:
    seen: dict[str, type[EventData]] = {}
    for model in events:
        event_type = getattr(model, "event_type", None)
        if not event_type or not getattr(model, "source", None):
            raise ValueError(f"{model.__name__} has no event_type or source: it is not a publishable event")
        if event_type in seen:
            raise ValueError(f"{model.__name__} and {seen[event_type].__name__} both declare {event_type}")
        seen[event_type] = model


def envelope(model: type[EventData], data_schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one event type's CloudEvents envelope, ``data`` being ``data_schema``."""
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
        "properties": {
            "specversion": {"type": "string", "const": SPECVERSION},
            "id": {"type": "string", "minLength": 1, "description": "unique per event; consumers deduplicate by it"},
            "source": {"type": "string", "const": model.source},
            "type": {"type": "string", "const": model.event_type},
            "subject": {"type": "string", "minLength": 1, "description": "the aggregate id, also the Kafka key"},
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"type": "string", "const": JSON},
            "data": data_schema,
        },
    }


def _summary(model: type[EventData]) -> str:
    own = model.__dict__.get("__doc__")  # a docstring of the model itself, not one inherited
    return " ".join(own.split()) if own else f"{model.event_type}, published by {model.source}"


def document(
    *,
    title: str,
    version: str,
    description: str,
    topic: str,
    events: Sequence[type[EventData]],
) -> Document:
    """The AsyncAPI 3.0 document of a service that publishes ``events`` on ``topic``."""
    _check(events)
    _, definitions = models_json_schema(
        [(model, "serialization") for model in events], ref_template=SCHEMA_REF + "{model}"
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    messages: dict[str, Any] = {}
    for model in events:
        name = model.__name__
        if name not in schemas:  # pydantic names a model by its class name unless two collide
            raise ValueError(f"no schema named {name} for {model.event_type}")
        messages[model.event_type] = {
            "name": model.event_type,
            "title": name,
            "summary": _summary(model),
            "contentType": CONTENT_TYPE,
            "payload": envelope(model, {"$ref": SCHEMA_REF + name}),
            "bindings": {"kafka": {"key": {"type": "string"}, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
    channel_messages = {event_type: {"$ref": f"#/components/messages/{event_type}"} for event_type in messages}
    return {
        "asyncapi": ASYNCAPI,
        "info": {"title": title, "version": version, "description": description},
        "defaultContentType": CONTENT_TYPE,
        "channels": {topic: {"address": topic, "messages": channel_messages}} if events else {},
        "operations": {f"{topic}.send": send_operation(topic, list(messages))} if events else {},
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def send_operation(topic: str, event_types: Sequence[str]) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{topic}"},
        "messages": [{"$ref": f"#/channels/{topic}/messages/{t}"} for t in event_types],
    }


def message_schema(doc: Document, event_type: str) -> dict[str, Any]:
    """A standalone JSON Schema of one message's envelope, its ``$ref``s resolvable within it."""
    message = doc["components"]["messages"][event_type]
    return {**message["payload"], "components": {"schemas": doc["components"]["schemas"]}}
