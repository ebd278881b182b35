"""A client of the platform's public API, for code that writes through it: the gateway's import jobs
(in process) and the developer tooling (the ``commerce`` CLI, the demo seeds, tests).

Each call answers the response's JSON object with its status under ``_status``. An answer that is
not 2xx nor listed in ``ok`` raises :class:`ApiError`, which carries the problem+json and says it in
one line, naming the fields. A 429, a 503 to a call that may be repeated, or a lost connection
during one, is tried again with the platform's backoff (``shared.retry``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from shared.retry import at_most

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
Bearer = Callable[[], Awaitable[str]]


class ApiError(Exception):
    """The platform refused a call: its status and problem+json."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        errors = problem.get("errors") or []
        if errors:
            self.detail += " [" + "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors) + "]"
        super().__init__(f"{status}: {self.detail}")


class BusyAnswer(Exception):
    """An answer worth waiting out: tried again after a wait."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"the platform answered HTTP {response.status_code}")
        self.response = response


class PlatformClient:
    """Calls the API through ``http`` (its base URL ends in ``/api/v1``). ``bearer``, when given,
    supplies the token of each call (one that is renewed); otherwise ``http``'s headers carry it."""

    def __init__(self, http: httpx.AsyncClient, *, bearer: Bearer | None = None, attempts: int = 6) -> None:
        self.http = http
        self.bearer = bearer
        self.attempts = attempts

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def _send(self, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})

        def retried(exc: Exception) -> bool:
            return isinstance(exc, BusyAnswer) or (isinstance(exc, httpx.TransportError) and method in IDEMPOTENT)

        try:
            async for attempt in at_most(self.attempts, retried, f"{method} {path}", first_wait_s=0.25):
                with attempt:
                    if self.bearer is not None:
                        headers["Authorization"] = f"Bearer {await self.bearer()}"
                    response = await self.http.request(method, path, headers=headers, **kwargs)
                    if response.status_code == 429 or (response.status_code == 503 and method in IDEMPOTENT):
                        raise BusyAnswer(response)
                    return response
        except BusyAnswer as exc:
            return exc.response
        raise AssertionError("unreachable: the last attempt answers or raises")

    async def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> dict[str, Any]:
        """Send a request; raise :class:`ApiError` unless 2xx or a status listed in ``ok``."""
        response = await self._send(method, path, kwargs)
        body = json_of(response) if response.content else {}
        body["_status"] = response.status_code
        if response.is_success or response.status_code in ok:
            return body
        raise ApiError(response.status_code, body)

    async def get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("DELETE", path, **kwargs)


def json_of(response: httpx.Response) -> dict[str, Any]:
    """An answer's JSON as an object (a list under ``items``; text that is not JSON under ``detail``)."""
    try:
        data = response.json()
    except ValueError:
        return {"detail": response.text[:200]}
    return data if isinstance(data, dict) else {"items": data}
