"""Settings of the shops service (environment variables by upper-case name)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class ShopsSettings(ServiceSettings):
    service_name: str = "shops"
    port: int = 8002
    events_topic: str = "shops.events"
    nearest_reload_interval_s: float = Field(
        default=30.0, gt=0, description="how often the nearest-point index reloads to pick up other replicas' writes"
    )
