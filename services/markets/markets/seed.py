"""Demo data: Milan's 21 covered municipal markets, each with a plausible set of stalls.

The market facts (names, addresses, municipio, neighbourhood, approximate coordinates) are as
published by the City; the stalls, holders and statuses are invented but deterministic, so every
run plans the same market. The seed only creates what is missing and only advances stalls it
created and nobody has touched since: running it again changes nothing, and it never overwrites
what operators or the office did in between.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from devkit.client import ApiClient
from markets.concessions.domain import concession_end
from markets.settings import MARKET_ZONE as ROME
from markets.stalls.domain import FOOD_SERVICE_SHARE, StallCategory, StallStatus
from shared.events import utcnow

# a market's name as the open-data import names it (gateway/imports/importers/markets.py), so that
# importing the official register afterwards finds the seeded markets unchanged
MARKET_PREFIX = "Mercato Comunale Coperto"


def market_name(mcc: str) -> str:
    return mcc if mcc.lower().startswith("mercato") else f"{MARKET_PREFIX} {mcc}"


@dataclass(frozen=True)
class MarketFact:
    id: str
    mcc: str
    address: str
    cap: str
    municipio: int
    id_nil: int
    nil: str
    lon: float
    lat: float
    active: bool = True
    boxes: int | None = None
    notes: str = ""


MARKETS: tuple[MarketFact, ...] = (
    MarketFact("wagner", "Wagner", "Piazza Riccardo Wagner", "20145", 7, 68, "PAGANO", 9.158, 45.468, boxes=31,
               notes="Relaunched by the 2018 call: 20-year concessions, food service within 1/5 of the surface"),
    MarketFact("lagosta", "Lagosta", "Piazzale Lagosta", "20159", 9, 11, "ISOLA", 9.1891, 45.4893),
    MarketFact("darsena-xxiv-maggio", "Darsena XXIV Maggio", "Piazza XXIV Maggio", "20123", 1, 6,
               "PORTA TICINESE - CONCA DEL NAVIGLIO", 9.1792, 45.4528),
    MarketFact("rombon", "Rombon", "Via Rombon 34", "20134", 3, 18, "CIMIANO - ROTTOLE - Q.RE FELTRE", 9.2382, 45.4956),
    MarketFact("viale-monza", "Viale Monza", "Viale Monza 54", "20127", 2, 20, "LORETO - CASORETTO - NOLO",
               9.2196, 45.4967),
    MarketFact("gallaratese", "Gallaratese", "Via Chiarelli", "20151", 8, 65,
               "Q.RE GALLARATESE - Q.RE SAN LEONARDO - LAMPUGNANO", 9.112, 45.498, boxes=12),
    MarketFact("morsenchio", "Morsenchio", "Via Morsenchio", "20138", 4, 31, "MONLUE' - PONTE LAMBRO", 9.26, 45.451,
               boxes=20, notes="Relaunched by the 2018 call"),
    MarketFact("ferrara", "Ferrara", "Piazzale Ferrara", "20139", 4, 35, "LODI - CORVETTO", 9.222, 45.439,
               active=False, notes="Corvetto: social-space pilot, closed in 2025"),
    MarketFact("santa-maria-del-suffragio", "Santa Maria del Suffragio", "Piazza Santa Maria del Suffragio", "20129",
               4, 26, "XXII MARZO", 9.2133, 45.4618, notes="Regeneration pilot"),
    MarketFact("lorenteggio", "Lorenteggio", "Via Lorenteggio", "20146", 6, 49, "GIAMBELLINO", 9.137, 45.45,
               notes="Regeneration pilot"),
    MarketFact("prealpi", "Prealpi", "Piazza Prealpi", "20155", 8, 71, "VILLAPIZZONE - CAGNOLA - BOLDINASCO",
               9.153, 45.4972),
    MarketFact("gratosoglio", "Gratosoglio", "Via Saponaro", "20142", 5, 41,
               "GRATOSOGLIO - Q.RE MISSAGLIA - Q.RE TERRAZZE", 9.172, 45.4095),
    MarketFact("montegani", "Montegani", "Via Montegani", "20141", 5, 43, "TIBALDI", 9.184, 45.438),
    MarketFact("giambellino", "Giambellino", "Via Giambellino", "20146", 6, 49, "GIAMBELLINO", 9.146, 45.449),
    MarketFact("ponte-lambro", "Ponte Lambro", "Via Ucelli di Nemi", "20138", 4, 31, "MONLUE' - PONTE LAMBRO",
               9.266, 45.441),
    MarketFact("barona", "Barona", "Via Ettore Ponti", "20143", 6, 45, "MONCUCCO - SAN CRISTOFORO", 9.155, 45.439),
    MarketFact("san-paolino", "San Paolino", "Via San Paolino", "20142", 6, 46, "BARONA", 9.156, 45.43),
    MarketFact("alex-visconti", "Alex Visconti", "Via Alex Visconti", "20151", 8, 60, "STADIO - IPPODROMI",
               9.125, 45.481),
    MarketFact("selinunte", "Selinunte", "Piazzale Selinunte", "20148", 7, 57, "SAN SIRO", 9.143, 45.4718,
               active=False, notes="Former market building"),
    MarketFact("fiori-cimitero-maggiore", "Fiori Cimitero Maggiore", "Piazzale Cimitero Maggiore", "20151", 8, 71,
               "VILLAPIZZONE - CAGNOLA - BOLDINASCO", 9.145, 45.499, notes="Flower market"),
    MarketFact("fiori-lambrate", "Fiori Lambrate", "Piazza Caduti del Lavoro", "20134", 3, 18,
               "CIMIANO - ROTTOLE - Q.RE FELTRE", 9.245, 45.489, notes="Flower market"),
)  # fmt: skip

MORNINGS = [{"day": d, "opens": "08:00", "closes": "14:00"} for d in range(5)]
AFTERNOONS = [{"day": d, "opens": "16:00", "closes": "19:30"} for d in range(1, 5)]
SATURDAY = [{"day": 5, "opens": "08:00", "closes": "19:30"}]
OPENING_HOURS = MORNINGS + AFTERNOONS + SATURDAY

TRADES: dict[StallCategory, tuple[str, ...]] = {
    StallCategory.FOOD: (
        "Frutta e verdura", "Macelleria", "Pescheria", "Formaggi e salumi", "Panetteria", "Pasta fresca",
        "Gastronomia", "Drogheria",
    ),
    StallCategory.NON_FOOD: ("Casalinghi", "Merceria", "Fiori e piante", "Detersivi", "Calzature", "Erboristeria"),
    StallCategory.FOOD_SERVICE: ("Bistrot", "Caffetteria", "Cucina di mercato", "Enoteca", "Pizza al taglio"),
    StallCategory.SERVICES: ("Punto ritiro pacchi", "Riparazioni", "Sartoria", "Ciclofficina", "Lavanderia"),
    StallCategory.SOCIAL_CULTURAL: ("Spazio associazioni", "Biblioteca di quartiere", "Laboratorio ragazzi"),
    StallCategory.CRAFT: ("Bottega ceramica", "Legatoria", "Pelletteria", "Orafo"),
}  # fmt: skip
FLOWER_TRADES = ("Fiori recisi", "Piante e vivaio", "Composizioni floreali")
SURNAMES = (
    "Rossi", "Brambilla", "Colombo", "Ferrari", "Bianchi", "Fumagalli", "Galli", "Sala", "Riva", "Villa", "Bassi",
    "Cattaneo", "Mariani", "Pozzi", "Longoni", "Mauri", "Crippa", "Ronchi", "Monti", "Conti", "Ghezzi", "Redaelli",
)  # fmt: skip
CATEGORY_WEIGHTS = {
    StallCategory.FOOD: 45,
    StallCategory.NON_FOOD: 18,
    StallCategory.FOOD_SERVICE: 12,
    StallCategory.SERVICES: 10,
    StallCategory.SOCIAL_CULTURAL: 7,
    StallCategory.CRAFT: 8,
}
AREAS_M2 = (9.0, 12.0, 14.5, 16.0, 18.0, 20.0, 24.0, 30.0)
CONCURRENT_MARKETS = 4


@dataclass(frozen=True)
class StallPlan:
    number: str
    area_m2: float
    category: StallCategory
    holder: str | None
    start: date | None
    status: StallStatus


def plan_stalls(fact: MarketFact) -> list[StallPlan]:
    """The demo stalls of one market: the same every time (seeded by the market id)."""
    rng = random.Random(fact.id)  # noqa: S311 - reproducible demo data, not security
    flowers = fact.id.startswith("fiori-")
    count = fact.boxes or rng.randint(8, 30)
    areas = [rng.choice(AREAS_M2) for _ in range(count)]
    cap = sum(areas) * float(FOOD_SERVICE_SHARE)
    occupied = 0.0 if not fact.active else rng.uniform(0.45, 0.9)
    food_service = 0.0
    plans: list[StallPlan] = []
    for index, area in enumerate(areas, start=1):
        category = StallCategory.NON_FOOD if flowers else _category(rng)
        if category is StallCategory.FOOD_SERVICE and food_service + area > cap:
            category = StallCategory.FOOD
        if rng.random() >= occupied:
            status = StallStatus.MAINTENANCE if rng.random() < 0.1 else StallStatus.VACANT
            plans.append(StallPlan(str(index), area, category, None, None, status))
            continue
        if category is StallCategory.FOOD_SERVICE:
            food_service += area
        trades = FLOWER_TRADES if flowers else TRADES[category]
        holder = f"{rng.choice(trades)} {rng.choice(SURNAMES)}"
        start = date(2019, 1, 1) + timedelta(days=rng.randrange(0, 6 * 365))
        roll = rng.random()
        status = StallStatus.OPEN if roll < 0.7 else StallStatus.CLOSED if roll < 0.92 else StallStatus.MAINTENANCE
        plans.append(StallPlan(str(index), area, category, holder, start, status))
    return plans


def _category(rng: random.Random) -> StallCategory:
    categories = list(CATEGORY_WEIGHTS)
    return rng.choices(categories, weights=[CATEGORY_WEIGHTS[c] for c in categories])[0]


def market_body(fact: MarketFact) -> dict[str, Any]:
    return {
        "id": fact.id,
        "name": market_name(fact.mcc),
        "address": fact.address,
        "cap": fact.cap,
        "municipio": fact.municipio,
        "id_nil": fact.id_nil,
        "nil": fact.nil,
        "location": {"lon": fact.lon, "lat": fact.lat},
        "active": fact.active,
        "opening_hours": OPENING_HOURS if fact.active else [],
        "notes": fact.notes,
        "boxes": fact.boxes,
    }


async def seed_market(api: ApiClient, fact: MarketFact) -> None:
    await api.post("/markets", json=market_body(fact), ok=(409,))
    listed = await api.get(f"/markets/{fact.id}/stalls", params={"limit": 500})
    stalls = {s["number"]: s for s in listed["items"]}
    plans = plan_stalls(fact)
    for plan in plans:
        if plan.number not in stalls:
            body = {"number": plan.number, "area_m2": plan.area_m2, "category": plan.category.value}
            created = await api.post(f"/markets/{fact.id}/stalls", json=body, ok=(409,))
            stalls[plan.number] = created if created["_status"] == 201 else await _stall(api, fact.id, plan.number)
    for plan in plans:
        await _advance(api, fact.id, plan, stalls[plan.number])


async def _stall(api: ApiClient, market_id: str, number: str) -> dict[str, Any]:
    return await api.get(f"/markets/{market_id}/stalls/{number}")


async def _advance(api: ApiClient, market_id: str, plan: StallPlan, stall: dict[str, Any]) -> None:
    """Bring a stall the seed created to its planned state, unless someone else changed it."""
    path = f"/markets/{market_id}/stalls/{plan.number}"
    if plan.holder and plan.start and stall["version"] == 1 and stall["holder"] is None:
        assignment = {
            "holder": plan.holder,
            "category": plan.category.value,
            "start": plan.start.isoformat(),
            "end": concession_end(plan.start, 20).isoformat(),
        }
        stall = await api.post(f"{path}/assignment", json=assignment, headers={"If-Match": '"1"'}, ok=(409, 412))
    planned_version = 2 if plan.holder else 1
    untouched = stall.get("version") == planned_version and stall.get("holder") == plan.holder
    if untouched and stall.get("status") != plan.status.value:
        change = {"status": plan.status.value, "note": "demo data", "version": planned_version}
        await api.put(f"{path}/status", json=change, ok=(409, 412))


async def seed_call(api: ApiClient) -> None:
    """An open call at Wagner for some of its vacant stalls, unless Wagner already has calls."""
    if (await api.get("/markets/wagner/calls", params={"limit": 1}))["total"]:
        return
    vacant = await api.get("/markets/wagner/stalls", params={"status": "vacant", "limit": 3})
    numbers = [s["number"] for s in vacant["items"]]
    if not numbers:
        return
    await api.post(
        "/markets/wagner/calls",
        json={
            "title": "Bando Mercato Wagner: box liberi",
            "description": "Concessioni ventennali dei box liberi; somministrazione entro 1/5 della superficie.",
            "stalls": numbers,
            "criteria": [
                {"name": "offer", "weight": 40, "max_points": 100, "description": "offerta economica, in punti"},
                {"name": "social_value", "weight": 30, "max_points": 10, "description": "valore per il quartiere"},
                {"name": "innovation", "weight": 20, "max_points": 10, "description": "innovazione della proposta"},
                {"name": "experience", "weight": 10, "max_points": 40, "description": "anni di esperienza nel settore"},
            ],
            "deadline": (utcnow() + timedelta(days=30)).isoformat(),
        },
    )


async def seed_space(api: ApiClient) -> None:
    """The Piazza Ferrara pilot: the market's social space with two public events in the coming
    days, unless Ferrara already has spaces."""
    if (await api.get("/markets/ferrara/spaces"))["items"]:
        return
    await api.post(
        "/markets/ferrara/spaces", json={"code": "piazza", "name": "Spazio sociale di Piazza Ferrara", "capacity": 60}
    )
    today = utcnow().astimezone(ROME).date()
    events = (
        (3, time(17), time(19), "Laboratorio di riparazioni", "Associazione Corvetto in rete"),
        (6, time(10), time(12, 30), "Colazione di quartiere con i commercianti", "Comitato inquilini Ferrara"),
    )
    for days, starts, ends, title, organiser in events:
        day = today + timedelta(days=days)
        body = {
            "title": title,
            "organiser": organiser,
            "starts_at": datetime.combine(day, starts, ROME).isoformat(),
            "ends_at": datetime.combine(day, ends, ROME).isoformat(),
            "public": True,
        }
        await api.post("/markets/ferrara/spaces/piazza/bookings", json=body, ok=(409,))


async def seed(api: ApiClient) -> None:
    """Register the 21 markets and their stalls through the gateway (idempotent)."""
    gate = asyncio.Semaphore(CONCURRENT_MARKETS)

    async def one(fact: MarketFact) -> None:
        async with gate:
            await seed_market(api, fact)

    await asyncio.gather(*(one(fact) for fact in MARKETS))
    await seed_call(api)
    await seed_space(api)
