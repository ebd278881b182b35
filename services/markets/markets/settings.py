"""Settings of the markets service (environment variables by upper-case field name)."""

from __future__ import annotations

from datetime import time

from shared.settings import EVENT_TOPICS, SERVICE_PORTS, ServiceSettings

TOPIC = EVENT_TOPICS["markets"]


class MarketsSettings(ServiceSettings):
    service_name: str = "markets"
    port: int = SERVICE_PORTS["markets"]
    events_topic: str = TOPIC
    # the spunta: a holder who has not opened the stall by this time (Europe/Rome) is absent that day
    spunta_cutoff: time = time(8, 0)
