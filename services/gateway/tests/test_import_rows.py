"""Rows of imported files (cells as the file holds them, numbers from JSON included), recognising a
file, and a job's tally of rejected rows."""

from __future__ import annotations

import pytest
from gateway.imports.domain import REJECTED_KEPT, Outcome, RejectedRow, Row, RowError, Source, Tally, recognise
from gateway.imports.importers import IMPORTERS
from gateway.imports.importers.shops import common_fields


def test_a_zero_read_from_a_json_feature_is_a_value_not_an_empty_cell() -> None:
    row = Row(3, {"population": 0, "area_km2": 0.0, "name": "  Parco  ", "blank": "", "missing": None})
    assert row.integer("population") == 0 and row.number("area_km2") == 0.0
    assert row.text("name") == "Parco" and row.text("missing") == ""
    with pytest.raises(RowError) as error:
        row.required("blank")
    assert "'blank' is empty" in error.value.in_("en")
    assert error.value.in_("it") == str(error.value) == "colonna 'blank': è vuota"


def test_a_job_keeps_the_first_rejected_lines_in_order_and_counts_them_all() -> None:
    tally = Tally(rows_total=2000)
    for line in range(1200, 1, -1):  # rows finish out of order when several are in flight
        tally.reject(line, f"bad row {line}")
    tally.count(Outcome.CREATED)
    progress = tally.progress()
    assert progress["rejected_count"] == 1199 and progress["rows_done"] == 1200 and progress["created"] == 1
    assert [r.line for r in progress["rejected"]] == list(range(2, 2 + REJECTED_KEPT))
    assert progress["rejected"][0] == RejectedRow(2, "bad row 2")


def test_a_file_is_recognised_by_its_content_and_the_geography_comes_first() -> None:
    kiosks = Source("registro.CSV", b"\xef\xbb\xbfcod_ese;tipo_edi;status\n1;Chiosco;attiva\n")
    found = recognise(IMPORTERS, kiosks)
    assert found is not None and found.name == "kiosks"
    assert recognise(IMPORTERS, Source("spesa.csv", b"pane;latte\n1;2\n")) is None
    assert recognise(IMPORTERS, Source("rotto.geojson", b"{not json")) is None
    assert recognise(IMPORTERS, Source("registro.pdf", b"cod_ese;tipo_edi;status\n")) is None
    assert [i.name for i in IMPORTERS] == ["nil", "districts", "nil-baseline", "markets", "historic-shops", "kiosks"]


def test_a_rejected_row_is_kept_in_the_jobs_language_and_a_plain_reason_as_it_is() -> None:
    for language, expected in (
        ("it", "colonna 'cap': non è un CAP di 5 cifre: '2012'"),
        ("en", "column 'cap' is not a 5-digit postcode: '2012'"),
    ):
        tally = Tally(rows_total=3, language=language)
        row = Row(2, {"cap": "2012", "long_x_4326": "9.18", "lat_y_4326": "45.46"})
        with pytest.raises(RowError) as error:
            common_fields(row)
        tally.reject(row.line, error.value.reason)
        tally.reject(3, RowError("a reason with no translation").reason)
        assert [r.reason for r in tally.rejected] == [
            expected,
            "a reason with no translation",
        ]
