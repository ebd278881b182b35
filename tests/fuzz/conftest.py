"""Fixtures of the fuzz tests: a platform of real processes and the commerce office's token for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest

from devkit.testing import Platform, running_platform
from shared.identity import Principal, Role

OFFICE_USER = "fuzz-office-7f3a"
FUZZ_ENV = {"RATE_LIMIT_ENABLED": "false", "LOGIN_BURST": "1000", "LOGIN_MAX_FAILURES": "100"}


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    yield from running_platform(tmp_path_factory.mktemp("fuzz"), **FUZZ_ENV)


@pytest.fixture(scope="package")
def office(platform: Platform) -> dict[str, str]:
    # an office account of its own: the fuzzer disables, resets and re-roles the accounts it can name
    # (the OpenAPI's examples say "office"), which would revoke a token of that account mid-run
    token = platform.token(Principal(username=OFFICE_USER, role=Role.OFFICE), timedelta(minutes=60))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="package")
async def gateway(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


@pytest.fixture(scope="package")
def departing(platform: Platform) -> dict[str, str]:
    """A second office token, for the one route that revokes the token it comes with (logout)."""
    token = platform.token(Principal(username=OFFICE_USER + "-logout", role=Role.OFFICE), timedelta(minutes=60))
    return {"Authorization": f"Bearer {token}"}
