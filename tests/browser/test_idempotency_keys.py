"""The pages' fetch wrapper (``static/js/api.js``) in a real browser: every POST carries an
Idempotency-Key, a submission sent again after its answer was lost carries the same key, and a new
submission (or one whose first attempt was answered) a new one.

The page and the API are played by the test (Playwright's routing), so no platform is started.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

ORIGIN = "http://localhost:8123"  # never reached: every request is answered by the test
STATIC = Path(__file__).resolve().parents[2] / "services" / "gateway" / "gateway" / "static"
PAGE = """<!doctype html><html lang="it"><head><title>api.js</title></head><body>
<script type="module">
import * as api from '/static/js/api.js';
window.api = api;
document.body.dataset.ready = 'true';
</script></body></html>"""
KEY = re.compile(r'^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$')


class FakeApi:
    """Answers the page's requests: each POST's Idempotency-Key is recorded, and the next answers
    are taken from ``plan`` ("lost": the connection fails; a number: that status)."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        self.plan: list[str | int] = []

    async def handle(self, route: Any) -> None:
        request = route.request
        path = request.url.removeprefix(ORIGIN)
        if path == "/":
            await route.fulfill(status=200, content_type="text/html", body=PAGE)
        elif path.startswith("/static/"):
            await route.fulfill(status=200, content_type="text/javascript", path=str(STATIC / path[8:]))
        elif request.method == "POST":
            self.keys.append(await request.header_value("idempotency-key"))
            answer = self.plan.pop(0) if self.plan else 202
            if answer == "lost":
                await route.abort("connectionreset")
            else:
                body = {"id": "r1"} if answer < 400 else {"type": "https://errors/x", "title": "x", "status": answer}
                content_type = "application/json" if answer < 400 else "application/problem+json"
                await route.fulfill(status=int(answer), content_type=content_type, body=json.dumps(body))
        else:
            await route.fulfill(status=404, body="")


@pytest.fixture
async def page(browser_available: None) -> AsyncIterator[tuple[Any, FakeApi]]:
    from playwright.async_api import async_playwright

    fake = FakeApi()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await chromium.new_context()
        await context.route("**/*", fake.handle)
        opened = await context.new_page()
        await opened.goto(ORIGIN + "/")
        await opened.wait_for_selector("body[data-ready=true]", state="attached")
        yield opened, fake
        await chromium.close()


async def submit(page: Any, name: str) -> int:
    """A registration as the /register page sends it; the status it got (0: no answer)."""
    return int(
        await page.evaluate(
            """async (name) => {
                try { await window.api.publicApi('/registrations', { method: 'POST', json: { name } }); return 202; }
                catch (error) { return error.status; }
            }""",
            name,
        )
    )


async def test_a_resubmission_after_a_lost_answer_carries_the_same_key(page: tuple[Any, FakeApi]) -> None:
    browser_page, fake = page
    fake.plan = ["lost", 503, 202]
    assert [await submit(browser_page, "Rosa") for _ in range(3)] == [0, 503, 202]
    assert len(set(fake.keys)) == 1 and KEY.match(fake.keys[0] or ""), fake.keys
    # answered: the same form sent again is a new submission, with a new key
    assert await submit(browser_page, "Rosa") == 202
    assert fake.keys[3] != fake.keys[0] and KEY.match(fake.keys[3] or "")


async def test_another_submission_or_a_refused_one_gets_a_new_key(page: tuple[Any, FakeApi]) -> None:
    browser_page, fake = page
    fake.plan = ["lost", 422, 202]
    assert await submit(browser_page, "Rosa") == 0
    assert await submit(browser_page, "Luca") == 422  # another body while Rosa's is unsettled
    assert await submit(browser_page, "Luca") == 202  # Luca's refusal was an answer: a new key
    assert len(set(fake.keys)) == 3
    fake.plan = [202]
    assert await submit(browser_page, "Rosa") == 202, "Rosa's first attempt is still unsettled"
    assert fake.keys[3] == fake.keys[0]
