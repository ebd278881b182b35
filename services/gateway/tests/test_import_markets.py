"""The open-data markets importer: header matching, row checks, idempotent create/update."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gateway.imports.domain import Outcome, RowError, Source, recognise
from gateway.imports.importers import IMPORTERS
from gateway.imports.importers.markets import MarketsImporter, market_fields, slug

if TYPE_CHECKING:
    from conftest import ServiceUnderImport

SAMPLE = Path(__file__).resolve().parents[4] / "shared" / "data" / "opendata" / "mcc_reference.csv"


def source(path: Path) -> Source:
    return Source(path.name, path.read_bytes())


HEADER = [
    "mcc",
    "num_box",
    "attivo",
    "note",
    "indirizzo",
    "cap",
    "municipio",
    "id_nil",
    "nil",
    "long_x_4326",
    "lat_y_4326",
    "location",
]
WAGNER = ["Wagner", "31", "SI", "", "Piazza Riccardo Wagner", "20145", "7", "68", "PAGANO", "9.158", "45.468", ""]
ROWS = [
    WAGNER,
    ["Città Studi", "", "NO", "closed", "Via Pascoli", "20133", "3", "21", "CITTA' STUDI", "", "", "(45.478, 9.226)"],
    ["Bad Municipio", "", "SI", "", "Via X", "20100", "12", "", "", "9.1", "45.4", ""],
    ["No Coordinates", "", "SI", "", "Via Y", "20100", "1", "", "", "", "", ""],
    ["Unsure", "", "forse", "", "Via Z", "20100", "1", "", "", "9.1", "45.4", ""],
    ["Bad Cap", "", "SI", "", "Via Z", "2010", "1", "", "", "9.1", "45.4", ""],
    ["Wagner", "31", "SI", "", "Piazza Wagner", "20145", "7", "68", "PAGANO", "9.158", "45.468", ""],
    ["Fractional", "3.5", "SI", "", "Via Q", "20100", "1", "", "", "9.1", "45.4", ""],
]


def write(path: Path, rows: list[list[str]], *, separator: str = ",", bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, delimiter=separator).writerows([HEADER, *rows])
    return path


def test_rows_become_market_bodies_and_bad_rows_say_why(tmp_path: Path) -> None:
    importer = MarketsImporter()
    path = source(write(tmp_path / "mercati.csv", ROWS, bom=True))
    assert importer.matches(path)
    found = recognise(IMPORTERS, path)
    assert found is not None and found.name == "markets"
    other = tmp_path / "botteghe.csv"
    other.write_text("n;targa;anno\n1;a;1900\n")
    assert not importer.matches(source(other))
    rows = list(importer.rows(path))
    wagner = market_fields(rows[0])
    assert wagner == {
        "id": "wagner",
        "name": "Mercato Comunale Coperto Wagner",
        "address": "Piazza Riccardo Wagner",
        "cap": "20145",
        "municipio": 7,
        "id_nil": 68,
        "nil": "PAGANO",
        "location": {"lon": 9.158, "lat": 45.468},
        "active": True,
        "notes": "",
        "boxes": 31,
    }
    studi = market_fields(rows[1])
    assert (studi["id"], studi["active"], studi["boxes"], studi["location"]) == (
        "citta-studi",
        False,
        None,
        {"lon": 9.226, "lat": 45.478},
    )
    reasons = {}
    for row in rows[2:]:
        with pytest.raises(RowError) as error:
            market_fields(row)
        reasons[row.line] = error.value.in_("en")
    assert "between 1 and 9" in reasons[4]
    assert "no coordinates" in reasons[5]
    assert "SI or NO" in reasons[6]
    assert "5 digits" in reasons[7]
    assert "already appears on line 2" in reasons[8]
    assert "whole number" in reasons[9]
    assert slug("Santa Maria del Suffragio") == "santa-maria-del-suffragio"
    assert slug("Fiori Cimitero Maggiore") == "fiori-cimitero-maggiore"


@pytest.mark.integration
async def test_import_creates_then_updates_then_changes_nothing(
    markets_service: ServiceUnderImport, tmp_path: Path
) -> None:
    markets = markets_service
    importer = MarketsImporter()
    api = markets.api()
    path = write(tmp_path / "mercati.csv", ROWS, separator=";")

    async def run(file: Path) -> tuple[list[Outcome], list[tuple[int, str]]]:
        outcomes, rejected = [], []
        for row in importer.rows(source(file)):
            try:
                outcomes.append(await importer.load(api, row))
            except RowError as exc:
                rejected.append((row.line, str(exc)))
        return outcomes, rejected

    outcomes, rejected = await run(path)
    assert outcomes == [Outcome.CREATED, Outcome.CREATED]
    assert [line for line, _ in rejected] == [4, 5, 6, 7, 8, 9]
    assert (await run(path))[0] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    moved = write(tmp_path / "mercati2.csv", [[*WAGNER[:1], "33", "NO", *WAGNER[3:]], ROWS[1]])
    assert (await run(moved))[0] == [Outcome.UPDATED, Outcome.UNCHANGED]
    wagner = (await markets.http.get("/markets/wagner")).json()
    assert (wagner["boxes"], wagner["active"], wagner["version"]) == (33, False, 2)
    if not SAMPLE.exists():
        pytest.skip(f"reference sample not available at {SAMPLE}")
    outcomes, rejected = await run(SAMPLE)
    assert rejected == [] and len(outcomes) == 21
    assert outcomes.count(Outcome.CREATED) == 20 and outcomes.count(Outcome.UPDATED) == 1
    again, _ = await run(SAMPLE)
    assert again == [Outcome.UNCHANGED] * 21
    listed = (await markets.http.get("/markets", params={"limit": 100})).json()
    assert listed["total"] == 22
    await api.http.aclose()
