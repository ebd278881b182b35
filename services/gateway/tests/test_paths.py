"""The gateway reads a path one way only: ambiguous paths are refused before any rule or service sees them.

Requests are written byte for byte on a socket (``--path-as-is`` style): an HTTP client such as
httpx would resolve ``..`` itself before sending, and the test would then prove nothing. Each test
also checks that nothing reached the stand-in services.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest
from gateway.proxy import PathMismatch

from shared.identity import Role

from .conftest import RunningGateway, Upstreams

pytestmark = pytest.mark.integration

# the first segment of every service's public paths (gateway.upstreams.ROUTES, written out again)
PREFIXES = ("markets", "calls", "shops", "services", "districts", "districts.geojson", "districts.csv", "nils")
# each turns /api/v1/<prefix>/<...> into a path that some reader could resolve elsewhere
AMBIGUOUS = (
    "/api/v1/{p}/x/../y",
    "/api/v1/{p}/../metrics",
    "/api/v1/{p}/./x",
    "/api/v1/{p}/x/%2e%2e/y",
    "/api/v1/{p}/x/%2E%2e/y",
    "/api/v1/{p}/x/.%2e/y",
    "/api/v1/{p}/%2e/x",
    "/api/v1/{p}/x%2fy",
    "/api/v1/{p}/x%2F..%2Fy",
    "/api/v1/{p}/x%5c..%5cy",
    "/api/v1/{p}/x\\..\\y",
    "/api/v1/{p}//x",
    "/api/v1/{p}/x%00",
)


async def raw_request(
    base_url: str, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes, bytes]:
    """Send ``target`` exactly as written; return status, headers, body and the bytes sent."""
    where = urlsplit(base_url)
    assert where.hostname and where.port
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {where.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    sent = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    writer.write(sent)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    if parsed.get("transfer-encoding") == "chunked":
        content = _unchunk(content)
    return int(status_line.split()[1]), parsed, content, sent


def relayed(upstreams: Upstreams, since: int) -> list[tuple[str, str, str]]:
    """What reached the stand-ins since ``since``, apart from the gateway's own document fetches."""
    return [hit for hit in upstreams.hits[since:] if hit[2] not in ("/openapi.json", "/asyncapi.json", "/readyz")]


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def test_an_ordinary_http_client_would_resolve_the_dot_segments_itself() -> None:
    """Why the requests here are written by hand: httpx sends ``/b`` for ``/a/../b``."""
    assert httpx.URL("http://h/api/v1/markets/wagner/../barona").raw_path == b"/api/v1/markets/barona"


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_ambiguous_paths_are_refused_for_every_service_prefix(
    gateway: RunningGateway, upstreams: Upstreams, prefix: str
) -> None:
    before = len(upstreams.hits)
    for shape in AMBIGUOUS:
        target = shape.format(p=prefix)
        for method, headers in (("GET", {}), ("PUT", gateway.bearer())):
            status, answer_headers, body, sent = await raw_request(gateway.url, method, target, headers)
            assert sent.startswith(f"{method} {target} HTTP/1.1\r\n".encode("latin-1")), "sent as written"
            assert status == 400, (method, target, status, body[:200])
            assert answer_headers["content-type"].startswith("application/problem+json")
            assert json.loads(body)["status"] == 400
    assert relayed(upstreams, before) == [], "an ambiguous path reached a service"


async def test_an_operator_cannot_climb_from_their_market_into_another(
    gateway: RunningGateway, upstreams: Upstreams
) -> None:
    before = len(upstreams.hits)
    wagner = {"Authorization": f"Bearer {gateway.token(Role.MARKET_OPERATOR, 'wagner')}"}
    body = b'{"status": "open"}'
    for target in (
        "/api/v1/markets/wagner/../barona/stalls/3/status",
        "/api/v1/markets/wagner/%2e%2e/barona/stalls/3/status",
        "/api/v1/markets/wagner%2f..%2fbarona/stalls/3/status",
    ):
        status, _, answer, _ = await raw_request(
            gateway.url, "PUT", target, {**wagner, "Content-Type": "application/json"}, body
        )
        assert status == 400, (target, status, answer[:200])
    # the same operator in their own market still gets through, to the path they named
    status, _, answer, _ = await raw_request(
        gateway.url,
        "PUT",
        "/api/v1/markets/wagner/stalls/3/status",
        {**wagner, "Content-Type": "application/json"},
        body,
    )
    assert status == 200 and json.loads(answer)["market_id"] == "wagner"
    assert relayed(upstreams, before) == [("markets", "PUT", "/markets/wagner/stalls/3/status")]


async def test_anonymous_callers_cannot_reach_a_service_metrics_through_the_api(
    gateway: RunningGateway, upstreams: Upstreams
) -> None:
    before = len(upstreams.hits)
    for target in ("/api/v1/markets/../metrics", "/api/v1/markets/%2e%2e/metrics", "/api/v1/markets/..%2fmetrics"):
        status, _, body, _ = await raw_request(gateway.url, "GET", target)
        assert status == 400, (target, status)
        assert b"# HELP" not in body
    assert relayed(upstreams, before) == []


async def test_a_write_no_rule_covers_is_404_and_never_relayed(gateway: RunningGateway, upstreams: Upstreams) -> None:
    before = len(upstreams.hits)
    office = gateway.bearer(Role.OFFICE)
    for method, target, headers in (
        ("POST", "/api/v1/markets/echo/anything", office),
        ("POST", "/api/v1/markets/echo/anything", {}),
        ("DELETE", "/api/v1/markets/wagner", office),
        ("PATCH", "/api/v1/shops/ed-demo-isola/status", office),
        ("PUT", "/api/v1/districts/duc-isola/alerts", office),
    ):
        status, answer_headers, _, _ = await raw_request(gateway.url, method, target, headers)
        assert status == 404, (method, target, status)
        assert answer_headers["content-type"].startswith("application/problem+json")
    assert relayed(upstreams, before) == []


async def test_encoded_characters_that_are_not_separators_reach_the_service_decoded_once(
    gateway: RunningGateway, upstreams: Upstreams
) -> None:
    status, _, body, _ = await raw_request(gateway.url, "GET", "/api/v1/shops/echo/caff%C3%A8%20bar?q=1")
    assert status == 200, body[:200]
    seen = json.loads(body)
    assert seen["path"] == "/shops/echo/caffè bar" and seen["query"] == "q=1"


async def test_the_proxy_refuses_a_url_that_would_not_decode_to_the_authorised_path(
    gateway: RunningGateway, upstreams: Upstreams
) -> None:
    proxy = gateway.app.state.gateway.proxy
    before = len(upstreams.hits)
    with pytest.raises(PathMismatch):
        await proxy.call("markets", "GET", "/markets/wagner/../barona")
    with pytest.raises(PathMismatch):
        await proxy.call("markets", "GET", "/markets/barona", authorised="/markets/wagner")
    assert relayed(upstreams, before) == []
    assert (await proxy.call("markets", "GET", "/markets/wagner", authorised="/markets/wagner")).status_code == 200
