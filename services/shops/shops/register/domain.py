"""Shops, kiosks and historic shops: what the register states, their lifecycle and historic recognition.

Pure rules, no I/O. Every change returns a new value with ``version`` + 1; a change that changes
nothing returns ``None`` so callers neither write nor emit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum, unique
from typing import Any

from shared.categories import Category, category_of_trade
from shared.errors import Conflict, InvalidInput
from shared.i18n import Said
from shared.places import Location
from shops.clock import local_time

HISTORIC_MIN_YEARS = 50
CLOCK_SKEW = timedelta(minutes=5)


@unique
class ShopKind(StrEnum):
    """A historic shop (recognised), an Edicola 2.0 kiosk, or any other neighbourhood shop."""

    HISTORIC = "historic"
    KIOSK = "kiosk"
    SHOP = "shop"


@unique
class ShopStatus(StrEnum):
    """Open for business, or closed (for good or for now)."""

    ACTIVE = "active"
    CLOSED = "closed"


@unique
class RecognitionState(StrEnum):
    """Where an application for historic recognition stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Source:
    """Where an imported shop comes from: the dataset and the record's official identifier."""

    dataset: str
    record: str


@dataclass(frozen=True, kw_only=True)
class Registry:
    """What the register states about a shop: everything except its lifecycle."""

    kind: ShopKind
    name: str
    location: Location
    trade: str = ""
    address: str = ""
    cap: str | None = None
    municipio: int | None = None
    nil: str | None = None
    id_nil: int | None = None
    year_founded: int | None = None
    source: Source | None = None
    # one code of the published list (shared.categories): the office's when it set one, otherwise
    # derived from the trade text (and derived again when the trade changes)
    category: Category | None = None
    category_by_office: bool = False

    def __post_init__(self) -> None:
        if self.category is None:
            object.__setattr__(self, "category", category_of_trade(self.trade, kiosk=self.kind is ShopKind.KIOSK))
        elif not isinstance(self.category, Category):
            object.__setattr__(self, "category", Category(self.category))


REGISTRY_FIELDS = tuple(f.name for f in fields(Registry))


@dataclass(frozen=True, kw_only=True)
class DocumentReference:
    """A document supporting an application: one the shop uploaded (``document_id``), or cited by a
    reference to where the office can find it."""

    title: str
    kind: str
    reference: str = ""
    issued_on: date | None = None
    document_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Application:
    founding_year: int
    trade: str
    continuity: str
    documents: tuple[DocumentReference, ...] = ()

    @property
    def document_ids(self) -> tuple[str, ...]:
        """The uploaded documents it cites."""
        return tuple(d.document_id for d in self.documents if d.document_id)


@dataclass(frozen=True, kw_only=True)
class Recognition:
    state: RecognitionState
    application: Application
    applied_at: datetime
    applied_by: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ShopCard:
    """What a search result shows of the shop behind an offer; offers keep a copy of it."""

    shop_id: str
    name: str
    kind: ShopKind
    address: str
    lon: float
    lat: float
    active: bool


@dataclass(frozen=True)
class ShopQuery:
    """Criteria of a register search (typed values only)."""

    kind: ShopKind | None = None
    status: ShopStatus | None = None
    nil: str | None = None
    municipio: int | None = None
    q: str | None = None
    recognition: RecognitionState | None = None


NOT_NULLABLE = ("name", "trade", "address", "location")


def check_changes(changes: Mapping[str, Any]) -> None:
    """A change omits a field to keep it; these fields cannot be emptied with null (the others can)."""
    for name in NOT_NULLABLE:
        if name in changes and changes[name] is None:
            raise InvalidInput(
                f"body.{name}",
                Said(it="non può essere null; omettilo per lasciarlo com'è", en="cannot be null; omit it to keep it"),
            )


def in_utc(moment: datetime, field: str) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidInput(field, Said(it="fuori dal calendario", en="outside the calendar")) from exc


def _founded_check(year: int | None, now: datetime, field: str) -> None:
    """A founding year is not after the current year (Milan); the schemas leave that to this rule."""
    if year is not None and year > local_time(now).year:
        raise InvalidInput(
            field,
            Said(
                it=f"L'anno di fondazione non può essere nel futuro ({year})",
                en=f"The founding year cannot be in the future ({year})",
            ),
        )


@dataclass(frozen=True, kw_only=True)
class Shop(Registry):
    id: str
    status: ShopStatus
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime | None = None
    status_note: str | None = None
    historic_recognised_at: datetime | None = None
    recognition: Recognition | None = None
    version: int = 1

    @classmethod
    def register(cls, shop_id: str, registry: Registry, status: ShopStatus, now: datetime) -> Shop:
        _founded_check(registry.year_founded, now, "body.year_founded")
        stated = {name: getattr(registry, name) for name in REGISTRY_FIELDS}
        return cls(id=shop_id, status=status, created_at=now, updated_at=now, **stated)

    def registry(self) -> Registry:
        return Registry(**{name: getattr(self, name) for name in REGISTRY_FIELDS})

    def card(self) -> ShopCard:
        return ShopCard(
            self.id, self.name, self.kind, self.address, self.location.lon, self.location.lat, self.is_active
        )

    @property
    def is_active(self) -> bool:
        return self.status is ShopStatus.ACTIVE

    @property
    def recognition_state(self) -> RecognitionState | None:
        """Where the latest application for historic recognition stands, if there is one."""
        return self.recognition.state if self.recognition else None

    def _next(self, now: datetime, **changes: Any) -> Shop:
        return replace(self, **changes, version=self.version + 1, updated_at=now)

    def revise(self, registry: Registry, now: datetime) -> Shop | None:
        if registry.trade != self.trade and not registry.category_by_office and registry.category == self.category:
            registry = replace(registry, category=None)  # derived from the new trade
        if registry == self.registry():
            return None
        _founded_check(registry.year_founded, now, "body.year_founded")
        return self._next(now, **{name: getattr(registry, name) for name in REGISTRY_FIELDS})

    def change_status(self, to: ShopStatus, at: datetime, note: str | None, now: datetime) -> Shop | None:
        """Close or reopen; ``at`` is when it happened (not in the future, not before the last change)."""
        at = in_utc(at, "body.at")
        if to is self.status:
            return None
        if at > now + CLOCK_SKEW:
            raise InvalidInput(
                "body.at",
                Said(
                    it="un cambio di stato non può avere una data futura",
                    en="a status change cannot be dated in the future",
                ),
            )
        if self.status_changed_at and at < self.status_changed_at:
            last = self.status_changed_at.isoformat()
            raise InvalidInput(
                "body.at",
                Said(
                    it=f"lo stato del negozio è cambiato l'ultima volta il {last}; indica una data successiva",
                    en=f"the shop's status last changed at {last}; date it later",
                ),
            )
        return self._next(now, status=to, status_changed_at=at, status_note=note)

    def apply_for_recognition(
        self, application: Application, actor: str, now: datetime, shop_documents: frozenset[str] = frozenset()
    ) -> Shop:
        """A pending application; every uploaded document it cites must be one of ``shop_documents``."""
        for position, document in enumerate(application.documents):
            if not document.reference and not document.document_id:
                raise InvalidInput(
                    f"body.documents.{position}",
                    Said(
                        it="indica il document_id di un documento caricato o un riferimento",
                        en="give the document_id of an uploaded document or a reference",
                    ),
                )
            if document.document_id and document.document_id not in shop_documents:
                raise InvalidInput(
                    f"body.documents.{position}.document_id",
                    Said(
                        it=f"{document.document_id!r} non è un documento caricato da questo negozio",
                        en=f"{document.document_id!r} is not a document this shop uploaded",
                    ),
                )
        if self.kind is ShopKind.HISTORIC:
            raise Conflict(
                Said(it=f"{self.name!r} è già una bottega storica", en=f"{self.name!r} is already a historic shop")
            )
        if not self.is_active:
            raise Conflict(
                Said(
                    it="un negozio chiuso non può chiedere il riconoscimento di bottega storica",
                    en="a closed shop cannot apply for historic recognition",
                )
            )
        if self.recognition and self.recognition.state is RecognitionState.PENDING:
            raise Conflict(
                Said(
                    it="una domanda attende già la decisione dell'ufficio",
                    en="an application is already waiting for the office's decision",
                )
            )
        _founded_check(application.founding_year, now, "body.founding_year")
        recognition = Recognition(
            state=RecognitionState.PENDING, application=application, applied_at=now, applied_by=actor
        )
        return self._next(now, recognition=recognition)

    def decide_recognition(self, approve: bool, reason: str | None, actor: str, now: datetime) -> Shop:
        """Approve (only if founded at least 50 years ago, by the Milan calendar) or reject with a reason."""
        pending = self.recognition
        if pending is None or pending.state is not RecognitionState.PENDING:
            raise Conflict(
                Said(it="non c'è una domanda in attesa da decidere", en="there is no pending application to decide")
            )
        founded = pending.application.founding_year
        if not approve:
            if not reason:
                raise InvalidInput(
                    "body.reason",
                    Said(
                        it="un rifiuto deve dare un motivo a chi ha fatto domanda",
                        en="a rejection must give the applicant a reason",
                    ),
                )
            rejected = replace(
                pending, state=RecognitionState.REJECTED, decided_at=now, decided_by=actor, reason=reason
            )
            return self._next(now, recognition=rejected)
        years = local_time(now).year - founded
        if years < HISTORIC_MIN_YEARS:
            eligible = founded + HISTORIC_MIN_YEARS
            raise Conflict(
                Said(
                    it=f"impossibile approvare: fondato nel {founded}, {years} anni fa; una bottega storica deve avere "
                    f"almeno {HISTORIC_MIN_YEARS} anni nella stessa attività (può essere approvata dal {eligible})",
                    en=f"cannot approve: founded in {founded}, {years} years ago; a historic shop needs at least "
                    f"{HISTORIC_MIN_YEARS} years in the same trade (eligible from {eligible})",
                )
            )
        approved = replace(pending, state=RecognitionState.APPROVED, decided_at=now, decided_by=actor, reason=reason)
        return self._next(
            now, kind=ShopKind.HISTORIC, year_founded=founded, historic_recognised_at=now, recognition=approved
        )


def slug(text: str, max_length: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")


def generated_shop_id(name: str, suffix: str) -> str:
    """``<slug of the name>-<suffix>``, for shops that have no official identifier."""
    base = slug(name)
    return f"{base}-{suffix}" if base else f"shop-{suffix}"
