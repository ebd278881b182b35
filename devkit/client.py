"""The platform's API client for the developer tooling: the ``commerce`` CLI, the demo seeds and tests.

It is :class:`shared.web.client.PlatformClient` (JSON answers with ``_status``, :class:`ApiError`
on a refusal, busy answers tried again) on the gateway's ``/api/v1``, logged in as a user.
"""

from __future__ import annotations

import httpx

from shared.web.client import ApiError, PlatformClient, json_of

__all__ = ["ApiClient", "ApiError"]


class ApiClient(PlatformClient):
    """Talks to the gateway's ``/api/v1`` as a logged-in user."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0, retries: int = 5) -> None:
        super().__init__(
            httpx.AsyncClient(base_url=base_url.rstrip("/") + "/api/v1", timeout=timeout_s), attempts=retries + 1
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def login(self, username: str, password: str) -> None:
        response = await self.http.post("/auth/token", data={"username": username, "password": password})
        body = json_of(response)
        if response.status_code != 200:
            raise ApiError(response.status_code, body)
        self.http.headers["Authorization"] = f"Bearer {body['access_token']}"
