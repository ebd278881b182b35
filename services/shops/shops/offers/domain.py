"""What a shop or an Edicola 2.0 kiosk offers its neighbourhood (parcel pickup, certificates…) and when.

Pure rules, no I/O. The public API and the events still call an offer a "service"; inside the code
it is an offer, and its catalogue ``code`` says what is offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from shared.errors import Conflict, InvalidInput
from shared.i18n import Said
from shared.places import OpeningInterval
from shops.offers.hours import HoursError, WeeklyHours, format_hhmm, refuse_same_times
from shops.register.domain import Shop


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    label_it: str
    label_en: str


CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("certificati_anagrafici", "Certificati anagrafici", "Registry certificates"),
    CatalogueEntry("ritiro_pacchi", "Ritiro pacchi", "Parcel pickup"),
    CatalogueEntry("biglietti_trasporto", "Biglietti del trasporto pubblico", "Public transport tickets"),
    CatalogueEntry("info_turistiche", "Informazioni turistiche", "Tourist information"),
    CatalogueEntry("pagamento_bollette", "Pagamento bollette", "Bill payment"),
    CatalogueEntry("portineria_quartiere", "Portineria di quartiere", "Neighbourhood concierge"),
    CatalogueEntry("ricarica_telefonica", "Ricarica telefonica", "Mobile top-up"),
    CatalogueEntry("bike_sharing_info", "Informazioni bike sharing", "Bike-sharing information"),
)
OFFER_CODES = frozenset(entry.code for entry in CATALOGUE)


@dataclass(frozen=True, kw_only=True)
class Offer:
    """Something a shop offers (a catalogue code), with its weekly hours."""

    id: str
    shop_id: str
    code: str
    hours: tuple[OpeningInterval, ...]
    note: str = ""
    created_at: datetime
    created_by: str
    version: int = 1
    updated_at: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        offer_id: str,
        shop: Shop,
        code: str,
        hours: Iterable[OpeningInterval],
        note: str,
        actor: str,
        now: datetime,
    ) -> Offer:
        if code not in OFFER_CODES:
            raise InvalidInput("body.service", not_in_catalogue(code))
        if not shop.is_active:
            raise Conflict(
                Said(it="un negozio chiuso non può offrire servizi", en="a closed shop cannot offer services")
            )
        return cls(
            id=offer_id,
            shop_id=shop.id,
            code=code,
            hours=normalised(hours),
            note=note,
            created_at=now,
            created_by=actor,
        )

    def revise(self, hours: Iterable[OpeningInterval], note: str, now: datetime) -> Offer | None:
        """The offer with new weekly hours and note (version + 1); ``None`` when nothing changes."""
        revised = normalised(hours)
        if revised == self.hours and note == self.note:
            return None
        return replace(self, hours=revised, note=note, version=self.version + 1, updated_at=now)

    def weekly(self) -> WeeklyHours:
        return weekly_hours(self.hours)


def normalised(hours: Iterable[OpeningInterval]) -> tuple[OpeningInterval, ...]:
    """Checked hours (no overlap, no interval opening and closing at one time but the whole day, at
    least one interval), sorted and written ``HH:MM``."""
    weekly = weekly_hours(tuple(hours), entered=True)
    return tuple(
        OpeningInterval(day=i.day, opens=format_hhmm(i.opens), closes=format_hhmm(i.closes)) for i in weekly.intervals
    )


def weekly_hours(hours: tuple[OpeningInterval, ...], *, entered: bool = False) -> WeeklyHours:
    """The hours as a week (``entered``: hours given now, held to the rules for new hours)."""
    if not hours:
        raise InvalidInput(
            "body.hours", Said(it="indica almeno una fascia di apertura", en="give at least one opening interval")
        )
    try:
        weekly = WeeklyHours.of((i.day, i.opens, i.closes) for i in hours)
        if entered:
            refuse_same_times(weekly)
        return weekly
    except HoursError as exc:
        raise InvalidInput("body.hours", exc.said) from exc


def not_in_catalogue(code: str) -> Said:
    return Said(it=f"{code!r} non è nel catalogo dei servizi", en=f"{code!r} is not in the service catalogue")
