"""Pages for people: the office's dashboard, the operators' page, the shop portal, the traders' page,
the citizens' page, the requests for an account, a market's public agenda and the API documentation.

Everything is served from this process (no CDN): the pages from ``pages/`` (one layout, see
:func:`render_page`), their scripts, styles and images from ``static/``, Swagger UI from the pinned
``fastapi-swagger`` package (the documents it shows: :mod:`gateway.contracts`).
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from shared.errors import NotFound
from shared.i18n import Said

PACKAGE = Path(__file__).resolve().parent
STATIC = PACKAGE / "static"
PAGES = PACKAGE / "pages"
BLOCK = re.compile(r"^<!-- block: ([a-z_]+) -->\n", re.MULTILINE)
DOCS_UI = PACKAGE / "docs_ui"
SWAGGER = resources.files("fastapi_swagger") / "resources"
DOCS_ASSETS: dict[str, tuple[Any, str]] = {
    "swagger-ui-bundle.js": (SWAGGER / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (SWAGGER / "swagger-ui.css", "text/css"),
    "init.js": (DOCS_UI / "init.js", "text/javascript"),
}
PAGE_HEADERS = {"Cache-Control": "no-cache"}
# The citizens' page and the request for an account (placing a proposed shop) may ask for the device's
# position: geolocation is allowed for this origin on those pages only (every other answer keeps the
# default policy that denies it).
POSITION_HEADERS = {
    **PAGE_HEADERS,
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self), payment=()",
}
# The service worker sits at the site root so that its scope can cover ``/near`` (and the query
# strings of linked searches); the page registers it with exactly that scope.
NEAR_SCOPE = "/near"

router = APIRouter(include_in_schema=False)


# What a page need not say: no extra head lines, no script besides its own module (static/js/<page>.js,
# which the layout loads), nothing after its main, the language switch as its only top-bar tool, its
# heading the same as its title, a request for an account of any kind, a footer of links only.
PAGE_DEFAULTS = {
    "head": "",
    "scripts": "",
    "after": "\n${footer}",  # what follows <main>: the footer, unless a page says otherwise
    "tools": "${lang}",
    "heading": "${title}",
    "register_href": "/register",
    "footer_lead": "",
    "footer_note": "",
}
NESTING = 5  # layout -> parts (brand, login) -> blocks (heading, login_intro) -> parts they name -> …


def render_page(name: str, **values: str) -> str:
    """The page ``pages/<name>``: ``pages/layout.html`` with its ``${...}`` places filled by the page's
    blocks (each opened by a line ``<!-- block: NAME -->``), by the parts the pages share
    (``pages/parts/NAME.html``: the brand, the language switch, the user box, the login form, the
    footer) and by
    :data:`PAGE_DEFAULTS`. A page's block replaces the part or default of the same name (the office's
    dashboard has its own brand). Parts and blocks may name one another (the login form shows the
    page's ``login_intro`` under the key ``<page>.login_intro``); ``values`` fill the rest (the page's
    name and its top bar's class). Read at each request, so an edited page shows on reload."""
    _, *pieces = BLOCK.split((PAGES / name).read_text(encoding="utf-8"))
    parts = {part.stem: part.read_text(encoding="utf-8") for part in (PAGES / "parts").glob("*.html")}
    blocks = dict(zip(pieces[::2], pieces[1::2], strict=True))
    values = PAGE_DEFAULTS | {key: text.rstrip("\n") for key, text in (parts | blocks).items()} | values
    text = (PAGES / "layout.html").read_text(encoding="utf-8")
    for _ in range(NESTING):
        text = Template(text).safe_substitute(values)
    if missing := Template(text).get_identifiers():
        raise LookupError(f"page {name}: nothing fills {', '.join(missing)}")
    return text


def map_meta(tiles_url: str, attribution: str) -> str:
    """The ``<meta>`` telling the pages' maps which tile background to draw (none when not configured)."""
    if not tiles_url:
        return ""
    return f'  <meta name="map-tiles" content="{escape(tiles_url)}" data-attribution="{escape(attribution)}">'


def _add_page(
    pages: APIRouter, path: str, name: str, page: str, topbar: str, headers: dict[str, str], meta: str
) -> None:
    async def serve_page() -> HTMLResponse:
        return HTMLResponse(render_page(f"{page}.html", page=page, topbar=topbar, map_meta=meta), headers=headers)

    pages.add_api_route(path, serve_page, methods=["GET"], name=name)


def _add_site_file(path: str, name: str, file: Path, media_type: str, headers: dict[str, str]) -> None:
    async def site_file() -> FileResponse:
        return FileResponse(file, media_type=media_type, headers=headers)

    router.add_api_route(path, site_file, methods=["GET"], name=name)


# path, route name, page (pages/<page>.html, its body's class page-<page>), its top bar's class, headers
PAGE_ROUTES: tuple[tuple[str, str, str, str, dict[str, str]], ...] = (
    ("/", "dashboard", "dashboard", "topbar", PAGE_HEADERS),
    ("/operator", "operator_page", "operator", "topbar topbar-compact", PAGE_HEADERS),
    ("/near", "near_page", "near", "topbar topbar-compact", POSITION_HEADERS),
    # a market's public events, for anyone (no login)
    ("/agenda", "agenda_page", "agenda", "topbar topbar-compact", PAGE_HEADERS),
    # a shopkeeper's own shop: services and hours, closures, documents, historic recognition
    ("/shop", "shop_page", "shop", "topbar topbar-compact", PAGE_HEADERS),
    # a one-time link (approved registration, password reset) sets the password here
    ("/activate", "activate_page", "activate", "topbar topbar-compact", PAGE_HEADERS),
    # anyone asks for an account: a shopkeeper (naming or proposing the shop) or a market trader
    ("/register", "register_page", "register", "topbar topbar-compact", POSITION_HEADERS),
    # a market trader's calls, applications and rankings, and today's spunta
    ("/trader", "trader_page", "trader", "topbar topbar-compact", PAGE_HEADERS),
)
# path, route name, file, media type, headers: files that must sit outside /static
SITE_FILES: tuple[tuple[str, str, Path, str, dict[str, str]], ...] = (
    ("/near.webmanifest", "near_manifest", STATIC / "near.webmanifest", "application/manifest+json", PAGE_HEADERS),
    (
        "/near-sw.js",
        "near_service_worker",
        STATIC / "js" / "near-sw.js",
        "text/javascript",
        {**PAGE_HEADERS, "Service-Worker-Allowed": NEAR_SCOPE},
    ),
    ("/docs", "api_docs", DOCS_UI / "index.html", "text/html", PAGE_HEADERS),
)
for site_file in SITE_FILES:
    _add_site_file(*site_file)


@router.get("/docs/assets/{name}")
async def api_docs_asset(name: str) -> Response:
    if name not in DOCS_ASSETS:
        raise NotFound(Said(f"la documentazione non ha il file {name!r}", f"no documentation asset {name!r}"))
    return Response(_asset(name), media_type=DOCS_ASSETS[name][1], headers={"Cache-Control": "public, max-age=3600"})


@cache
def _asset(name: str) -> bytes:
    data: bytes = DOCS_ASSETS[name][0].read_bytes()
    return data


def page_router(tiles_url: str = "", tiles_attribution: str = "") -> APIRouter:
    """The pages, their maps drawn over the tile background configured (if any)."""
    pages = APIRouter(include_in_schema=False)
    meta = map_meta(tiles_url, tiles_attribution)
    for page_route in PAGE_ROUTES:
        _add_page(pages, *page_route, meta)
    return pages


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
