"""The merged OpenAPI document of the whole public API.

Each service's ``/openapi.json`` is fetched through the proxy, its paths are prefixed with
``/api/v1``, its component schemas renamed ``<service>_<Name>`` (so two services' ``Market`` or
``HTTPValidationError`` cannot collide) and its operation ids prefixed likewise. The gateway's
own public routes are added as they are. A service that is down is left out and named in
``x-unavailable``; it is asked again on the next request after a few seconds, and every service
is refreshed after ``openapi_refresh_s`` (a failed refresh keeps the last document it gave).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from typing import Any

from gateway.access import WRITE_METHODS, AccessPolicy, Need
from gateway.proxy import Proxy, UpstreamUnavailable

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
SERVICE_OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_MISSING_S = 2.0
SCHEMA_REF = "#/components/schemas/"
BEARER = "bearer"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "oauth2",
        "description": "Log in with the OAuth2 password flow; send the token as `Authorization: Bearer <token>`.",
        "flows": {"password": {"tokenUrl": f"{API_PREFIX}/auth/token", "scopes": {}}},
    }
}

Spec = dict[str, Any]


def _rename_refs(node: Any, rename: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (SCHEMA_REF + rename(value[len(SCHEMA_REF) :]))
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF)
            else _rename_refs(value, rename)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(item, rename) for item in node]
    return node


def namespaced(service: str, spec: Spec) -> Spec:
    """A service's public paths under ``/api/v1`` with its schemas and operation ids namespaced."""

    def rename(name: str) -> str:
        return f"{service}_{name}"

    schemas = spec.get("components", {}).get("schemas", {})
    paths: dict[str, Any] = {}
    for path, item in spec.get("paths", {}).items():
        if path in SERVICE_OPERATIONS:
            continue
        item = _rename_refs(copy.deepcopy(item), rename)
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                operation["operationId"] = rename(operation["operationId"])
            if isinstance(operation, dict) and not operation.get("tags"):
                operation["tags"] = [service]
        paths[API_PREFIX + path] = item
    return {
        "paths": paths,
        "schemas": {rename(name): _rename_refs(schema, rename) for name, schema in schemas.items()},
    }


def annotate_access(spec: Spec, policy: AccessPolicy) -> None:
    """Mark each write operation with who may call it (``x-access``) and that it needs the token."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method.upper() not in WRITE_METHODS or not isinstance(operation, dict):
                continue
            found = policy.rule_for(method.upper(), path)
            need = found[0].need if found else Need.AUTHENTICATED
            operation["x-access"] = need.value
            if need is not Need.PUBLIC:
                operation.setdefault("security", [{BEARER: []}])


def merge(own: Spec, services: dict[str, Spec], unavailable: list[str], policy: AccessPolicy) -> Spec:
    """The gateway's own document extended with every service's namespaced paths and schemas."""
    merged = copy.deepcopy(own)
    merged["paths"] = {p: item for p, item in merged.get("paths", {}).items() if p.startswith(API_PREFIX)}
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    for service in sorted(services):
        part = namespaced(service, services[service])
        merged["paths"].update(part["paths"])
        schemas.update(part["schemas"])
    merged["paths"] = dict(sorted(merged["paths"].items()))
    merged["components"]["securitySchemes"] = SECURITY_SCHEMES
    annotate_access(merged, policy)
    merged["x-unavailable"] = sorted(unavailable)
    return merged


class MergedOpenAPI:
    def __init__(self, proxy: Proxy, own: Callable[[], Spec], policy: AccessPolicy, refresh_s: float) -> None:
        self.proxy = proxy
        self.policy = policy
        self.own = own
        self.refresh_s = refresh_s
        self._specs: dict[str, Spec] = {}
        self._fetched_at: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._merged: Spec | None = None
        self._listeners: list[Callable[[Spec], None]] = []

    def on_change(self, listener: Callable[[Spec], None]) -> None:
        self._listeners.append(listener)

    @property
    def missing(self) -> list[str]:
        return [s for s in self.proxy.upstreams if s not in self._specs]

    async def warm(self) -> None:
        """Fetch every service's document as soon as it answers (started with the gateway)."""
        delay = RETRY_MISSING_S
        await self.document()
        while self.missing:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.refresh_s)
            await self.document()

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
            response = await self.proxy.call(service, "GET", "/openapi.json", headers=[("accept", "application/json")])
            spec = response.json() if response.status_code == 200 else None
        except (UpstreamUnavailable, ValueError) as exc:
            log.info("OpenAPI of %s not available: %s", service, exc)
            spec = None
        if isinstance(spec, dict):
            self._specs[service] = spec

    def _rebuild(self) -> None:
        self._merged = merge(self.own(), dict(self._specs), self.missing, self.policy)
        for listener in self._listeners:
            listener(self._merged)
