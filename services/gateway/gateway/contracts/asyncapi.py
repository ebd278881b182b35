"""The merged AsyncAPI 3.0 document: every topic, every event type the platform publishes.

Each publishing service serves its own ``/asyncapi.json`` (built by ``shared.asyncapi`` from the
event models it declares); the gateway fetches them like the OpenAPI documents and merges them:
channels (one per topic), operations and messages (keyed by the event type, which names its
service) are taken as they are, component schemas renamed ``<service>_<Name>`` like in OpenAPI.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from gateway.contracts.documents import MergedDocument, Spec, rename_refs
from gateway.proxy import Proxy
from shared.asyncapi import ASYNCAPI, CONTENT_TYPE

TITLE = "Milan commerce & markets platform events"
DESCRIPTION = (
    "Every event the platform's services publish on Kafka, as CloudEvents 1.0 structured JSON "
    "(the message key is the CloudEvent `subject`). Consumers deduplicate by `id`; types are "
    "versioned and evolve add-only. The office's live stream (`GET /api/v1/stream`) relays them."
)


def merge(services: dict[str, Spec], unavailable: list[str], version: str) -> Spec:
    channels: Spec = {}
    operations: Spec = {}
    messages: Spec = {}
    schemas: Spec = {}
    for service in sorted(services):

        def rename(name: str, service: str = service) -> str:
            return f"{service}_{name}"

        part = rename_refs(copy.deepcopy(services[service]), rename)
        for key, channel in part.get("channels", {}).items():
            channels.setdefault(key, {**channel, "messages": {}})["messages"].update(channel.get("messages", {}))
        for key, operation in part.get("operations", {}).items():
            kept = operations.setdefault(key, {**operation, "messages": []})
            kept["messages"] += [m for m in operation.get("messages", []) if m not in kept["messages"]]
        components = part.get("components", {})
        messages.update(components.get("messages", {}))
        schemas.update({rename(name): schema for name, schema in components.get("schemas", {}).items()})
    return {
        "asyncapi": ASYNCAPI,
        "info": {"title": TITLE, "version": version, "description": DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items())), "schemas": dict(sorted(schemas.items()))},
        "x-unavailable": sorted(unavailable),
    }


class MergedAsyncAPI(MergedDocument):
    path = "/asyncapi.json"

    def __init__(self, proxy: Proxy, refresh_s: float, version: Callable[[], str]) -> None:
        super().__init__(proxy, refresh_s)
        self.version = version

    def build(self, services: dict[str, Spec], unavailable: list[str]) -> Spec:
        return merge(services, unavailable, self.version())
