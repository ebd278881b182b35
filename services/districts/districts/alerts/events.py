"""The alerts' wire contract: raising and resolving an alert are published on ``districts.events``."""

from __future__ import annotations

from datetime import datetime

from shared.events import EventData


class AlertRaised(EventData):
    event_type = "districts.alert.raised.v1"
    source = "/districts"
    alert_id: str
    district: str
    condition: str
    detail: str
    detail_it: str = ""
    value: float | None
    threshold: float | None
    at: datetime

    def subject(self) -> str:
        return self.district


class AlertResolved(AlertRaised):
    event_type = "districts.alert.resolved.v1"
