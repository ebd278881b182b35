"""Settings of the shops service (environment variables by upper-case name)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import EVENT_TOPICS, SERVICE_PORTS, ServiceSettings


class ShopsSettings(ServiceSettings):
    service_name: str = "shops"
    port: int = SERVICE_PORTS["shops"]
    events_topic: str = EVENT_TOPICS["shops"]
    nearest_reload_interval_s: float = Field(
        default=30.0, gt=0, description="how often the nearest-point index reloads to pick up other replicas' writes"
    )
