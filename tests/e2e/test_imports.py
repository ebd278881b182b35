"""Open-data imports as the office does them: upload a file to the gateway and follow its job, on the
whole platform as real processes (the job writes through the gateway to the real shops service)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from devkit import cli
from devkit.stack.components import ROOT
from devkit.testing import Platform, unique
from shared.identity import Principal, Role

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
API = "/api/v1"
REGISTER = ROOT.parent / "shared" / "data" / "opendata" / "ds290_botteghe_storiche.csv"
KIOSK_HEADER = "cod_ese;tipo_edi;status;indirizzo;cap;municipio;id_nil;nil;long_x_4326;lat_y_4326;location"
LIMIT = 20 * 1024 * 1024


@pytest.fixture
async def client(platform: Platform) -> Any:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=60) as client:
        yield client


@pytest.fixture
async def office(client: httpx.AsyncClient) -> dict[str, str]:
    """The demo office account, logged in: the job acts as the account that uploaded the file."""
    login = await client.post(f"{API}/auth/token", data={"username": "office", "password": "office-demo"})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def finished(client: httpx.AsyncClient, office: dict[str, str], location: str, timeout_s: float) -> Any:
    """The job at ``location`` once it has finished, with every state it was seen in."""
    deadline, seen = time.monotonic() + timeout_s, []
    while True:
        answer = await client.get(location, headers=office)
        if answer.status_code == 503:  # the database busy for a moment: asked again, as the data page does
            assert time.monotonic() < deadline, f"the import's job still unavailable after {timeout_s} s"
            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
            continue
        assert answer.status_code == 200, answer.text
        job = answer.json()
        if not seen or seen[-1] != job["state"]:
            seen.append(job["state"])
        if job["state"] in ("done", "failed", "interrupted"):
            return job, seen
        assert time.monotonic() < deadline, f"the import is still {job['state']} after {timeout_s} s: {job}"
        await asyncio.sleep(0.2)


async def test_a_kiosk_register_with_bad_rows_is_imported_and_its_bad_rows_reported(
    client: httpx.AsyncClient, office: dict[str, str]
) -> None:
    first, second = unique("k"), unique("k")
    register = "\n".join(
        [
            KIOSK_HEADER,
            f"{first};Chiosco;attiva;Piazzale Segrino;20159;9;11;ISOLA;9.1903;45.4899;",
            f"{second};Chiosco;cessata;Via Padova 20;20127;2;20;NOLO;9.2178;45.4879;",
            f"{unique('k')};Chiosco;attiva;Via Senza Luogo 1;20127;2;20;NOLO;;;",
            f"{unique('k')};{'Chiosco ' * 40};attiva;Via Lunga 1;20127;2;20;NOLO;9.21;45.48;",
        ]
    )
    upload = await client.post(
        f"{API}/imports",
        files={"file": ("edicole.csv", register.encode(), "text/csv")},
        headers={**office, "Accept-Language": "it"},
    )
    assert upload.status_code == 202, upload.text
    job = upload.json()
    assert upload.headers["location"] == f"{API}/imports/{job['id']}"
    assert (job["file"], job["importer"], job["actor"]) == ("edicole.csv", "kiosks", "office")
    assert job["state"] in ("queued", "running", "done")

    job, _ = await finished(client, office, upload.headers["location"], timeout_s=60)
    assert job["state"] == "done", job
    assert (job["rows_total"], job["rows_done"]) == (4, 4)
    assert job["outcomes"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert job["rejected_count"] == 2 and [r["line"] for r in job["rejected"]] == [4, 5]
    assert "mancano le coordinate" in job["rejected"][0]["reason"]
    # refused by the shops service itself (the trade is over 200 characters): its problem names the field
    refused = job["rejected"][1]["reason"]
    assert refused.startswith("rifiutata dalla piattaforma: ") and "body.trade" in refused
    assert job["started_at"] and job["finished_at"] and job["error"] is None

    for code, status in ((first, "active"), (second, "closed")):
        shop = await client.get(f"{API}/shops/ed-{code}")
        assert shop.status_code == 200, shop.text
        assert (shop.json()["kind"], shop.json()["status"]) == ("kiosk", status)

    listed = (await client.get(f"{API}/imports", params={"limit": 5}, headers=office)).json()
    assert listed["items"][0]["id"] == job["id"] and listed["total"] >= 1
    audit = (await client.get(f"{API}/audit", params={"actor": "office"}, headers=office)).json()
    entry = next(e for e in audit["items"] if e["target"] == f"import:{job['id']}")
    assert entry["action"] == "import.run"
    assert entry["after"] == {
        "file": "edicole.csv",
        "importer": "kiosks",
        "rows_total": 4,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
        "state": "done",
    }
    everything = (await client.get(f"{API}/audit", params={"actor": "office", "limit": 500}, headers=office)).json()
    rows = [e for e in everything["items"] if e["target"] in (f"/shops/ed-{first}", f"/shops/ed-{second}")]
    assert rows == [], "the rows an import writes are summed up in its import.run entry, not logged one by one"

    again = await client.post(f"{API}/imports", files={"file": ("edicole.csv", register.encode())}, headers=office)
    job, _ = await finished(client, office, again.headers["location"], timeout_s=60)
    assert job["outcomes"] == {"created": 0, "updated": 0, "unchanged": 2} and job["rejected_count"] == 2


async def test_a_refused_row_is_explained_in_italian_unless_the_upload_asks_for_english(
    client: httpx.AsyncClient, office: dict[str, str]
) -> None:
    register = "\n".join(
        [
            KIOSK_HEADER,
            f"{unique('k')};Chiosco;attiva;Via Senza Luogo 1;20127;2;20;NOLO;;;",
            f"{unique('k')};Chiosco;attiva;Via Corta 1;2012;2;20;NOLO;9.21;45.48;",
            f"{unique('k')};{'Chiosco ' * 40};attiva;Via Lunga 1;20127;2;20;NOLO;9.21;45.48;",
        ]
    ).encode()
    jobs = {}
    for language, headers in (("it", office), ("en", {**office, "Accept-Language": "en-GB,en;q=0.9"})):
        upload = await client.post(f"{API}/imports", files={"file": ("edicole.csv", register)}, headers=headers)
        assert upload.status_code == 202, upload.text
        jobs[language], _ = await finished(client, office, upload.headers["location"], timeout_s=60)
        assert jobs[language]["state"] == "done" and [r["line"] for r in jobs[language]["rejected"]] == [2, 3, 4]

    italian = [r["reason"] for r in jobs["it"]["rejected"]]
    english = [r["reason"] for r in jobs["en"]["rejected"]]
    assert italian[:2] == [
        "mancano le coordinate: long_x_4326/lat_y_4326 e location sono vuote",
        "colonna 'cap': non è un CAP di 5 cifre: '2012'",
    ]
    assert english[:2] == [
        "no coordinates: long_x_4326/lat_y_4326 and location are empty",
        "column 'cap' is not a 5-digit postcode: '2012'",
    ]
    # the shops service's own problem comes in the upload's language too, after the job's words
    assert italian[2].startswith("rifiutata dalla piattaforma: ") and "body.trade" in italian[2]
    assert english[2].startswith("refused by the platform: ") and "body.trade" in english[2]
    assert italian[2].removeprefix("rifiutata dalla piattaforma: ") != english[2].removeprefix(
        "refused by the platform: "
    )
    assert jobs["it"]["description"] == "Registro delle edicole di Milano (chioschi Edicola 2.0)"
    assert jobs["en"]["description"] == "Register of Milan's newsstands (Edicola 2.0 kiosks)"
    # read back later by anyone, a job keeps the language it was uploaded in
    again = (await client.get(f"{API}/imports/{jobs['en']['id']}", headers={**office, "Accept-Language": "it"})).json()
    assert [r["reason"] for r in again["rejected"]] == english


async def test_only_the_office_imports_and_a_file_must_be_known_and_small_enough(
    platform: Platform, client: httpx.AsyncClient, office: dict[str, str]
) -> None:
    register = f"{KIOSK_HEADER}\n{unique('k')};Chiosco;attiva;Via Uno 1;20127;2;20;NOLO;9.21;45.48;\n".encode()
    for role, scope in ((Role.SHOPKEEPER, "ed-demo-isola"), (Role.MARKET_OPERATOR, "wagner"), (Role.TRADER, None)):
        token = platform.token(Principal(username=f"{role.value}-importer", role=role, scope=scope))
        refused = await client.post(
            f"{API}/imports", files={"file": ("edicole.csv", register)}, headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    anonymous = await client.post(f"{API}/imports", files={"file": ("edicole.csv", register)})
    assert anonymous.status_code == 401

    unknown = await client.post(
        f"{API}/imports",
        files={"file": ("spesa.csv", b"pane;latte\n1;2\n")},
        headers={**office, "Accept-Language": "en"},
    )
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in unknown.json()["errors"]] == ["body.file"]
    assert "historic-shops" in unknown.json()["detail"] and "kiosks" in unknown.json()["detail"]
    empty = await client.post(f"{API}/imports", files={"file": ("vuoto.csv", b"")}, headers=office)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body.file"
    missing = await client.post(f"{API}/imports", data={"note": "no file"}, headers=office)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.file"

    # one byte over the limit: the body is within the route's envelope, the file is not
    padded = register + b"#" * (LIMIT + 1 - len(register))
    large = await client.post(f"{API}/imports", files={"file": ("edicole.csv", padded)}, headers=office)
    assert large.status_code == 413 and large.headers["content-type"].startswith("application/problem+json")
    # announced larger than the route reads at all: refused before the body is read
    huge = await client.post(
        f"{API}/imports",
        content=b"x" * (LIMIT + 128 * 1024),
        headers={**office, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert huge.status_code == 413

    unknown_job = await client.get(f"{API}/imports/no-such-import", headers=office)
    assert unknown_job.status_code == 404


@pytest.mark.skipif(not REGISTER.exists(), reason=f"the real register is not at {REGISTER}")
async def test_the_real_register_uploaded_gives_506_active_historic_shops(
    client: httpx.AsyncClient, office: dict[str, str]
) -> None:
    started = time.perf_counter()
    upload = await client.post(
        f"{API}/imports", files={"file": (REGISTER.name, REGISTER.read_bytes(), "text/csv")}, headers=office
    )
    assert upload.status_code == 202, upload.text
    assert upload.json()["importer"] == "historic-shops"
    job, seen = await finished(client, office, upload.headers["location"], timeout_s=240)
    print(f"\nthe real register imported by the gateway in {time.perf_counter() - started:.1f} s: {seen}")
    assert job["state"] == "done", job
    assert job["rows_total"] == 626 and job["rejected_count"] == 0
    assert sum(job["outcomes"].values()) == 626
    # other tests of this session add historic shops of their own: count the register's (bs-<n>) only
    numbers = {line.split(";", 1)[0] for line in REGISTER.read_text(encoding="utf-8-sig").splitlines()[1:] if line}
    register_ids = {f"bs-{n}" for n in numbers}
    assert len(register_ids) == 626
    for status, expected in (("active", 506), ("closed", 120)):
        ids: set[str] = set()
        offset = 0
        while True:
            page = (
                await client.get(
                    f"{API}/shops", params={"kind": "historic", "status": status, "limit": 200, "offset": offset}
                )
            ).json()
            ids |= {shop["id"] for shop in page["items"]}
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
        assert len(ids & register_ids) == expected, status


def test_the_cli_uploads_each_known_file_and_reports_as_before(platform: Platform, tmp_path: Path) -> None:
    folder = tmp_path / "opendata"
    folder.mkdir()
    code = unique("k")
    (folder / "edicole.csv").write_text(
        f"{KIOSK_HEADER}\n{code};Chiosco;attiva;Via Due 2;20127;2;20;NOLO;9.21;45.48;\n"
        f"{unique('k')};Chiosco;forse;Via Tre 3;20127;2;20;NOLO;9.21;45.48;\n"
    )
    (folder / "leggimi.txt").write_text("not open data\n")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli.app,
        [
            "import",
            str(folder),
            "--gateway",
            platform.gateway,
            "--password",
            "office-demo",
            "--report",
            str(report),
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "no importer for leggimi.txt; skipped" in result.output
    [summary] = json.loads(report.read_text())
    assert summary["file"].endswith("edicole.csv") and summary["importer"] == "kiosks" and summary["state"] == "done"
    assert (summary["rows"], summary["created"], summary["updated"], summary["unchanged"]) == (2, 1, 0, 0)
    assert [r["line"] for r in summary["rejected"]] == [3] and "not attiva/cessata" in summary["rejected"][0]["reason"]
    assert httpx.get(f"{platform.gateway}{API}/shops/ed-{code}").status_code == 200
