"""Demo data: the ten Urban Commerce Districts (DUC), the NIL neighbourhoods they are made of, and
the programme's pilots as interventions.

The shapes are approximate on purpose: each NIL below is its official polygon simplified to a dozen
vertices (about 70 m tolerance, 4 decimals), with its official name, population and area; a district
is the union of its NILs, as in the sample perimeter file. Importing the official files later
(``make import``) replaces these shapes with the exact ones. Running the seed again creates only
what is missing, so it never overwrites imported geography.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import shapely
from shapely.geometry import Polygon, mapping

from devkit.client import ApiClient


class Nil(NamedTuple):
    id: int
    name: str
    population: int
    area_km2: float
    outline: tuple[tuple[float, float], ...]


NILS = (
    Nil(1, "DUOMO", 16706, 2.3416, (
        (9.1948, 45.472), (9.1881, 45.4656), (9.1862, 45.4652), (9.1812, 45.469), (9.1816, 45.4708),
        (9.1796, 45.4726), (9.1754, 45.4698), (9.1778, 45.468), (9.1733, 45.4617), (9.1843, 45.4566),
        (9.1874, 45.456), (9.1933, 45.4575), (9.2005, 45.4658), (9.1995, 45.4685),
    )),
    Nil(2, "BRERA", 18156, 1.6373, (
        (9.1916, 45.4691), (9.1984, 45.4777), (9.1922, 45.4803), (9.1818, 45.482), (9.1818, 45.4739),
        (9.1796, 45.4726), (9.1816, 45.4708), (9.1812, 45.469), (9.1862, 45.4652),
    )),
    Nil(6, "PORTA TICINESE - CONCA DEL NAVIGLIO", 19932, 1.255, (
        (9.1874, 45.456), (9.1778, 45.4588), (9.1735, 45.4558), (9.1789, 45.4524), (9.1759, 45.4429),
        (9.1813, 45.4429), (9.1877, 45.4447), (9.1858, 45.4495),
    )),
    Nil(9, "PORTA GARIBALDI - PORTA NUOVA", 5864, 0.7856, (
        (9.1975, 45.481), (9.1993, 45.4863), (9.1958, 45.4882), (9.1935, 45.4853), (9.1907, 45.4845),
        (9.1824, 45.488), (9.1815, 45.4825), (9.1944, 45.4795),
    )),
    Nil(11, "ISOLA", 22690, 1.3229, (
        (9.2012, 45.4896), (9.1928, 45.4926), (9.1945, 45.4955), (9.1867, 45.4977), (9.1841, 45.4974),
        (9.1811, 45.4904), (9.1824, 45.488), (9.1907, 45.4845), (9.1935, 45.4853), (9.1958, 45.4882),
        (9.1981, 45.487),
    )),
    Nil(14, "NIGUARDA - CA' GRANDA - PRATO CENTENARO - Q.RE FULVIO TESTI", 35852, 4.2468, (
        (9.2134, 45.5295), (9.212, 45.5299), (9.212, 45.5283), (9.2061, 45.5279), (9.2057, 45.5293),
        (9.2015, 45.5286), (9.2001, 45.5297), (9.2022, 45.5258), (9.1898, 45.5263), (9.1886, 45.5255),
        (9.1891, 45.5239), (9.1839, 45.5227), (9.1859, 45.5175), (9.1827, 45.5164), (9.1847, 45.513),
        (9.1825, 45.5124), (9.1818, 45.5084), (9.1847, 45.5074), (9.1849, 45.5055), (9.1989, 45.5034),
    )),
    Nil(21, "BUENOS AIRES - PORTA VENEZIA - PORTA MONFORTE", 62093, 2.8774, (
        (9.2236, 45.486), (9.216, 45.4861), (9.2124, 45.4879), (9.2016, 45.4773), (9.2009, 45.4765),
        (9.2063, 45.474), (9.207, 45.4679), (9.2238, 45.4681),
    )),
    Nil(44, "PORTA TICINESE - CONCHETTA", 16962, 1.4839, (
        (9.1735, 45.4558), (9.1717, 45.4556), (9.1687, 45.4576), (9.1696, 45.4541), (9.1675, 45.451),
        (9.155, 45.4481), (9.1626, 45.4438), (9.1759, 45.4429), (9.1789, 45.4524),
    )),
    Nil(49, "GIAMBELLINO", 30905, 1.9683, (
        (9.1552, 45.4528), (9.1527, 45.4552), (9.1155, 45.4432), (9.1188, 45.4391), (9.155, 45.4481),
        (9.1562, 45.4488), (9.1542, 45.4525),
    )),
    Nil(50, "PORTA GENOVA", 15119, 0.9967, (
        (9.1687, 45.4576), (9.1658, 45.4595), (9.1527, 45.4552), (9.1544, 45.4543), (9.1552, 45.4528),
        (9.1542, 45.4525), (9.1562, 45.4488), (9.1675, 45.451), (9.1696, 45.4541),
    )),
    Nil(53, "LORENTEGGIO", 14230, 2.6443, (
        (9.1358, 45.4497), (9.1297, 45.4595), (9.0987, 45.4516), (9.1001, 45.4486), (9.1035, 45.447),
        (9.1066, 45.4504), (9.1104, 45.4506), (9.1135, 45.4433),
    )),
    Nil(69, "SARPI", 30791, 1.8118, (
        (9.1823, 45.4868), (9.1778, 45.4897), (9.173, 45.4906), (9.1747, 45.4874), (9.1564, 45.4879),
        (9.1717, 45.4762), (9.1812, 45.4776),
    )),
    # Two NILs in no district, where the programme's pilots stand (Santa Maria del Suffragio in
    # XXII Marzo, Piazza Ferrara in Lodi - Corvetto): a market outside every district is measured on
    # its NIL. Official population and area; the outline simplified, as the others'.
    Nil(26, "XXII MARZO", 31493, 1.6374, (
        (9.2239, 45.4607), (9.2238, 45.4681), (9.207, 45.4679), (9.2077, 45.4605), (9.2049, 45.4564),
        (9.2144, 45.4526), (9.2174, 45.4606),
    )),
    Nil(35, "LODI - CORVETTO", 36370, 3.639, (
        (9.2348, 45.4459), (9.2358, 45.4487), (9.2116, 45.4449), (9.2178, 45.4357), (9.2389, 45.4201),
        (9.2404, 45.4285),
    )),
)  # fmt: skip

DISTRICTS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("brera", "DUC Brera", (2,)),
    ("galleria", "DUC Galleria", (1,)),
    ("isola", "DUC Isola", (11,)),
    ("sarpi", "DUC Sarpi", (69,)),
    ("ticinese", "DUC Ticinese", (6,)),
    ("navigli", "DUC Navigli", (44, 50)),
    ("giambellino", "DUC Giambellino", (49, 53)),
    ("buenos-aires", "DUC Buenos Aires", (21,)),
    ("xxv-aprile", "DUC XXV Aprile", (9,)),
    ("pratocentenaro", "DUC Pratocentenaro", (14,)),
)


# The programme's pilots, on the markets of the markets service's demo data. The start dates are
# illustrative (the demo has no history before them); the office records the real ones.
PILOTS: tuple[dict[str, Any], ...] = (
    {
        "code": "mercato-santa-maria-del-suffragio",
        "title": "Rigenerazione del mercato di Santa Maria del Suffragio",
        "kind": "market_regeneration",
        "target": {"type": "market", "id": "santa-maria-del-suffragio"},
        "started_at": "2026-09-01T00:00:00+00:00",
    },
    {
        "code": "mercato-lorenteggio",
        "title": "Rigenerazione del mercato Lorenteggio",
        "kind": "market_regeneration",
        "target": {"type": "market", "id": "lorenteggio"},
        "started_at": "2026-09-01T00:00:00+00:00",
    },
    {
        "code": "spazio-sociale-piazza-ferrara",
        "title": "Spazio sociale di Piazza Ferrara",
        "kind": "new_services",
        "target": {"type": "market", "id": "ferrara"},
        "started_at": "2026-10-01T00:00:00+00:00",
    },
)


def _polygon(nil: Nil) -> Polygon:
    return Polygon(nil.outline)


def nil_body(nil: Nil) -> dict[str, Any]:
    perimeter = mapping(_polygon(nil))
    return {
        "id": nil.id,
        "name": nil.name,
        "population": nil.population,
        "area_km2": nil.area_km2,
        "perimeter": {"type": "Polygon", "coordinates": perimeter["coordinates"]},
    }


def district_body(code: str, name: str, nil_ids: tuple[int, ...]) -> dict[str, Any]:
    by_id = {n.id: n for n in NILS}
    area = shapely.union_all([_polygon(by_id[i]) for i in nil_ids])
    perimeter = mapping(area)
    return {
        "code": code,
        "name": name,
        "perimeter": {"type": perimeter["type"], "coordinates": perimeter["coordinates"]},
    }


async def seed(api: ApiClient) -> None:
    for nil in NILS:
        if (await api.get(f"/nils/{nil.id}", ok=(404,)))["_status"] == 404:
            await api.post("/nils", json=nil_body(nil))
    for code, name, nil_ids in DISTRICTS:
        if (await api.get(f"/districts/{code}", ok=(404,)))["_status"] == 404:
            await api.post("/districts", json=district_body(code, name, nil_ids))
    for pilot in PILOTS:
        if (await api.get(f"/interventions/{pilot['code']}", ok=(404,)))["_status"] == 404:
            await api.post("/interventions", json=pilot)
