"""Errors a client can act on, raised by use cases and domain rules.

Pure exceptions: no web or database library is imported here, so domain modules can raise them.
``shared.web.problems`` maps each one, once, to ``application/problem+json``.
"""

from __future__ import annotations

from typing import Any

from shared.i18n import Said


class AppError(Exception):
    """An error a client can act on; ``status`` and ``kind`` say how it is answered."""

    status = 400
    kind = "bad-request"

    def __init__(self, detail: str | Said, **extra: Any) -> None:
        super().__init__(str(detail))
        self.detail = str(detail)
        self.said = detail if isinstance(detail, Said) else None  # answered in the caller's language
        self.extra = extra
        self.headers: dict[str, str] = {}  # HTTP headers the answer carries (``Retry-After``)

    def detail_in(self, language: str) -> str:
        return self.said.in_(language) if self.said else self.detail

    def localized_extra(self, language: str) -> dict[str, Any]:
        """The problem's extra members in ``language`` (those that carry words override this)."""
        return self.extra


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


class PayloadTooLarge(AppError):
    """413: a body (or an uploaded file) larger than the route accepts."""

    status, kind = 413, "payload-too-large"


class UnsupportedMediaType(AppError):
    """415: content of a type the route does not accept (judged by the content, not by its name)."""

    status, kind = 415, "unsupported-media-type"


class TooManyRequests(AppError):
    """429: the caller is over a rate limit; ``Retry-After`` says in how many seconds to try again."""

    status, kind = 429, "too-many-requests"

    def __init__(self, detail: str | Said, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(max(1, retry_after_s))


class InvalidInput(AppError):
    """422 raised by a use case; ``field`` names what was wrong (``body.perimeter``)."""

    status, kind = 422, "invalid-input"

    def __init__(self, field: str, detail: str | Said, **extra: Any) -> None:
        super().__init__(detail, errors=[{"field": field, "message": str(detail)}], **extra)
        self.field = field

    def localized_extra(self, language: str) -> dict[str, Any]:
        return {**self.extra, "errors": [{"field": self.field, "message": self.detail_in(language)}]}


class Unavailable(AppError):
    """A dependency is down or overloaded; answered 503 with ``Retry-After``."""

    status, kind = 503, "unavailable"
