"""The platform's peak-hour load for a staging cluster: citizens, market operators and the office.

The mix and the pacing follow docs/capacity.md (section "Peak load"): citizens asking for the nearest
open point offering a service (anonymous, the bulk of the traffic), market operators opening and
closing their stalls with ``If-Match`` (the write path), the commerce office reading the city
overview, districts and markets. Every request goes through the gateway's ``/api/v1``.

Settings (environment):

- ``LOAD_OFFICE``: ``username:password`` of an office account (default the local demo's).
- ``LOAD_OPERATORS``: comma-separated ``username:password`` of market operators, each toggling the
  assigned stalls of the market its account is scoped to (default the local demo's operator).
  Operator users take turns over these accounts; two users on one account share its stalls, and a
  change refused because another user changed the stall first (412) is counted apart, not as an
  error: an operator's phone re-reads and goes on.
- ``LOAD_PACE``: a factor on every pause between a user's requests (default 1, as people pace them;
  the smoke test runs at 0.1 to make a few seconds count).

Run: ``locust -f deploy/load/locustfile.py --host https://staging.example.org`` (see docs/capacity.md).
"""

from __future__ import annotations

import itertools
import os
import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import HttpUser, between, task

API = "/api/v1"
MILAN = (9.08, 45.40, 9.28, 45.54)  # west, south, east, north
DEFAULT_OFFICE = "office:office-demo"
DEFAULT_OPERATORS = "operator-wagner:operator-demo"
PACE = float(os.environ.get("LOAD_PACE", "1"))


def _account(text: str) -> tuple[str, str]:
    username, _, password = text.strip().partition(":")
    return username, password


_operators = itertools.cycle(_account(a) for a in os.environ.get("LOAD_OPERATORS", DEFAULT_OPERATORS).split(",") if a)
_operators_lock = threading.Lock()


def _next_operator() -> tuple[str, str]:
    with _operators_lock:
        return next(_operators)


class SignedIn(HttpUser):
    abstract = True

    def sign_in(self, username: str, password: str) -> None:
        with self.client.post(
            f"{API}/auth/token",
            data={"username": username, "password": password},
            name="/auth/token",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"sign-in of {username} refused: HTTP {response.status_code}")
                raise RuntimeError(f"cannot sign in as {username}")
            self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


class Citizen(HttpUser):
    """Someone looking for the nearest open point offering a service: a look, then a pause to read it."""

    weight = 90
    wait_time = between(2 * PACE, 8 * PACE)

    def on_start(self) -> None:
        listed = self.client.get(f"{API}/services/catalogue", name="/services/catalogue").json()
        self.codes = [item["code"] for item in listed["items"]]

    @task(8)
    def nearest_open_now(self) -> None:
        self._nearest({})

    @task(2)
    def nearest_later_or_closed_too(self) -> None:
        if random.random() < 0.5:
            self._nearest({"open_only": "false"})
        else:
            later = datetime.now(UTC) + timedelta(hours=random.randint(1, 36))
            self._nearest({"open_at": later.isoformat()})

    def _nearest(self, extra: dict[str, str]) -> None:
        west, south, east, north = MILAN
        params: dict[str, Any] = {
            "service": random.choice(self.codes),
            "lon": round(random.uniform(west, east), 5),
            "lat": round(random.uniform(south, north), 5),
            **extra,
        }
        self.client.get(f"{API}/services/nearest", params=params, name="/services/nearest")


class Operator(SignedIn):
    """A market operator's phone: a stall opened or closed every few seconds during set-up and closing."""

    weight = 6
    wait_time = between(3 * PACE, 10 * PACE)

    def on_start(self) -> None:
        self.sign_in(*_next_operator())
        self.market = self.client.get(f"{API}/me", name="/me").json()["scope"]
        listed = self.client.get(
            f"{API}/markets/{self.market}/stalls", params={"limit": 500}, name="/markets/{id}/stalls"
        ).json()
        self.stalls = [s for s in listed["items"] if s["holder"] and s["status"] in ("open", "closed")]

    @task
    def toggle_a_stall(self) -> None:
        if not self.stalls:
            return
        stall = random.choice(self.stalls)
        path = f"{API}/markets/{self.market}/stalls/{stall['number']}"
        target = "closed" if stall["status"] == "open" else "open"
        body = {"status": target, "note": "", "version": stall["version"]}
        with self.client.put(
            f"{path}/status",
            json=body,
            headers={"If-Match": f'"{stall["version"]}"'},
            name="/markets/{id}/stalls/{n}/status",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                stall.update(status=target, version=response.json()["version"])
                return
            if response.status_code != 412:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            response.success()  # another user changed it first: re-read, as the phone does
        fresh = self.client.get(path, name="/markets/{id}/stalls/{n} (re-read after 412)").json()
        stall.update(status=fresh["status"], version=fresh["version"])


class Office(SignedIn):
    """The commerce office's dashboards: the city overview, a district, the markets."""

    weight = 4
    wait_time = between(5 * PACE, 15 * PACE)

    def on_start(self) -> None:
        self.sign_in(*_account(os.environ.get("LOAD_OFFICE", DEFAULT_OFFICE)))
        districts = self.client.get(f"{API}/districts", name="/districts").json()["items"]
        self.districts = [d["code"] for d in districts]
        self.overview()  # the dashboard opens on the city overview

    @task(3)
    def overview(self) -> None:
        self.client.get(f"{API}/overview", name="/overview")

    @task(2)
    def district(self) -> None:
        if self.districts:
            self.client.get(f"{API}/districts/{random.choice(self.districts)}", name="/districts/{code}")

    @task(2)
    def markets(self) -> None:
        self.client.get(f"{API}/markets", name="/markets")
