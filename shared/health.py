"""Liveness, readiness and metrics endpoints, identical on every service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shared.web.problems import language_of, problem

Check = Callable[[], Awaitable[None]]
log = logging.getLogger(__name__)


def reason(name: str, failure: BaseException) -> str:
    """What a reader of /readyz may learn about a failing check: a kind of failure, never the
    exception's text (it names hosts, ports and users); the text goes to the service's log."""
    if name == "startup":
        return "starting"
    if isinstance(failure, TimeoutError):
        return "timeout"
    return "unreachable"


def health_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Kafka and MongoDB are reachable", responses={503: {"description": "Not ready"}})
    async def readyz(request: Request) -> Response:
        checks: dict[str, Check] = request.app.state.readiness_checks
        names = list(checks)
        results = await asyncio.gather(*(checks[n]() for n in names), return_exceptions=True)
        status = {}
        for name, result in zip(names, results, strict=True):
            status[name] = "ok" if result is None else reason(name, result)
            if result is not None:
                log.warning("readiness check %s failing: %s: %s", name, type(result).__name__, result)
        failing = {n: s for n, s in status.items() if s != "ok"}
        if failing:
            detail = "; ".join(f"{n} unavailable ({s})" for n, s in failing.items())
            return problem(503, detail, "/readyz", "not-ready", lang=language_of(request.scope), checks=status)
        return JSONResponse({"status": "ready", "checks": status})

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
    async def metrics(request: Request) -> Response:
        registry = request.app.state.metrics
        return Response(registry.render(), media_type=registry.content_type)

    return router
