"""A document merged from every service's own (OpenAPI, AsyncAPI), fetched through the proxy.

A service that is down is left out and named in ``x-unavailable``; it is asked again on the next
request after a few seconds, and every service is refreshed after ``refresh_s`` (a failed refresh
keeps the last document it gave). At start-up :meth:`MergedDocument.warm` asks until every
service has answered, with the platform's retry policy (``shared.retry``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from gateway.proxy import Proxy, UpstreamUnavailable
from shared.retry import until_done

log = logging.getLogger(__name__)

RETRY_MISSING_S = 2.0
SCHEMA_REF = "#/components/schemas/"

Spec = dict[str, Any]


class ServicesMissing(Exception):
    pass


def rename_refs(node: Any, rename: Callable[[str], str]) -> Any:
    """``node`` with every ``$ref`` to ``#/components/schemas/<name>`` pointing at ``rename(name)``."""
    if isinstance(node, dict):
        return {
            key: (SCHEMA_REF + rename(value[len(SCHEMA_REF) :]))
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF)
            else rename_refs(value, rename)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [rename_refs(item, rename) for item in node]
    return node


class MergedDocument:
    """The merge of every service's ``path`` document, rebuilt when one of them changes."""

    path = ""

    def __init__(self, proxy: Proxy, refresh_s: float) -> None:
        self.proxy = proxy
        self.refresh_s = refresh_s
        self._specs: dict[str, Spec] = {}
        self._fetched_at: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._merged: Spec | None = None
        self._listeners: list[Callable[[Spec], None]] = []

    def build(self, services: dict[str, Spec], unavailable: list[str]) -> Spec:
        raise NotImplementedError

    def on_change(self, listener: Callable[[Spec], None]) -> None:
        self._listeners.append(listener)

    @property
    def missing(self) -> list[str]:
        return [s for s in self.proxy.upstreams if s not in self._specs]

    async def warm(self) -> None:
        """Fetch every service's document as soon as it answers (started with the gateway)."""
        async for attempt in until_done(
            ServicesMissing, f"{self.path} of every service", first_wait_s=RETRY_MISSING_S, max_wait_s=self.refresh_s
        ):
            with attempt:
                await self.document()
                if self.missing:
                    raise ServicesMissing(f"no {self.path} yet from {', '.join(self.missing)}")

    def _stale(self, service: str, now: float) -> bool:
        fetched = self._fetched_at.get(service)
        if fetched is None:
            return True
        return now - fetched >= (self.refresh_s if service in self._specs else RETRY_MISSING_S)

    async def document(self) -> Spec:
        now = time.monotonic()
        stale = [s for s in self.proxy.upstreams if self._stale(s, now)]
        if stale or self._merged is None:
            async with self._lock:
                stale = [s for s in self.proxy.upstreams if self._stale(s, time.monotonic())]
                if stale or self._merged is None:
                    await asyncio.gather(*(self._fetch(s) for s in stale))
                    self._rebuild()
        assert self._merged is not None
        return self._merged

    async def _fetch(self, service: str) -> None:
        self._fetched_at[service] = time.monotonic()
        try:
            response = await self.proxy.call(service, "GET", self.path, headers=[("accept", "application/json")])
            spec = response.json() if response.status_code == 200 else None
        except (UpstreamUnavailable, ValueError) as exc:
            log.info("%s of %s not available: %s", self.path, service, exc)
            spec = None
        if isinstance(spec, dict):
            self._specs[service] = spec

    def _rebuild(self) -> None:
        self._merged = self.build(dict(self._specs), self.missing)
        for listener in self._listeners:
            listener(self._merged)
