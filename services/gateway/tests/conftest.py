"""Fixtures of the gateway's tests: small stand-in services on real ports, and a way to serve apps.

The stand-ins answer like the markets, shops and districts services on the few paths the tests
use, and record what reached them, so the tests can tell what the gateway relayed and what it
refused at the door.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from gateway.imports.service import InProcessApi
from gateway.main import create_app
from gateway.settings import GatewaySettings
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.routing import Mount

from devkit.stack.processes import free_port
from devkit.testing import LocalKafka, LocalMongo, issue_token, make_settings, running_app, unique
from shared.identity import Principal, Role

ALERT = {
    "id": "a-1",
    "district": "duc-isola",
    "condition": "vitality_drop",
    "state": "open",
    "raised_at": "2026-11-20T08:00:00Z",
    "resolved_at": None,
    "detail": "vitality fell below 40",
}
MARKET = {
    "id": "wagner",
    "name": "Mercato Comunale Wagner",
    "occupancy": {
        "stalls_total": 10,
        "by_status": {"open": 4, "closed": 2, "vacant": 3, "maintenance": 1},
        "occupancy_rate": 0.7,
        "open_now": 4,
    },
}


@asynccontextmanager
async def serve(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (lifespan included); yield its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped during start-up")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Upstreams:
    urls: dict[str, str]
    hits: list[tuple[str, str, str]] = field(default_factory=list)
    shops: dict[str, Any] = field(default_factory=dict)  # the bodies of the shops written with PUT

    def count(self, method: str, path: str) -> int:
        return sum(1 for _, m, p in self.hits if m == method and p == path)


class Item(BaseModel):
    name: str


def _stand_in(name: str, hits: list[tuple[str, str, str]]) -> FastAPI:
    app = FastAPI(title=f"{name} stand-in")

    @app.middleware("http")
    async def record(request: Request, call_next: Callable[[Request], Any]) -> Any:
        hits.append((name, request.method, request.url.path))
        return await call_next(request)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get(f"/{name}/echo/{{rest:path}}")
    @app.post(f"/{name}/echo/{{rest:path}}")
    async def echo(rest: str, request: Request) -> JSONResponse:
        return JSONResponse(
            {"service": name, "path": request.url.path, "query": request.url.query, "headers": dict(request.headers)},
            headers={"ETag": '"7"', "Keep-Alive": "timeout=99", "Proxy-Authenticate": "Basic", "X-Custom": "kept"},
        )

    @app.post(f"/{name}/items", status_code=201)
    async def create_item(item: Item) -> JSONResponse:
        return JSONResponse({"name": item.name}, status_code=201, headers={"Location": f"/{name}/items/{item.name}"})

    return app


def _known_or_404(known: bool, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """A stand-in's answer about one item: the item if it is the one the stand-in knows, else a 404 problem."""
    if not known:
        return JSONResponse({"title": "Not found", "status": 404}, status_code=404)
    return JSONResponse(body, headers=headers)


def markets_stand_in(hits: list[tuple[str, str, str]]) -> FastAPI:
    app = _stand_in("markets", hits)

    @app.get("/markets")
    async def markets() -> dict[str, Any]:
        return {"items": [MARKET], "total": 1, "limit": 50, "offset": 0}

    @app.get("/markets/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(3)
        return {"status": "late"}

    @app.get("/markets/{market_id}")
    async def market(market_id: str) -> Response:
        return _known_or_404(market_id == "wagner", MARKET, {"ETag": '"3"'})

    @app.put("/markets/{market_id}/stalls/{number}/status")
    async def stall_status(market_id: str, number: str, request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse(
            {"market_id": market_id, "number": number, "status": body.get("status"), "version": 2},
            headers={"ETag": '"2"'},
        )

    @app.post("/markets/{market_id}/spunta/{date}/candidates", status_code=201)
    async def register_present(market_id: str, date: str, request: Request) -> dict[str, Any]:
        return {"market_id": market_id, "date": date, "sent": await request.json()}

    keys: set[str] = set()

    @app.post("/markets", status_code=201)
    async def register(item: Item, request: Request) -> JSONResponse:
        # the key the gateway passed on, if any, shown in the answer; a key seen before is answered
        # as a replay, as the real service would
        key = request.headers.get("idempotency-key")
        replayed = {"Idempotent-Replayed": "true"} if key in keys else {}
        if key is not None:
            keys.add(key)
        return JSONResponse(
            {"id": item.name, **({"idempotency_key": key} if key else {})},
            status_code=201,
            headers={"Location": f"/markets/{item.name}", **replayed},
        )

    return app


def shops_stand_in(hits: list[tuple[str, str, str]], written: dict[str, Any] | None = None) -> FastAPI:
    """The shops service on the paths the tests use; the shops written with PUT are kept in ``written``."""
    app = _stand_in("shops", hits)
    written = {} if written is None else written

    @app.get("/shops/{shop_id}")
    async def shop(shop_id: str) -> Response:
        return _known_or_404(shop_id == "ed-demo-isola", {"id": shop_id, "kind": "kiosk"})

    @app.put("/shops/{shop_id}")
    async def put_shop(shop_id: str, request: Request) -> Response:
        """Creates the shop, or answers 204 when it is already in this state (as the shops service does)."""
        body = await request.json()
        before = written.get(shop_id)
        written[shop_id] = body
        if before == body:
            return Response(status_code=204)
        return JSONResponse({"id": shop_id, **body}, status_code=201 if before is None else 200)

    @app.post("/shops/{shop_id}/services", status_code=201)
    async def add_service(shop_id: str, item: Item) -> dict[str, str]:
        return {"id": f"{shop_id}-{item.name}"}

    @app.post("/shops/{shop_id}/documents", status_code=201)
    async def add_document(shop_id: str, request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    return app


def districts_stand_in(hits: list[tuple[str, str, str]]) -> FastAPI:
    app = _stand_in("districts", hits)

    @app.get("/districts")
    async def districts() -> dict[str, Any]:
        district = {"code": "duc-isola", "name": "Isola", "kpis": {"vitality_index": 62.5}, "open_alerts": 1}
        return {"items": [district], "total": 1, "limit": 500, "offset": 0}

    @app.get("/districts/{code}/alerts")
    async def alerts(code: str, state: str = "open") -> dict[str, Any]:
        return {"items": [ALERT], "total": 1, "limit": 500, "offset": 0}

    @app.get("/districts.geojson")
    async def geojson() -> Response:
        return Response(b'{"type":"FeatureCollection","features":[]}', media_type="application/geo+json")

    return app


@pytest.fixture(scope="session")
async def upstreams() -> AsyncIterator[Upstreams]:
    hits: list[tuple[str, str, str]] = []
    written: dict[str, Any] = {}
    async with (
        serve(markets_stand_in(hits)) as markets,
        serve(shops_stand_in(hits, written)) as shops,
        serve(districts_stand_in(hits)) as districts,
    ):
        yield Upstreams({"markets": markets, "shops": shops, "districts": districts}, hits, written)


def gateway_settings(
    kafka: LocalKafka, mongo: LocalMongo, upstreams: Upstreams | None = None, **overrides: Any
) -> GatewaySettings:
    urls = upstreams.urls if upstreams else {}
    values: dict[str, Any] = {
        "markets_url": urls.get("markets", f"http://127.0.0.1:{free_port()}"),
        "shops_url": urls.get("shops", f"http://127.0.0.1:{free_port()}"),
        "districts_url": urls.get("districts", f"http://127.0.0.1:{free_port()}"),
        "stream_topics": [unique("markets.events"), unique("shops.events"), unique("districts.events")],
        "rate_limit_enabled": False,
        **overrides,
    }
    settings: GatewaySettings = make_settings(GatewaySettings, kafka, mongo, **values)
    return settings


Configure = Callable[..., GatewaySettings]


@pytest.fixture
def configure(kafka: LocalKafka, mongo: LocalMongo, upstreams: Upstreams) -> Configure:
    """Settings for a gateway of the test's own in front of the stand-ins: the defaults with the given overrides."""
    return partial(gateway_settings, kafka, mongo, upstreams)


@dataclass
class RunningGateway:
    url: str
    app: Any
    settings: GatewaySettings
    client: httpx.AsyncClient

    def token(
        self, role: Role = Role.OFFICE, scope: str | None = None, ttl_s: float = 300, name: str = "tester"
    ) -> str:
        return issue_token(self.settings, Principal(username=name, role=role, scope=scope), timedelta(seconds=ttl_s))

    def bearer(self, role: Role = Role.OFFICE, scope: str | None = None, name: str = "tester") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, scope, name=name)}"}


@asynccontextmanager
async def running_gateway(settings: GatewaySettings) -> AsyncIterator[RunningGateway]:
    """The gateway on a real port, ready (its database and broker answered)."""
    app = create_app(settings)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        await asyncio.wait_for(app.state.runtime.ready.wait(), 30)
        yield RunningGateway(url, app, settings, client)


@pytest.fixture(scope="session")
async def gateway(kafka: LocalKafka, mongo: LocalMongo, upstreams: Upstreams) -> AsyncIterator[RunningGateway]:
    """One gateway shared by the tests that do not depend on special settings."""
    settings = gateway_settings(
        kafka,
        mongo,
        upstreams,
        login_burst=1000,
        # a login takes seconds on a loaded machine: the delay after failures must outlast the next try
        login_delay_s=30,
        sse_heartbeat_s=0.3,
        sse_client_queue=32,
        sse_send_timeout_s=1.0,
    )
    async with running_gateway(settings) as running:
        yield running


# ------------------------------------------------------------------ a service for the importers


@dataclass
class ServiceUnderImport:
    """A real service app (its broker and database from the harness), its client, and the importers'
    API reaching it in process as through the gateway, as the office."""

    app: Any
    http: httpx.AsyncClient
    settings: Any

    def office_token(self) -> str:
        return issue_token(self.settings, Principal(username="office", role=Role.OFFICE), timedelta(minutes=5))

    def api(self) -> InProcessApi:
        async def bearer() -> str:
            return self.office_token()

        return InProcessApi(
            Starlette(routes=[Mount("/api/v1", app=self.app)]), bearer, base_url="http://gateway/api/v1"
        )


@asynccontextmanager
async def service_under_import(create: Callable[[Any], Any], settings: Any) -> AsyncIterator[ServiceUnderImport]:
    app = create(settings)
    async for client in running_app(app):
        yield ServiceUnderImport(app, client, settings)


@pytest.fixture
async def markets_service(kafka: LocalKafka, mongo: LocalMongo) -> AsyncIterator[ServiceUnderImport]:
    from markets.main import create_app as create_markets
    from markets.settings import MarketsSettings

    settings = make_settings(MarketsSettings, kafka, mongo, events_topic=unique("markets.events"))
    async with service_under_import(create_markets, settings) as service:
        yield service


@pytest.fixture
async def shops_service(kafka: LocalKafka, mongo: LocalMongo) -> AsyncIterator[ServiceUnderImport]:
    from shops.main import create_app as create_shops
    from shops.settings import ShopsSettings

    settings = make_settings(ShopsSettings, kafka, mongo, events_topic=unique("shops.events"))
    async with service_under_import(create_shops, settings) as service:
        yield service
