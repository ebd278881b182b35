"""District KPIs as a GeoJSON FeatureCollection (for maps) and as CSV (for spreadsheets), from the API views."""

from __future__ import annotations

import csv
import io
from typing import Any

from shapely.geometry import mapping, shape

from districts.geography.domain import Nil
from districts.interventions.domain import Intervention
from districts.overview.schemas import DistrictDetail, NilPublic
from districts.projection.domain import KPI_NAMES

SCALARS = [name for name in KPI_NAMES if name != "services_by_type"]
# how far (in degrees, about 5 m in Milan) a NIL outline may move when simplified for a map
OUTLINE_TOLERANCE = 0.00005


# a cell starting with one of these may be run as a formula by a spreadsheet (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula: a leading apostrophe makes it a literal."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def geojson(districts: list[DistrictDetail]) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "id": d.code,
            "geometry": d.perimeter,
            "properties": {
                "code": d.code,
                "name": d.name,
                **d.kpis.model_dump(mode="json"),
                "open_alerts": len(d.open_alerts),
            },
        }
        for d in districts
    ]
    return {"type": "FeatureCollection", "features": features}


def nil_outlines(nils: list[Nil]) -> dict[str, Any]:
    """The NILs' outlines (simplified to a few metres, 6 decimals) with their id, name and population:
    the neighbourhoods a map draws under its data, without their figures."""
    features = []
    for nil in nils:
        if not nil.perimeter:
            continue
        outline = shape(nil.perimeter).simplify(OUTLINE_TOLERANCE, preserve_topology=True)
        features.append(
            {
                "type": "Feature",
                "id": nil.id,
                "geometry": _rounded(mapping(outline)),
                "properties": {"id": nil.id, "name": nil.name, "population": nil.population},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _rounded(geometry: Any) -> Any:
    if isinstance(geometry, dict):
        return {key: _rounded(value) for key, value in geometry.items()}
    if isinstance(geometry, list | tuple):
        return [_rounded(value) for value in geometry]
    return round(geometry, 6) if isinstance(geometry, float) else geometry


def csv_text(districts: list[DistrictDetail]) -> str:
    """One row per district; one ``services.<type>`` column per service type offered anywhere."""
    service_types = sorted({t for d in districts for t in d.kpis.services_by_type})
    out = io.StringIO()
    # CRLF as RFC 4180 says: the writer then quotes any cell holding a \r or \n, so a name cannot split a row
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["code", "name", *SCALARS, *(f"services.{t}" for t in service_types), "open_alerts"])
    for d in districts:
        values = d.kpis.model_dump(mode="json")
        writer.writerow(
            [
                d.code,
                cell(d.name),
                *("" if values[name] is None else values[name] for name in SCALARS),
                *(d.kpis.services_by_type.get(t, 0) for t in service_types),
                len(d.open_alerts),
            ]
        )
    return out.getvalue()


def blank(value: object) -> object:
    return "" if value is None else value


def nils_csv_text(nils: list[NilPublic]) -> str:
    """One row per NIL: its id, name, population, area and the scalar KPIs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "name", "population", "area_km2", *(n for n in SCALARS if n != "population")])
    for nil in nils:
        values = nil.kpis.model_dump(mode="json")
        writer.writerow(
            [
                nil.id,
                cell(nil.name),
                nil.population,
                blank(nil.area_km2),
                *(blank(values[n]) for n in SCALARS if n != "population"),
            ]
        )
    return out.getvalue()


def services_csv_text(districts: list[DistrictDetail]) -> str:
    """One row per district and service type offered there: how many businesses offer it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["district", "district_name", "service", "businesses"])
    for d in districts:
        for service, count in sorted(d.kpis.services_by_type.items()):
            writer.writerow([d.code, cell(d.name), cell(service), count])
    return out.getvalue()


def interventions_csv_text(interventions: list[Intervention]) -> str:
    """One row per intervention; the comparison districts separated by spaces."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "title", "kind", "target_type", "target_id", "started_at", "comparison"])
    for i in interventions:
        target = [i.target.type.value, i.target.id]
        writer.writerow(
            [i.code, cell(i.title), i.kind.value, *target, i.started_at.isoformat(), " ".join(i.comparison)]
        )
    return out.getvalue()
