"""Settings of the markets service (environment variables by upper-case field name)."""

from __future__ import annotations

from shared.settings import ServiceSettings

TOPIC = "markets.events"


class MarketsSettings(ServiceSettings):
    service_name: str = "markets"
    port: int = 8001
    events_topic: str = TOPIC
