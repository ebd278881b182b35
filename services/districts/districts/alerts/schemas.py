"""What the alerts API reads and writes: a district's thresholds and its alerts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from districts.alerts.domain import HYSTERESIS, Alert, AlertEntry, Thresholds, flapping, unique_services
from shared.web.public import Public

ServiceName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w-]+$")]
_DEFAULTS = Thresholds()


class ThresholdsBody(BaseModel):
    """Per-district alert levels; every ``*_recovered_at`` lies on the safe side of its raise level."""

    model_config = ConfigDict(extra="forbid")

    occupancy_below: float = Field(
        default=_DEFAULTS.occupancy_below, ge=0, le=1, description="raise when occupancy is below"
    )
    occupancy_recovered_at: float = Field(
        default=_DEFAULTS.occupancy_recovered_at, ge=0, le=1, description="resolve when occupancy reaches"
    )
    historic_closures_at: int = Field(
        default=_DEFAULTS.historic_closures_at, ge=1, description="raise at this many historic closures in 30 days"
    )
    historic_closures_recovered_at: int = Field(
        default=_DEFAULTS.historic_closures_recovered_at, ge=0, description="resolve at this many or fewer"
    )
    vitality_drop_over: float = Field(
        default=_DEFAULTS.vitality_drop_over, gt=0, le=100, description="raise when the index fell more"
    )
    vitality_drop_recovered_at: float = Field(
        default=_DEFAULTS.vitality_drop_recovered_at, ge=0, le=100, description="resolve at this drop or less"
    )
    vitality_drop_days: int = Field(
        default=_DEFAULTS.vitality_drop_days, ge=1, le=30, description="window of the vitality drop"
    )
    required_services: list[ServiceName] = Field(default_factory=list, max_length=50)

    @field_validator("occupancy_recovered_at", "historic_closures_recovered_at", "vitality_drop_recovered_at")
    @classmethod
    def _safe_side(cls, value: float, info: ValidationInfo) -> float:
        raise_field, _ = HYSTERESIS[str(info.field_name)]
        level = info.data.get(raise_field)
        problem = None if level is None else flapping(str(info.field_name), value, level)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("required_services")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(unique_services(value))

    def to_domain(self) -> Thresholds:
        return Thresholds(
            **self.model_dump(exclude={"required_services"}), required_services=tuple(self.required_services)
        )

    @classmethod
    def of(cls, thresholds: Thresholds) -> ThresholdsBody:
        return cls.model_validate({**asdict(thresholds), "required_services": list(thresholds.required_services)})


class AlertEntryPublic(Public[AlertEntry]):
    at: datetime
    state: Literal["open", "resolved"]
    detail: str = Field(description="the reading that decided this step, in English")
    value: float | None = None
    detail_it: str = Field(default="", description="the same in Italian")


class AlertPublic(Public[Alert]):
    id: str
    district: str
    condition: str
    key: str = Field(description="the condition and what it watches, e.g. service_missing:ritiro_pacchi")
    state: Literal["open", "resolved"]
    raised_at: datetime
    resolved_at: datetime | None
    detail: str = Field(description="the reading that raised it, in English")
    detail_it: str = Field(description="the same in Italian")
    value: float | None
    threshold: float | None
    history: list[AlertEntryPublic]
    acknowledged_by: str | None = Field(description="the office account that acknowledged it first")
    acknowledged_at: datetime | None
