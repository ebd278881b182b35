"""After logins, failed logins, account creation and writes with good and bad tokens, no secret is in a log."""

from __future__ import annotations

import httpx
import pytest

from devkit.testing import Platform, unique

from .conftest import OFFICE_PASSWORD, World

pytestmark = pytest.mark.integration

DEMO_PASSWORDS = ("operator-demo", "shopkeeper-demo", "trader-demo")


async def _exercise(gateway: httpx.AsyncClient, world: World) -> dict[str, str]:
    """A day at the office, with mistakes; returns the secrets that went over the wire."""
    secrets = {"office password": OFFICE_PASSWORD}
    login = await gateway.post("/api/v1/auth/token", data={"username": "office", "password": OFFICE_PASSWORD})
    assert login.status_code == 200, login.text
    office_token = login.json()["access_token"]
    office = {"Authorization": f"Bearer {office_token}", "X-Request-ID": unique("audit")}
    secrets["office token"] = office_token
    secrets["office token signature"] = office_token.rsplit(".", 1)[1]

    password = "Operator-" + unique("secret")
    username = unique("operatore")
    account = {"username": username, "password": password, "role": "market_operator", "scope": world.market}
    assert (await gateway.post("/api/v1/users", json=account, headers=office)).status_code == 201
    secrets["new account password"] = password
    too_short = {**account, "username": unique("corto"), "password": "Short-7"}
    assert (await gateway.post("/api/v1/users", json=too_short, headers=office)).status_code == 422
    secrets["refused password"] = too_short["password"]

    wrong = "Wrong-" + unique("guess")
    failed = await gateway.post("/api/v1/auth/token", data={"username": username, "password": wrong})
    assert failed.status_code == 401
    secrets["mistyped password"] = wrong
    login = await gateway.post("/api/v1/auth/token", data={"username": username, "password": password})
    operator_token = login.json()["access_token"]
    secrets["operator token"] = operator_token
    operator = {"Authorization": f"Bearer {operator_token}"}

    status = f"/api/v1/markets/{world.market}/stalls/1/status"
    assert (
        await gateway.put(status, json={"status": "closed", "note": "fine turno"}, headers=operator)
    ).status_code in (200, 409)
    assert (await gateway.post("/api/v1/districts/rebuild", headers=operator)).status_code == 403
    forged = operator_token.rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    assert (
        await gateway.put(status, json={"status": "open"}, headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401
    secrets["forged token"] = forged
    assert (await gateway.get("/api/v1/overview", headers=office)).status_code == 200
    return secrets


async def test_no_secret_reaches_the_logs(platform: Platform, gateway: httpx.AsyncClient, world: World) -> None:
    secrets = await _exercise(gateway, world)
    data = platform.stack.data
    secrets["JWT signing key"] = "".join(world.signing_key.splitlines()[1:-1])
    secrets.update({f"{name} demo password": name for name in DEMO_PASSWORDS})
    for name in ("s3-access", "s3-secret"):
        secrets[f"S3 store key {name}"] = (data / "secrets" / name).read_text().strip()
    logs = sorted((data / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {"gateway", "markets", "shops", "districts"}
    text = {path.name: path.read_text(errors="replace") for path in logs}
    assert "/api/v1/auth/token" in text["gateway.log"], "the flow did not reach the gateway's log"
    leaks = [f"{what} in {name}" for what, secret in secrets.items() for name, body in text.items() if secret in body]
    leaks += [f"a password hash in {name}" for name, body in text.items() if "$argon2" in body]
    assert not leaks, leaks
    print(
        f"\n[logs] secrets looked for {len(secrets)}, log files {len(logs)} "
        f"({sum(len(b) for b in text.values()) // 1024} KiB at level DEBUG), leaks 0"
    )
