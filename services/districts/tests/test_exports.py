"""The CSV export never hands a spreadsheet a cell it would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from districts.overview.exports import csv_text
from districts.overview.schemas import DistrictDetail
from districts.projection.schemas import KpisPublic, VitalityPublic

# each starts a cell a spreadsheet may evaluate (OWASP "CSV injection": = + - @ tab carriage return)
DANGEROUS = ['=HYPERLINK("http://x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]


def _district(code: str, name: str) -> DistrictDetail:
    return DistrictDetail(
        code=code,
        name=name,
        version=1,
        kpis=KpisPublic(),
        vitality=VitalityPublic(index=None, components=[]),
        open_alerts=[],
        updated_at=datetime(2026, 12, 1, tzinfo=UTC),
        perimeter={"type": "Polygon", "coordinates": []},
    )


def test_names_that_start_like_a_formula_are_exported_as_literal_text() -> None:
    districts = [_district(f"d-{n}", name) for n, name in enumerate(DANGEROUS)]
    rows = list(csv.DictReader(io.StringIO(csv_text(districts), newline="")))
    assert [row["name"] for row in rows] == [f"'{name}" for name in DANGEROUS]


def test_ordinary_names_are_left_alone() -> None:
    rows = list(csv.DictReader(io.StringIO(csv_text([_district("isola", "Isola - Garibaldi")]))))
    assert rows[0]["name"] == "Isola - Garibaldi" and rows[0]["code"] == "isola"
