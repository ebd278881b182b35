"""The one mapper from errors to ``application/problem+json`` (RFC 9457).

Use cases raise the pure exceptions of ``shared.errors``; request validation, HTTP errors, an
unreachable database and anything unexpected are answered here too, so no client ever sees a stack
trace and every refusal names what was wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import AppError
from shared.i18n import language

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = "2"
TYPE_BASE = "https://errors.commerce.milano.local/"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


def instance_of(scope: Mapping[str, Any]) -> str:
    """A problem's ``instance``: the path as the client sent it (a URI reference, still percent-encoded;
    the decoded path may hold characters a URI cannot, and URL parsers drop tabs and line breaks)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.split(b"?", 1)[0].decode("latin-1")
    return str(scope.get("path", ""))


def problem(
    status: int,
    detail: str,
    instance: str = "",
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    title = TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "message": str(err.get("msg", ""))}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"Retry-After": RETRY_AFTER_S} if exc.status == 503 else {}
        if exc.said is None:
            return problem(
                exc.status, exc.detail, instance_of(request.scope), exc.kind, headers=headers or None, **exc.extra
            )
        lang = language(request.headers.get("accept-language"))
        extra = exc.localized_extra(lang)
        headers.update({"Content-Language": lang, "Vary": "Accept-Language"})
        return problem(exc.status, exc.detail_in(lang), instance_of(request.scope), exc.kind, headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid input"
        return problem(422, detail, instance_of(request.scope), "invalid-input", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, str(exc.detail), instance_of(request.scope), headers=headers)

    @app.exception_handler(ConnectionFailure)
    async def _db_down(request: Request, exc: ConnectionFailure) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        kind = "database-timeout" if isinstance(exc, ServerSelectionTimeoutError) else "database-unavailable"
        return problem(
            503,
            "the database is unavailable, retry shortly",
            instance_of(request.scope),
            kind,
            headers={"Retry-After": RETRY_AFTER_S},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, instance_of(request.scope))
        return problem(500, "unexpected error; it has been logged", instance_of(request.scope))


# the documented answer of a write that breaks a business rule (OpenAPI ``responses=``)
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "the change breaks a rule (the detail says which)"}}
