"""Use cases of self-registration: submitting, listing, approving and rejecting.

Approving is done in steps that may each be retried:
1. a proposed shop is created in the shops service with ``PUT /shops/{id}`` under an id derived
   from the registration, so a second attempt after a failure finds the shop the first one made;
2. in one database transaction: the registration becomes ``approved``, the account is created
   without a password, its one-time activation token is stored, and both actions are audited —
   all of it or nothing, so a failure leaves the registration pending and approving it again works;
3. the activation link is mailed where ``SMTP_URL`` is set. The answer to the office carries the
   link in every case, so a mail that cannot be sent loses nothing: the office hands the link over.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import quote

from pymongo.asynchronous.client_session import AsyncClientSession

from gateway.accounts.domain import new_version
from gateway.accounts.service import AccountService, Actor
from gateway.accounts.store import AccountStore
from gateway.mail import Letter, Mailer, MailOutcome
from gateway.metrics import GatewayMetrics
from gateway.proxy import Proxy, UpstreamUnavailable
from gateway.ratelimit import RateLimiter
from gateway.registrations.domain import (
    Conflicts,
    Registration,
    RegistrationState,
    ShopProposal,
    activation_mail,
    rejection_mail,
)
from gateway.registrations.store import RegistrationStore
from gateway.settings import GatewaySettings
from shared.errors import Conflict, InvalidInput, Unavailable
from shared.events import utcnow
from shared.i18n import Said
from shared.mongo import Mongo
from shared.roles import Role
from shared.tokens import TokenSigner

# the gateway's own identity when it acts in a service on an approval's behalf
GATEWAY_ACTOR = "gateway"
SERVICE_TOKEN_TTL = timedelta(minutes=2)


@dataclass(frozen=True)
class Approval:
    registration: Registration
    activation_url: str
    expires_at: datetime
    mail: MailOutcome


@dataclass(frozen=True)
class Rejection:
    registration: Registration
    mail: MailOutcome


@dataclass(frozen=True)
class Submission:
    role: Role
    username: str
    email: str
    full_name: str
    message: str
    shop_id: str | None
    proposal: ShopProposal | None


@dataclass(eq=False)
class RegistrationService:
    settings: GatewaySettings
    store: RegistrationStore
    accounts: AccountService
    account_store: AccountStore
    mongo: Mongo
    mailer: Mailer
    proxy: Proxy
    signer: TokenSigner
    metrics: GatewayMetrics
    per_address: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.per_address = RateLimiter(
            self.settings.registration_rate_per_hour / 3600.0, self.settings.registration_burst
        )

    async def submit(self, submission: Submission, address: str) -> Registration:
        """Record a request for an account; the same answer whether the username is free or not."""
        if self.settings.rate_limit_enabled:
            self.per_address.admit(
                address,
                Said(
                    "troppe richieste di account dal tuo indirizzo; riprova più tardi",
                    "too many registrations from your address; try again later",
                ),
                self.metrics.rate_limited.labels("registration").inc,
            )
        registration = Registration.submit(
            id=uuid.uuid4().hex,
            role=submission.role,
            username=submission.username,
            email=submission.email,
            full_name=submission.full_name,
            message=submission.message,
            shop_id=submission.shop_id,
            proposal=submission.proposal,
            at=utcnow(),
            address=address,
        )
        if registration.shop_id is not None:
            # shops are public: saying that one does not exist tells nothing about accounts
            await self.accounts.check_scope_exists(Role.SHOPKEEPER, registration.shop_id, [], "body.shop")
        conflicts = []
        if await self.account_store.get(registration.username) is not None:
            conflicts.append(Conflicts.USERNAME_TAKEN)
        if await self.store.pending_like(registration.username, registration.email):
            conflicts.append(Conflicts.DUPLICATE_PENDING)
        registration = replace(registration, conflicts=tuple(conflicts))
        # in a transaction, so that the answer to a request sent with an Idempotency-Key commits with it
        await self.mongo.transaction(partial(self.store.add, registration))
        return registration

    async def page(self, state: RegistrationState | None, limit: int, offset: int) -> tuple[list[Registration], int]:
        return await self.store.page(state, limit, offset)

    async def approve(self, actor: Actor, registration_id: str) -> Approval:
        registration = await self.store.get(registration_id)
        registration.approve(actor.username, utcnow())  # refused now if no longer pending
        if await self.account_store.get(registration.username) is not None:
            raise Conflict(
                Said(
                    f"il nome utente {registration.username!r} è già in uso: respingi la richiesta con un motivo",
                    f"the username {registration.username!r} is taken: reject the registration with a reason",
                )
            )
        if registration.proposal is not None:
            await self._create_proposed_shop(registration)
        elif registration.shop_id is not None:
            try:
                await self.accounts.check_scope_exists(Role.SHOPKEEPER, registration.shop_id, [])
            except InvalidInput as exc:
                raise Conflict(
                    Said(
                        f"il negozio {registration.shop_id!r} non esiste più: respingi la richiesta con un motivo",
                        f"the shop {registration.shop_id!r} no longer exists: reject the registration with a reason",
                    )
                ) from exc

        async def work(session: AsyncClientSession) -> tuple[Registration, str, datetime]:
            current = await self.store.get(registration_id, session)
            approved = current.approve(actor.username, utcnow())
            if not await self.store.decide(current, approved, session):
                raise Conflict(Said("la richiesta è cambiata nel frattempo", "the registration changed meanwhile"))
            token, expires_at = await self.accounts.open_account(
                actor, approved.username, approved.role, approved.scope, session
            )
            await self.accounts.audit(
                actor,
                "registration.approve",
                f"registration:{approved.id}",
                {"state": current.state.value},
                {"state": approved.state.value, "username": approved.username, "scope": approved.scope},
                session,
            )
            return approved, token, expires_at

        approved, token, expires_at = await self.mongo.transaction(work)
        url = self.accounts.activation_url(token)
        letter = activation_mail(approved, url, expires_at)
        mail = await self.mailer.send(
            Letter(approved.email, letter.subject, letter.text), f"activation mail of registration {approved.id}"
        )
        return Approval(approved, url, expires_at, mail)

    async def reject(self, actor: Actor, registration_id: str, reason: str) -> Rejection:
        async def work(session: AsyncClientSession) -> Registration:
            current = await self.store.get(registration_id, session)
            rejected = current.reject(actor.username, utcnow(), reason)
            if not await self.store.decide(current, rejected, session):
                raise Conflict(Said("la richiesta è cambiata nel frattempo", "the registration changed meanwhile"))
            await self.accounts.audit(
                actor,
                "registration.reject",
                f"registration:{rejected.id}",
                {"state": current.state.value},
                {"state": rejected.state.value, "reason": reason},
                session,
            )
            return rejected

        rejected = await self.mongo.transaction(work)
        letter = rejection_mail(rejected)
        mail = await self.mailer.send(
            Letter(rejected.email, letter.subject, letter.text), f"rejection mail of registration {rejected.id}"
        )
        return Rejection(rejected, mail)

    def _service_headers(self) -> list[tuple[str, str]]:
        """A short-lived office token the gateway mints for itself, to act in a service."""
        token = self.signer.issue(GATEWAY_ACTOR, Role.OFFICE.value, None, SERVICE_TOKEN_TTL, version=new_version())
        return [("authorization", f"Bearer {token}"), ("content-type", "application/json")]

    async def _create_proposed_shop(self, registration: Registration) -> None:
        """``PUT /shops/{id}``: creates the shop, or finds it as a previous attempt left it (idempotent)."""
        proposal = registration.proposal
        shop_id = registration.proposed_shop_id
        assert proposal is not None and shop_id is not None
        body = {
            "kind": proposal.kind.value,
            "name": proposal.name,
            "trade": proposal.trade,
            "address": proposal.address,
            "location": {"lon": proposal.lon, "lat": proposal.lat},
        }
        try:
            answer = await self.proxy.call(
                "shops",
                "PUT",
                f"/shops/{quote(shop_id, safe='')}",
                headers=self._service_headers(),
                content=json.dumps(body).encode(),
            )
        except UpstreamUnavailable as exc:
            raise Unavailable(
                Said(
                    f"impossibile creare il negozio proposto {shop_id!r}: {exc.detail.it}",
                    f"cannot create the proposed shop {shop_id!r}: {exc.detail.en}",
                )
            ) from exc
        if answer.status_code not in (200, 201, 204):
            raise Unavailable(
                Said(
                    f"impossibile creare il negozio proposto {shop_id!r}: il servizio negozi ha risposto "
                    f"{answer.status_code} {answer.text[:300]}",
                    f"cannot create the proposed shop {shop_id!r}: the shops service answered "
                    f"{answer.status_code} {answer.text[:300]}",
                )
            )
