"""The office's Riconoscimenti section in a real browser, on the whole seeded platform.

Two shopkeepers (shops and accounts the office creates through the API) apply for historic-shop
recognition through the API: an old grocer with an uploaded PDF and a document cited by reference,
and a shop founded too recently. In the page the office reads the grocer's application, saves and
opens its PDF (fetched with the office's token), and approves it: the shop becomes historic. The
young shop's approval is refused by the service with the reason shown; the office's rejection is
first sent against a shop changed meanwhile (If-Match: 412, the page reads it again) and then
recorded with its reason. axe-core runs on the section in Italian and English, and a desktop
screenshot is kept.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.testing import Platform, unique

from .conftest import OpenPage, assert_accessible, keep_screenshot, office_headers, open_section

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(900)]

PASSWORD = "bottega-di-famiglia-2026"
THIS_YEAR = datetime.now(ZoneInfo("Europe/Rome")).year


def _pdf(marker: str) -> bytes:
    """A small well-formed PDF (one empty page) whose bytes are unique to the test."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n% " + marker.encode() + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def _shop_with_keeper(
    api: httpx.AsyncClient, office: dict[str, str], name: str, trade: str, address: str
) -> tuple[str, dict[str, str]]:
    """A plain shop and its shopkeeper's bearer header."""
    shop_id = unique("negozio")
    body = {"id": shop_id, "kind": "shop", "name": name, "trade": trade, "address": address,
            "location": {"lon": 9.1772, "lat": 45.4801}}  # fmt: skip
    created = await api.post("/shops", json=body, headers=office)
    assert created.status_code == 201, created.text
    keeper = unique("bottegaio")
    account = {"username": keeper, "password": PASSWORD, "role": "shopkeeper", "scope": shop_id}
    assert (await api.post("/users", json=account, headers=office)).status_code == 201
    login = await api.post("/auth/token", data={"username": keeper, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return shop_id, {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_office_decides_historic_recognitions_with_their_documents(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=30) as api:
        office = await office_headers(api)
        grocer, grocer_keeper = await _shop_with_keeper(
            api, office, "Antica Drogheria Sarpi", "Drogheria", "Via Paolo Sarpi 12"
        )
        young, young_keeper = await _shop_with_keeper(api, office, "Bar Nuovo Corso", "Bar", "Corso Como 3")

        pdf = _pdf(unique("licenza"))
        uploaded = await api.post(
            f"/shops/{grocer}/documents",
            files={"file": ("licenza-1958.pdf", pdf, "application/pdf")},
            headers=grocer_keeper,
        )
        assert uploaded.status_code == 201, uploaded.text
        document_id = uploaded.json()["id"]
        application = {
            "founding_year": 1958, "trade": "Drogheria e spezie",
            "continuity": "Stessa famiglia e stessa insegna dal 1958; arredi originali in noce.",
            "documents": [
                {"title": "Licenza di commercio", "kind": "licenza", "document_id": document_id, "issued_on": "1958-03-12"},
                {"title": "Visura camerale storica", "kind": "visura", "reference": "Camera di Commercio di Milano, REA MI-123456"},
            ],
        }  # fmt: skip
        applied = await api.post(f"/shops/{grocer}/recognition", json=application, headers=grocer_keeper)
        assert applied.status_code == 201, applied.text
        too_young = {"founding_year": THIS_YEAR - 20, "trade": "Bar", "continuity": "Aperto da vent'anni.",
                     "documents": [{"title": "Atto di apertura", "kind": "atto", "reference": "Archivio del Municipio 9"}]}  # fmt: skip
        assert (await api.post(f"/shops/{young}/recognition", json=too_young, headers=young_keeper)).status_code == 201

        desktop = await office_page(accept_downloads=True)
        page = desktop.page

        await open_section(page, "Riconoscimenti", "Riconoscimenti di bottega storica")
        queue = page.get_by_test_id("recognitions-table")
        row = queue.get_by_test_id(f"recognition-row-{grocer}")
        await expect(row).to_contain_text("Antica Drogheria Sarpi")
        await expect(row).to_contain_text("1958")
        await expect(row.get_by_test_id(f"recognition-state-{grocer}")).to_have_text("○ In attesa")
        await expect(queue.get_by_test_id(f"recognition-row-{young}")).to_be_visible()

        # The grocer's application: what it claims, and its two documents.
        await row.get_by_role("button", name="Apri la domanda di Antica Drogheria Sarpi").click()
        detail = page.get_by_test_id("recognition-detail")
        await expect(page.get_by_test_id("recognition-title")).to_be_focused()
        await expect(detail.get_by_test_id("application-facts")).to_contain_text("1958")
        await expect(detail.get_by_test_id("application-facts")).to_contain_text("Drogheria e spezie")
        await expect(detail.get_by_test_id("continuity")).to_have_text(application["continuity"])
        await expect(detail.get_by_test_id("eligibility")).to_contain_text(f"Fondato {THIS_YEAR - 1958} anni fa")
        first, second = detail.get_by_test_id("document-0"), detail.get_by_test_id("document-1")
        await expect(first).to_contain_text("Licenza di commercio")
        await expect(first).to_contain_text("rilasciato il mer 12 marzo 1958")
        await expect(first).to_contain_text("licenza-1958.pdf (application/pdf")
        await expect(second.get_by_test_id("document-reference-1")).to_have_text(
            "Dove si trova: Camera di Commercio di Milano, REA MI-123456"
        )
        await expect(second.get_by_role("button")).to_have_count(0)

        async with page.expect_download() as saving:
            await first.get_by_role("button", name="Scarica il documento «Licenza di commercio»").click()
        download = await saving.value
        assert download.suggested_filename == "licenza-1958.pdf"
        assert Path(await download.path()).read_bytes() == pdf
        async with desktop.context.expect_page() as opening:
            await first.get_by_role(
                "button", name="Apri il documento «Licenza di commercio» in una nuova scheda"
            ).click()
        opened = await opening.value
        await opened.wait_for_load_state("commit")
        assert opened.url.startswith("blob:" + seeded.gateway), opened.url
        await opened.close()
        await expect(page.get_by_test_id("recognitions-message")).to_have_text(
            "Documento licenza-1958.pdf aperto in una nuova scheda."
        )

        await assert_accessible(page, "/#riconoscimenti (it, an application with its documents)")
        height = await page.evaluate("() => document.documentElement.scrollHeight")
        await page.set_viewport_size({"width": 1440, "height": min(height, 2400)})
        keep_screenshot(await page.screenshot(), "recognitions.png", tmp_path)
        await page.set_viewport_size({"width": 1440, "height": 1000})

        # Nothing chosen: the form says so; then a rejection without a reason is refused on the page.
        await detail.get_by_role("button", name="Registra la decisione").click()
        await expect(detail.locator("#decision-choice-error")).to_have_text("⚠ Scegli se approvare o rifiutare.")
        await detail.get_by_label("Rifiuta", exact=True).check()
        await detail.get_by_role("button", name="Registra la decisione").click()
        await expect(detail.get_by_label("Motivazione")).to_be_focused()
        await expect(detail.locator("#decision-reason-error")).to_have_text("⚠ Un rifiuto va motivato.")
        await assert_accessible(page, "/#riconoscimenti (it, a decision with errors)")

        # Approved: the shop is a historic shop from now on.
        await detail.get_by_label("Approva: diventa bottega storica").check()
        await detail.get_by_role("button", name="Registra la decisione").click()
        await expect(page.get_by_test_id("recognitions-message")).to_have_text(
            "«Antica Drogheria Sarpi» è ora una bottega storica."
        )
        await expect(detail.get_by_test_id("decision-done")).to_be_focused()
        await expect(detail.get_by_test_id("decision-state")).to_have_text("✓ Approvata")
        await expect(detail.get_by_test_id("shop-kind")).to_have_text("Bottega storica")
        shop = (await api.get(f"/shops/{grocer}")).json()
        assert (shop["kind"], shop["year_founded"], shop["recognition_state"]) == ("historic", 1958, "approved")
        assert shop["historic_recognised_at"]
        await expect(queue.get_by_test_id(f"recognition-row-{grocer}")).to_have_count(0)
        await page.get_by_label("Domande", exact=True).select_option("approved")
        await expect(queue.get_by_test_id(f"recognition-state-{grocer}")).to_have_text("✓ Approvata")
        await page.get_by_label("Domande", exact=True).select_option("pending")

        # The young shop: the service refuses the approval and says why, in the page's language.
        await queue.get_by_test_id(f"recognition-open-{young}").click()
        await expect(detail.get_by_test_id("eligibility")).to_contain_text("ne servono almeno 50")
        await detail.get_by_label("Approva: diventa bottega storica").check()
        await detail.get_by_role("button", name="Registra la decisione").click()
        # said once, in the decision's form (a sentence of its own), not in the section's message bar
        await expect(detail.locator("#decision-message")).to_contain_text(
            f"Impossibile approvare: fondato nel {THIS_YEAR - 20}"
        )
        await expect(detail.locator("#decision-message")).to_be_focused()
        await expect(page.get_by_test_id("recognitions-message")).to_have_text("")

        # Someone changes the shop meanwhile: the decision is not applied to a shop the office has not seen.
        moved = await api.patch(f"/shops/{young}", json={"address": "Corso Como 5"}, headers=office)
        assert moved.status_code == 200, moved.text
        await detail.get_by_label("Rifiuta", exact=True).check()
        reason = "Attività aperta da meno di cinquant'anni: si potrà ripresentare la domanda più avanti."
        await detail.get_by_label("Motivazione").fill(reason)
        await detail.get_by_role("button", name="Registra la decisione").click()
        await expect(page.get_by_test_id("recognitions-message")).to_contain_text("è cambiata nel frattempo")
        await expect(detail).to_contain_text("Corso Como 5")
        await expect(detail.get_by_label("Motivazione")).to_have_value(reason)
        await detail.get_by_role("button", name="Registra la decisione").click()
        await expect(page.get_by_test_id("recognitions-message")).to_have_text(
            "Domanda di «Bar Nuovo Corso» rifiutata."
        )
        await expect(detail.get_by_test_id("decision-done")).to_contain_text(reason)
        recognition = (await api.get(f"/shops/{young}/recognition", headers=office)).json()
        assert (recognition["state"], recognition["reason"]) == ("rejected", reason)
        assert (await api.get(f"/shops/{young}")).json()["kind"] == "shop"

        # English: the section's words switch; axe on the decided application.
        await page.get_by_test_id("lang-en").click()
        await expect(page.get_by_role("heading", name="Historic-shop recognitions")).to_be_visible()
        await expect(detail.get_by_test_id("decision-state")).to_have_text("✗ Rejected")
        await assert_accessible(page, "/#riconoscimenti (en, a decided application)")
        await page.get_by_label("Applications", exact=True).select_option("approved")
        await queue.get_by_test_id(f"recognition-open-{grocer}").click()
        await expect(detail.get_by_test_id("shop-kind")).to_have_text("Historic shop")
        await assert_accessible(page, "/#riconoscimenti (en, an approved application)")
        await page.get_by_test_id("lang-it").click()
        assert not desktop.uncaught("TypeError"), desktop.problems
