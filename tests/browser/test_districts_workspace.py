"""The office's Distretti section in a real browser, on the whole seeded platform.

The office opens Distretti from the keyboard, picks a district whose markets have some vacant
stalls, reads its charts and changes their period, and reads its vitality components explained in
Italian. Thresholds out of bounds (above 1, zero days, a negative count) or a resolve level on the
wrong side of its alert level are flagged all at once next to their fields before anything is sent,
the alert level named by its label as the service names it. Then the office raises the
low-occupancy alert level above the district's occupancy: the alert appears in the list without a
reload, and its mail reaches the local SMTP sink. The office acknowledges it and the page says who
and when, as the API does. The product mix shows the API's lines with gaps written out, and every
download answers. The thresholds are put back at the end (the platform is shared by the browser
tests), the page shows the alert resolved, and the mail's link opens the section on the district.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from devkit.stack.components import LOCAL_OFFICE_MAILBOX
from devkit.stack.mail_sink import text_of
from devkit.testing import Platform, eventually

from .conftest import OFFICE, OpenPage, assert_accessible, keep_section_screenshot, office_headers, open_section

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

ALERT_MAIL_SUBJECT = "occupazione dei posteggi bassa"  # the Italian half of the alert mail's subject
METRICS = ("vitality_index", "stall_occupancy", "stalls_open", "shops_active", "services_total")


async def _district_with_vacant_stalls(api: httpx.AsyncClient, office: dict[str, str]) -> dict[str, Any]:
    """A district whose stall occupancy is measured, below 100 % and at or above the default
    resolve level (65 %), with no open low-occupancy alert: raising the alert level to 100 % must
    raise one, and putting the defaults back must resolve it."""
    districts = (await api.get("/districts", params={"limit": 500})).json()["items"]
    # the busiest first: the README's screenshot shows it
    for district in sorted(districts, key=lambda d: (-(d["kpis"].get("shops_active") or 0), d["code"])):
        occupancy = district["kpis"].get("stall_occupancy")
        if occupancy is None or not 0.65 <= occupancy < 1:
            continue
        alerts = (
            await api.get(f"/districts/{district['code']}/alerts", params={"state": "open"}, headers=office)
        ).json()
        if not any(a["condition"] == "low_occupancy" for a in alerts["items"]):
            return dict(district)
    raise AssertionError("the demo data has no district with markets whose occupancy is between 65 % and 100 %")


def _alert_mails(platform: Platform, code: str) -> list[str]:
    """The texts of the low-occupancy alert mails of district ``code`` the office received."""
    return [
        text_of(m)
        for m in platform.mailbox.to(LOCAL_OFFICE_MAILBOX)
        if code in str(m["Subject"]) and ALERT_MAIL_SUBJECT in str(m["Subject"])
    ]


async def test_office_reads_a_district_sets_a_threshold_and_acknowledges_the_alert_it_raises(
    seeded: Platform, office_page: OpenPage, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=seeded.gateway + "/api/v1", timeout=30) as api:
        office = await office_headers(api)
        district = await _district_with_vacant_stalls(api, office)
        code, name = district["code"], district["name"]
        original = (await api.get(f"/districts/{code}/thresholds", headers=office)).json()
        mails_before = len(_alert_mails(seeded, code))
        try:
            view = await office_page()
            page = view.page

            # The section is one link away, from the keyboard; focus lands on its heading.
            await open_section(page, "Distretti", "Distretti urbani del commercio")
            section = page.locator("#districts-view")
            picker = section.get_by_label("Distretto", exact=True)
            await expect(picker.locator(f'option[value="{code}"]')).to_be_attached(timeout=15_000)
            await picker.select_option(code)
            await expect(page).to_have_url(re.compile(f"#district-{code}$"))
            await expect(page.get_by_test_id("district-kpi-stalls")).to_contain_text(
                f"{district['kpis']['stalls_open']} / {district['kpis']['stalls_total']}", timeout=15_000
            )

            # Its charts, the same as the overview's, over a longer period.
            status = page.get_by_test_id("district-trends-status")
            await expect(status).to_have_text(f"{name}: Ultimi 7 giorni.", timeout=15_000)
            await section.get_by_label("Periodo").select_option("30")
            await expect(status).to_have_text(f"{name}: Ultimi 30 giorni.", timeout=15_000)
            for metric in METRICS:
                await expect(page.get_by_test_id(f"district-trend-{metric}")).to_be_visible()
            occupancy = page.get_by_test_id("district-trend-stall_occupancy")
            if int(await occupancy.get_attribute("data-points") or "0"):
                await expect(occupancy.locator("canvas")).to_have_count(1)

            # The vitality components, explained in Italian by the service.
            shown = (await api.get(f"/districts/{code}", headers=office)).json()
            components = page.get_by_test_id("district-components")
            for component in shown["vitality"]["components"]:
                row = components.locator(f'tr[data-component="{component["name"]}"]')
                await expect(row.locator("td.explanation")).to_have_text(component["explanation_it"])

            # Thresholds out of bounds: every field the service would refuse is flagged at once, before
            # anything is sent, and a resolve level on the wrong side names its alert level by its label.
            form = page.get_by_test_id("district-thresholds")
            await expect(form.get_by_test_id("th-occupancy_below")).to_have_value(str(original["occupancy_below"]))
            await form.get_by_label("Allerta se l'occupazione è sotto").fill("1.5")
            await form.get_by_label("Rientra quando l'occupazione arriva a").fill("0.2")
            await form.get_by_label("Rispetto al massimo degli ultimi (giorni)").fill("0")
            await form.get_by_role("button", name="Salva le soglie").click()
            bounds = {"occupancy_below": "Un numero da 0 a 1.", "vitality_drop_days": "Un numero intero da 1 a 30."}
            for field, text in bounds.items():
                await expect(page.locator(f"#th-{field}")).to_have_attribute("aria-invalid", "true")
                await expect(page.locator(f"#th-{field}-error")).to_have_text(f"⚠ {text}")
            await expect(page.locator("#th-occupancy_below")).to_be_focused()
            await expect(page.locator("#district-thresholds-message")).to_have_text("Correggi i campi segnalati.")

            wrong = {
                **original,
                "occupancy_below": 0.7,
                "occupancy_recovered_at": 0.5,
                "historic_closures_recovered_at": -1,
            }
            # the service refuses the same fields, naming the alert level as the form labels it
            refused = await api.put(f"/districts/{code}/thresholds", json=wrong, headers=office)
            assert refused.status_code == 422, refused.text
            messages = {e["field"]: e["message"] for e in refused.json()["errors"]}
            assert set(messages) == {"body.occupancy_recovered_at", "body.historic_closures_recovered_at"}, messages
            said = messages["body.occupancy_recovered_at"]
            assert "«Allerta se l'occupazione è sotto» (0,7)" in said and "occupancy_below" not in said, said
            await form.get_by_label("Allerta se l'occupazione è sotto").fill("0.7")
            await form.get_by_label("Rientra quando l'occupazione arriva a").fill("0.5")
            await form.get_by_label("Rientra con al più queste chiusure").fill("-1")
            await form.get_by_label("Rispetto al massimo degli ultimi (giorni)").fill(
                str(original["vitality_drop_days"])
            )
            await form.get_by_role("button", name="Salva le soglie").click()
            shown = {
                "occupancy_recovered_at": "Deve essere almeno pari alla soglia «Allerta se l'occupazione è sotto» (0,7), "
                "altrimenti l'allerta si aprirebbe e chiuderebbe di continuo.",
                "historic_closures_recovered_at": "Un numero intero, almeno 0.",
            }
            for field, text in shown.items():
                await expect(page.locator(f"#th-{field}")).to_have_attribute("aria-invalid", "true")
                await expect(page.locator(f"#th-{field}-error")).to_have_text(f"⚠ {text}")
            for field in ("occupancy_below", "vitality_drop_days"):
                await expect(page.locator(f"#th-{field}")).not_to_have_attribute("aria-invalid", "true")
            await expect(page.locator("#th-occupancy_recovered_at")).to_be_focused()
            assert (await api.get(f"/districts/{code}/thresholds", headers=office)).json() == original

            # A raise level above the district's occupancy: saved, and the alert comes in live.
            await form.get_by_role("button", name="Annulla le modifiche").click()
            await expect(page.locator("#th-occupancy_recovered_at")).not_to_have_attribute("aria-invalid", "true")
            await form.get_by_label("Allerta se l'occupazione è sotto").fill("1")
            await form.get_by_label("Rientra quando l'occupazione arriva a").fill("1")
            await form.get_by_role("button", name="Salva le soglie").click()
            await expect(page.get_by_test_id("district-message")).to_have_text(f"Soglie di {name} salvate.")
            saved = (await api.get(f"/districts/{code}/thresholds", headers=office)).json()
            assert (saved["occupancy_below"], saved["occupancy_recovered_at"]) == (1, 1), saved
            raised = page.locator('[data-condition="low_occupancy"][data-state="open"]')
            await expect(raised).to_have_count(1, timeout=20_000)
            alerts = (await api.get(f"/districts/{code}/alerts", params={"state": "open"}, headers=office)).json()
            alert = next(a for a in alerts["items"] if a["condition"] == "low_occupancy")
            item = page.get_by_test_id(f"district-alert-{alert['id']}")
            await expect(item.get_by_test_id(f"alert-state-{alert['id']}")).to_have_text("aperta")
            await expect(item.get_by_test_id(f"alert-detail-{alert['id']}")).to_have_text(alert["detail_it"])
            await expect(item).to_contain_text(re.compile(r"Valore rilevato\d+(,\d)?\s?%Soglia100\s?%"))

            # The alert was mailed to the office, through the local SMTP sink.
            async def mailed() -> list[str]:
                return _alert_mails(seeded, code)[mails_before:]

            mails = await eventually(mailed, timeout_s=30, what="the alert's mail to the office")
            assert alert["detail_it"] in mails[0] and alert["detail"] in mails[0], mails[0]
            link = re.search(r"Cruscotto: (\S+)", mails[0])
            assert link and urlsplit(link.group(1)).fragment == f"district-{code}", mails[0]

            # Acknowledged: who and when, in the page and in the API.
            await item.get_by_role("button", name=re.compile("^Prendi in carico l'allerta")).click()
            acknowledged = item.get_by_test_id(f"alert-ack-{alert['id']}")
            await expect(acknowledged).to_contain_text(f"Presa in carico da {OFFICE[0]} il ")
            await expect(acknowledged).to_be_focused()
            await expect(page.get_by_test_id("district-message")).to_contain_text(f"presa in carico da {OFFICE[0]}")
            stored = (await api.get(f"/districts/{code}/alerts", params={"state": "open"}, headers=office)).json()
            assert next(a for a in stored["items"] if a["id"] == alert["id"])["acknowledged_by"] == OFFICE[0]

            # The product mix as the service counts it, a gap written out, not only coloured.
            mix = (await api.get(f"/districts/{code}/mix")).json()
            table = page.get_by_test_id("district-mix")
            await expect(table.locator("tbody tr")).to_have_count(max(1, len(mix["lines"])))
            for line in mix["lines"]:
                row = table.get_by_test_id(f"mix-row-{line['category']}")
                await expect(row.locator("td").first).to_have_text(str(line["count"]))
                gap = "Carente (quoziente sotto" if line["gap"] else "In linea"
                await expect(row.get_by_test_id(f"mix-gap-{line['category']}")).to_contain_text(gap)

            # Every download answers, the report also as a PDF.
            links = page.get_by_test_id("district-exports").locator("a")
            await expect(links).to_have_count(5)
            # the district named once as a DUC: "Rapporto del DUC Brera", never "Rapporto DUC di DUC Brera"
            duc = name if re.search(r"\bDUC\b", name) else f"DUC {name}"
            await expect(page.get_by_test_id("export-report")).to_have_text(f"Rapporto del {duc} (pagina web)")
            for href in await links.evaluate_all("(links) => links.map((a) => a.getAttribute('href'))"):
                answer = await api.get(href.removeprefix("/api/v1"))
                assert answer.status_code == 200, (href, answer.status_code)
                if "format=pdf" in href:
                    assert answer.headers["content-type"] == "application/pdf"

            await assert_accessible(page, "/#distretti (it, an acknowledged alert)")
            await keep_section_screenshot(page, "district-message", "districts.png", tmp_path)

            # English: the section's words switch, and the alert reads in English.
            await page.get_by_test_id("lang-en").click()
            await expect(page.get_by_role("heading", name="Alert thresholds")).to_be_visible()
            await expect(item.get_by_test_id(f"alert-detail-{alert['id']}")).to_have_text(alert["detail"])
            await page.get_by_test_id("lang-it").click()
        finally:
            restored = await api.put(f"/districts/{code}/thresholds", json=original, headers=office)
            assert restored.status_code == 200, restored.text

        # Back to the thresholds it had: the alert resolves, and the page follows.
        await expect(page.get_by_test_id(f"alert-state-{alert['id']}")).to_have_text("risolta", timeout=20_000)

        # The mail's link opens the section on that district.
        linked = await office_page(f"/#district-{code}")
        await expect(linked.page.get_by_test_id("district-pick")).to_have_value(code, timeout=15_000)
        await expect(linked.page.get_by_test_id("section-districts")).to_have_attribute("aria-current", "page")
        await expect(linked.page.get_by_test_id(f"alert-state-{alert['id']}")).to_have_text("risolta")
        assert not linked.uncaught("TypeError"), linked.problems
        assert not view.uncaught("TypeError"), view.problems
