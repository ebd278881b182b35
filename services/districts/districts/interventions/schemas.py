"""API shapes of the interventions and of their impact."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from districts.interventions.domain import Impact, Intervention, Kind, Mean, Shift, TargetType
from shared.i18n import Said
from shared.web.public import Public

EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2100, 1, 1, tzinfo=UTC)


class TargetBody(BaseModel):
    type: TargetType
    id: str = Field(min_length=1, max_length=64)


class InterventionCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    kind: Kind
    target: TargetBody
    started_at: AwareDatetime
    comparison: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("started_at")
    @classmethod
    def _in_the_platforms_time(cls, value: datetime) -> datetime:
        # an impact compares windows of up to 92 days around the start: a start at the edge of the
        # calendar has no such windows (and no figures before 2000 exist to compare)
        if not EARLIEST_START <= value <= LATEST_START:
            raise ValueError(
                Said(
                    f"deve cadere tra il {EARLIEST_START.year} e il {LATEST_START.year - 1}",
                    f"must lie between {EARLIEST_START.year} and {LATEST_START.year - 1}",
                )
            )
        return value


class InterventionPublic(Public[Intervention]):
    code: str
    title: str
    kind: Kind
    target: TargetBody
    started_at: datetime
    comparison: list[str]
    created_at: datetime


class MeanPublic(BaseModel):
    mean: float | None
    observations: int

    @classmethod
    def of(cls, m: Mean) -> MeanPublic:
        return cls(mean=m.value, observations=m.observations)


class ShiftPublic(BaseModel):
    before: MeanPublic
    after: MeanPublic
    change: float | None

    @classmethod
    def of(cls, s: Shift) -> ShiftPublic:
        return cls(before=MeanPublic.of(s.before), after=MeanPublic.of(s.after), change=s.change)


class ComparisonPublic(ShiftPublic):
    districts: list[str]
    chosen: str = Field(description="'given' by the office, or 'automatic'")
    how: str | None = None


class ImpactPublic(BaseModel):
    intervention: str
    metric: str
    window_days: int
    before_from: datetime
    started_at: datetime
    after_to: datetime
    area: str = Field(description="the area whose series was measured: district:<code> or nil:<id>")
    target: ShiftPublic
    comparison: ComparisonPublic
    difference_in_differences: float | None
    observations: int
    sentence: str
    language: str

    @classmethod
    def of(cls, intervention: Intervention, result: Impact, sentence: str, language: str) -> ImpactPublic:
        how = (
            f"the {len(result.comparison_areas)} districts whose mean {result.metric} in the window before the "
            "start was closest to the target's"
            if result.chosen_automatically
            else None
        )
        group = ShiftPublic.of(result.comparison)
        counts = [result.target.before, result.target.after, result.comparison.before, result.comparison.after]
        return cls(
            intervention=intervention.code,
            metric=result.metric,
            window_days=result.window_days,
            before_from=result.windows.before_from,
            started_at=result.windows.start,
            after_to=result.windows.after_to,
            area=result.area,
            target=ShiftPublic.of(result.target),
            comparison=ComparisonPublic(
                **group.model_dump(),
                districts=list(result.comparison_areas),
                chosen="automatic" if result.chosen_automatically else "given",
                how=how,
            ),
            difference_in_differences=result.estimate,
            observations=sum(m.observations for m in counts),
            sentence=sentence,
            language=language,
        )
