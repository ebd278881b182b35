"""The access matrix of docs/security.md, asserted as written: every route, every kind of caller.

The expected statuses are read from the table in docs/security.md, never from the gateway's code
(nothing here imports the gateway). Each cell is asserted exactly, through the gateway and, for a
route a service owns, directly against that service as a request that bypassed the gateway would
reach it. A column marked ``(pending: …)`` is skipped with that reason; a route of the merged
OpenAPI without a row in the table fails.

Each call is made with a valid request, on resources made fresh for it when the route changes their
state (the ``Case`` column), so an answer can only depend on who is calling.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.stack.components import ROOT
from devkit.testing import Platform, unique
from shared.identity import Role
from shared.settings import ServiceSettings

from .conftest import OFFICE_PASSWORD, World, merged_openapi, square

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

MATRIX = ROOT / "docs" / "security.md"
START, END = "<!-- access-matrix:start -->", "<!-- access-matrix:end -->"
FIXED_COLUMNS = ["Method", "Path", "Case", "Service"]
PENDING = re.compile(r"^(?P<name>.*?)\s*\(pending: (?P<reason>[^)]*)\)$")
API = "/api/v1"
LOCATION = {"lon": 9.2, "lat": 45.47}
ELSEWHERE_MARKET, ELSEWHERE_SHOP = "mercato-altrove", "bottega-altrove"
NIL_IDS = itertools.count(20_000)
MARKET_DAYS = itertools.count(
    1
)  # past days of the spunta, a fresh one for each call: a day is assigned once  # the security platform's database is fresh: no id is taken


# ------------------------------------------------------------------ the table as written


@dataclass(frozen=True)
class Expected:
    gateway: int
    service: int


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with the query string, if the row has one
    case: str
    service: str
    cells: dict[str, Expected]

    @property
    def template(self) -> str:
        return self.path.split("?", 1)[0]

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.case})" if self.case else "")


@dataclass(frozen=True)
class Matrix:
    callers: list[str]
    pending: dict[str, str]
    rows: list[Row]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _expected(cell: str, where: str) -> Expected:
    found = re.fullmatch(r"(\d{3})(?:/(\d{3}))?", cell)
    assert found, f"{where}: {cell!r} is not a status or gateway/service statuses"
    gateway = int(found.group(1))
    return Expected(gateway, int(found.group(2) or gateway))


def read_matrix() -> Matrix:
    text = MATRIX.read_text(encoding="utf-8")
    assert START in text and END in text, f"{MATRIX} has no access matrix between {START} and {END}"
    lines = [line for line in text.split(START, 1)[1].split(END, 1)[0].splitlines() if line.strip()]
    header = _cells(lines[0])
    assert header[: len(FIXED_COLUMNS)] == FIXED_COLUMNS, f"the matrix starts with {FIXED_COLUMNS}, not {header[:4]}"
    callers, pending = [], {}
    for heading in header[len(FIXED_COLUMNS) :]:
        marked = PENDING.match(heading)
        name = marked.group("name") if marked else heading
        callers.append(name)
        if marked:
            pending[name] = marked.group("reason")
    rows = []
    for line in lines[2:]:
        cells = _cells(line)
        assert len(cells) == len(header), f"{MATRIX.name}: {line!r} has {len(cells)} cells, not {len(header)}"
        method, path, case, service = cells[: len(FIXED_COLUMNS)]
        where = f"{method} {path}"
        statuses = {c: _expected(v, f"{where} / {c}") for c, v in zip(callers, cells[4:], strict=True)}
        rows.append(Row(method.upper(), path, case, service, statuses))
    return Matrix(callers, pending, rows)


# ------------------------------------------------------------------ the world the rows act on


@dataclass
class Stage:
    """What a row acts on, plus an office client to make fresh resources for each call."""

    world: World
    client: httpx.AsyncClient
    closed_call: str
    nil: int
    disabled_token: str | None = None
    rebuild: str | None = None  # the last rebuild started: one runs at a time

    @property
    def office(self) -> dict[str, str]:
        """A fresh office token for each setup call: the whole matrix outlasts one token on a busy machine."""
        return {"Authorization": f"Bearer {self.world.token(Role.OFFICE)}"}

    async def no_rebuild_running(self) -> dict[str, str]:
        deadline = time.monotonic() + 120
        while self.rebuild:
            job = await self.client.get(f"{API}/districts/rebuild/{self.rebuild}", headers=self.office)
            assert job.status_code == 200, job.text
            if job.json()["state"] in ("done", "failed"):
                break
            assert time.monotonic() < deadline, f"rebuild {self.rebuild} still {job.json()['state']} after 120 s"
            await asyncio.sleep(0.5)
        return {}

    async def created(self, path: str, body: dict[str, Any]) -> Any:
        answer = await self.client.post(API + path, json=body, headers=self.office)
        assert answer.status_code in (200, 201), f"setting up: POST {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def stall(self, *, assigned: bool = False) -> str:
        number = unique("s")[-10:]
        market = self.world.market
        await self.created(f"/markets/{market}/stalls", {"number": number, "area_m2": 9.5, "category": "craft"})
        if assigned:
            holder = {"holder": "Banco", "category": "craft", "start": "2026-01-01", "end": "2031-01-01"}
            await self.created(f"/markets/{market}/stalls/{number}/assignment", holder)
        return number

    async def concession(self) -> str:
        """An active concession of its own (a stall assigned for it)."""
        number = await self.stall()
        holder = {"holder": "Banco", "category": "craft", "start": "2026-01-01", "end": "2031-01-01"}
        stall = await self.created(f"/markets/{self.world.market}/stalls/{number}/assignment", holder)
        return str(stall["concession"]["id"])

    async def space(self) -> str:
        """A space of its own in the world's market (its code is the path's ``code``)."""
        code = unique("spazio")
        await self.created(f"/markets/{self.world.market}/spaces", {"code": code, "name": "Spazio", "capacity": 30})
        return code

    async def booking(self) -> dict[str, str]:
        """A booking by the office of a space of its own: ``code`` and ``booking_id``."""
        code = await self.space()
        booked = await self.created(f"/markets/{self.world.market}/spaces/{code}/bookings", BOOKING)
        return {"code": code, "booking_id": str(booked["id"])}

    async def call(self, deadline: datetime) -> str:
        number = await self.stall()
        body = {
            "title": "Bando",
            "stalls": [number],
            "criteria": [{"name": "offer", "weight": 1}],
            "deadline": deadline.isoformat(),
        }
        return str((await self.created(f"/markets/{self.world.market}/calls", body))["id"])

    async def market_day(self, *, assigned: bool = False) -> str:
        day = (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=next(MARKET_DAYS))).date().isoformat()
        if assigned:
            await self.created(f"/markets/{self.world.market}/spunta/{day}/assign", {})
        return day

    async def shop(self, *, applied: bool = False) -> str:
        shop = unique("negozio")
        await self.created("/shops", {"id": shop, "kind": "shop", "name": "Negozio", "location": LOCATION})
        if applied:
            await self.created(f"/shops/{shop}/recognition", RECOGNITION)
        return shop

    async def intervention(self) -> dict[str, str]:
        """An intervention of its own on the world's district (its code is the path's ``code``)."""
        code = unique("intervento")
        body = {"code": code, "title": "Intervento", "kind": "events"}
        body |= {"target": {"type": "district", "id": self.world.district}, "started_at": "2026-01-01T00:00:00+00:00"}
        await self.created("/interventions", body)
        return {"code": code}

    async def account(self) -> dict[str, str]:
        """A shopkeeper account of its own, made by the office (``username``, ``password``)."""
        username = unique("conto")
        body = {"username": username, "password": PASSWORD, "role": "shopkeeper", "scope": self.world.shop}
        await self.created("/users", body)
        return {"username": username, "password": PASSWORD}

    async def session(self) -> dict[str, str]:
        """A login of an account of its own: ``refresh_token`` (as a client that is not a browser gets it)."""
        account = await self.account()
        login = await self.client.post(f"{API}/auth/token", data=account)
        assert login.status_code == 200, f"setting up: logging in: {login.status_code} {login.text}"
        return {**account, "refresh_token": str(login.json()["refresh_token"])}

    async def reset_account(self) -> dict[str, str]:
        """An account of its own after an office password reset: ``activation_token``, the one-time token."""
        account = await self.account()
        reset = await self.client.post(f"{API}/users/{account['username']}/password-reset", headers=self.office)
        assert reset.status_code == 200, f"setting up: password reset: {reset.status_code} {reset.text}"
        return {**account, "activation_token": str(reset.json()["token"])}

    async def registration(self) -> dict[str, str]:
        """A trader's registration of its own, pending (anonymous, as a registrant sends it)."""
        username = unique("ambulante")
        body = {"role": "trader", "username": username, "email": f"{username}@example.org", "full_name": "Ada Neri"}
        answer = await self.client.post(f"{API}/registrations", json=body)
        assert answer.status_code == 202, f"setting up: registering: {answer.status_code} {answer.text}"
        return {"registration_id": str(answer.json()["id"])}

    async def offer(self) -> dict[str, str]:
        """A shop of its own offering one service (a shop offers each service once)."""
        shop = await self.shop()
        hours = [{"day": 2, "opens": "09:00", "closes": "12:00"}]
        body = {"service": "ritiro_pacchi", "hours": hours}
        return {"shop_id": shop, "service_id": str((await self.created(f"/shops/{shop}/services", body))["id"])}

    async def closure(self) -> dict[str, str]:
        """A shop of its own with one closure."""
        shop = await self.shop()
        closure = await self.created(f"/shops/{shop}/closures", dict(CLOSURE))
        return {"shop_id": shop, "closure_id": str(closure["id"])}

    async def document(self) -> dict[str, str]:
        """A shop of its own with one uploaded PDF."""
        shop = await self.shop()
        answer = await self.client.post(f"{API}/shops/{shop}/documents", files=document_file(), headers=self.office)
        assert answer.status_code == 201, f"setting up: uploading a document: {answer.status_code} {answer.text}"
        return {"shop_id": shop, "document_id": str(answer.json()["id"])}


PASSWORD = "long-enough-secret"
SPUNTISTA = "spuntista-tester"  # a trader's account, present at the spunta
_CLOSED = datetime.now(UTC).date() + timedelta(days=30)  # closures that have ended are refused
CLOSURE = {"from": _CLOSED.isoformat(), "to": (_CLOSED + timedelta(days=2)).isoformat(), "reason": "Ferie"}


def document_file() -> dict[str, tuple[str, bytes, str]]:
    """A small PDF as the multipart ``file`` of a document upload (a fresh one each time)."""
    return {"file": ("atto.pdf", b"%PDF-1.7\n" + unique("atto").encode() + b"\n%%EOF\n", "application/pdf")}


def register_file() -> dict[str, tuple[str, bytes, str]]:
    """A one-row kiosk register with a fresh code, as the multipart ``file`` of an import."""
    header = "cod_ese;tipo_edi;status;indirizzo;cap;municipio;id_nil;nil;long_x_4326;lat_y_4326;location"
    row = f"{unique('k')};Chiosco;attiva;Via Prova 2;20127;2;20;NOLO;9.2;45.47;"
    return {"file": ("edicole.csv", f"{header}\n{row}\n".encode(), "text/csv")}


RECOGNITION = {"founding_year": 1950, "trade": "giornali", "continuity": "sempre"}
BOOKING = {
    "title": "Laboratorio",
    "organiser": "Associazione",
    "starts_at": "2030-06-01T18:00:00+02:00",
    "ends_at": "2030-06-01T20:00:00+02:00",
    "public": True,
}


async def _parameters(stage: Stage, case: str) -> dict[str, str]:
    world = stage.world
    values = {
        "market_id": world.market,
        "number": "1",
        "call_id": world.call,
        "shop_id": world.shop,
        "service_id": world.offer,
        "code": world.district,
        "nil_id": str(stage.nil),
        "job": "no-such-job",
        "import_id": "no-such-import",
        "alert_id": "no-such-alert",
    }
    cases: dict[str, Callable[[], Awaitable[dict[str, str]]]] = {
        "": _none,
        "open call": _none,
        "unknown job": _none,
        "unknown import": _none,
        "unknown alert": _none,
        "new NIL": _none,
        "no rebuild running": stage.no_rebuild_running,
        "vacant stall": lambda: _as("number", stage.stall()),
        "assigned stall": lambda: _as("number", stage.stall(assigned=True)),
        "active concession": lambda: _as("concession_id", stage.concession()),
        "space": lambda: _as("code", stage.space()),
        "booking": stage.booking,
        "new open call": lambda: _as("call_id", stage.call(datetime.now(UTC) + timedelta(days=30))),
        "closed call": lambda: _value({"call_id": stage.closed_call}),
        "new shop": lambda: _as("shop_id", stage.shop()),
        "applied shop": lambda: _as("shop_id", stage.shop(applied=True)),
        "new offer": stage.offer,
        "new closure": stage.closure,
        "new document": stage.document,
        "new intervention": _none,
        "intervention": stage.intervention,
        "open market day": lambda: _as("date", stage.market_day()),
        "assigned market day": lambda: _as("date", stage.market_day(assigned=True)),
        "new account": stage.account,
        "fresh session": stage.session,
        "reset account": stage.reset_account,
        "new registration": stage.registration,
        "no stored account": _none,
    }
    assert case in cases, f"the matrix names a case the test cannot set up: {case!r}"
    return {**values, **await cases[case]()}


async def _none() -> dict[str, str]:
    return {}


async def _value(values: dict[str, str]) -> dict[str, str]:
    return values


async def _as(name: str, made: Awaitable[str]) -> dict[str, str]:
    return {name: await made}


def _body(method: str, template: str, world: World, values: dict[str, str]) -> dict[str, Any] | None:
    """A valid body for each write, so that a refusal can only come from who is calling."""
    shape = re.sub(r"\{[^}]+\}", "{}", template[len(API) :])
    bodies: dict[tuple[str, str], Callable[[], dict[str, Any] | None]] = {
        ("POST", "/users"): lambda: {
            "username": unique("utente"),
            "password": PASSWORD,
            "role": "market_operator",
            "scope": world.market,
        },
        ("POST", "/auth/refresh"): lambda: {"refresh_token": values["refresh_token"]},
        ("POST", "/auth/logout"): lambda: {"refresh_token": values["refresh_token"]},
        ("POST", "/auth/activate"): lambda: {"token": values["activation_token"], "password": unique("nuova-chiave")},
        ("PUT", "/me/password"): lambda: {"current_password": PASSWORD, "new_password": unique("nuova-chiave")},
        ("POST", "/registrations"): lambda: {
            "role": "shopkeeper",
            "username": unique("negoziante"),
            "email": f"{unique('negoziante')}@example.org",
            "full_name": "Ada Neri",
            "shop": world.shop,
        },
        ("POST", "/registrations/{}/reject"): lambda: {"reason": "richiesta incompleta"},
        # a role change: the scope is cleared with it (docs/api.md)
        ("PATCH", "/users/{}"): lambda: {"role": "trader"},
        ("POST", "/markets"): lambda: {
            "id": unique("mercato"),
            "name": "Mercato",
            "address": "Via Uno 1",
            "municipio": 3,
            "location": LOCATION,
        },
        ("PATCH", "/markets/{}"): lambda: {"notes": "aggiornato"},
        ("POST", "/markets/{}/stalls"): lambda: {"number": unique("b")[-8:], "area_m2": 9.5, "category": "craft"},
        ("PUT", "/markets/{}/stalls/{}/status"): lambda: {"status": "open", "note": "apertura"},
        ("POST", "/markets/{}/stalls/{}/assignment"): lambda: {
            "holder": "Banco",
            "category": "food",
            "start": "2026-01-01",
            "end": "2031-01-01",
        },
        ("POST", "/markets/{}/calls"): lambda: {
            "title": "Bando",
            "stalls": [values["number"]],
            "criteria": [{"name": "offer", "weight": 1}],
            "deadline": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
        },
        # a trader's account (the gateway refuses any other name), not the caller's: a trader is refused
        ("POST", "/markets/{}/spunta/{}/candidates"): lambda: {"trader": SPUNTISTA},
        ("POST", "/markets/{}/spunta/{}/assign"): lambda: {"absent": []},
        # the trader's own account (the matrix's trader is trader-tester), or the office on their behalf
        ("POST", "/calls/{}/applications"): lambda: {
            "holder": "Ditta",
            "category": "food",
            "offer": "banco di frutta",
            "trader": f"{Role.TRADER.value}-tester",
        },
        ("POST", "/markets/{}/spaces"): lambda: {"code": unique("spazio"), "name": "Spazio", "capacity": 30},
        ("POST", "/markets/{}/spaces/{}/bookings"): lambda: dict(BOOKING),
        ("POST", "/concessions/{}/renew"): lambda: {"end": "2041-01-01"},
        ("POST", "/concessions/{}/transfer"): lambda: {"trader": "subentrante", "holder": "Banco Nuovo"},
        ("POST", "/concessions/{}/revoke"): lambda: {"reason": "rinuncia del titolare"},
        ("POST", "/calls/{}/evaluations"): lambda: {
            "application": "nessuna-domanda",
            "scores": {"offer": 10},
            "reasons": {"offer": "offerta adeguata"},
        },
        ("POST", "/shops"): lambda: {"id": unique("negozio"), "kind": "shop", "name": "Negozio", "location": LOCATION},
        # a new name each time: a replace that changes nothing answers 204
        ("PUT", "/shops/{}"): lambda: {"kind": "kiosk", "name": unique("Edicola Sicura"), "location": LOCATION},
        ("PATCH", "/shops/{}"): lambda: {"trade": "giornali"},
        ("PUT", "/shops/{}/status"): lambda: {"status": "closed"},
        ("POST", "/shops/{}/recognition"): lambda: dict(RECOGNITION),
        ("POST", "/shops/{}/recognition/decision"): lambda: {"decision": "reject", "reason": "documenti mancanti"},
        ("POST", "/shops/{}/services"): lambda: {
            "service": "biglietti_trasporto",
            "hours": [{"day": 1, "opens": "09:00", "closes": "13:00"}],
        },
        ("PUT", "/shops/{}/services/{}"): lambda: {
            "hours": [{"day": 3, "opens": "15:00", "closes": "19:00"}, {"day": 3, "opens": "21:00", "closes": "01:00"}],
        },
        ("POST", "/shops/{}/closures"): lambda: dict(CLOSURE),
        ("POST", "/districts"): lambda: {"code": unique("d"), "name": "Distretto", "perimeter": square(9.3, 45.5)},
        ("PUT", "/districts/{}"): lambda: {"name": "Distretto", "perimeter": square(9.2, 45.47)},
        ("PUT", "/districts/{}/thresholds"): lambda: {"occupancy_below": 0.5, "occupancy_recovered_at": 0.55},
        ("POST", "/interventions"): lambda: {
            "code": unique("intervento"),
            "title": "Intervento",
            "kind": "events",
            "target": {"type": "district", "id": values["code"]},
            "started_at": "2026-01-01T00:00:00+00:00",
        },
        ("PUT", "/nils/{}/baseline"): lambda: {
            "population": 1000,
            "neighbourhood_shops": 40,
            "bars_restaurants": 12,
            "historic_shops": 1,
            "newsstands": 2,
            "large_retail": 0,
        },
        ("POST", "/nils"): lambda: {
            "id": next(NIL_IDS),
            "name": "Prova",
            "population": 10,
            "perimeter": square(9.3, 45.5),
        },
    }
    make = bodies.get((method, shape))
    return make() if make else None


def _fill(path: str, values: dict[str, str]) -> str:
    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        assert name in values, f"no test value for the path parameter {name!r} of {path}"
        return values[name]

    return re.sub(r"\{([^}]+)\}", value, path)


# ------------------------------------------------------------------ callers


Token = Callable[[dict[str, str]], str | None]


def _callers(stage: Stage) -> dict[str, Token]:
    world = stage.world

    def minted(role: Role, scope: str | None = None, ttl: timedelta = timedelta(minutes=10)) -> str:
        return world.token(role, scope, ttl)

    def disabled(_: dict[str, str]) -> str:
        assert stage.disabled_token, "no disabled account was set up"
        return stage.disabled_token

    return {
        "anonymous": lambda p: None,
        "office": lambda p: minted(Role.OFFICE),
        "operator here": lambda p: minted(Role.MARKET_OPERATOR, p["market_id"]),
        "operator elsewhere": lambda p: minted(Role.MARKET_OPERATOR, ELSEWHERE_MARKET),
        "shopkeeper here": lambda p: minted(Role.SHOPKEEPER, p["shop_id"]),
        "shopkeeper elsewhere": lambda p: minted(Role.SHOPKEEPER, ELSEWHERE_SHOP),
        "trader": lambda p: minted(Role.TRADER),
        "disabled account": disabled,
        "expired token": lambda p: minted(Role.OFFICE, ttl=timedelta(seconds=-120)),
    }


async def _disabled_account_token(stage: Stage) -> str:
    """A shopkeeper account that logged in and was then disabled by the office (accounts contract)."""
    username = unique("disabilitato")
    password = PASSWORD
    body = {"username": username, "password": password, "role": "shopkeeper", "scope": stage.world.shop}
    await stage.created("/users", body)
    login = await stage.client.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert login.status_code == 200, login.text
    token = str(login.json()["access_token"])
    disabled = await stage.client.post(f"{API}/users/{username}/disable", headers=stage.office)
    assert disabled.status_code in (200, 204), f"disabling an account: {disabled.status_code} {disabled.text}"
    deadline = time.monotonic() + 75  # the contract: refused within 60 s
    while (await stage.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})).status_code != 401:
        assert time.monotonic() < deadline, "the disabled account's token still works after 75 s"
        await asyncio.sleep(1)
    # the gateway refuses at once; each service learns it from the gateway's list, fetched every
    # revocation_poll_s (the contract's 60 s is the upper bound of that setting)
    await asyncio.sleep(ServiceSettings().revocation_poll_s + 2)
    return token


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
async def stage(gateway: httpx.AsyncClient, world: World) -> Stage:
    staged = Stage(world, gateway, closed_call="", nil=next(NIL_IDS))
    # a trader's account the spunta's registrations name (the trader of the matrix has no stored account)
    present = {"username": SPUNTISTA, "password": PASSWORD, "role": "trader", "scope": None}
    await staged.created("/users", present)
    await staged.created(
        "/nils", {"id": staged.nil, "name": "Nil di prova", "population": 100, "perimeter": square(9.21, 45.48)}
    )
    deadline = datetime.now(UTC) + timedelta(seconds=3)
    staged.closed_call = await staged.call(deadline)
    await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.5)
    return staged


# ------------------------------------------------------------------ the tests


def test_the_matrix_is_well_formed() -> None:
    matrix = read_matrix()
    known = {"anonymous", "office", "operator here", "operator elsewhere", "shopkeeper here"}
    known |= {"shopkeeper elsewhere", "trader", "disabled account", "expired token"}
    assert set(matrix.callers) == known, f"caller kinds: {matrix.callers}"
    assert len(matrix.rows) >= 50
    seen = Counter((r.method, r.path, r.case) for r in matrix.rows)
    assert not [k for k, n in seen.items() if n > 1], "a row appears twice"
    assert {r.service for r in matrix.rows} <= {"gateway", "markets", "shops", "districts"}


async def test_every_route_of_the_api_has_a_row_in_the_matrix(gateway: httpx.AsyncClient) -> None:
    spec = await merged_openapi(gateway)
    operations = {(m.upper(), p) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    rows = {(r.method, r.template) for r in read_matrix().rows}
    missing = sorted(f"{m} {p}" for m, p in operations - rows)
    assert not missing, f"routes of the API with no row in docs/security.md's access matrix: {missing}"
    stale = sorted(f"{m} {p}" for m, p in rows - operations)
    assert not stale, f"rows of the access matrix for routes the API does not have: {stale}"


async def _send(
    client: httpx.AsyncClient, method: str, url: str, token: str | None, body: dict[str, Any] | None
) -> tuple[int, str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if url.endswith(f"{API}/auth/token"):
        answer = await client.post(url, data={"username": "office", "password": OFFICE_PASSWORD}, headers=headers)
    elif method == "POST" and url.endswith("/documents"):
        answer = await client.post(url, files=document_file(), headers=headers)
    elif method == "POST" and url.endswith(f"{API}/imports"):
        answer = await client.post(url, files=register_file(), headers=headers)
    elif url.endswith(f"{API}/stream"):
        async with client.stream("GET", url, headers=headers) as streamed:
            return streamed.status_code, streamed.headers.get("content-type", ""), None
    else:
        answer = await client.request(method, url, json=body, headers=headers)
    content_type = answer.headers.get("content-type", "")
    return answer.status_code, content_type, answer.json() if "json" in content_type else None


@pytest.mark.parametrize("caller", read_matrix().callers)
async def test_every_route_answers_each_caller_as_the_matrix_says(
    platform: Platform, gateway: httpx.AsyncClient, stage: Stage, caller: str
) -> None:
    matrix = read_matrix()
    if caller in matrix.pending:
        pytest.skip(f"the {caller!r} column is marked pending in docs/security.md: {matrix.pending[caller]}")
    if caller == "disabled account" and stage.disabled_token is None:
        stage.disabled_token = await _disabled_account_token(stage)
    token_of = _callers(stage)[caller]
    failures, outcomes = [], Counter[str]()
    for row in matrix.rows:
        targets = [("gateway", row.cells[caller].gateway)]
        if row.service != "gateway":
            targets.append((row.service, row.cells[caller].service))
        for where, expected in targets:
            values = await _parameters(stage, row.case)
            path = _fill(row.path, values)
            # a service serves the public path without the /api/v1 prefix the gateway adds
            url = platform.gateway + path if where == "gateway" else platform.url(where) + path[len(API) :]
            body = _body(row.method, row.template, stage.world, values)
            status, content_type, answer = await _send(gateway, row.method, url, token_of(values), body)
            if row.template == f"{API}/districts/rebuild" and status == 202 and isinstance(answer, dict):
                stage.rebuild = str(answer["id"])
            outcomes[f"{where}:{status}"] += 1
            if status != expected:
                failures.append(f"{row} via {where}: {status}, expected {expected}")
            elif status >= 400 and not content_type.startswith("application/problem+json"):
                failures.append(f"{row} via {where}: {status} as {content_type!r}, not problem+json")
    assert not failures, f"{len(failures)} cells of the matrix not met for {caller!r}:\n" + "\n".join(failures)
    print(f"\n[access matrix] {caller}: {sum(outcomes.values())} requests, {dict(sorted(outcomes.items()))}")
