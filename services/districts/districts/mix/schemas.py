"""API shapes of the product mix."""

from __future__ import annotations

from pydantic import BaseModel, Field

from districts.mix.domain import Mix
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


class MixPublic(BaseModel):
    area: str = Field(description="district:<code> or nil:<id>")
    total: int = Field(description="active shops and kiosks in the area")
    city_total: int
    population: int | None
    threshold: float
    lines: list[MixLinePublic]
    gaps: list[Category]
    stalls: dict[str, int] = Field(description="the area's market stalls in use, by stall category (apart)")

    @classmethod
    def of(cls, area: str, mix: Mix, language: str) -> MixPublic:
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
        )
