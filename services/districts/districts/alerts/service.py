"""Use cases of the alerts: thresholds per district, the alerts raised, and watching new KPIs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter

from districts.alerts.domain import (
    RESOLVED,
    Alert,
    AlertEntry,
    AlertState,
    Decision,
    Thresholds,
    decide,
    peak,
    raised,
    readings,
    record_peak,
)
from districts.alerts.events import AlertRaised, AlertResolved
from districts.alerts.store import AlertStore
from districts.geography.service import ChangeListener
from districts.geography.store import GeographyStore
from districts.projection.domain import Kpis
from shared.errors import NotFound
from shared.events import utcnow
from shared.i18n import Said
from shared.metrics import ServiceMetrics
from shared.outbox import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertsService:
    store: AlertStore
    districts: GeographyStore
    on_change: ChangeListener

    async def thresholds(self, code: str) -> Thresholds:
        await self.districts.require_district(code)
        return await self.store.thresholds(code) or Thresholds()

    async def set_thresholds(self, code: str, thresholds: Thresholds) -> Thresholds:
        await self.districts.require_district(code)
        await self.store.save_thresholds(code, thresholds)
        self.on_change([code])
        return thresholds

    async def alerts(self, code: str, state: AlertState | None, limit: int, offset: int) -> tuple[list[Alert], int]:
        await self.districts.require_district(code)
        return await self.store.alerts(code, state, limit, offset)

    async def alert(self, code: str, alert_id: str) -> Alert:
        await self.districts.require_district(code)
        return _found(await self.store.alert(code, alert_id), code, alert_id)

    async def acknowledge(self, code: str, alert_id: str, who: str) -> Alert:
        await self.districts.require_district(code)
        return _found(await self.store.acknowledge(code, alert_id, who, utcnow()), code, alert_id)

    async def open_alerts(self, codes: Iterable[str]) -> dict[str, list[Alert]]:
        """Open alerts by district, newest first."""
        found: dict[str, list[Alert]] = {code: [] for code in codes}
        for alert in await self.store.open_alerts(list(found)):
            found[alert.district].append(alert)
        return found


@dataclass(frozen=True)
class AlertMetrics:
    alerts: Counter

    @classmethod
    def create(cls, metrics: ServiceMetrics) -> AlertMetrics:
        return cls(alerts=metrics.counter("alerts", "Alerts raised and resolved", ("condition", "action")))


@dataclass(frozen=True)
class AlertWatch:
    """Raises and resolves the alerts of districts whose KPIs were just computed, in the same transaction."""

    store: AlertStore
    metrics: AlertMetrics

    async def review(self, uow: UnitOfWork, districts: Mapping[str, Kpis], now: datetime, *, sampled: bool) -> None:
        """The vitality highs come from the interval samples only, so the passing values of a burst of
        events (an import) are not taken for a level to fall from."""
        session = uow.session
        thresholds = await self.store.thresholds_of(list(districts), session)
        peaks_by_district = await self.store.peaks(districts, session)
        open_alerts: dict[str, dict[str, Alert]] = {code: {} for code in districts}
        for alert in await self.store.open_alerts(districts, session):
            open_alerts[alert.district][alert.key] = alert
        for code, kpis in districts.items():
            limits = thresholds.get(code, Thresholds())
            peaks = peaks_by_district.get(code, {})
            if sampled:
                peaks = record_peak(peaks, now, kpis.vitality_index)
                await self.store.save_peaks(code, peaks, session)
            found = readings(kpis, limits, peak(peaks, now, limits.vitality_drop_days))
            for decision in decide(found, set(open_alerts[code])):
                await self._apply(uow, code, decision, open_alerts[code], now)

    async def _apply(
        self, uow: UnitOfWork, code: str, decision: Decision, open_alerts: dict[str, Alert], now: datetime
    ) -> None:
        r = decision.reading
        if decision.action == "raise":
            alert = raised(str(uuid.uuid4()), code, r, now)
            await self.store.insert_alert(alert, uow.session)
            alert_id, kind = alert.id, AlertRaised
        else:
            alert_id = open_alerts[r.key].id
            entry = AlertEntry(now, RESOLVED, r.detail.en, r.value, r.detail.it)
            await self.store.resolve_alert(alert_id, entry, uow.session)
            kind = AlertResolved
        uow.emit(
            kind(
                alert_id=alert_id,
                district=code,
                condition=r.condition.value,
                detail=r.detail.en,
                detail_it=r.detail.it,
                value=r.value,
                threshold=r.threshold,
                at=now,
            )
        )
        self.metrics.alerts.labels(r.condition.value, decision.action).inc()
        log.info("alert %s: %s in %s (%s)", decision.action, r.key, code, r.detail.en, extra={"alert_id": alert_id})


def _found(alert: Alert | None, code: str, alert_id: str) -> Alert:
    if alert is None:
        raise NotFound(
            Said(
                it=f"il distretto {code!r} non ha l'allerta {alert_id!r}",
                en=f"district {code!r} has no alert {alert_id!r}",
            )
        )
    return alert
