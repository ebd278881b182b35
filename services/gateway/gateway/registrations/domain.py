"""Requests for an account, made by the people themselves, and the office's decision: pure rules.

A registration is accepted whatever the username or e-mail: an answer that differed for a taken
username or for a request already pending would tell a stranger which accounts exist. What the
office needs to decide is recorded with it instead (``conflicts``), and approving a registration
whose username is taken is refused (409): the office rejects it with a reason.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.errors import Conflict, InvalidInput
from shared.i18n import Said
from shared.roles import Role

SELF_SERVICE_ROLES = frozenset({Role.SHOPKEEPER, Role.TRADER})
ROME = ZoneInfo("Europe/Rome")


class RegistrationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Conflicts(StrEnum):
    """What the office should know before deciding (never told to the registrant)."""

    USERNAME_TAKEN = "username_taken"  # an account has this username
    DUPLICATE_PENDING = "duplicate_pending"  # another pending registration has this username or e-mail


class ProposedKind(StrEnum):
    """A registrant proposes an ordinary shop or a kiosk; historic status comes only with recognition."""

    SHOP = "shop"
    KIOSK = "kiosk"


@dataclass(frozen=True)
class ShopProposal:
    name: str
    address: str
    kind: ProposedKind
    trade: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Registration:
    id: str
    role: Role
    username: str
    email: str
    full_name: str
    message: str
    shop_id: str | None  # an existing shop
    proposal: ShopProposal | None  # or a new one, created on approval
    submitted_at: datetime
    address: str | None = None  # the client address it came from (for the office, against abuse)
    conflicts: tuple[Conflicts, ...] = ()
    state: RegistrationState = RegistrationState.PENDING
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None
    scope: str | None = None  # the shop id the account was scoped to, once approved

    @classmethod
    def submit(
        cls,
        id: str,
        role: Role,
        username: str,
        email: str,
        full_name: str,
        message: str,
        shop_id: str | None,
        proposal: ShopProposal | None,
        at: datetime,
        address: str | None,
    ) -> Registration:
        if role not in SELF_SERVICE_ROLES:
            raise InvalidInput(
                "body.role",
                Said(
                    "si può chiedere un account da esercente (shopkeeper) o da ambulante (trader)",
                    "an account can be requested as a shopkeeper or as a trader",
                ),
            )
        if role is Role.SHOPKEEPER and shop_id is None and proposal is None:
            raise InvalidInput(
                "body.shop",
                Said(
                    "un esercente indica il proprio negozio: il suo codice o una proposta",
                    "a shopkeeper names their shop: its id or a proposal",
                ),
            )
        if role is Role.TRADER and (shop_id is not None or proposal is not None):
            raise InvalidInput(
                "body.shop",
                Said("un ambulante non ha un negozio: ometti shop", "a trader has no shop: leave shop out"),
            )
        return cls(
            id=id,
            role=role,
            username=username,
            email=email,
            full_name=full_name,
            message=message,
            shop_id=shop_id,
            proposal=proposal,
            submitted_at=at,
            address=address,
        )

    @property
    def proposed_shop_id(self) -> str | None:
        """The id the proposed shop gets: the same for every attempt to approve this registration,
        so that creating it again after a failure finds the one already made."""
        if self.proposal is None:
            return None
        return f"{slug(self.proposal.name)[:40]}-{self.id[:8]}"

    @property
    def account_scope(self) -> str | None:
        return self.shop_id or self.proposed_shop_id

    def _still_pending(self) -> None:
        if self.state is not RegistrationState.PENDING:
            done = "approvata" if self.state is RegistrationState.APPROVED else "respinta"
            raise Conflict(
                Said(
                    f"la richiesta {self.id} è già stata {done}",
                    f"the registration {self.id} has already been {self.state.value}",
                )
            )

    def approve(self, by: str, at: datetime) -> Registration:
        self._still_pending()
        return replace(self, state=RegistrationState.APPROVED, decided_at=at, decided_by=by, scope=self.account_scope)

    def reject(self, by: str, at: datetime, reason: str) -> Registration:
        self._still_pending()
        return replace(self, state=RegistrationState.REJECTED, decided_at=at, decided_by=by, reason=reason)


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and single hyphens (``Drogheria Borsieri`` -> ``drogheria-borsieri``)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "negozio"


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str


def activation_mail(registration: Registration, url: str, expires_at: datetime) -> MailText:
    """The activation mail: Italian first, then English; the link and when it stops working."""
    until = expires_at.astimezone(ROME).strftime("%d/%m/%Y %H:%M")
    name = registration.full_name
    text = f"""Gentile {name},

la tua richiesta di account sulla piattaforma del commercio del Comune di Milano è stata accolta.
Nome utente: {registration.username}

Per scegliere la password e attivare l'account apri questo link (vale una sola volta, fino al {until}, ora di Roma):

{url}

Se il link è scaduto, scrivi all'ufficio commercio per riceverne uno nuovo.

-- English --

Dear {name},

your request for an account on the City of Milan's commerce platform has been approved.
Username: {registration.username}

To choose your password and activate the account, open this link (it works once, until {until}, Rome time):

{url}

If the link has expired, write to the commerce office for a new one.
"""
    return MailText("Attiva il tuo account / Activate your account — Comune di Milano", text)


def rejection_mail(registration: Registration) -> MailText:
    text = f"""Gentile {registration.full_name},

la tua richiesta di account sulla piattaforma del commercio del Comune di Milano non è stata accolta.
Motivo: {registration.reason}

-- English --

Dear {registration.full_name},

your request for an account on the City of Milan's commerce platform was not approved.
Reason: {registration.reason}
"""
    return MailText("La tua richiesta di account / Your account request — Comune di Milano", text)
