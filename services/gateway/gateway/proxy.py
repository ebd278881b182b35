"""Forwarding requests to the services through one pooled HTTP client.

Only idempotent requests are retried, and only when the request cannot have reached the service
(connection refused or dropped before an answer). A service that keeps failing opens its circuit
and calls to it fail at once with 503 instead of queueing behind timeouts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from urllib.parse import unquote

import httpx
from fastapi import Request, Response

from gateway.metrics import GatewayMetrics
from gateway.settings import GatewaySettings
from gateway.upstreams import CircuitBreaker, CircuitState, Upstream
from shared.errors import AppError
from shared.i18n import Said
from shared.logging import request_id_var
from shared.web.middleware import client_ip
from shared.web.problems import PROBLEM_JSON, instance_of, language_of, problem

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
NOT_DELIVERED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.RemoteProtocolError)
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# set again by the gateway (or its server) rather than copied
REQUEST_SKIP = HOP_BY_HOP | {"host", "content-length", "accept-encoding", "x-request-id", "x-forwarded-for"}
RESPONSE_SKIP = HOP_BY_HOP | {"content-length", "content-encoding", "x-request-id", "server", "date"}


class PathMismatch(AppError):
    """The URL the HTTP client would send is not the path the gateway authorised."""

    status, kind = 400, "ambiguous-path"


class UpstreamUnavailable(Exception):
    def __init__(self, upstream: str, detail: Said, retry_after_s: float) -> None:
        super().__init__(detail.en)
        self.upstream = upstream
        self.detail = detail
        self.retry_after_s = retry_after_s

    def response(self, instance: str, lang: str) -> Response:
        return problem(
            503,
            self.detail,
            instance,
            "upstream-unavailable",
            headers={"Retry-After": str(max(1, round(self.retry_after_s)))},
            lang=lang,
            service=self.upstream,
        )


def _without(headers: Iterable[tuple[str, str]], skip: frozenset[str]) -> list[tuple[str, str]]:
    pairs = list(headers)
    named = {
        token.strip().lower() for name, value in pairs if name.lower() == "connection" for token in value.split(",")
    }
    return [(n, v) for n, v in pairs if n.lower() not in skip and n.lower() not in named]


class Proxy:
    def __init__(self, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s),
            limits=httpx.Limits(
                max_connections=settings.upstream_max_connections,
                max_keepalive_connections=settings.upstream_max_connections // 2,
                keepalive_expiry=30,
            ),
            follow_redirects=False,
            trust_env=False,
        )
        self.upstreams = {
            name: Upstream(name, url.rstrip("/"), CircuitBreaker(settings.breaker_failures, settings.breaker_open_s))
            for name, url in settings.upstream_urls.items()
        }
        for name in self.upstreams:
            metrics.circuit_open.labels(name).set(0)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self,
        upstream_name: str,
        method: str,
        path: str,
        *,
        query: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        content: bytes = b"",
        authorised: str | None = None,
    ) -> httpx.Response:
        """Send one request to a service; raise :class:`UpstreamUnavailable` when it cannot answer.

        ``path`` is percent-encoded as it goes on the wire; ``authorised`` is the decoded path the
        caller was checked against (by default ``path`` decoded). The request is refused with
        :class:`PathMismatch` unless the URL built from ``path`` decodes to exactly that path: the
        HTTP client's own normalisation (dot segments, re-encoding) can never change the target.
        """
        upstream = self.upstreams[upstream_name]
        url = httpx.URL(upstream.base_url + path, query=query)
        wanted = httpx.URL(upstream.base_url).path.rstrip("/") + (unquote(path) if authorised is None else authorised)
        if url.path != wanted:
            raise PathMismatch(
                Said(
                    f"il percorso {path!r} non arriverebbe al servizio così come è stato autorizzato",
                    f"the path {path!r} would not reach the service as it was authorised",
                )
            )
        wait = upstream.breaker.admit()
        if wait is not None:
            self.metrics.upstream_failures.labels(upstream.name).inc()
            detail = Said(
                f"il servizio {upstream.name} non è disponibile; riprova tra poco",
                f"the {upstream.name} service is unavailable; retry shortly",
            )
            raise UpstreamUnavailable(upstream.name, detail, wait)
        # the caller's request id travels with every call made on its behalf (relay, overview, checks)
        request_id = request_id_var.get()
        headers = [*(headers or []), *([("x-request-id", request_id)] if request_id else [])]
        request = self.client.build_request(method, url, headers=headers, content=content or None)
        attempts = 1 + (self.settings.upstream_retries if method in IDEMPOTENT else 0)
        for attempt in range(attempts):
            started = time.perf_counter()
            try:
                response = await self.client.send(request)
            except httpx.TransportError as exc:
                self.metrics.upstream_latency.labels(upstream.name).observe(time.perf_counter() - started)
                if isinstance(exc, NOT_DELIVERED) and attempt + 1 < attempts:
                    await asyncio.sleep(0.05 * (2**attempt))
                    continue
                self._failed(upstream, exc)
                late = isinstance(exc, httpx.TimeoutException)
                detail = Said(
                    f"il servizio {upstream.name} {'non ha risposto in tempo' if late else 'non è raggiungibile'}; "
                    "riprova tra poco",
                    f"the {upstream.name} service {'did not answer in time' if late else 'is unreachable'}; "
                    "retry shortly",
                )
                raise UpstreamUnavailable(upstream.name, detail, self.settings.breaker_open_s) from exc
            self.metrics.upstream_latency.labels(upstream.name).observe(time.perf_counter() - started)
            self._succeeded(upstream)
            return response
        raise AssertionError("unreachable")

    def _failed(self, upstream: Upstream, exc: Exception) -> None:
        upstream.breaker.failed()
        self.metrics.upstream_failures.labels(upstream.name).inc()
        opened = upstream.breaker.state is CircuitState.OPEN
        self.metrics.circuit_open.labels(upstream.name).set(1 if opened else 0)
        log.warning("%s unavailable: %s", upstream.name, type(exc).__name__, extra={"circuit": upstream.breaker.state})

    def _succeeded(self, upstream: Upstream) -> None:
        if upstream.breaker.state is not CircuitState.CLOSED:
            log.info("%s answers again; circuit closed", upstream.name)
        upstream.breaker.succeeded()
        self.metrics.circuit_open.labels(upstream.name).set(0)

    async def forward(
        self, request: Request, upstream_name: str, service_path: str, *, authorised: str | None = None
    ) -> Response:
        """Relay ``request`` to ``service_path`` on the service and its answer back, unchanged.

        ``authorised`` is the decoded path the caller's rights were checked against.
        """
        headers = _without(request.headers.items(), REQUEST_SKIP)
        forwarded_for = request.headers.get("x-forwarded-for")
        peer = client_ip(request.scope)
        headers += [
            ("x-forwarded-for", f"{forwarded_for}, {peer}" if forwarded_for else peer),
            ("x-forwarded-proto", request.url.scheme),
            ("accept-encoding", "identity"),
        ]
        try:
            answer = await self.call(
                upstream_name,
                request.method,
                service_path,
                query=request.scope.get("query_string", b""),
                headers=headers,
                content=await request.body(),
                authorised=authorised,
            )
        except UpstreamUnavailable as exc:
            return exc.response(instance_of(request.scope), language_of(request.scope))
        content = _problem_at(answer, instance_of(request.scope))
        response = Response(content=content, status_code=answer.status_code)
        passed = _without(answer.headers.multi_items(), RESPONSE_SKIP)
        response.raw_headers = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in passed]
        length = answer.headers.get("content-length") if request.method == "HEAD" else str(len(content))
        if length is not None and answer.status_code not in (204, 304):
            response.raw_headers.append((b"content-length", length.encode()))
        return response


def _problem_at(answer: httpx.Response, path: str) -> bytes:
    """The answer's body; a problem document names the path the client asked for as its ``instance``
    (the service only knows its own path, which means nothing to a client of the gateway)."""
    if answer.status_code < 400 or not answer.headers.get("content-type", "").startswith(PROBLEM_JSON):
        return answer.content
    try:
        body = json.loads(answer.content)
    except ValueError:
        return answer.content
    if not isinstance(body, dict) or "instance" not in body:
        return answer.content
    body["instance"] = path
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
