"""One reading of a request path: the gateway refuses any path two parties could read differently.

A path with a dot segment (``/markets/wagner/../barona``), an encoded dot, slash or backslash
(``%2e``, ``%2f``, ``%5c``), a backslash, a NUL or an empty segment can mean one thing to the
gateway's rules and another to the HTTP client or the service that resolves it later. Such a
path is answered 400 (problem+json) before any rule or route sees it, so what the gateway
authorises is exactly what it forwards.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from shared.i18n import Said
from shared.web.problems import instance_of, language_of, problem

_ENCODED = re.compile(rb"%(?:2e|2f|5c|00)", re.IGNORECASE)


ENCODED_CHARACTERS = Said(
    "in un percorso non si accettano punti, barre, barre rovesciate o caratteri NUL codificati (%2e, %2f, %5c, %00)",
    "encoded dots, slashes, backslashes or NUL characters (%2e, %2f, %5c, %00) are not accepted in a path",
)
BACKSLASH = Said(
    "in un percorso non si accettano barre rovesciate e caratteri NUL",
    "backslashes and NUL characters are not accepted in a path",
)
DOT_SEGMENTS = Said(
    "in un percorso non si accettano segmenti . e ..", "dot segments (. and ..) are not accepted in a path"
)
EMPTY_SEGMENTS = Said(
    "in un percorso non si accettano segmenti vuoti (//)", "empty path segments (//) are not accepted in a path"
)


def path_problem(raw_path: bytes, path: str) -> Said | None:
    """Why ``raw_path`` (as sent) / ``path`` (as decoded) is ambiguous, or None when it is not."""
    raw = raw_path.split(b"?", 1)[0]
    if _ENCODED.search(raw):
        return ENCODED_CHARACTERS
    for candidate in (raw.decode("latin-1"), path, unquote(raw.decode("latin-1"))):
        if "\\" in candidate or "\x00" in candidate:
            return BACKSLASH
        segments = candidate.split("/")[1:]
        if any(segment in (".", "..") for segment in segments):
            return DOT_SEGMENTS
        if "" in segments[:-1]:
            return EMPTY_SEGMENTS
    return None


class PathGuardMiddleware:
    """Answers 400 to an ambiguous path before routing (see :func:`path_problem`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope["path"].encode("utf-8")
            reason = path_problem(raw, scope["path"])
            if reason:
                answer = problem(400, reason, instance_of(scope), "ambiguous-path", lang=language_of(scope))
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
