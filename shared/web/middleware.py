"""ASGI middleware every service runs: request id, access log and metrics, body size limit."""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.i18n import Said
from shared.logging import request_id_var
from shared.metrics import ServiceMetrics
from shared.settings import is_loopback
from shared.web.problems import instance_of, language_of, problem

log = logging.getLogger("access")
REQUEST_ID = "x-request-id"
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class HttpMiddleware:
    """A pure ASGI middleware that acts on HTTP requests (:meth:`http`) and passes anything else
    (lifespan, websockets) straight to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestContextMiddleware(HttpMiddleware):
    """Assigns the request id, measures the request by route template, logs it in JSON."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = _header(scope, REQUEST_ID.encode())
        request_id = incoming if incoming and len(incoming) <= 128 else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.http_requests.labels(route, method, str(status)).inc()
            self.metrics.http_latency.labels(route, method).observe(elapsed)
            if route not in QUIET_ROUTES:
                log.info(
                    "%s %s %s",
                    method,
                    scope["path"],
                    status,
                    extra={"route": route, "status": status, "duration_ms": round(elapsed * 1000, 2)},
                )
            request_id_var.reset(token)


@dataclass(frozen=True)
class LargeBody:
    """A route allowed a larger body than the default (an upload): its method, a regular expression
    the whole path must match, and its own limit."""

    method: str
    path: str
    max_bytes: int

    def covers(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path, path) is not None


class BodySizeLimitMiddleware(HttpMiddleware):
    """Refuses request bodies over ``max_bytes`` (or a :class:`LargeBody` route's own limit) with 413,
    whether announced or streamed; it stops reading at the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, large: Sequence[LargeBody] = ()) -> None:
        super().__init__(app)
        self.default_max_bytes = max_bytes
        self.large = tuple(large)

    def limit_for(self, scope: Scope) -> int:
        method, path = scope["method"], scope["path"]
        return next((large.max_bytes for large in self.large if large.covers(method, path)), self.default_max_bytes)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        max_bytes = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, receive, send, max_bytes)
            return
        received = 0
        too_large = answered = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def send_unless_too_large(message: Message) -> None:
            # a framework that catches the error while reading the body answers 400; 413 replaces it
            nonlocal answered
            if too_large and not answered:
                return
            answered = True
            await send(message)

        try:
            await self.app(scope, limited_receive, send_unless_too_large)
        except _TooLarge:
            pass
        if too_large and not answered:
            await self._refuse(scope, receive, send, max_bytes)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        detail = Said(
            f"il corpo della richiesta supera i {max_bytes} byte", f"request body larger than {max_bytes} bytes"
        )
        response = problem(413, detail, instance_of(scope), lang=language_of(scope), max_bytes=max_bytes)
        await response(scope, receive, send)


class LoopbackOnlyMiddleware(HttpMiddleware):
    """The local profile's guard at serving time: a request that arrived on a non-loopback interface
    (the server bound to 0.0.0.0 by mistake) is refused with 403 and never reaches a route."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if server and _is_address(str(server[0])) and not is_loopback(str(server[0])):
            detail = Said(
                "il profilo locale risponde solo su loopback; avvia con PROFILE=prod per servire altri indirizzi",
                "the local profile serves loopback only; run with PROFILE=prod to serve other addresses",
            )
            answer = problem(403, detail, instance_of(scope), "local-profile", lang=language_of(scope))
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _is_address(host: str) -> bool:
    """A socket's address (what a real server reports), not a name an in-process test transport made up."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _TooLarge(Exception):
    pass


def client_ip(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
