"""Settings of the markets service (environment variables by upper-case field name)."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from shared.settings import EVENT_TOPICS, SERVICE_PORTS, ServiceSettings

TOPIC = EVENT_TOPICS["markets"]
# the markets' days (a spunta's, a concession's last) are Milan's
MARKET_ZONE = ZoneInfo("Europe/Rome")


class MarketsSettings(ServiceSettings):
    service_name: str = "markets"
    port: int = SERVICE_PORTS["markets"]
    events_topic: str = TOPIC
    # the spunta: a holder who has not opened the stall by this time (Europe/Rome) is absent that day
    spunta_cutoff: time = time(8, 0)
    # how often each replica looks for concessions past their end (they expire the day after it)
    concession_expiry_interval_s: float = 60.0
