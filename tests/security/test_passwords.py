"""Passwords are stored as argon2id hashes with costs that make guessing expensive, and never shown."""

from __future__ import annotations

import time

import httpx
import pytest
from argon2 import Type, extract_parameters
from gateway.passwords import Passwords
from pymongo import AsyncMongoClient

from devkit.testing import Platform, unique
from shared.identity import Role

from .conftest import World

# OWASP's password storage guidance for argon2id: at least 19 MiB of memory and 2 passes;
# the hasher's RFC 9106 profile uses 64 MiB and 3 passes
MIN_MEMORY_KIB = 19 * 1024
MIN_TIME_COST = 2


async def test_the_hasher_uses_argon2id_with_sensible_costs() -> None:
    passwords = Passwords()
    started = time.perf_counter()
    stored = await passwords.hash("a-long-enough-password")
    spent = time.perf_counter() - started
    parameters = extract_parameters(stored)
    assert parameters.type is Type.ID and parameters.version == 19
    assert parameters.memory_cost >= MIN_MEMORY_KIB and parameters.time_cost >= MIN_TIME_COST
    assert parameters.salt_len >= 16 and parameters.hash_len >= 32
    assert stored != await passwords.hash("a-long-enough-password"), "the same password must get a fresh salt"
    assert await passwords.verify(stored, "a-long-enough-password")
    assert not await passwords.verify(stored, "a-long-enough-passwore")
    assert not await passwords.verify(None, "a-long-enough-password")
    print(
        f"\n[passwords] argon2id m={parameters.memory_cost} KiB t={parameters.time_cost} p={parameters.parallelism} "
        f"salt {parameters.salt_len} B, hash {parameters.hash_len} B, {spent * 1000:.0f} ms per hash"
    )


@pytest.mark.integration
async def test_accounts_are_stored_hashed_and_never_shown(
    platform: Platform, gateway: httpx.AsyncClient, world: World
) -> None:
    password = "kiosk-keeper-" + unique("pw")
    username = unique("keeper")
    account = {"username": username, "password": password, "role": "shopkeeper", "scope": world.shop}
    office = world.bearer(Role.OFFICE)
    created = await gateway.post("/api/v1/users", json=account, headers=office)
    assert created.status_code == 201, created.text
    listed = await gateway.get("/api/v1/users", params={"limit": 500}, headers=office)
    for answer in (created, listed):
        assert password not in answer.text and "argon2" not in answer.text and "hash" not in answer.text

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(platform.mongo_url)
    try:
        users = [d async for d in client["gateway"]["users"].find()]
    finally:
        await client.close()
    # an account whose password was reset, or not yet set, has no hash until its one-time link is used
    stored = {d["_id"]: d["password_hash"] for d in users if d.get("password_hash") is not None}
    assert {username, "office"} <= set(stored)
    for name, hashed in stored.items():
        assert isinstance(hashed, str), name
        parameters = extract_parameters(hashed)
        assert parameters.type is Type.ID, name
        assert parameters.memory_cost >= MIN_MEMORY_KIB and parameters.time_cost >= MIN_TIME_COST, name
        assert password not in hashed
    login = await gateway.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert login.status_code == 200, login.text
