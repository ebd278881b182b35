"""Demo data: historic shops, Edicola 2.0 kiosks and neighbourhood shops with services and hours.

Names are invented; streets, postcodes, municipi and NILs are real, coordinates approximate.
Ids are stable (``bs-demo-…`` historic, ``ed-demo-…`` kiosks) so other seeds can refer to them:
the gateway's seed gives shopkeeper accounts to ``ed-demo-isola`` and ``bs-demo-drogheria-borsieri``.
Running it again changes nothing: shops are PUT (204 when already so), services added only if missing.
"""

from __future__ import annotations

from typing import Any

from devkit.client import ApiClient

WEEKDAYS = (0, 1, 2, 3, 4)
MON_SAT = (0, 1, 2, 3, 4, 5)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


def hours(days: tuple[int, ...], *spans: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"day": day, "opens": opens, "closes": closes} for day in days for opens, closes in spans]


KIOSK_DAY = hours(MON_SAT, ("06:30", "13:00"), ("15:00", "19:30")) + hours((6,), ("07:00", "12:30"))


def _shop(
    shop_id: str,
    kind: str,
    name: str,
    trade: str,
    address: str,
    place: tuple[str, int, int, str],
    lon: float,
    lat: float,
    year_founded: int | None = None,
    status: str = "active",
) -> dict[str, Any]:
    cap, municipio, id_nil, nil = place
    return {
        "id": shop_id,
        "kind": kind,
        "name": name,
        "trade": trade,
        "address": address,
        "cap": cap,
        "municipio": municipio,
        "id_nil": id_nil,
        "nil": nil,
        "location": {"lon": lon, "lat": lat},
        "year_founded": year_founded,
        "status": status,
    }


BRERA = ("20121", 1, 2, "BRERA")
ISOLA = ("20159", 9, 11, "ISOLA")
SARPI = ("20154", 8, 69, "SARPI")
TICINESE = ("20123", 1, 6, "PORTA TICINESE - CONCA DEL NAVIGLIO")
CONCHETTA = ("20143", 6, 44, "PORTA TICINESE - CONCHETTA")
PORTA_GENOVA = ("20144", 6, 50, "PORTA GENOVA")
VENEZIA = ("20124", 3, 21, "BUENOS AIRES - PORTA VENEZIA - PORTA MONFORTE")
DUOMO = ("20123", 1, 1, "DUOMO")
NOLO = ("20127", 2, 20, "LORETO - CASORETTO - NOLO")
CITTA_STUDI = ("20131", 3, 22, "CITTA' STUDI")

SHOPS: list[dict[str, Any]] = [
    _shop("bs-demo-cartoleria-fiori-chiari", "historic", "Cartoleria Fiori Chiari",
          "Cartoleria e articoli per belle arti", "Via Fiori Chiari 12", BRERA, 9.1866, 45.4717, 1921),
    _shop("bs-demo-orologeria-solferino", "historic", "Orologeria Solferino", "Orologeria e riparazioni",
          "Corso Garibaldi 48", BRERA, 9.1842, 45.4752, 1948),
    _shop("bs-demo-drogheria-borsieri", "historic", "Drogheria Borsieri", "Drogheria e coloniali",
          "Via Pietro Borsieri 14", ISOLA, 9.1893, 45.4887, 1936),
    _shop("bs-demo-pasticceria-bramante", "historic", "Pasticceria Bramante", "Pasticceria",
          "Via Bramante 9", SARPI, 9.1771, 45.4789, 1952),
    _shop("bs-demo-ferramenta-canonica", "historic", "Ferramenta Canonica", "Ferramenta e casalinghi",
          "Via Luigi Canonica 20", SARPI, 9.1722, 45.4806, 1911),
    _shop("bs-demo-cappelleria-san-lorenzo", "historic", "Cappelleria San Lorenzo", "Cappelli e berretti",
          "Corso di Porta Ticinese 58", TICINESE, 9.1816, 45.4571, 1932),
    _shop("bs-demo-libreria-alzaia", "historic", "Libreria dell'Alzaia", "Libreria antiquaria",
          "Alzaia Naviglio Grande 38", CONCHETTA, 9.1727, 45.4512, 1964),
    _shop("bs-demo-erboristeria-lazzaretto", "historic", "Erboristeria Lazzaretto", "Erboristeria",
          "Via Lazzaretto 7", VENEZIA, 9.2040, 45.4775, 1955),
    _shop("bs-demo-guanteria-torino", "historic", "Guanteria Torino", "Guanti e pelletteria",
          "Via Torino 40", DUOMO, 9.1853, 45.4616, 1899),
    _shop("bs-demo-merceria-vigevano", "historic", "Merceria Vigevano", "Merceria",
          "Via Vigevano 21", PORTA_GENOVA, 9.1733, 45.4535, 1927, status="closed"),
    _shop("ed-demo-isola", "kiosk", "Edicola Segrino", "Edicola", "Piazzale Segrino", ISOLA, 9.1903, 45.4899),
    _shop("ed-demo-la-foppa", "kiosk", "Edicola La Foppa", "Edicola", "Largo La Foppa", BRERA, 9.1838, 45.4776),
    _shop("ed-demo-sarpi", "kiosk", "Edicola Paolo Sarpi", "Edicola", "Via Paolo Sarpi 30", SARPI, 9.1748, 45.4797),
    _shop("ed-demo-colonne", "kiosk", "Edicola Colonne di San Lorenzo", "Edicola", "Corso di Porta Ticinese 39",
          TICINESE, 9.1812, 45.4582),
    _shop("ed-demo-porta-genova", "kiosk", "Edicola Porta Genova", "Edicola", "Piazzale Stazione Porta Genova",
          PORTA_GENOVA, 9.1706, 45.4538),
    _shop("ed-demo-lima", "kiosk", "Edicola Piazza Lima", "Edicola", "Piazza Lima", VENEZIA, 9.2101, 45.4801),
    _shop("ed-demo-cordusio", "kiosk", "Edicola Cordusio", "Edicola", "Piazza Cordusio", DUOMO, 9.1865, 45.4653),
    _shop("ed-demo-via-padova", "kiosk", "Edicola Via Padova", "Edicola", "Via Padova 20", NOLO, 9.2178, 45.4879),
    _shop("ed-demo-piola", "kiosk", "Edicola Piola", "Edicola", "Piazza Piola", CITTA_STUDI, 9.2262, 45.4801),
    _shop("ciclofficina-isola", "shop", "Ciclofficina Isola", "Riparazione biciclette", "Via Pastrengo 14",
          ISOLA, 9.1879, 45.4867),
    _shop("copisteria-canonica", "shop", "Copisteria Canonica", "Copisteria e servizi", "Via Luigi Canonica 41",
          SARPI, 9.1713, 45.4818),
]  # fmt: skip

OFFERS: dict[str, list[tuple[str, list[dict[str, Any]], str]]] = {
    "ed-demo-isola": [
        ("ritiro_pacchi", KIOSK_DAY, "Pacchi fino a 10 kg"),
        ("certificati_anagrafici", hours(WEEKDAYS, ("09:00", "12:30")), "Con tessera sanitaria"),
        ("biglietti_trasporto", KIOSK_DAY, ""),
        ("portineria_quartiere", hours(MON_SAT, ("07:00", "19:30")), "Chiavi e consegne per i vicini"),
    ],
    "ed-demo-la-foppa": [
        ("biglietti_trasporto", hours(EVERY_DAY, ("06:00", "21:00")), ""),
        ("ricarica_telefonica", hours(EVERY_DAY, ("06:00", "21:00")), ""),
    ],
    "ed-demo-sarpi": [
        ("ritiro_pacchi", KIOSK_DAY, ""),
        ("pagamento_bollette", hours(MON_SAT, ("08:00", "13:00")), ""),
        ("info_turistiche", hours(EVERY_DAY, ("09:00", "19:00")), "Italiano, English, 中文"),
    ],
    "ed-demo-colonne": [
        ("info_turistiche", hours(EVERY_DAY, ("08:00", "20:00")), ""),
        ("biglietti_trasporto", hours(MON_SAT, ("07:00", "20:00")) + hours((4, 5), ("22:00", "02:00")), ""),
    ],
    "ed-demo-porta-genova": [
        ("biglietti_trasporto", hours((0, 1, 2, 3, 6), ("06:00", "23:00")) + hours((4, 5), ("06:00", "02:00")), ""),
        ("ritiro_pacchi", KIOSK_DAY, ""),
    ],
    "ed-demo-lima": [
        ("ritiro_pacchi", KIOSK_DAY, ""),
        ("certificati_anagrafici", hours((0, 2, 4), ("09:00", "13:00")), ""),
        ("ricarica_telefonica", KIOSK_DAY, ""),
    ],
    "ed-demo-cordusio": [
        ("info_turistiche", hours(EVERY_DAY, ("07:00", "21:00")), "Mappe e orari dei musei"),
        ("biglietti_trasporto", hours(EVERY_DAY, ("06:00", "00:00")), ""),
    ],
    "ed-demo-via-padova": [
        ("ritiro_pacchi", KIOSK_DAY, ""),
        ("pagamento_bollette", hours(MON_SAT, ("08:00", "12:30"), ("15:30", "19:00")), ""),
        ("portineria_quartiere", hours(MON_SAT, ("07:00", "19:30")), ""),
    ],
    "ed-demo-piola": [
        ("certificati_anagrafici", hours(WEEKDAYS, ("08:30", "12:30")), ""),
        ("biglietti_trasporto", KIOSK_DAY, ""),
        ("bike_sharing_info", hours(WEEKDAYS, ("08:30", "18:30")), ""),
    ],
    "bs-demo-drogheria-borsieri": [("ritiro_pacchi", hours(MON_SAT, ("09:00", "13:00"), ("15:30", "19:30")), "")],
    "bs-demo-erboristeria-lazzaretto": [("ritiro_pacchi", hours((1, 2, 3, 4, 5), ("10:00", "19:00")), "")],
    "ciclofficina-isola": [("bike_sharing_info", hours((1, 2, 3, 4, 5), ("10:00", "19:00")), "")],
    "copisteria-canonica": [
        ("ritiro_pacchi", hours(WEEKDAYS, ("08:30", "19:00")), ""),
        ("pagamento_bollette", hours(WEEKDAYS, ("08:30", "19:00")), ""),
    ],
}


async def seed(api: ApiClient) -> None:
    for shop in SHOPS:
        body = {key: value for key, value in shop.items() if key != "id"}
        await api.put(f"/shops/{shop['id']}", json=body)
    for shop_id, offers in OFFERS.items():
        offered = {item["service"] for item in (await api.get(f"/shops/{shop_id}/services"))["items"]}
        for service, weekly, note in offers:
            if service not in offered:
                await api.post(f"/shops/{shop_id}/services", json={"service": service, "hours": weekly, "note": note})
