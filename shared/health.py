"""Liveness, readiness and metrics endpoints, identical on every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from shared.web.problems import problem

Check = Callable[[], Awaitable[None]]


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
        status = {
            n: ("ok" if r is None else f"{type(r).__name__}: {r}".strip()) for n, r in zip(names, results, strict=True)
        }
        failing = {n: s for n, s in status.items() if s != "ok"}
        if failing:
            detail = "; ".join(f"{n} unavailable ({s})" for n, s in failing.items())
            return problem(503, detail, "/readyz", "not-ready", checks=status)
        return JSONResponse({"status": "ready", "checks": status})

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
    async def metrics(request: Request) -> Response:
        registry = request.app.state.metrics
        return Response(registry.render(), media_type=registry.content_type)

    return router
