"""Importers of the official geography, recognised by content: NIL polygons and district perimeters.

Both read GeoJSON FeatureCollections. A NIL file has features with ``id_nil``, ``nil``,
``population`` (and ``area_km2``); a district file has features with ``code`` and ``name``. A row is
a feature (its ``line`` is the feature's position, from 1). Each import compares with what the
platform holds and writes only what changed, so re-importing reports "unchanged".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from gateway.imports.domain import Api, Outcome, Row, RowError, Source, has_columns, read_table
from shared.i18n import Said

SUFFIXES = {".geojson", ".json"}
# the districts API's rule for a code (districts.geography.schemas.Code): it must hold before it goes into a URL
CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CODE_MAX_LENGTH = 64
# the figures of a NIL's baseline, as the districts API names them (districts.mix.domain.BASELINE_FIGURES)
BASELINE_FIGURES = ("neighbourhood_shops", "bars_restaurants", "historic_shops", "newsstands", "large_retail")


def _code(row: Row) -> str:
    """The district code, checked against the API's own rule before it goes into a URL."""
    code = row.required("code")
    if len(code) > CODE_MAX_LENGTH or CODE.fullmatch(code) is None:
        shown = code[:80]
        raise RowError(
            Said(
                f"colonna 'code': non è un codice di distretto (lettere minuscole e cifre unite da trattini): {shown!r}",
                f"column 'code' is not a district code (lower-case letters and digits joined by hyphens): {shown!r}",
            )
        )
    return code


def _features(source: Source) -> list[dict[str, Any]]:
    try:
        data = json.loads(source.text)
    except ValueError as exc:
        raise RowError(
            Said(f"il file non è un JSON leggibile: {exc}", f"the file is not readable JSON: {exc}")
        ) from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise RowError(Said("il file non è una FeatureCollection GeoJSON", "not a GeoJSON FeatureCollection"))
    return [f for f in features if isinstance(f, dict)]


def _perimeter(row: Row) -> dict[str, Any]:
    geometry = row.data.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise RowError(
            Said(
                "la geometria dell'elemento non è un Polygon o un MultiPolygon",
                "the feature's geometry is not a Polygon or MultiPolygon",
            )
        )
    return {"type": geometry["type"], "coordinates": geometry.get("coordinates")}


class _GeoJsonImporter:
    properties: tuple[str, ...] = ()

    def matches(self, source: Source) -> bool:
        if source.suffix not in SUFFIXES:
            return False
        try:
            features = _features(source)
        except RowError:
            return False
        first = features[0].get("properties") if features else None
        return isinstance(first, dict) and all(p in first for p in self.properties)

    def rows(self, source: Source) -> Iterator[Row]:
        for number, feature in enumerate(_features(source), start=1):
            properties = feature.get("properties")
            yield Row(
                number, {**(properties if isinstance(properties, dict) else {}), "geometry": feature.get("geometry")}
            )


class NilImporter(_GeoJsonImporter):
    name = "nil"
    description = Said(
        "Quartieri NIL (Nuclei di Identità Locale): perimetri e popolazione",
        "NIL neighbourhoods (Nuclei di Identità Locale): polygons and population",
    )
    priority = 5
    properties = ("id_nil", "nil", "population")

    async def load(self, api: Api, row: Row) -> Outcome:
        body = {
            "id": row.integer("id_nil"),
            "name": row.required("nil"),
            "population": row.integer("population"),
            "area_km2": row.number("area_km2", required=False),
            "perimeter": _perimeter(row),
        }
        current = await api.get(f"/nils/{body['id']}", ok=(404,))
        if current["_status"] == 200 and all(current.get(k) == v for k, v in body.items()):
            return Outcome.UNCHANGED
        await api.post("/nils", json=body)
        return Outcome.CREATED if current["_status"] == 404 else Outcome.UPDATED


class DistrictImporter(_GeoJsonImporter):
    name = "districts"
    description = Said("Perimetri dei Distretti Urbani del Commercio (DUC)", "Urban Commerce District (DUC) perimeters")
    priority = 6
    properties = ("code", "name")

    async def load(self, api: Api, row: Row) -> Outcome:
        code = _code(row)
        body = {"name": row.required("name"), "perimeter": _perimeter(row)}
        current = await api.get(f"/districts/{quote(code, safe='')}", ok=(404,))
        if current["_status"] == 404:
            await api.post("/districts", json={"code": code, **body})
            return Outcome.CREATED
        if all(current.get(k) == v for k, v in body.items()):
            return Outcome.UNCHANGED
        await api.put(f"/districts/{quote(code, safe='')}", json=body, headers={"If-Match": f'"{current["version"]}"'})
        return Outcome.UPDATED


class BaselineImporter:
    """The city's per-NIL commerce counts (nil_commerce_baseline.csv): each NIL's reference snapshot,
    shown beside the live product mix. Runs after the NILs, which it needs."""

    name = "nil-baseline"
    description = Said(
        "Conteggi di riferimento del commercio per NIL (negozi di vicinato, bar, botteghe storiche, edicole)",
        "Reference commerce counts per NIL (neighbourhood shops, bars, historic shops, newsstands)",
    )
    priority = 7
    columns = ("id_nil", "population", *BASELINE_FIGURES)

    def matches(self, source: Source) -> bool:
        return has_columns(source, *self.columns)

    def rows(self, source: Source) -> Iterator[Row]:
        yield from read_table(source)

    async def load(self, api: Api, row: Row) -> Outcome:
        nil_id = row.integer("id_nil")
        body: dict[str, Any] = {name: row.integer(name) for name in ("population", *BASELINE_FIGURES)}
        negative = [name for name, value in body.items() if value is not None and value < 0]
        if negative:
            raise RowError(Said(f"colonna {negative[0]!r}: è negativa", f"column {negative[0]!r} is negative"))
        body["source"] = "nil_commerce_baseline.csv"
        current = await api.get(f"/nils/{nil_id}/mix", ok=(404,))
        if current["_status"] == 404:
            raise RowError(
                Said(
                    f"il NIL {nil_id} non è sulla piattaforma: importare prima il file dei NIL",
                    f"NIL {nil_id} is not on the platform: import the NIL file first",
                )
            )
        before = current.get("baseline")
        if (
            before
            and before["population"] == body["population"]
            and before["counts"] == {name: body[name] for name in BASELINE_FIGURES}
        ):
            return Outcome.UNCHANGED
        await api.put(f"/nils/{nil_id}/baseline", json=body)
        return Outcome.CREATED if before is None else Outcome.UPDATED
