"""The staging load profile (deploy/load/locustfile.py) runs for a few seconds against the real
platform, every user class makes its requests, and nothing fails."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from devkit.testing import Platform, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "deploy" / "load" / "locustfile.py"


async def _operator_with_stalls(platform: Platform) -> tuple[str, str]:
    """A market of its own with two assigned stalls, and an operator account scoped to it."""
    async with httpx.AsyncClient(base_url=platform.gateway + API, timeout=30) as client:
        token = await client.post("/auth/token", data={"username": "office", "password": "office-demo"})
        office = {"Authorization": f"Bearer {token.json()['access_token']}"}
        market = unique("load")
        place = {"id": market, "name": "Mercato di carico", "address": "Via Carico 1", "municipio": 2,
                 "location": {"lon": 9.21, "lat": 45.48}}  # fmt: skip
        assert (await client.post("/markets", json=place, headers=office)).status_code == 201
        for number in (1, 2):
            stall = {"number": number, "area_m2": 12.5, "category": "food"}
            assert (await client.post(f"/markets/{market}/stalls", json=stall, headers=office)).status_code == 201
            held = {"holder": f"Banco {number}", "category": "food", "start": date.today().isoformat(),
                    "end": (date.today() + timedelta(days=30)).isoformat()}  # fmt: skip
            assigned = await client.post(f"/markets/{market}/stalls/{number}/assignment", json=held, headers=office)
            assert assigned.status_code in (200, 201), assigned.text
        username, password = unique("op-load"), "load-profile-pass-1"
        account = {"username": username, "password": password, "role": "market_operator", "scope": market}
        created = await client.post("/users", json=account, headers=office)
        assert created.status_code == 201, created.text
    return username, password


async def test_the_load_profile_runs_without_failures(platform: Platform, tmp_path: Path) -> None:
    username, password = await _operator_with_stalls(platform)
    env = {**os.environ, "LOAD_OPERATORS": f"{username}:{password}", "LOAD_PACE": "0.1"}
    # a few users only: one operator and one office user for sure (by weight they come one in ten)
    fixed = [{"user_class_name": name, "fixed_count": 1} for name in ("Operator", "Office")]
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", platform.gateway,
               "--users", "6", "--spawn-rate", "6", "--run-time", "10s", "--stop-timeout", "5",
               "--config-users", json.dumps(fixed), "--csv", str(tmp_path / "load"), "--only-summary"]  # fmt: skip
    ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    with (tmp_path / "load_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    requests = {name: int(row["Request Count"]) for name, row in rows.items()}
    failures = {name: int(row["Failure Count"]) for name, row in rows.items() if int(row["Failure Count"])}
    assert not failures, failures
    for name in ("/services/nearest", "/markets/{id}/stalls/{n}/status", "/overview", "/auth/token"):
        assert requests.get(name, 0) > 0, f"no request to {name}: {requests}"
