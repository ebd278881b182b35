"""The one mapper from errors to ``application/problem+json`` (RFC 9457).

Use cases raise the pure exceptions of ``shared.errors``; request validation, HTTP errors, an
unreachable database and anything unexpected are answered here too, so no client ever sees a stack
trace and every refusal names what was wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import AppError
from shared.i18n import DEFAULT_LANGUAGE, Said, language
from shared.web.shapes import shape_message

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = "2"
TYPE_BASE = "https://errors.commerce.milano.local/"
TITLES = {
    400: Said("Richiesta non valida", "Bad request"),
    401: Said("Accesso richiesto", "Unauthorized"),
    403: Said("Operazione non consentita", "Forbidden"),
    404: Said("Non trovato", "Not found"),
    405: Said("Metodo non consentito", "Method not allowed"),
    406: Said("Formato non disponibile", "Not acceptable"),
    409: Said("Conflitto", "Conflict"),
    412: Said("Versione non corrispondente", "Precondition failed"),
    413: Said("Contenuto troppo grande", "Payload too large"),
    415: Said("Tipo di contenuto non accettato", "Unsupported media type"),
    422: Said("Dati non validi", "Invalid input"),
    428: Said("Versione richiesta", "Precondition required"),
    429: Said("Troppe richieste", "Too many requests"),
    500: Said("Errore interno", "Internal error"),
    503: Said("Servizio non disponibile", "Service unavailable"),
}
ERROR = Said("Errore", "Error")
INVALID_INPUT = Said("dati non validi", "invalid input")
DATABASE_DOWN = Said("il database non è raggiungibile; riprova tra poco", "the database is unavailable, retry shortly")
PHRASES = {status.value: status.phrase for status in HTTPStatus}  # what a bare HTTPException says
UNEXPECTED = Said("errore imprevisto; è stato registrato", "unexpected error; it has been logged")


def instance_of(scope: Mapping[str, Any]) -> str:
    """A problem's ``instance``: the path as the client sent it (a URI reference, still percent-encoded;
    the decoded path may hold characters a URI cannot, and URL parsers drop tabs and line breaks)."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.split(b"?", 1)[0].decode("latin-1")
    return str(scope.get("path", ""))


def language_of(scope: Mapping[str, Any]) -> str:
    """The language a problem is worded in: the request's ``Accept-Language`` (Italian unless it
    prefers English)."""
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            return language(value.decode("latin-1"))
    return language(None)


def problem(
    status: int,
    detail: str | Said,
    instance: str = "",
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    lang: str = DEFAULT_LANGUAGE,
    **extra: Any,
) -> JSONResponse:
    """A problem answer in ``lang``: its ``title`` and a ``Said`` detail; ``type`` never changes with it."""
    title = TITLES.get(status, ERROR)
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or title.en.lower().replace(" ", "-")),
        "title": title.in_(lang),
        "status": status,
        "detail": detail.in_(lang) if isinstance(detail, Said) else detail,
        "instance": instance,
    }
    body.update(extra)
    worded = {"Content-Language": lang, "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers={**(headers or {}), **worded})


def validation_errors(exc: RequestValidationError, lang: str = DEFAULT_LANGUAGE) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "message": shape_message(err, lang)}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"Retry-After": RETRY_AFTER_S} if exc.status == 503 else {}
        headers.update(exc.headers)
        lang = language_of(request.scope)
        extra = exc.localized_extra(lang)
        return problem(
            exc.status, exc.detail_in(lang), instance_of(request.scope), exc.kind, headers=headers, lang=lang, **extra
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language_of(request.scope)
        errors = validation_errors(exc, lang)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or INVALID_INPUT.in_(lang)
        return problem(422, detail, instance_of(request.scope), "invalid-input", lang=lang, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers) if exc.headers else None
        lang = language_of(request.scope)
        # the framework's own refusals (an unknown route, a method it lacks) say only the status's name
        plain = str(exc.detail) in (PHRASES.get(exc.status_code), "")
        detail = TITLES.get(exc.status_code, ERROR).in_(lang) if plain else str(exc.detail)
        return problem(exc.status_code, detail, instance_of(request.scope), headers=headers, lang=lang)

    @app.exception_handler(ConnectionFailure)
    async def _db_down(request: Request, exc: ConnectionFailure) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        kind = "database-timeout" if isinstance(exc, ServerSelectionTimeoutError) else "database-unavailable"
        return problem(
            503,
            DATABASE_DOWN,
            instance_of(request.scope),
            kind,
            headers={"Retry-After": RETRY_AFTER_S},
            lang=language_of(request.scope),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, instance_of(request.scope))
        return problem(500, UNEXPECTED, instance_of(request.scope), lang=language_of(request.scope))


# the documented answer of a write that breaks a business rule (OpenAPI ``responses=``)
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "the change breaks a rule (the detail says which)"}}
