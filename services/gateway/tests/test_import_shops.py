"""Register importers: reading rows, rejecting bad ones by line, and importing through the API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gateway.imports.domain import Outcome, RowError, Source, Tally
from gateway.imports.importers.shops import HistoricShopsImporter, KiosksImporter
from gateway.imports.service import load_rows

if TYPE_CHECKING:
    from conftest import ServiceUnderImport

REGISTER = Path(__file__).resolve().parents[4] / "shared" / "data" / "opendata" / "ds290_botteghe_storiche.csv"
HISTORIC_HEADER = (
    "n;targa;genere_merceologico;anno;stato;indirizzo;cap;municipio;id_nil;nil;long_x_4326;lat_y_4326;location"
)
HISTORIC_ROWS = [
    "1;Antica Drogheria;Drogheria;1921;attiva;Via Borsieri 14;20159;9;11;ISOLA;9.1893;45.4887;(45.4887, 9.1893)",
    "2;Cappelleria;Cappelli;1932;cessata;Corso di Porta Ticinese 58;20123;1;6;PORTA TICINESE;;;(45.4571, 9.1816)",
    "3;Senza Stato;Merceria;1950;chissà;Via Torino 1;20123;1;1;DUOMO;9.18;45.46;",
    "4;Senza Luogo;Merceria;1950;attiva;Via Torino 2;20123;1;1;DUOMO;;;",
    "5;CAP Strano;Merceria;1950;attiva;Via Torino 3;2012;1;1;DUOMO;9.18;45.46;",
    "6;Dal Futuro;Merceria;3020;attiva;Via Torino 4;20123;1;1;DUOMO;9.18;45.46;",
    "7;;Merceria;1950;attiva;Via Torino 5;20123;1;1;DUOMO;9.18;45.46;",
    "1;Antica Drogheria (bis);Drogheria;1921;attiva;Via Borsieri 14;20159;9;11;ISOLA;9.1893;45.4887;",
]


def write(tmp_path: Path, name: str, lines: list[str], *, bom: bool = False) -> Source:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + ("\n".join(lines) + "\n").encode())
    return Source(path.name, path.read_bytes())


def test_historic_rows_map_to_shops_and_bad_rows_say_why(tmp_path: Path) -> None:
    path = write(tmp_path, "botteghe.csv", [HISTORIC_HEADER, *HISTORIC_ROWS], bom=True)
    importer = HistoricShopsImporter()
    assert importer.matches(path) and not KiosksImporter().matches(path)
    outcomes: dict[int, str] = {}
    for row in importer.rows(path):
        try:
            shop_id, body = importer.body(row)
            outcomes[row.line] = f"{shop_id} {body['status']} {body['location']}"
        except RowError as exc:
            outcomes[row.line] = f"rejected: {exc.in_('en')}"
    assert outcomes[2] == "bs-1 active {'lon': 9.1893, 'lat': 45.4887}"
    assert outcomes[3] == "bs-2 closed {'lon': 9.1816, 'lat': 45.4571}", "coordinates from the location column"
    assert "not attiva/cessata" in outcomes[4]
    assert "no coordinates" in outcomes[5]
    assert "postcode" in outcomes[6]
    assert "founding year" in outcomes[7]
    assert "'targa' is empty" in outcomes[8]
    assert outcomes[9] == "rejected: bs-1 repeats line 2; only the first is imported"


def test_kiosk_register_with_commas_and_extra_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "edicole.csv",
        [
            "cod_ese,tipo_edi,status,indirizzo,cap,municipio,id_nil,nil,long_x_4326,lat_y_4326,location,orari",
            "1042,Chiosco,attiva,Piazzale Segrino,20159,9,11,ISOLA,9.1903,45.4899,,6-20",
            "1043,Chiosco,cessata,Via Padova 20,20127,2,20,NOLO,9.2178,45.4879,,",
        ],
    )
    importer = KiosksImporter()
    assert importer.matches(path) and not HistoricShopsImporter().matches(path)
    bodies = [importer.body(row) for row in importer.rows(path)]
    assert [(shop_id, body["kind"], body["status"]) for shop_id, body in bodies] == [
        ("ed-1042", "kiosk", "active"),
        ("ed-1043", "kiosk", "closed"),
    ]
    assert bodies[0][1]["name"] == "Edicola 1042" and bodies[0][1]["trade"] == "Chiosco"


async def run_import(service: ServiceUnderImport, importer: HistoricShopsImporter, path: Source) -> Tally:
    """A file's rows through the API, eight in flight, as an import job loads them."""
    rows = list(importer.rows(path))
    tally = Tally(len(rows))
    async with service.api() as api:
        await load_rows(importer, api, rows, tally, concurrency=8)
    return tally


@pytest.mark.integration
async def test_import_through_the_api_is_idempotent(shops_service: ServiceUnderImport, tmp_path: Path) -> None:
    service = shops_service
    path = write(tmp_path, "botteghe.csv", [HISTORIC_HEADER, *HISTORIC_ROWS])
    first = await run_import(service, HistoricShopsImporter(), path)
    assert first.outcomes[Outcome.CREATED] == 2 and [r.line for r in first.rejected] == [4, 5, 6, 7, 8, 9]
    again = await run_import(service, HistoricShopsImporter(), path)
    assert again.outcomes[Outcome.UNCHANGED] == 2 and again.outcomes[Outcome.CREATED] == 0
    changed = write(tmp_path, "botteghe.csv", [HISTORIC_HEADER, HISTORIC_ROWS[0].replace("attiva", "cessata")])
    third = await run_import(service, HistoricShopsImporter(), changed)
    assert third.outcomes[Outcome.UPDATED] == 1
    shop = (await service.http.get("/shops/bs-1")).json()
    assert shop["status"] == "closed" and shop["source"] == {"dataset": "ds290_botteghe_storiche", "record": "1"}
    assert shop["kind"] == "historic" and shop["version"] == 2 and shop["status_changed_at"]


@pytest.mark.integration
@pytest.mark.skipif(not REGISTER.exists(), reason=f"the real register is not at {REGISTER}")
async def test_the_real_register_imports_506_active_historic_shops(shops_service: ServiceUnderImport) -> None:
    service = shops_service
    register = Source(REGISTER.name, REGISTER.read_bytes())
    started = time.perf_counter()
    report = await run_import(service, HistoricShopsImporter(), register)
    elapsed = time.perf_counter() - started
    rows = report.rows_total
    print(f"\nimported {rows} rows in {elapsed:.2f} s ({rows / elapsed:.0f} rows/s), 8 in flight")
    assert rows == 626 and report.outcomes[Outcome.CREATED] == 626 and not report.rejected
    active = (await service.http.get("/shops", params={"kind": "historic", "status": "active"})).json()
    assert active["total"] == 506
    closed = (await service.http.get("/shops", params={"kind": "historic", "status": "closed"})).json()
    assert closed["total"] == 120
    started = time.perf_counter()
    again = await run_import(service, HistoricShopsImporter(), register)
    print(f"re-imported in {time.perf_counter() - started:.2f} s: {again.outcomes}")
    assert again.outcomes[Outcome.UNCHANGED] == 626
