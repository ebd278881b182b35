"""API shapes of the product mix."""

from __future__ import annotations

from pydantic import BaseModel, Field

from districts.mix.domain import Baseline, Mix
from shared.categories import LABELS, Category


class MixLinePublic(BaseModel):
    category: Category
    label: str = Field(description="the category's name in the language asked for")
    count: int
    share: float | None = Field(description="of the area's active shops and kiosks; null when it has none")
    city_count: int
    city_share: float | None = Field(description="of every active shop and kiosk of the city")
    quotient: float | None = Field(description="location quotient: share ÷ city share")
    per_10000: float | None = Field(description="per 10,000 residents; null without a population")
    gap: bool = Field(description="the city has this category and the area's quotient is below the threshold")


class BaselineBody(BaseModel):
    """A NIL's reference counts from the city's open data (nil_commerce_baseline.csv)."""

    model_config = {"extra": "forbid"}

    population: int = Field(ge=0, le=10_000_000)
    neighbourhood_shops: int = Field(ge=0, le=1_000_000)
    bars_restaurants: int = Field(ge=0, le=1_000_000)
    historic_shops: int = Field(ge=0, le=1_000_000)
    newsstands: int = Field(ge=0, le=1_000_000)
    large_retail: int = Field(ge=0, le=1_000_000)
    source: str = Field(default="", max_length=200, description="the file or dataset it comes from")

    def to_domain(self, nil_id: int) -> Baseline:
        return Baseline(nil=nil_id, **self.model_dump())


class BaselinePublic(BaseModel):
    nil: int | None = Field(description="the NIL; null for the city (every NIL summed)")
    population: int
    counts: dict[str, int]
    per_10000: dict[str, float | None]
    source: str

    @classmethod
    def of(cls, baseline: Baseline | None) -> BaselinePublic | None:
        if baseline is None:
            return None
        return cls(
            nil=baseline.nil or None,
            population=baseline.population,
            counts=baseline.counts(),
            per_10000=baseline.per_10000(),
            source=baseline.source,
        )


class MixPublic(BaseModel):
    area: str = Field(description="district:<code> or nil:<id>")
    total: int = Field(description="active shops and kiosks in the area")
    city_total: int
    population: int | None
    threshold: float
    lines: list[MixLinePublic]
    gaps: list[Category]
    stalls: dict[str, int] = Field(description="the area's market stalls in use, by stall category (apart)")
    baseline: BaselinePublic | None = Field(
        default=None,
        description="the area's reference snapshot: a NIL's as imported; a district's from the NILs it covers, "
        "each weighted by the share of its area inside the district (null when none of them has one)",
    )
    city_baseline: BaselinePublic | None = Field(default=None, description="every imported NIL's snapshot summed")

    @classmethod
    def of(
        cls, area: str, mix: Mix, language: str, baselines: tuple[Baseline | None, Baseline | None] = (None, None)
    ) -> MixPublic:
        lines = [
            MixLinePublic.model_validate({**vars(line), "label": LABELS[line.category].in_(language)})
            for line in mix.lines
        ]
        return cls(
            area=area,
            total=mix.total,
            city_total=mix.city_total,
            population=mix.population,
            threshold=mix.threshold,
            lines=lines,
            gaps=list(mix.gaps),
            stalls=dict(mix.stalls),
            baseline=BaselinePublic.of(baselines[0]),
            city_baseline=BaselinePublic.of(baselines[1]),
        )
