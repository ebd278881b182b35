"""Notices of new district alerts: who is told, what the letter says, what a webhook receives.

Pure: the notice is decided from the ``districts.alert.raised.v1`` event alone, so a redelivered
event makes the same notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.events import CloudEvent

ALERT_RAISED = "districts.alert.raised.v1"

CONDITIONS = {  # condition code -> (Italian, English)
    "low_occupancy": ("occupazione dei posteggi bassa", "low stall occupancy"),
    "historic_closures": ("chiusure di botteghe storiche", "historic shops closing"),
    "vitality_drop": ("calo della vitalità", "vitality dropping"),
    "service_missing": ("servizio richiesto assente", "required service missing"),
}


class DeliveryState:
    PENDING = "pending"  # waiting to be sent (or being sent, under a lease)
    SENT = "sent"  # every channel delivered
    FAILED = "failed"  # a channel failed after its retries: see ``mail`` and ``webhook``


@dataclass(frozen=True)
class Notice:
    """One new alert to tell the office about, by mail to ``recipients`` and to the webhook."""

    id: str  # the event's id: the same alert event never makes two notices
    alert_id: str
    district: str
    condition: str
    detail: str
    detail_it: str
    raised_at: datetime
    recipients: tuple[str, ...]
    webhook: bool

    @property
    def subject(self) -> str:
        it, en = CONDITIONS.get(self.condition, (self.condition, self.condition))
        return f"Allerta distretto {self.district}: {it} / District alert: {en}"

    def text(self, dashboard_url: str) -> str:
        it, en = CONDITIONS.get(self.condition, (self.condition, self.condition))
        when = self.raised_at.strftime("%Y-%m-%d %H:%M UTC")
        link = f"{dashboard_url.rstrip('/')}/#district-{self.district}" if dashboard_url else ""
        return "\n".join(
            [
                f"Nel distretto {self.district} è scattata un'allerta: {it}.",
                self.detail_it or self.detail,
                f"Rilevata il {when}.",
                *([f"Cruscotto: {link}"] if link else []),
                "",
                "---",
                "",
                f"An alert was raised in district {self.district}: {en}.",
                self.detail,
                f"Raised at {when}.",
                *([f"Dashboard: {link}"] if link else []),
                "",
            ]
        )

    def webhook_body(self) -> dict[str, Any]:
        return {
            "type": ALERT_RAISED,
            "alert_id": self.alert_id,
            "district": self.district,
            "condition": self.condition,
            "detail": self.detail,
            "detail_it": self.detail_it,
            "raised_at": self.raised_at.isoformat(),
        }


def notice_of(
    event: CloudEvent, recipients: tuple[str, ...], webhook: bool, now: datetime, max_age: timedelta
) -> Notice | None:
    """The notice a raised alert makes; None for other events, with nowhere to send, or for an alert
    older than ``max_age`` (a consumer starting on a topic's history tells no one about old alerts)."""
    if event.type != ALERT_RAISED or not (recipients or webhook):
        return None
    data = event.data
    raised_at = datetime.fromisoformat(str(data.get("at") or event.time.isoformat()))
    if now - raised_at > max_age:
        return None
    return Notice(
        id=event.id,
        alert_id=str(data["alert_id"]),
        district=str(data["district"]),
        condition=str(data["condition"]),
        detail=str(data.get("detail") or ""),
        detail_it=str(data.get("detail_it") or ""),
        raised_at=raised_at,
        recipients=recipients,
        webhook=webhook,
    )
