"""Pages stay signed in across access-token expiries (refresh cookie), and signing out ends the session.

A platform of its own with 4-second access tokens: the dashboard and the operator page must keep
working well past several expiries without showing the login form again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.testing import Platform, running_platform

from .conftest import OFFICE

pytestmark = [pytest.mark.browser, pytest.mark.integration]
TOKEN_TTL_S = 4


@pytest.fixture(scope="module")
def short_tokens(browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from running_platform(tmp_path_factory.mktemp("sessions"), TOKEN_TTL_S=str(TOKEN_TTL_S))


async def _me_with_stored_token(page: Any) -> tuple[int, str]:
    return tuple(
        await page.evaluate(
            """async () => {
                const token = JSON.parse(sessionStorage.getItem('milan.token')).value;
                const r = await fetch('/api/v1/me', {headers: {Authorization: 'Bearer ' + token}});
                return [r.status, token];
            }"""
        )
    )  # type: ignore[return-value]


@pytest.mark.parametrize(("path", "account"), [("/", OFFICE), ("/operator", ("operator-wagner", "operator-demo"))])
async def test_a_page_in_use_stays_signed_in_across_token_expiries(
    short_tokens: Platform, path: str, account: tuple[str, str]
) -> None:
    from playwright.async_api import async_playwright, expect

    from .conftest import CHROMIUM, CHROMIUM_ARGS

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(locale="it-IT")
        page = await context.new_page()
        await page.goto(short_tokens.gateway + path)
        await page.get_by_test_id("login-username").fill(account[0])
        await page.get_by_test_id("login-password").fill(account[1])
        await page.get_by_test_id("login-submit").click()
        await expect(page.locator("#app-view")).to_be_visible(timeout=15_000)
        status, first = await _me_with_stored_token(page)
        assert status == 200
        assert "refresh_token" not in await page.evaluate("document.cookie"), "the refresh cookie is HttpOnly"

        await asyncio.sleep(TOKEN_TTL_S * 3)
        await expect(page.locator("#app-view")).to_be_visible()
        assert await page.locator("#login-view").is_hidden(), "the login form never came back"
        status, current = await _me_with_stored_token(page)
        assert status == 200 and current != first, "the page renewed its token before each expiry"

        await page.reload()
        await expect(page.locator("#app-view")).to_be_visible(timeout=15_000)
        await page.locator("#logout-button").click()
        await expect(page.locator("#login-view")).to_be_visible()
        await page.reload()
        await expect(page.locator("#login-view")).to_be_visible(timeout=15_000)
        assert await page.locator("#app-view").is_hidden(), "signing out ended the session on the server"
        await browser.close()
