"""X-Forwarded-For is believed only from the ingress controller's addresses (FORWARDED_ALLOW_IPS).

The gateway runs under uvicorn, which reads FORWARDED_ALLOW_IPS as the images run it. The test
client connects from 127.0.0.1: outside the ingress CIDR the manifests name, so whatever
X-Forwarded-For it sends, its requests share one rate-limit bucket, keyed by its real address.
"""

from __future__ import annotations

import pytest

from .conftest import Configure, running_gateway

pytestmark = pytest.mark.integration

INGRESS_CIDR = "10.100.0.0/24"  # as in deploy/k8s/base/apps/gateway/kustomization.yaml
BURST = 3


async def _statuses(configure: Configure) -> list[int]:
    settings = configure(rate_limit_enabled=True, rate_limit_ip_burst=BURST, rate_limit_ip_per_s=0.001)
    statuses = []
    async with running_gateway(settings) as gateway:
        for n in range(BURST + 2):
            answer = await gateway.client.get("/api/v1/markets/wagner", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            statuses.append(answer.status_code)
    return statuses


async def test_an_untrusted_peer_cannot_choose_its_rate_limit_key(
    configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", INGRESS_CIDR)
    assert await _statuses(configure) == [200] * BURST + [429, 429]


async def test_a_trusted_peer_forwards_the_client_address(
    configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same requests from a trusted peer (what FORWARDED_ALLOW_IPS=* made of every peer) get a bucket each."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1")
    assert await _statuses(configure) == [200] * (BURST + 2)
