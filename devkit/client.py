"""A small client of the platform's public API, used by the importers, the demo seed and tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        errors = problem.get("errors") or []
        if errors:
            self.detail += " [" + "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors) + "]"
        super().__init__(f"{status}: {self.detail}")


class ApiClient:
    """Talks to the gateway's ``/api/v1`` as a logged-in user; retries 429/503 with backoff."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0, retries: int = 5) -> None:
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/api/v1", timeout=timeout_s)
        self.retries = retries

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def login(self, username: str, password: str) -> None:
        response = await self.http.post("/auth/token", data={"username": username, "password": password})
        body = self._json(response)
        if response.status_code != 200:
            raise ApiError(response.status_code, body)
        self.http.headers["Authorization"] = f"Bearer {body['access_token']}"

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            return {"detail": response.text[:200]}
        return data if isinstance(data, dict) else {"items": data}

    async def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> dict[str, Any]:
        """Send a request; raise :class:`ApiError` unless 2xx or a status listed in ``ok``."""
        delay = 0.25
        for attempt in range(self.retries + 1):
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx.TransportError:
                if method not in IDEMPOTENT or attempt == self.retries:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
                continue
            retryable = response.status_code == 429 or (response.status_code == 503 and method in IDEMPOTENT)
            if retryable and attempt < self.retries:
                wait = float(response.headers.get("Retry-After", delay))
                await asyncio.sleep(min(wait, 5.0))
                delay *= 2
                continue
            body = self._json(response) if response.content else {}
            body["_status"] = response.status_code
            if response.is_success or response.status_code in ok:
                return body
            raise ApiError(response.status_code, body)
        raise AssertionError("unreachable")

    async def get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.request("DELETE", path, **kwargs)
