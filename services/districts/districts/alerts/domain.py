"""Alert conditions on a district's KPIs, with hysteresis so an alert is raised once and resolved once.

Each condition has a level that raises it and a separate, safer level that resolves it; between the
two nothing changes, so a KPI hovering around a threshold does not flap. A condition that is no
longer monitored (its service was taken off the required list, the district lost its last market)
resolves its open alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from districts.projection.domain import Kpis
from shared.i18n import Said, italian

PEAK_RETENTION_DAYS = 31
AlertState = Literal["open", "resolved"]
OPEN: Literal["open"] = "open"
RESOLVED: Literal["resolved"] = "resolved"


class Condition(StrEnum):
    LOW_OCCUPANCY = "low_occupancy"
    HISTORIC_CLOSURES = "historic_closures"
    VITALITY_DROP = "vitality_drop"
    SERVICE_MISSING = "service_missing"


HYSTERESIS = {  # resolve level -> (its raise level, must it lie above it)
    "occupancy_recovered_at": ("occupancy_below", True),
    "historic_closures_recovered_at": ("historic_closures_at", False),
    "vitality_drop_recovered_at": ("vitality_drop_over", False),
}

# what the office's form calls each raise level (the labels of /#distretti's thresholds)
RAISE_LABELS = {
    "occupancy_below": Said("Allerta se l'occupazione è sotto", "Alert when occupancy is below"),
    "historic_closures_at": Said(
        "Allerta da questo numero di chiusure in 30 giorni", "Alert at this many closures in 30 days"
    ),
    "vitality_drop_over": Said(
        "Allerta se l'indice scende di più di (punti)", "Alert when the index falls by more than (points)"
    ),
}


def flapping(resolve_field: str, value: float, raise_level: float) -> Said | None:
    """Why a resolve level on the wrong side of its raise level is refused, naming the raise level
    as the office's form does and its value; None if it is safe."""
    raise_field, must_be_above = HYSTERESIS[resolve_field]
    if value < raise_level if must_be_above else value >= raise_level:
        side = Said("almeno pari alla soglia", "at least") if must_be_above else Said("sotto la soglia", "below")
        label = RAISE_LABELS[raise_field]
        return Said(
            f"deve essere {side.it} «{label.it}» ({italian(raise_level, 'g')}), altrimenti l'allerta si "
            "aprirebbe e chiuderebbe di continuo",
            f"must be {side.en} “{label.en}” ({raise_level:g}), or the alert would flap",
        )
    return None


def unique_services(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(names)))


@dataclass(frozen=True)
class Thresholds:
    """Per-district alert levels; every ``*_recovered_at`` lies on the safe side of its raise level."""

    occupancy_below: float = 0.60
    occupancy_recovered_at: float = 0.65
    historic_closures_at: int = 3
    historic_closures_recovered_at: int = 1
    vitality_drop_over: float = 10.0
    vitality_drop_recovered_at: float = 5.0
    vitality_drop_days: int = 7
    required_services: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "required_services", unique_services(self.required_services))


@dataclass(frozen=True)
class AlertEntry:
    """One step of an alert's history: raised or resolved, with the reading that decided it."""

    at: datetime
    state: AlertState
    detail: str
    value: float | None = None
    detail_it: str = ""  # the same in Italian (empty in entries stored before it was kept)


@dataclass(frozen=True)
class Alert:
    """One condition of a district past its raise level, open until it is back past its resolve level."""

    id: str
    district: str
    condition: str
    key: str
    state: AlertState
    raised_at: datetime
    resolved_at: datetime | None
    detail: str
    value: float | None
    threshold: float | None
    history: tuple[AlertEntry, ...] = field(default=())
    detail_it: str = ""  # ``detail`` (English) in Italian
    acknowledged_by: str | None = None  # the office account that saw it first, and when
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class Reading:
    """One condition measured now: is it past its raise level, or back past its resolve level?"""

    key: str
    condition: Condition
    value: float | None
    threshold: float | None
    breached: bool
    recovered: bool
    detail: Said


@dataclass(frozen=True)
class Decision:
    action: Literal["raise", "resolve"]
    reading: Reading


NO_LONGER_MONITORED = Said(it="non più monitorata", en="no longer monitored")


def _it(number: float) -> str:
    return italian(number, "g")


def _occupancy(kpis: Kpis, t: Thresholds) -> Reading | None:
    value = kpis.stall_occupancy
    if value is None:
        return None
    now, below, back = f"{value:.0%}", f"{t.occupancy_below:.0%}", f"{t.occupancy_recovered_at:.0%}"
    detail = Said(
        it=f"occupazione dei posteggi {now} (allerta sotto {below}, rientra da {back})",
        en=f"stall occupancy {now} (alert below {below}, resolved from {back})",
    )
    return Reading(
        Condition.LOW_OCCUPANCY.value,
        Condition.LOW_OCCUPANCY,
        value,
        t.occupancy_below,
        breached=value < t.occupancy_below,
        recovered=value >= t.occupancy_recovered_at,
        detail=detail,
    )


def _closures(kpis: Kpis, t: Thresholds) -> Reading:
    value = kpis.historic_closures_30d
    at, back = t.historic_closures_at, t.historic_closures_recovered_at
    detail = Said(
        it=f"{value} botteghe storiche chiuse in 30 giorni (allerta da {at}, rientra a {back} o meno)",
        en=f"{value} historic shops closed in 30 days (alert from {at}, resolved at {back} or fewer)",
    )
    return Reading(
        Condition.HISTORIC_CLOSURES.value,
        Condition.HISTORIC_CLOSURES,
        value,
        t.historic_closures_at,
        breached=value >= t.historic_closures_at,
        recovered=value <= t.historic_closures_recovered_at,
        detail=detail,
    )


def _vitality_drop(kpis: Kpis, t: Thresholds, peak: float | None) -> Reading | None:
    current = kpis.vitality_index
    if current is None or peak is None:
        return None
    drop = round(max(0.0, peak - current), 1)
    days, over, back = t.vitality_drop_days, t.vitality_drop_over, t.vitality_drop_recovered_at
    detail = Said(
        it=f"vitalità {_it(current)}, {_it(drop)} punti sotto il massimo di {_it(peak)} degli ultimi {days} giorni "
        f"(allerta oltre {_it(over)}, rientra a {_it(back)} o meno)",
        en=f"vitality {current:g}, {drop:g} points below its {days}-day high of {peak:g} "
        f"(alert over {over:g}, resolved at {back:g} or less)",
    )
    return Reading(
        Condition.VITALITY_DROP.value,
        Condition.VITALITY_DROP,
        drop,
        t.vitality_drop_over,
        breached=drop > t.vitality_drop_over,
        recovered=drop <= t.vitality_drop_recovered_at,
        detail=detail,
    )


def _service(kpis: Kpis, service: str) -> Reading:
    count = kpis.services_by_type.get(service, 0)
    return Reading(
        f"{Condition.SERVICE_MISSING.value}:{service}",
        Condition.SERVICE_MISSING,
        count,
        1,
        breached=count == 0,
        recovered=count >= 1,
        detail=Said(
            it=f"{count} punti attivi offrono il servizio richiesto {service}",
            en=f"{count} active points offer the required service {service}",
        ),
    )


def readings(kpis: Kpis, thresholds: Thresholds, vitality_peak: float | None) -> list[Reading]:
    found = [
        _occupancy(kpis, thresholds),
        _closures(kpis, thresholds),
        _vitality_drop(kpis, thresholds, vitality_peak),
        *(_service(kpis, s) for s in thresholds.required_services),
    ]
    return [r for r in found if r is not None]


def _unmonitored(key: str) -> Reading:
    condition = Condition(key.split(":", 1)[0])
    return Reading(key, condition, None, None, breached=False, recovered=True, detail=NO_LONGER_MONITORED)


def decide(current: list[Reading], open_keys: set[str]) -> list[Decision]:
    """Raise what is newly breached, resolve what has recovered; leave everything else alone."""
    by_key = {r.key: r for r in current}
    decisions = [Decision("raise", r) for r in current if r.breached and r.key not in open_keys]
    for key in sorted(open_keys):
        reading = by_key.get(key) or _unmonitored(key)
        if reading.recovered:
            decisions.append(Decision("resolve", reading))
    return decisions


def _hour(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H")


def record_peak(peaks: dict[str, float], now: datetime, value: float | None) -> dict[str, float]:
    """Hourly highs of the vitality index, kept for a month."""
    oldest = _hour(now - timedelta(days=PEAK_RETENTION_DAYS))
    kept = {hour: v for hour, v in peaks.items() if hour >= oldest}
    if value is not None:
        hour = _hour(now)
        kept[hour] = max(kept.get(hour, value), value)
    return kept


def peak(peaks: dict[str, float], now: datetime, days: int) -> float | None:
    since = _hour(now - timedelta(days=days))
    values = [v for hour, v in peaks.items() if hour >= since]
    return max(values) if values else None


def raised(alert_id: str, district: str, reading: Reading, now: datetime) -> Alert:
    """The alert a breached reading opens."""
    entry = AlertEntry(now, OPEN, reading.detail.en, reading.value, reading.detail.it)
    return Alert(
        alert_id,
        district,
        reading.condition.value,
        reading.key,
        OPEN,
        now,
        None,
        reading.detail.en,
        reading.value,
        reading.threshold,
        (entry,),
        reading.detail.it,
    )
