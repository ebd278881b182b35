"""``/readyz`` says which dependency is missing and what kind of failure it is, never the error's text.

The service here points at a database and a broker on ports nothing listens on, so every check
fails: the answer must name the checks and a reason from a fixed vocabulary, and must not contain
the host, the port or the driver's message.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from devkit.stack.processes import free_port
from shared.app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings

REASONS = {"ok", "starting", "timeout", "unreachable"}


async def test_readyz_gives_reasons_without_exception_text_or_host_names() -> None:
    mongo_port, kafka_port = free_port(), free_port()
    settings = ServiceSettings(
        profile="test",
        service_name="probe",
        kafka_bootstrap=f"localhost:{kafka_port}",
        mongo_url=f"mongodb://localhost:{mongo_port}/?directConnection=true",
        mongo_timeout_ms=200,
    )
    app = create_service_app(ServiceSpec("probe", "probe", "probe", routers=[APIRouter()]), settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    # token_keys: the gateway's public keys, which a service needs before it can verify a caller
    assert set(body["checks"]) == {"mongodb", "kafka", "startup", "token_keys"}
    assert set(body["checks"].values()) <= REASONS
    assert body["checks"]["mongodb"] != "ok" and body["checks"]["kafka"] != "ok"
    for leak in ("localhost", str(mongo_port), str(kafka_port), "Error", "Exception", "Timeout"):
        assert leak not in answer.text, f"/readyz reveals {leak!r}: {answer.text}"
