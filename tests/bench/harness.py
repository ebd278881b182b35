"""The platform under test: real processes on free ports, the demo data, and who logs in."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TypeVar

import httpx

from devkit.client import ApiClient
from devkit.testing import Platform
from shared.settings import ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
SERVICES = ("gateway", "markets", "shops", "districts")
INFRASTRUCTURE = ("s3", "kafka", "mongo")
OFFICE = ("office", "office-demo")
OPERATOR = ("operator-wagner", "operator-demo")
DEMO_SHOPKEEPER = ("shop-ed-demo-isola", "shopkeeper-demo", "ed-demo-isola")
SHOPKEEPERS = 4

# The load comes from one address on this machine: the gateway's per-address rate limit (a flood
# guard, 50 requests/s by default) would measure itself, so it is off for the run. Tokens outlive
# the longest soak. After a rebuild, the districts service drops the replaced generation 1 s after
# the switch instead of 5 s (nobody reads it during the benchmark), so the run waits less for it.
PLATFORM_ENV = {"RATE_LIMIT_ENABLED": "false", "TOKEN_TTL_S": "86400", "REBUILD_DROP_DELAY_S": "1"}


@dataclass(frozen=True)
class Identities:
    """Bearer tokens of the people in the mixed load."""

    office: str
    operator: str
    operator_market: str
    shopkeepers: dict[str, str]  # shop id -> token of its shopkeeper


class BenchPlatform:
    def __init__(self, workdir: Path) -> None:
        self.platform = Platform(workdir, **PLATFORM_ENV)

    async def start(self) -> None:
        """Broker, store and database first, then the gateway (the services fetch its token keys before
        they call themselves ready), then the three domain services together."""
        try:
            for name in INFRASTRUCTURE:
                await asyncio.to_thread(self.platform.start_one, name)
            await asyncio.to_thread(self.platform.start_one, SERVICES[0])
            await asyncio.gather(*(asyncio.to_thread(self.platform.start_one, name) for name in SERVICES[1:]))
        except BaseException:
            self.platform.stop()
            raise

    def service_env(self) -> dict[str, str]:
        """The environment every service of the platform runs with."""
        return self.platform.stack.service_env()

    def settings(self, kind: type[SettingsT] = ServiceSettings) -> SettingsT:  # type: ignore[assignment]
        """The settings the platform's services run with (broker, database, Kafka timings, their own)."""
        return kind.model_validate({key.lower(): value for key, value in self.service_env().items()})

    def stop(self) -> None:
        self.platform.stop()

    @property
    def gateway(self) -> str:
        return self.platform.gateway

    @property
    def api(self) -> str:
        return self.platform.gateway + "/api/v1"

    def direct(self, service: str) -> str:
        return self.platform.url(service)

    @property
    def kafka_bootstrap(self) -> str:
        return self.platform.kafka_bootstrap

    @property
    def mongo_url(self) -> str:
        return self.platform.mongo_url

    def pids(self) -> dict[str, int]:
        found = {}
        for name in (*SERVICES, *INFRASTRUCTURE):
            component = self.platform.components.get(name)
            pid = component.process.recorded_pid() if component else None
            if pid:
                found[name] = pid
        return found

    async def seed(self, markets: tuple[str, ...]) -> list[str]:
        """The demo seed through the gateway, as `make run` loads it; ``markets`` limits the markets seed.

        The services' seeds are independent of each other and run side by side. Returns what was
        seeded, e.g. ``["districts", "markets (wagner, lagosta)", "shops"]``.
        """
        from markets.seed import MARKETS, seed_market

        async def subset(api: ApiClient) -> None:
            for fact in (f for f in MARKETS if f.id in markets):
                await seed_market(api, fact)

        seeds: dict[str, Callable[[ApiClient], Awaitable[None]]] = {}
        seeded = []
        for plugin in sorted(entry_points(group="commerce.seeds"), key=lambda e: e.name):
            if plugin.name == "markets" and markets:
                seeds[plugin.name] = subset
                seeded.append(f"markets ({', '.join(markets)})")
                continue
            try:
                seeds[plugin.name] = plugin.load()
            except (ImportError, AttributeError) as exc:
                seeded.append(f"{plugin.name} (not loaded: {exc})")
                continue
            seeded.append(plugin.name)
        async with ApiClient(self.platform.gateway) as api:
            await api.login(*OFFICE)
            await asyncio.gather(*(seed(api) for seed in seeds.values()))
        return seeded

    async def identities(self, http: httpx.AsyncClient) -> Identities:
        office = await login(http, *OFFICE)
        operator = await login(http, *OPERATOR)
        me = (await http.get("/me", headers=bearer(operator))).json()
        kiosks = await http.get("/shops", params={"kind": "kiosk", "status": "active", "limit": 500})
        kiosks.raise_for_status()
        shop_ids = [s["id"] for s in kiosks.json()["items"]][:SHOPKEEPERS]
        shopkeepers = {}
        for shop_id in shop_ids:
            if shop_id == DEMO_SHOPKEEPER[2]:
                shopkeepers[shop_id] = await login(http, *DEMO_SHOPKEEPER[:2])
                continue
            username, password = f"bench-{shop_id}"[:64], secrets.token_urlsafe(16)
            account = {"username": username, "password": password, "role": "shopkeeper", "scope": shop_id}
            created = await http.post("/users", json=account, headers=bearer(office))
            created.raise_for_status()
            shopkeepers[shop_id] = await login(http, username, password)
        return Identities(office, operator, str(me["scope"]), shopkeepers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(http: httpx.AsyncClient, username: str, password: str) -> str:
    response = await http.post("/auth/token", data={"username": username, "password": password})
    response.raise_for_status()
    return str(response.json()["access_token"])
