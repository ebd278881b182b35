"""Rows of imported files: cells as the file holds them, numbers from JSON included."""

from __future__ import annotations

import pytest

from devkit.importing import Row, RowError


def test_a_zero_read_from_a_json_feature_is_a_value_not_an_empty_cell() -> None:
    row = Row(3, {"population": 0, "area_km2": 0.0, "name": "  Parco  ", "blank": "", "missing": None})
    assert row.integer("population") == 0 and row.number("area_km2") == 0.0
    assert row.text("name") == "Parco" and row.text("missing") == ""
    with pytest.raises(RowError, match="'blank' is empty"):
        row.required("blank")
