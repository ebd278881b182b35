"""Alert conditions on a district's KPIs, with hysteresis so an alert is raised once and resolved once.

Each condition has a level that raises it and a separate, safer level that resolves it; between the
two nothing changes, so a KPI hovering around a threshold does not flap. A condition that is no
longer monitored (its service was taken off the required list, the district lost its last market)
resolves its open alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from districts.domain import Kpis

PEAK_RETENTION_DAYS = 31
ServiceName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w-]+$")]


class Condition(StrEnum):
    LOW_OCCUPANCY = "low_occupancy"
    HISTORIC_CLOSURES = "historic_closures"
    VITALITY_DROP = "vitality_drop"
    SERVICE_MISSING = "service_missing"


_HYSTERESIS = {  # resolve level -> (its raise level, must it lie above it)
    "occupancy_recovered_at": ("occupancy_below", True),
    "historic_closures_recovered_at": ("historic_closures_at", False),
    "vitality_drop_recovered_at": ("vitality_drop_over", False),
}


class Thresholds(BaseModel):
    """Per-district alert levels; every ``*_recovered_at`` lies on the safe side of its raise level."""

    model_config = ConfigDict(extra="forbid")

    occupancy_below: float = Field(default=0.60, ge=0, le=1, description="raise when occupancy is below")
    occupancy_recovered_at: float = Field(default=0.65, ge=0, le=1, description="resolve when occupancy reaches")
    historic_closures_at: int = Field(default=3, ge=1, description="raise at this many historic closures in 30 days")
    historic_closures_recovered_at: int = Field(default=1, ge=0, description="resolve at this many or fewer")
    vitality_drop_over: float = Field(default=10.0, gt=0, le=100, description="raise when the index fell more")
    vitality_drop_recovered_at: float = Field(default=5.0, ge=0, le=100, description="resolve at this drop or less")
    vitality_drop_days: int = Field(default=7, ge=1, le=30, description="window of the vitality drop")
    required_services: list[ServiceName] = Field(default_factory=list, max_length=50)

    @field_validator("occupancy_recovered_at", "historic_closures_recovered_at", "vitality_drop_recovered_at")
    @classmethod
    def _safe_side(cls, value: float, info: ValidationInfo) -> float:
        raise_field, must_be_above = _HYSTERESIS[str(info.field_name)]
        level = info.data.get(raise_field)
        if level is not None and (value < level if must_be_above else value >= level):
            side = "at least" if must_be_above else "below"
            raise ValueError(f"must be {side} {raise_field}, or the alert would flap")
        return value

    @field_validator("required_services")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


@dataclass(frozen=True)
class Reading:
    """One condition measured now: is it past its raise level, or back past its resolve level?"""

    key: str
    condition: Condition
    value: float | None
    threshold: float | None
    breached: bool
    recovered: bool
    detail: str


@dataclass(frozen=True)
class Decision:
    action: Literal["raise", "resolve"]
    reading: Reading


def _occupancy(kpis: Kpis, t: Thresholds) -> Reading | None:
    value = kpis.stall_occupancy
    if value is None:
        return None
    detail = f"stall occupancy {value:.0%} (alert below {t.occupancy_below:.0%}, resolved from {t.occupancy_recovered_at:.0%})"
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
    detail = (
        f"{value} historic shops closed in 30 days (alert from {t.historic_closures_at}, "
        f"resolved at {t.historic_closures_recovered_at} or fewer)"
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
    detail = (
        f"vitality {current:g}, {drop:g} points below its {t.vitality_drop_days}-day high of {peak:g} "
        f"(alert over {t.vitality_drop_over:g}, resolved at {t.vitality_drop_recovered_at:g} or less)"
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
        detail=f"{count} active points offer the required service {service}",
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
    return Reading(key, condition, None, None, breached=False, recovered=True, detail="no longer monitored")


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
