"""Request and response bodies of the registration routes (shapes in docs/api.md)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag

from gateway.accounts.schemas import Username
from gateway.mail import MailOutcome
from gateway.registrations.domain import (
    Conflicts,
    ProposedKind,
    Registration,
    RegistrationState,
    ShopProposal,
)
from shared.i18n import Said
from shared.roles import Role

REGISTRATION_ID_PATTERN = r"^[0-9a-f]{32}$"
SHOP_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _an_address(value: str) -> str:
    # checked here rather than as a pattern, so the refusal reads as words and not as the expression
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError(
            Said("non è un indirizzo e-mail (nome@dominio.it)", "is not an e-mail address (name@example.org)")
        )
    return value


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, max_length=254),
    AfterValidator(_an_address),
    # the pattern the check applies, not "format: email" (a stricter rule than the one enforced)
    Field(json_schema_extra={"pattern": EMAIL_PATTERN}),
]
ShopId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SHOP_ID_PATTERN)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coordinates(Body):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class ShopProposalIn(Body):
    """A shop the platform does not have yet: created in the shops service when the office approves."""

    name: Line
    address: Line
    kind: ProposedKind = Field(description="shop or kiosk; historic status comes with recognition")
    trade: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    location: Coordinates

    def proposal(self) -> ShopProposal:
        return ShopProposal(self.name, self.address, self.kind, self.trade, self.location.lon, self.location.lat)


def _shop_form(value: Any) -> str:
    return "proposal" if isinstance(value, dict | ShopProposalIn) else "id"


# An id or a proposal, told apart by the value's form: a refusal names only the form that was sent
# (`body.shop.id`, `body.shop.proposal.name`), never the other one it could not be.
ShopChoice = Annotated[
    Annotated[ShopId, Tag("id")] | Annotated[ShopProposalIn, Tag("proposal")], Discriminator(_shop_form)
]


class RegistrationCreate(Body):
    role: Literal["shopkeeper", "trader"]
    username: Username = Field(description="3-64 characters: lower-case letters, digits, '.', '_' or '-'")
    email: Email = Field(description="Where the activation link is mailed")
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
    shop: ShopChoice | None = Field(
        default=None, description="The id of an existing shop, or a proposal; required for a shopkeeper"
    )
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class RegistrationAccepted(BaseModel):
    id: str = Field(description="The registration's id; the same answer whether or not the username is free")


class ShopProposalPublic(BaseModel):
    name: str
    address: str
    kind: ProposedKind
    trade: str
    location: Coordinates


class RegistrationPublic(BaseModel):
    id: str
    role: Role
    username: str
    email: str
    full_name: str
    message: str
    shop_id: str | None = Field(description="The existing shop named by the registrant")
    shop: ShopProposalPublic | None = Field(description="The shop proposed by the registrant")
    proposed_shop_id: str | None = Field(description="The id the proposed shop gets on approval")
    state: RegistrationState
    conflicts: list[Conflicts] = Field(description="What the office should know: username_taken, duplicate_pending")
    submitted_at: datetime
    address: str | None = Field(description="The client address the registration came from")
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None = Field(description="Why it was rejected")
    scope: str | None = Field(description="The shop id the account was given, once approved")

    @classmethod
    def of(cls, registration: Registration) -> RegistrationPublic:
        proposal = registration.proposal
        return cls(
            id=registration.id,
            role=registration.role,
            username=registration.username,
            email=registration.email,
            full_name=registration.full_name,
            message=registration.message,
            shop_id=registration.shop_id,
            shop=None
            if proposal is None
            else ShopProposalPublic(
                name=proposal.name,
                address=proposal.address,
                kind=proposal.kind,
                trade=proposal.trade,
                location=Coordinates(lon=proposal.lon, lat=proposal.lat),
            ),
            proposed_shop_id=registration.proposed_shop_id,
            state=registration.state,
            conflicts=list(registration.conflicts),
            submitted_at=registration.submitted_at,
            address=registration.address,
            decided_at=registration.decided_at,
            decided_by=registration.decided_by,
            reason=registration.reason,
            scope=registration.scope,
        )


class ApprovalOut(BaseModel):
    id: str
    username: str
    role: Role
    scope: str | None
    activation_url: str = Field(description="One-time link (token in its `token` query parameter) to set the password")
    expires_at: datetime
    mail: MailOutcome = Field(description="sent, failed (hand the link over) or not_configured (no SMTP_URL)")


class RejectionIn(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class RejectionOut(RegistrationPublic):
    mail: MailOutcome = Field(description="Whether the reason was mailed to the registrant")
