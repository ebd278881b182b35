"""Parameters as the OpenAPI declares them, so that a value of the declared shape is the only kind read.

Identifiers in a path hold no dot, slash, backslash or space: the gateway refuses an ambiguous path
with 400 before any route sees it, and a value of the wrong shape is answered 422 naming the
parameter rather than 404. A time in a query is ISO 8601 text (``2026-12-05T10:00``, with or without
an offset), never a bare number that the parser would otherwise read as seconds since 1970.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Response
from pydantic import BeforeValidator, WithJsonSchema

from shared.i18n import Said, language

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MOMENT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$"
_MOMENT = re.compile(MOMENT_PATTERN)

# a market, call, district, rebuild job: lower-case letters and digits joined by hyphens
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=SLUG_PATTERN, examples=["wagner"])]
# a day as YYYY-MM-DD (whether the day exists is the route's question)
Day = Annotated[str, Path(pattern=DATE_PATTERN, examples=["2026-12-05"])]


NOT_A_MOMENT = Said(
    "deve essere un'ora ISO 8601, per esempio 2026-12-05T10:00 o 2026-12-05T10:00:00+01:00",
    "must be an ISO 8601 time such as 2026-12-05T10:00 or 2026-12-05T10:00:00+01:00",
)


def _iso_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _MOMENT.fullmatch(value):
        raise ValueError(NOT_A_MOMENT)
    return value


# what an offset-less time means (UTC, Milan time) is the route's to say in its description
Moment = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    WithJsonSchema({"type": "string", "pattern": MOMENT_PATTERN, "examples": ["2026-12-05T10:00:00+01:00"]}),
]


def _chosen_language(response: Response, accept_language: Annotated[str | None, Header(max_length=200)] = None) -> str:
    """The caller's language for words in a body (Italian unless ``Accept-Language`` prefers English),
    said back in ``Content-Language``."""
    chosen = language(accept_language)
    response.headers["Content-Language"] = chosen
    response.headers["Vary"] = "Accept-Language"
    return chosen


# a route whose answer holds words a person reads takes this and picks each text's language with it
ChosenLanguage = Annotated[str, Depends(_chosen_language)]
