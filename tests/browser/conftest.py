"""The browser tests' fixtures: the whole platform seeded with the demo data, and headless Chromium.

The platform is the test harness's (``devkit.testing.platform``: broker, database and the four
services as real processes on free ports), shared by every browser test of the session: a test
that changes shared state (a district's thresholds) puts it back. The tests skip, saying why, where
Chromium or Playwright is missing. :func:`assert_accessible` runs the vendored axe-core on a page;
``office_page`` opens a page signed in as the office; :func:`keep_screenshot` keeps a screenshot
for the README.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.cli import _plugins
from devkit.client import ApiClient
from devkit.stack.components import ROOT
from devkit.testing import Platform, unique

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# the browser's own locale (its date and time controls: "09/12/2026, 16:00"), as a Milan user's;
# each context still sets the page's language (locale="it-IT", "en-GB")
BROWSER_ENV = {**os.environ, "LANG": "it_IT.UTF-8", "LANGUAGE": "it"}
OFFICE = ("office", "office-demo")
DESKTOP = {"width": 1440, "height": 1000}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PHONE_2X = {**PHONE, "device_scale_factor": 2}  # sharp enough for the screenshots kept in the docs
PHONE_IT = {**PHONE, "locale": "it-IT"}
MARKET = "wagner"  # the demo market the operator account and several tests watch
# drawn by ensure_a_district when the districts seed drew none
FALLBACK_DISTRICT = {
    "code": "duc-pagano-wagner",
    "name": "Pagano - Wagner",
    "perimeter": {
        "type": "Polygon",
        "coordinates": [[[9.150, 45.462], [9.168, 45.462], [9.168, 45.474], [9.150, 45.474], [9.150, 45.462]]],
    },
}
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# the SHA-256 recorded in vendor/axe-core/README.md: the engine is the one that was checked in
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
BLOCKING_IMPACTS = ("serious", "critical")


def _axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, f"{AXE} is not the axe-core recorded in its README"
    return data.decode()


async def assert_accessible(page: Any, label: str) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.x A and AA rules) on the page as it is now; fail on serious or critical findings.

    The engine is injected as a script into the page (the pages' CSP allows only their own
    scripts, so it is evaluated through the DevTools protocol, which the CSP does not govern).
    Returns every violation, the minor and moderate ones included, for the caller to report.
    """
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_axe_source())
    results = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {
                runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
                resultTypes: ['violations'],
            });
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
            }));
        }"""
    )
    blocking = [v for v in results if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"  [{v['impact']}] {v['id']}: {v['help']}\n"
        + "\n".join(f"      {n['target']}: {n['summary']}" for n in v["nodes"][:5])
        for v in blocking
    )
    assert not blocking, f"axe-core found serious or critical violations on {label}:\n{report}"
    return list(results)


@pytest.fixture(scope="package")
def browser_available() -> None:
    """Skip before anything is started when the browser cannot run here."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright is not installed: pip install -r tests/browser/requirements.txt")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make browser` (Debian package 'chromium') or set CHROMIUM_PATH")


@pytest.fixture(scope="package")
async def seeded(browser_available: None, platform: Platform) -> Platform:
    """What `make run` shows: every service's demo seed loaded through the gateway as the office."""
    async with ApiClient(platform.gateway) as api:
        await api.login(*OFFICE)
        for _name, seed in _plugins("commerce.seeds"):
            await seed(api)
    return platform


@pytest.fixture(scope="package")
async def browser(seeded: Platform) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=BROWSER_ENV)
        yield chromium
        await chromium.close()


async def office_headers(api: httpx.AsyncClient) -> dict[str, str]:
    """The office's bearer header, signed in through ``api`` (a client on the gateway's /api/v1)."""
    login = await api.post("/auth/token", data=dict(zip(("username", "password"), OFFICE, strict=True)))
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


TRADER_PASSWORD = "banco-al-mercato-2026"


async def free_stalls(api: httpx.AsyncClient, need: int, *, from_end: bool = False) -> tuple[str, str, list[str]]:
    """A demo market other than Wagner (which other browser tests watch) with at least ``need`` free
    stalls that no live call offers: its id, its name and those stalls. Tests that must not meet the
    calls workspace's test take the markets from the end of the list (``from_end``)."""
    markets = (await api.get("/markets", params={"limit": 500})).json()["items"]
    for market in sorted(markets, key=lambda m: m["id"], reverse=from_end):
        if market["id"] == "wagner" or not market.get("active", True):
            continue
        stalls = (await api.get(f"/markets/{market['id']}/stalls", params={"limit": 500})).json()["items"]
        calls = (await api.get(f"/markets/{market['id']}/calls", params={"limit": 500})).json()["items"]
        offered = {n for c in calls if c["status"] != "awarded" for n in c["stalls"]}
        free = [s["number"] for s in stalls if not s.get("holder") and s["number"] not in offered]
        if len(free) >= need:
            return market["id"], market["name"], free
    raise AssertionError(f"the demo data has no market with {need} free stalls")


async def new_trader(api: httpx.AsyncClient, office: dict[str, str], prefix: str) -> str:
    """A new trader account (password ``TRADER_PASSWORD``) created by the office; its username."""
    username = unique(prefix)
    created = await api.post(
        "/users",
        json={"username": username, "password": TRADER_PASSWORD, "role": "trader", "scope": None},
        headers=office,
    )
    assert created.status_code == 201, created.text
    return username


async def add_space(api: httpx.AsyncClient, office: dict[str, str], market: str, name: str, capacity: int) -> str:
    """A new social space of ``market`` added by the office; its code."""
    code = unique("spazio")
    created = await api.post(
        f"/markets/{market}/spaces", json={"code": code, "name": name, "capacity": capacity}, headers=office
    )
    assert created.status_code == 201, created.text
    return code


async def book_space(
    api: httpx.AsyncClient, office: dict[str, str], market: str, code: str, title: str, start: datetime, public: bool
) -> str:
    """The office books two hours of the space from ``start`` for the Comitato di quartiere; the booking's id."""
    booked = await api.post(
        f"/markets/{market}/spaces/{code}/bookings",
        json={
            "title": title,
            "organiser": "Comitato di quartiere",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "public": public,
        },
        headers=office,
    )
    assert booked.status_code == 201, booked.text
    return str(booked.json()["id"])


async def ensure_a_district(platform: Platform) -> None:
    """The districts seed draws the city's districts; without it the test adds one perimeter itself."""
    async with httpx.AsyncClient(base_url=platform.gateway + "/api/v1", timeout=10) as api:
        if (await api.get("/districts", params={"limit": 1})).json().get("total", 0):
            return
        created = await api.post("/districts", json=FALLBACK_DISTRICT, headers=await office_headers(api))
        assert created.status_code in (200, 201, 409), created.text


MILAN = ZoneInfo("Europe/Rome")
IT_WEEKDAYS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
IT_MONTHS = ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic")
EN_DASH = "\u2013"


def wall_time(moment: datetime) -> str:
    """How a datetime-local field is typed: Milan wall time to the minute."""
    return moment.astimezone(MILAN).strftime("%Y-%m-%dT%H:%M")


def italian_period(start: datetime, end: datetime) -> str:
    """A booking's time within one day as an Italian reader writes it: 'mar 4 mag 2027, 18:00' and
    the end's time after an en dash."""
    s, e = start.astimezone(MILAN), end.astimezone(MILAN)
    return f"{IT_WEEKDAYS[s.weekday()]} {s.day} {IT_MONTHS[s.month - 1]} {s.year}, {s:%H:%M}{EN_DASH}{e:%H:%M}"


def keep_screenshot(shot: bytes, name: str, tmp: Path) -> None:
    """Always into the test's folder; into docs/ when missing or when UPDATE_SCREENSHOTS=1."""
    (tmp / name).write_bytes(shot)
    target = SCREENSHOTS / name
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shot)


async def keep_section_screenshot(page: Any, message: str, name: str, tmp: Path) -> None:
    """The whole page from its top as :func:`keep_screenshot` keeps it, without the section's message
    bar (data-testid ``message``), which sticks to the foot of the window; the bar is back afterwards."""
    bar = page.get_by_test_id(message)
    await bar.evaluate("(bar) => { bar.hidden = true; }")
    await page.evaluate("window.scrollTo(0, 0)")
    keep_screenshot(await page.screenshot(full_page=True), name, tmp)
    await bar.evaluate("(bar) => { bar.hidden = false; }")


# the office's workspace: each section's navigation link and the address it opens
SECTION_HASHES = {
    "Panoramica": "panoramica",
    "Bandi": "bandi",
    "Riconoscimenti": "riconoscimenti",
    "Account e registrazioni": "account",
    "Distretti": "distretti",
    "Dati": "dati",
    "Interventi": "interventi",
    "Concessioni e spazi": "concessioni",
}


async def open_section(page: Any, link: str, heading: str) -> Any:
    """Opens a workspace section from the keyboard, as a keyboard user would (the link focused,
    Enter): the section's heading takes the focus, the link is the current one, the address names
    the section and the overview's map is gone. Returns the navigation."""
    from playwright.async_api import expect

    nav = page.get_by_role("navigation", name="Sezioni dell'area di lavoro")
    await nav.get_by_role("link", name=link, exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=heading, level=2)).to_be_focused()
    await expect(nav.get_by_role("link", name=link, exact=True)).to_have_attribute("aria-current", "page")
    await expect(page).to_have_url(re.compile(f"#{SECTION_HASHES[link]}$"))
    await expect(page.get_by_test_id("map")).to_be_hidden()
    return nav


async def switch_language(page: Any, lang: str) -> None:
    """The page in ``lang``: English chosen with its button, Italian as the pages open."""
    from playwright.async_api import expect

    if lang == "en":
        await page.get_by_test_id("lang-en").click()
    await expect(page.locator("html")).to_have_attribute("lang", lang)


async def fill_form(scope: Any, fields: dict[str, str]) -> None:
    """Types each value into the field its label names, in order, as a person fills a form in
    (``scope``: the page, or the section holding the form)."""
    for label, value in fields.items():
        await scope.get_by_label(label).fill(value)


async def book_in_form(
    form: Any, title: str, organiser: str, start: datetime, end: datetime, public: bool = False
) -> None:
    """In a space's booking form: the event, who organises it and its period (typed as Milan wall
    time), public when told, sent."""
    await fill_form(
        form,
        {
            "Titolo dell'evento": title,
            "Chi lo organizza": organiser,
            "Inizio": wall_time(start),
            "Fine": wall_time(end),
        },
    )
    if public:
        await form.get_by_label("Evento pubblico").check()
    await form.get_by_role("button", name="Prenota").click()


async def expect_collision(scope: Any, text: str) -> Any:
    """The booking form's refusal of an overlapping period: focused, saying ``text``; its locator."""
    from playwright.async_api import expect

    collision = scope.get_by_test_id("booking-collision")
    await expect(collision).to_be_focused(timeout=10_000)
    await expect(collision).to_contain_text(text)
    return collision


async def choose_password(page: Any, password: str, confirm: str | None = None) -> None:
    """On the activation page: the new password, its confirmation (the same unless told), sent."""
    await page.get_by_test_id("activate-password").fill(password)
    await page.get_by_test_id("activate-confirm").fill(password if confirm is None else confirm)
    await page.get_by_test_id("activate-submit").click()


async def log_in(page: Any, username: str, password: str) -> None:
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()


async def log_in_by_labels(page: Any, username: str, password: str) -> None:
    """Signs in as a person reading the form does: the fields found by their labels, Enter to send."""
    await page.get_by_label("Nome utente", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.keyboard.press("Enter")


def watch_console(page: Any, problems: list[str]) -> None:
    """Collect the page's console errors and uncaught exceptions into ``problems``."""
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


@dataclass
class View:
    """A browser context with one page on the platform, and what went wrong in its console."""

    context: Any
    page: Any
    problems: list[str] = field(default_factory=list)

    def uncaught(self, *also: str) -> list[str]:
        """The console problems that are script failures (uncaught errors, and any of ``also``)."""
        marks = ("Uncaught", *also)
        return [p for p in self.problems if any(mark in p for mark in marks)]


OpenPage = Callable[..., Awaitable[View]]


@pytest.fixture
async def office_page(seeded: Platform, browser: Any) -> AsyncIterator[OpenPage]:
    """Opens ``path`` of the seeded platform in a new context (a desktop in Italian unless told
    otherwise), with its console watched, and signs in (as the office unless ``user`` names another
    account; ``user=None`` stays on the sign-in view). Every context opened is closed afterwards.
    ``problems`` shares one console log among several views."""
    opened: list[View] = []

    async def open_page(
        path: str = "/", *, user: tuple[str, str] | None = OFFICE, problems: list[str] | None = None, **options: Any
    ) -> View:
        context = await browser.new_context(**{"viewport": DESKTOP, "locale": "it-IT", **options})
        view = View(context, await context.new_page(), [] if problems is None else problems)
        opened.append(view)
        watch_console(view.page, view.problems)
        await view.page.goto(seeded.gateway + path)
        if user is not None:
            await log_in(view.page, *user)
        return view

    yield open_page
    for view in opened:
        await view.context.close()
