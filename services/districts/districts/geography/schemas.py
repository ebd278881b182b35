"""What the geography API reads: district and NIL definitions (strict: no stray fields, no operators)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from districts.geography.domain import Nil

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Position = Annotated[list[Coordinate], Field(min_length=2, max_length=3)]
Ring = Annotated[list[Position], Field(min_length=4, max_length=20_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolygonIn(_Strict):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1, max_length=1000)]


class MultiPolygonIn(_Strict):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1)]], Field(min_length=1, max_length=1000)]


Perimeter = Annotated[PolygonIn | MultiPolygonIn, Field(discriminator="type")]


class DistrictCreate(_Strict):
    code: Code
    name: Name
    perimeter: Perimeter


class DistrictUpdate(_Strict):
    name: Name
    perimeter: Perimeter


class NilCreate(_Strict):
    """A NIL of the official file; posting it again replaces it."""

    id: int = Field(ge=1, le=100_000, description="id_nil of the official NIL file")
    name: Name
    population: int = Field(ge=0)
    area_km2: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    perimeter: Perimeter

    def to_domain(self) -> Nil:
        return Nil(self.id, self.name, self.population, self.area_km2, perimeter=self.perimeter.model_dump())
