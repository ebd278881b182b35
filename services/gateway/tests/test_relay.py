"""Relaying to the services: what passes through, what is refused at the door, what a failure looks like."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from devkit.stack.processes import free_port
from shared.identity import Role

from .conftest import Configure, RunningGateway, Upstreams, markets_stand_in, running_gateway, serve

pytestmark = pytest.mark.integration


async def test_requests_and_answers_pass_through_unchanged(gateway: RunningGateway, upstreams: Upstreams) -> None:
    client = gateway.client
    token = gateway.token(Role.MARKET_OPERATOR, "wagner")
    response = await client.request(
        "GET",
        "/api/v1/markets/echo/a%20b?q=1&q=2",
        headers={
            "Authorization": f"Bearer {token}",
            "X-Request-ID": "req-42",
            "If-Match": '"3"',
            "Connection": "keep-alive, X-Drop-Me",
            "X-Drop-Me": "secret",
            "Keep-Alive": "timeout=5",
            "Accept-Language": "it",
        },
        content=b"{}",
    )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["path"] == "/markets/echo/a b"
    assert seen["query"] == "q=1&q=2"
    sent = seen["headers"]
    assert sent["authorization"] == f"Bearer {token}"
    assert sent["x-request-id"] == "req-42" and sent["if-match"] == '"3"' and sent["accept-language"] == "it"
    assert "x-drop-me" not in sent and "keep-alive" not in sent
    assert sent["x-forwarded-for"] == "127.0.0.1"
    assert response.headers["etag"] == '"7"' and response.headers["x-custom"] == "kept"
    assert "proxy-authenticate" not in response.headers and "keep-alive" not in response.headers
    assert response.headers["x-request-id"] == "req-42"

    created = await client.post("/api/v1/markets", json={"name": "new"}, headers=gateway.bearer())
    assert created.status_code == 201 and created.headers["location"] == "/markets/new"
    geo = await client.get("/api/v1/districts.geojson")
    assert geo.status_code == 200 and geo.headers["content-type"] == "application/geo+json"
    missing = await client.get("/api/v1/markets/nowhere")
    assert missing.status_code == 404
    unknown = await client.get("/api/v1/unknown/thing")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_merged_openapi_documents_every_service_under_api_v1(gateway: RunningGateway) -> None:
    spec = (await gateway.client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert "/api/v1/markets/{market_id}/stalls/{number}/status" in paths
    assert "/api/v1/shops/{shop_id}/services" in paths and "/api/v1/districts.geojson" in paths
    assert {"/api/v1/auth/token", "/api/v1/users", "/api/v1/me", "/api/v1/overview", "/api/v1/stream"} <= set(paths)
    assert not any(p in paths for p in ("/healthz", "/metrics", "/api/v1/healthz", "/api/v1/readyz"))
    schemas = spec["components"]["schemas"]
    assert {"markets_Item", "shops_Item", "districts_Item"} <= set(schemas), "same-named schemas must not collide"
    body = paths["/api/v1/shops/{shop_id}/services"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/shops_Item"
    assert paths["/api/v1/shops/{shop_id}/services"]["post"]["x-access"] == "shop"
    assert paths["/api/v1/auth/token"]["post"]["x-access"] == "public"
    assert spec["components"]["securitySchemes"]["bearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert spec["x-unavailable"] == []
    docs = await gateway.client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text and "<script>" not in docs.text
    bundle = await gateway.client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("text/javascript")


async def test_metrics_label_relayed_requests_by_route_template(gateway: RunningGateway) -> None:
    await gateway.client.get("/openapi.json")
    assert (await gateway.client.get("/api/v1/markets/wagner")).status_code == 200
    metrics = (await gateway.client.get("/metrics")).text
    assert 'gateway_http_requests_total{method="GET",route="/api/v1/markets/{market_id}",status="200"}' in metrics
    assert "wagner" not in metrics
    assert 'gateway_upstream_request_duration_seconds_bucket{le="0.005",upstream="markets"}' in metrics
    assert 'gateway_upstream_circuit_open{upstream="markets"} 0.0' in metrics


async def test_pages_carry_security_headers_and_the_dashboard_is_served(gateway: RunningGateway) -> None:
    page = await gateway.client.get("/")
    assert page.status_code == 200 and 'data-testid="login-username"' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    operator = await gateway.client.get("/operator")
    assert operator.status_code == 200 and 'data-testid="market-select"' in operator.text
    shop = await gateway.client.get("/shop")
    assert shop.status_code == 200 and '<script type="module" src="/static/js/shop.js"></script>' in shop.text
    assert "<script>" not in shop.text and shop.headers["content-security-policy"] == csp
    asset = await gateway.client.get("/static/vendor/leaflet/leaflet.js")
    assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"
    api = await gateway.client.get("/api/v1/markets")
    assert api.headers["x-frame-options"] == "DENY"
    preflight = await gateway.client.options(
        "/api/v1/markets", headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers, "no CORS unless CORS_ORIGINS says so"
    huge = await gateway.client.post("/api/v1/markets", content=b"x" * 1_100_000, headers=gateway.bearer())
    assert huge.status_code == 413
    assert '<meta name="map-tiles"' not in page.text, "no tile background unless MAP_TILES_URL says so"
    assert "img-src 'self' data:;" in csp, "no image may come from elsewhere without a tile server"


async def test_a_configured_tile_background_reaches_the_maps_and_the_policy(configure: Configure) -> None:
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings = configure(map_tiles_url=tiles, map_tiles_attribution='© OpenStreetMap <a href="x">contributors</a>')
    async with running_gateway(settings) as running:
        for path in ("/", "/operator", "/near"):
            page = await running.client.get(path)
            assert page.status_code == 200
            assert (
                '<meta name="map-tiles" content="https://tiles.example.org/{z}/{x}/{y}.png" '
                'data-attribution="© OpenStreetMap &lt;a href=&quot;x&quot;&gt;contributors&lt;/a&gt;">'
            ) in page.text
            csp = page.headers["content-security-policy"]
            assert "img-src 'self' data: https://tiles.example.org;" in csp
            assert "connect-src 'self';" in csp and "script-src 'self';" in csp


@pytest.mark.parametrize(
    "url", ["http://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/tile.png", "tiles/{z}/{x}/{y}"]
)
def test_a_tile_address_must_be_https_with_its_places(url: str, configure: Configure) -> None:
    with pytest.raises(ValidationError, match="MAP_TILES_URL"):
        configure(map_tiles_url=url)


async def test_overview_assembles_markets_districts_and_alerts(gateway: RunningGateway) -> None:
    overview = (await gateway.client.get("/api/v1/overview")).json()
    markets = overview["markets"]
    assert (markets["count"], markets["stalls_total"], markets["stalls_open"], markets["stalls_vacant"]) == (
        1,
        10,
        4,
        3,
    )
    assert markets["occupancy_rate"] == 0.7 and markets["items"][0]["id"] == "wagner"
    assert overview["districts"]["items"][0]["code"] == "duc-isola"
    assert [a["id"] for a in overview["alerts"]] == ["a-1"]
    assert overview["partial"] is False and overview["unavailable"] == []


async def test_a_service_that_is_down_gives_a_fast_503_and_partial_results(configure: Configure) -> None:
    settings = configure(markets_url=f"http://127.0.0.1:{free_port()}", breaker_failures=2, breaker_open_s=1.0)
    async with running_gateway(settings) as gateway:
        client = gateway.client
        for _ in range(3):
            started = time.perf_counter()
            down = await client.get("/api/v1/markets/wagner")
            elapsed = time.perf_counter() - started
            assert down.status_code == 503 and elapsed < 1.0, (down.status_code, elapsed)
            assert down.headers["content-type"].startswith("application/problem+json")
            assert down.json()["service"] == "markets" and int(down.headers["retry-after"]) >= 1
        print(f"503 for a service that is down in {elapsed * 1000:.1f} ms once its circuit is open")
        assert 'gateway_upstream_circuit_open{upstream="markets"} 1.0' in (await client.get("/metrics")).text
        overview = (await client.get("/api/v1/overview")).json()
        assert overview["partial"] is True and overview["unavailable"] == ["markets"]
        assert overview["markets"]["count"] is None and overview["districts"]["items"]
        spec = (await client.get("/openapi.json")).json()
        assert spec["x-unavailable"] == ["markets"] and "/api/v1/shops/{shop_id}/services" in spec["paths"]

        port = int(settings.markets_url.rsplit(":", 1)[1])
        async with serve(markets_stand_in([]), port):
            deadline = time.monotonic() + 6
            while (await client.get("/api/v1/markets/wagner")).status_code != 200:
                assert time.monotonic() < deadline, "the circuit never closed again"
                await asyncio.sleep(0.2)
            while "/api/v1/markets/{market_id}" not in (await client.get("/openapi.json")).json()["paths"]:
                assert time.monotonic() < deadline, "the merged OpenAPI never picked the service up"
                await asyncio.sleep(0.2)


async def test_a_service_that_hangs_gives_503_after_the_timeout(configure: Configure) -> None:
    async with running_gateway(configure(upstream_timeout_s=0.5)) as gateway:
        started = time.perf_counter()
        late = await gateway.client.get("/api/v1/markets/slow", headers={"Accept-Language": "en"})
        assert late.status_code == 503 and "in time" in late.json()["detail"]
        assert time.perf_counter() - started < 1.5


async def test_rate_limits_answer_429_with_retry_after(configure: Configure) -> None:
    settings = configure(
        rate_limit_enabled=True,
        rate_limit_ip_per_s=0.5,
        rate_limit_ip_burst=7,
        rate_limit_token_per_s=0.5,
        rate_limit_token_burst=3,
        login_rate_per_minute=1,
        login_burst=1,
        cors_origins="https://office.example",
    )
    async with running_gateway(settings) as gateway:
        client = gateway.client
        form = {"username": "nobody", "password": "wrong-password"}
        assert (await client.post("/api/v1/auth/token", data=form)).status_code == 401
        login_limited = await client.post("/api/v1/auth/token", data=form, headers={"Accept-Language": "en"})
        assert login_limited.status_code == 429 and int(login_limited.headers["retry-after"]) >= 1
        assert "login attempts" in login_limited.json()["detail"]

        first = gateway.bearer(Role.OFFICE)
        for _ in range(3):
            assert (await client.get("/api/v1/markets", headers=first)).status_code == 200
        limited = await client.get("/api/v1/markets", headers=first)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"].startswith("application/problem+json") and "token" in limited.text
        assert (limited.json()["title"], limited.json()["detail"]) == (
            "Troppe richieste",
            "troppe richieste con questo token; rallenta",
        ), "Italian unless English is asked for"
        assert limited.json()["type"] == login_limited.json()["type"]
        assert (await client.get("/api/v1/markets", headers=gateway.bearer(Role.SHOPKEEPER, "s1"))).status_code == 200
        anonymous = await client.get("/api/v1/markets", headers={"Accept-Language": "en"})
        assert anonymous.status_code == 429 and "address" in anonymous.text
        metrics = (await client.get("/metrics")).text
        assert 'gateway_rate_limited_total{limit="token"} 1.0' in metrics
        assert 'gateway_rate_limited_total{limit="address"} 1.0' in metrics
        assert 'gateway_rate_limited_total{limit="login"} 1.0' in metrics

        preflight = await client.options(
            "/api/v1/markets",
            headers={"Origin": "https://office.example", "Access-Control-Request-Method": "PUT"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://office.example"
        assert "PUT" in preflight.headers["access-control-allow-methods"]


async def test_only_a_shops_document_upload_may_carry_a_body_over_the_limit(
    gateway: RunningGateway, upstreams: Upstreams
) -> None:
    client, keeper = gateway.client, gateway.bearer(Role.SHOPKEEPER, "bs-1")
    nine_mb = b"%PDF-" + b"x" * 9_000_000
    upload = await client.post("/api/v1/shops/bs-1/documents", files={"file": ("a.pdf", nine_mb)}, headers=keeper)
    assert upload.status_code == 201, upload.text
    assert upload.json()["received"] > 9_000_000, "the whole file reached the shops service"
    elsewhere = await client.post("/api/v1/shops/bs-1/services", content=nine_mb, headers=keeper)
    assert elsewhere.status_code == 413
    relayed = upstreams.count("POST", "/shops/bs-1/documents")
    eleven_mb = b"%PDF-" + b"x" * 11 * 1024 * 1024
    too_large = await client.post("/api/v1/shops/bs-1/documents", files={"file": ("a.pdf", eleven_mb)}, headers=keeper)
    assert too_large.status_code == 413 and too_large.headers["content-type"].startswith("application/problem+json")
    assert upstreams.count("POST", "/shops/bs-1/documents") == relayed, "a body over the limit is never relayed"
