"""The office's Dati section in a real browser, on the whole seeded platform.

The office uploads a small historic-shops register written in the official format, with one row
that has no coordinates: the page follows the import to its end, shows the counts and the refused
line with its reason, and the shops are then in the register. With the real register present
(``../shared/data``), it is uploaded the same way and the city map then shows every active
historic shop — 506 from the register, whatever the page size of the API. The office corrects one
shop's category (the districts' product mix reads it), rebuilds the districts' projections
following the replay to its end, and finds its own actions in the audit log, which it downloads as
CSV. axe-core runs on the section in Italian and English, and a desktop screenshot is kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from devkit.testing import Platform, unique

from .conftest import OFFICE, OpenPage, assert_accessible, keep_screenshot, office_headers, open_section

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

REGISTER = Path(__file__).resolve().parents[3] / "shared" / "data" / "opendata" / "ds290_botteghe_storiche.csv"
HEADER = "n;targa;genere_merceologico;anno;stato;indirizzo;cap;municipio;id_nil;nil;long_x_4326;lat_y_4326;location"


def _small_register(first: int) -> bytes:
    """Three rows in the official format (``;``, Italian words): two shops and one without coordinates."""
    rows = [
        HEADER,
        f"{first};Drogheria Ferri;Drogheria e coloniali;1931;attiva;Via PAOLO SARPI 12;20154;8;71;SARPI;9.1749;45.4798;",
        f"{first + 1};Bar Pasticceria Gatti;Bar Pasticceria;1952;cessata;Via CANONICA 20;20154;8;71;SARPI;9.1727;45.4823;",
        f"{first + 2};Merceria senza luogo;Merceria;1948;attiva;Via SCONOSCIUTA 1;20154;8;71;SARPI;;;",
    ]
    return ("\n".join(rows) + "\n").encode()


async def _active_historic(api: httpx.AsyncClient) -> int:
    page = (await api.get("/shops", params={"kind": "historic", "status": "active", "limit": 1})).json()
    return int(page["total"])


async def test_office_imports_open_data_corrects_a_category_rebuilds_and_reads_the_audit_log(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    first = 900_000 + int(unique("n").rsplit("-", 1)[-1], 16) % 90_000
    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=30) as api:
        office = await office_headers(api)
        desktop = await office_page(accept_downloads=True)
        page = desktop.page

        nav = await open_section(page, "Dati", "Importazione di dati aperti")

        # Nothing chosen: the page says so next to the field, nothing is sent.
        await page.get_by_test_id("import-submit").click()
        await expect(page.get_by_test_id("import-file")).to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_text("Scegli un file da importare.").first).to_be_visible()

        # A file no importer knows: the gateway's refusal is shown on the file field.
        await page.get_by_test_id("import-file").set_input_files(
            {"name": "appunti.csv", "mimeType": "text/csv", "buffer": b"colonna;altra\n1;2\n"}
        )
        await page.get_by_test_id("import-submit").click()
        await expect(page.locator("#import-file-error")).to_be_visible()

        # The small register: followed to its end, with the refused line and its reason.
        name = f"botteghe-{first}.csv"
        await page.get_by_test_id("import-file").set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": _small_register(first)}
        )
        await page.get_by_test_id("import-submit").click()
        job = page.get_by_test_id("import-job")
        await expect(job.get_by_role("heading", name=f"Importazione di {name}")).to_be_focused()
        await expect(job.get_by_test_id("import-state")).to_have_text("✓ Completata", timeout=60_000)
        # the panel was drawn again at each step it followed, and the focus stayed on its heading
        await expect(job.get_by_role("heading", name=f"Importazione di {name}")).to_be_focused()
        await expect(job.get_by_test_id("import-counts")).to_have_text("3 righe di 3 (100%)")
        await expect(job.get_by_test_id("import-created")).to_have_text("2")
        await expect(job.get_by_test_id("import-rejected")).to_have_text("1")
        rejected_table = page.locator("table[data-testid='import-rejected-rows']")
        await expect(rejected_table.locator("tbody tr")).to_have_count(1)
        await expect(rejected_table.locator("tbody th")).to_have_text("4")
        await expect(rejected_table.locator("tbody td")).to_contain_text("coordinate")
        await expect(page.get_by_test_id("data-message")).to_contain_text(f"Importazione di {name} completata")
        await expect(page.get_by_test_id("imports-table")).to_contain_text(name)
        grocer = (await api.get(f"/shops/bs-{first}")).json()
        assert (grocer["name"], grocer["kind"], grocer["status"]) == ("Drogheria Ferri", "historic", "active")
        assert (await api.get(f"/shops/bs-{first + 1}")).json()["status"] == "closed"
        assert (await api.get(f"/shops/bs-{first + 2}")).status_code == 404

        await assert_accessible(page, "/#dati (it, an import with a refused row)")
        height = await page.evaluate("() => document.documentElement.scrollHeight")
        await page.set_viewport_size({"width": 1440, "height": min(height, 2400)})
        keep_screenshot(await page.screenshot(), "data.png", tmp_path)
        await page.set_viewport_size({"width": 1440, "height": 1000})
        await page.get_by_test_id("lang-en").click()
        await expect(page.get_by_role("heading", name="Open-data import", level=2)).to_be_visible()
        await expect(job.get_by_test_id("import-state")).to_have_text("✓ Done")
        await assert_accessible(page, "/#dati (en)")
        await page.get_by_test_id("lang-it").click()

        # The real register, uploaded the same way; then every active historic shop is on the map.
        if REGISTER.exists():
            await page.get_by_test_id("import-file").set_input_files(str(REGISTER))
            await page.get_by_test_id("import-submit").click()
            # the panel follows the new job (until the upload is answered it still shows the last one)
            await expect(job.get_by_role("heading", name=f"Importazione di {REGISTER.name}")).to_be_visible()
            await expect(job.get_by_test_id("import-state")).to_have_text("✓ Completata", timeout=240_000)
            await expect(job.get_by_test_id("import-counts")).to_have_text(re.compile(r"^626 righe di 626"))
            await expect(job.get_by_test_id("import-rejected")).to_have_text("0")
            active = await _active_historic(api)
            assert active >= 506, "the register's 506 and the demo's"
            await nav.get_by_role("link", name="Panoramica").click()
            await page.reload()
            await expect(page.get_by_test_id("map")).to_have_attribute(
                "data-historic-active", str(active), timeout=30_000
            )
            await nav.get_by_role("link", name="Dati").click()

        # The grocer's category: derived from its trade, then the office's choice.
        await page.get_by_test_id("shop-categories-q").fill("Drogheria Ferri")
        await page.get_by_test_id("shop-categories-search").click()
        row = page.get_by_test_id(f"shop-category-row-bs-{first}")
        await expect(row.get_by_test_id(f"shop-category-now-bs-{first}")).to_contain_text("(ricavata dall'attività)")
        await row.get_by_label("Categoria di Drogheria Ferri", exact=True).select_option("household")
        await row.get_by_role("button", name="Salva la categoria di Drogheria Ferri").click()
        await expect(row.get_by_test_id(f"shop-category-now-bs-{first}")).to_contain_text("(scelta dall'ufficio)")
        changed = (await api.get(f"/shops/bs-{first}")).json()
        assert (changed["category"], changed["category_by_office"]) == ("household", True)

        # The districts rebuilt from the event history, followed to its end.
        await page.get_by_test_id("rebuild-start").click()
        rebuild = page.get_by_test_id("rebuild-job")
        await expect(rebuild).to_be_focused()  # the button is disabled while it runs: the focus follows the job
        await expect(rebuild.get_by_test_id("rebuild-state")).to_have_text("✓ Completata", timeout=120_000)
        await expect(rebuild).to_be_focused()
        await expect(rebuild.get_by_test_id("rebuild-counts")).to_have_text(re.compile(r"eventi riletti di .*\(100%\)"))
        await expect(page.get_by_test_id("data-message")).to_contain_text("Ricostruzione completata")
        assert (await api.get("/districts/rebuild", params={"limit": 1}, headers=office)).json()["items"][0][
            "state"
        ] == "done"

        # The audit log holds the office's import, its category change and the rebuild.
        await nav.get_by_role("link", name="Account e registrazioni").click()
        await page.get_by_test_id("audit-actor").fill(OFFICE[0])
        await page.get_by_test_id("audit-apply").click()
        audit = page.get_by_test_id("audit-table")
        await expect(audit).to_contain_text("Importazione di dati")
        await expect(audit).to_contain_text(f"Negozio modificato (negozio bs-{first})")
        await expect(audit).to_contain_text("Categoria: household")
        await expect(audit).to_contain_text("Distretti ricostruiti dallo storico degli eventi")
        async with page.expect_download() as downloading:
            await page.get_by_test_id("audit-download").click()
        saved = tmp_path / "audit.csv"
        await (await downloading.value).save_as(saved)
        assert "PATCH /shops/{shop_id}" in saved.read_text()  # the CSV keeps the route for analysts

        assert not desktop.uncaught(), desktop.problems
