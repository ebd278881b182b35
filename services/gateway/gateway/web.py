"""Pages for people: the office's dashboard, the operators' page, the citizens' page and the API documentation.

Everything is served from this process (no CDN): the dashboard's files from ``static/``, Swagger UI
from the pinned ``fastapi-swagger`` package (the documents it shows: :mod:`gateway.contracts`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

from shared.errors import NotFound

PACKAGE = Path(__file__).resolve().parent
STATIC = PACKAGE / "static"
DOCS_UI = PACKAGE / "docs_ui"
SWAGGER = resources.files("fastapi_swagger") / "resources"
DOCS_ASSETS: dict[str, tuple[Any, str]] = {
    "swagger-ui-bundle.js": (SWAGGER / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (SWAGGER / "swagger-ui.css", "text/css"),
    "init.js": (DOCS_UI / "init.js", "text/javascript"),
}
PAGE_HEADERS = {"Cache-Control": "no-cache"}
# The citizens' page asks for the device's position: geolocation is allowed for this origin on that
# page only (every other answer keeps the default policy that denies it).
NEAR_HEADERS = {
    **PAGE_HEADERS,
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self), payment=()",
}
# The service worker sits at the site root so that its scope can cover ``/near`` (and the query
# strings of linked searches); the page registers it with exactly that scope.
NEAR_SCOPE = "/near"

router = APIRouter(include_in_schema=False)


# path, route name, file, media type, headers: the pages and the files that must sit outside /static
SITE_FILES: tuple[tuple[str, str, Path, str, dict[str, str]], ...] = (
    ("/", "dashboard", STATIC / "index.html", "text/html", PAGE_HEADERS),
    ("/operator", "operator_page", STATIC / "operator.html", "text/html", PAGE_HEADERS),
    ("/near", "near_page", STATIC / "near.html", "text/html", NEAR_HEADERS),
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


def _add_site_file(path: str, name: str, file: Path, media_type: str, headers: dict[str, str]) -> None:
    async def site_file() -> FileResponse:
        return FileResponse(file, media_type=media_type, headers=headers)

    router.add_api_route(path, site_file, methods=["GET"], name=name)


for site_file in SITE_FILES:
    _add_site_file(*site_file)


@router.get("/docs/assets/{name}")
async def api_docs_asset(name: str) -> Response:
    if name not in DOCS_ASSETS:
        raise NotFound(f"no documentation asset {name!r}")
    return Response(_asset(name), media_type=DOCS_ASSETS[name][1], headers={"Cache-Control": "public, max-age=3600"})


@cache
def _asset(name: str) -> bytes:
    data: bytes = DOCS_ASSETS[name][0].read_bytes()
    return data


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
