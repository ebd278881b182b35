"""Perimeter validation and point placement, on small shapes and on the real NIL file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from districts.geography.domain import DistrictShape, GeometryError, Locator, NilShape, parse_perimeter

OPENDATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "opendata"
SQUARE = [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]


@pytest.mark.parametrize(
    ("kind", "coordinates", "where", "message"),
    [
        ("Polygon", [SQUARE[:-1]], ".coordinates.0", "not closed"),
        ("Polygon", [[[0, 0], [1, 1], [0, 0]]], ".coordinates.0", "at least 4"),
        ("Polygon", [[[0, 0], [200, 0], [2, 2], [0, 0]]], ".coordinates.0.1", "longitude"),
        ("Polygon", [[[0, 0], [1, -91], [2, 2], [0, 0]]], ".coordinates.0.1", "latitude"),
        ("Polygon", [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]], ".coordinates", "Self-intersection"),
        ("Polygon", [[[0, 0], [1, 0], [2, 0], [0, 0]]], ".coordinates", "Self-intersection"),
        ("Polygon", [], ".coordinates", "outer ring"),
        ("MultiPolygon", [], ".coordinates", "at least one"),
        ("MultiPolygon", [[SQUARE], [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]], ".coordinates.1", "Self-inter"),
        ("Point", [1, 2], ".type", "Polygon or MultiPolygon"),
    ],
)
def test_bad_perimeters_say_where_and_why(kind: str, coordinates: Any, where: str, message: str) -> None:
    with pytest.raises(GeometryError) as caught:
        parse_perimeter(kind, coordinates)
    assert caught.value.where == where and message in caught.value.message.en


def test_multipolygon_parts_may_share_borders_and_holes_are_outside() -> None:
    right = [[2, 0], [4, 0], [4, 2], [2, 2], [2, 0]]
    hole = [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1], [0.5, 0.5]]
    area = parse_perimeter("MultiPolygon", [[SQUARE, hole], [right]])
    locator = Locator(1, [DistrictShape("d", area)], [])
    assert locator.place(3, 1).districts == ("d",) and locator.place(0.75, 0.75).districts == ()
    assert locator.place(2, 1).districts == ("d",), "a point on a border belongs to the area"


def test_overlapping_districts_and_population_share() -> None:
    left = NilShape(1, 1000, parse_perimeter("Polygon", [SQUARE]))
    right = NilShape(2, 500, parse_perimeter("Polygon", [[[2, 0], [4, 0], [4, 2], [2, 2], [2, 0]]]))
    half_and_half = parse_perimeter("Polygon", [[[1, 0], [3, 0], [3, 2], [1, 2], [1, 0]]])
    locator = Locator(3, [DistrictShape("a", half_and_half), DistrictShape("b", left.geometry)], [left, right])
    assert locator.populations == {"a": 750, "b": 1000}
    placed = locator.place_many([(1.5, 1), (3.5, 1), (9, 9)])
    assert [(p.districts, p.nil) for p in placed] == [(("a", "b"), 1), ((), 2), ((), None)]
    assert locator.nil_population(2) == 500 and locator.nil_population(9) is None


def _features(name: str) -> list[dict[str, Any]]:
    path = OPENDATA / name
    if not path.exists():
        pytest.skip(f"real open data not available: {path}")
    features: list[dict[str, Any]] = json.loads(path.read_text())["features"]
    return features


def test_every_historic_shop_lies_in_the_nil_its_register_row_names() -> None:
    nils = [
        NilShape(
            f["properties"]["id_nil"],
            f["properties"]["population"],
            parse_perimeter(f["geometry"]["type"], f["geometry"]["coordinates"]),
        )
        for f in _features("nil.geojson")
    ]
    districts = [
        DistrictShape(f["properties"]["code"], parse_perimeter(f["geometry"]["type"], f["geometry"]["coordinates"]))
        for f in _features("duc_approx.geojson")
    ]
    register = OPENDATA / "ds290_botteghe_storiche.csv"
    if not register.exists():
        pytest.skip(f"real open data not available: {register}")
    rows = list(csv.DictReader(register.open(encoding="utf-8-sig"), delimiter=";"))
    locator = Locator(1, districts, nils)
    placements = locator.place_many([(float(r["long_x_4326"]), float(r["lat_y_4326"])) for r in rows])
    misplaced = [
        (r["n"], r["id_nil"], p.nil) for r, p in zip(rows, placements, strict=True) if str(p.nil) != r["id_nil"]
    ]
    assert len(rows) == 626 and misplaced == []
    brera_active = sum(
        1 for r, p in zip(rows, placements, strict=True) if r["stato"] == "attiva" and "brera" in p.districts
    )
    assert brera_active == sum(1 for r in rows if r["stato"] == "attiva" and r["id_nil"] == "2")
    assert locator.populations["brera"] == next(n.population for n in nils if n.id == 2)


def test_a_bad_perimeter_is_explained_in_italian_and_in_english() -> None:
    with pytest.raises(GeometryError) as caught:
        parse_perimeter("Polygon", [[[0, 0], [1, 0], [1, 1], [0, 1]]])
    assert caught.value.message.it == "l'anello non è chiuso: l'ultima posizione deve ripetere la prima"
    assert caught.value.message.en == "the ring is not closed: its last position must repeat the first"
