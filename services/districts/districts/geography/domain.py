"""The city's geography: districts and NILs, their GeoJSON perimeters, and point placement.

Membership is decided by shapely's predicates over an STRtree spatial index (a point on a border
belongs to every area it touches; NILs partition the city, so the lowest id wins there). A district's
population is the sum of its NILs' populations weighted by the share of each NIL's area it covers,
which assumes people are spread evenly within a NIL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely import Point, Polygon, STRtree
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from shared.i18n import Said

RESERVED_CODES = frozenset({"rebuild"})
Perimeter = Mapping[str, Any]
"""A GeoJSON Polygon or MultiPolygon, as given and as served."""


@dataclass(frozen=True)
class District:
    """An Urban Commerce District (DUC); ``perimeter`` is None when it was not loaded."""

    code: str
    name: str
    version: int
    updated_at: datetime
    perimeter: Perimeter | None = None


@dataclass(frozen=True)
class Nil:
    """A NIL (Nucleo di Identità Locale) of the official file, with its resident population."""

    id: int
    name: str
    population: int
    area_km2: float | None
    updated_at: datetime | None = None
    perimeter: Perimeter | None = None

    def same_as(self, other: Nil) -> bool:
        """Equal in everything but the time of the last change."""
        return (self.name, self.population, self.area_km2, self.perimeter) == (
            other.name,
            other.population,
            other.area_km2,
            other.perimeter,
        )


class GeometryError(ValueError):
    """A perimeter that is not a usable GeoJSON polygon; ``where`` is the path inside it."""

    def __init__(self, where: str, message: Said) -> None:
        super().__init__(message.en)
        self.where = where
        self.message = message


def _check_position(position: Sequence[Any], where: str) -> tuple[float, float]:
    if len(position) < 2:
        raise GeometryError(
            where, Said("una posizione è [longitudine, latitudine]", "a position is [longitude, latitude]")
        )
    lon, lat = position[0], position[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (lon, lat)):
        raise GeometryError(
            where, Said("le coordinate devono essere numeri finiti", "coordinates must be finite numbers")
        )
    if not -180 <= lon <= 180:
        raise GeometryError(
            where, Said(f"la longitudine {lon} è fuori da -180..180", f"longitude {lon} is outside -180..180")
        )
    if not -90 <= lat <= 90:
        raise GeometryError(
            where, Said(f"la latitudine {lat} è fuori da -90..90", f"latitude {lat} is outside -90..90")
        )
    return float(lon), float(lat)


def _ring(ring: Sequence[Sequence[Any]], where: str) -> list[tuple[float, float]]:
    points = [_check_position(p, f"{where}.{i}") for i, p in enumerate(ring)]
    if len(points) < 4:
        raise GeometryError(
            where,
            Said(
                "un anello ha almeno 4 posizioni, l'ultima uguale alla prima",
                "a ring needs at least 4 positions, the last repeating the first",
            ),
        )
    if points[0] != points[-1]:
        raise GeometryError(
            where,
            Said(
                "l'anello non è chiuso: l'ultima posizione deve ripetere la prima",
                "the ring is not closed: its last position must repeat the first",
            ),
        )
    return points


def _polygon(rings: Sequence[Sequence[Sequence[Any]]], where: str) -> Polygon:
    if not rings:
        raise GeometryError(
            where, Said("un poligono ha bisogno del suo anello esterno", "a polygon needs its outer ring")
        )
    shell, *holes = (_ring(r, f"{where}.{i}") for i, r in enumerate(rings))
    return Polygon(shell, holes)


def _valid_polygon(rings: Sequence[Sequence[Sequence[Any]]], where: str) -> Polygon:
    polygon = _polygon(rings, where)
    if not polygon.is_valid:
        reason = explain_validity(polygon)
        raise GeometryError(where, Said(f"non è un poligono valido: {reason}", f"not a valid polygon: {reason}"))
    return polygon


def parse_perimeter(kind: str, coordinates: Sequence[Any]) -> BaseGeometry:
    """A shapely geometry from a GeoJSON Polygon or MultiPolygon, or a :class:`GeometryError`.

    Each polygon must be valid on its own; the parts of a MultiPolygon may share borders (districts
    assembled from neighbouring NILs do), and the district is their union.
    """
    if kind == "Polygon":
        return _valid_polygon(coordinates, ".coordinates")
    if kind == "MultiPolygon":
        if not coordinates:
            raise GeometryError(
                ".coordinates",
                Said("un MultiPolygon ha almeno un poligono", "a MultiPolygon needs at least one polygon"),
            )
        parts = [_valid_polygon(p, f".coordinates.{i}") for i, p in enumerate(coordinates)]
        return shapely.union_all(parts)
    raise GeometryError(
        ".type",
        Said(
            "il perimetro deve essere un Polygon o un MultiPolygon GeoJSON",
            "the perimeter must be a GeoJSON Polygon or MultiPolygon",
        ),
    )


def shape_of(perimeter: Perimeter) -> BaseGeometry:
    return parse_perimeter(perimeter["type"], perimeter["coordinates"])


@dataclass(frozen=True)
class DistrictShape:
    """A district's perimeter as one shapely geometry (the union of its parts)."""

    code: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class NilShape:
    id: int
    population: int
    geometry: BaseGeometry
    name: str = ""


@dataclass(frozen=True)
class Placement:
    districts: tuple[str, ...]
    nil: int | None


class Locator:
    """Which districts and which NIL a point lies in, for one version of the geography."""

    def __init__(self, version: int, districts: Sequence[DistrictShape], nils: Sequence[NilShape]) -> None:
        self.version = version
        self.districts = sorted(districts, key=lambda d: d.code)
        self.nils = sorted(nils, key=lambda n: n.id)
        self._district_tree = STRtree([d.geometry for d in self.districts])
        self._nil_tree = STRtree([n.geometry for n in self.nils])
        self.populations = {d.code: self._population(d.geometry) for d in self.districts}

    @property
    def district_codes(self) -> list[str]:
        return [d.code for d in self.districts]

    @property
    def nil_ids(self) -> list[int]:
        return [n.id for n in self.nils]

    def nil_named(self, name: str) -> int | None:
        """The NIL called ``name`` (as producers write it: any case, spaces around), if the geography has it."""
        wanted = " ".join(name.split()).casefold()
        return next((n.id for n in self.nils if wanted and " ".join(n.name.split()).casefold() == wanted), None)

    def nil_population(self, nil_id: int) -> int | None:
        return next((n.population for n in self.nils if n.id == nil_id), None)

    def nil_shares(self, code: str) -> dict[int, float]:
        """For the district ``code``: the share (0 to 1] of each NIL's area that lies inside it."""
        district = next((d for d in self.districts if d.code == code), None)
        return {} if district is None else self._shares(district.geometry)

    def _shares(self, geometry: BaseGeometry) -> dict[int, float]:
        shares: dict[int, float] = {}
        for index in self._nil_tree.query(geometry, predicate="intersects"):
            nil = self.nils[int(index)]
            if nil.geometry.area > 0:
                shares[nil.id] = shapely.intersection(geometry, nil.geometry).area / nil.geometry.area
        return shares

    def _population(self, geometry: BaseGeometry) -> int | None:
        shares = self._shares(geometry)
        if not shares:
            return None
        by_id = {n.id: n.population for n in self.nils}
        return round(sum(by_id[nil_id] * share for nil_id, share in shares.items()))

    def place(self, lon: float, lat: float) -> Placement:
        return self.place_many([(lon, lat)])[0]

    def place_many(self, points: Sequence[tuple[float, float]]) -> list[Placement]:
        """Placements of many points with two vectorised index queries."""
        if not points:
            return []
        geometries = [Point(lon, lat) for lon, lat in points]
        districts: list[set[str]] = [set() for _ in points]
        nils: list[int | None] = [None] * len(points)
        if self.districts:
            source, target = self._district_tree.query(geometries, predicate="intersects")
            for s, t in zip(source.tolist(), target.tolist(), strict=True):
                districts[s].add(self.districts[t].code)
        if self.nils:
            source, target = self._nil_tree.query(geometries, predicate="intersects")
            for s, t in zip(source.tolist(), target.tolist(), strict=True):
                nil_id = self.nils[t].id
                current = nils[s]
                nils[s] = nil_id if current is None else min(current, nil_id)
        return [Placement(tuple(sorted(d)), n) for d, n in zip(districts, nils, strict=True)]
