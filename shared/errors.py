"""Application errors and the one mapper that turns every error into problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TITLES = {
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


class AppError(Exception):
    """An error a client can act on; raised by use cases, mapped once to problem+json."""

    status = 400
    kind = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(AppError):
    status, kind = 404, "not-found"


class Conflict(AppError):
    status, kind = 409, "conflict"


class PreconditionFailed(AppError):
    status, kind = 412, "precondition-failed"


class Unauthorized(AppError):
    status, kind = 401, "unauthorized"


class Forbidden(AppError):
    status, kind = 403, "forbidden"


class InvalidInput(AppError):
    """422 raised by a use case; ``field`` names what was wrong (``body.perimeter``)."""

    status, kind = 422, "invalid-input"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail, errors=[{"field": field, "message": detail}])


class Unavailable(AppError):
    status, kind = 503, "unavailable"


def problem(
    status: int,
    detail: str,
    instance: str = "",
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://errors.commerce.milano.local/{kind or _TITLES.get(status, 'error').lower().replace(' ', '-')}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    return [{"field": _field_of(err.get("loc", ())), "message": str(err.get("msg", ""))} for err in exc.errors()]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"Retry-After": "2"} if exc.status == 503 else None
        return problem(exc.status, exc.detail, request.url.path, exc.kind, headers=headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid input"
        return problem(422, detail, request.url.path, "invalid-input", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, str(exc.detail), request.url.path, headers=headers)

    @app.exception_handler(ConnectionFailure)
    async def _db_down(request: Request, exc: ConnectionFailure) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        kind = "database-timeout" if isinstance(exc, ServerSelectionTimeoutError) else "database-unavailable"
        return problem(
            503, "the database is unavailable, retry shortly", request.url.path, kind, headers={"Retry-After": "2"}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "unexpected error; it has been logged", request.url.path)
