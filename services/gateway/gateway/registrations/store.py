"""Registrations in the gateway's database: the only module that knows the ``registrations`` collection."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gateway.registrations.domain import (
    Conflicts,
    ProposedKind,
    Registration,
    RegistrationState,
    ShopProposal,
)
from shared import mongo
from shared.i18n import Said
from shared.mongo import IndexSpec, find_page, overwrite_if
from shared.roles import Role


def _doc(registration: Registration) -> dict[str, Any]:
    proposal = registration.proposal
    return {
        "_id": registration.id,
        "role": registration.role.value,
        "username": registration.username,
        "email": registration.email,
        "full_name": registration.full_name,
        "message": registration.message,
        "shop_id": registration.shop_id,
        "proposal": None
        if proposal is None
        else {
            "name": proposal.name,
            "address": proposal.address,
            "kind": proposal.kind.value,
            "trade": proposal.trade,
            "location": {"lon": proposal.lon, "lat": proposal.lat},
        },
        "submitted_at": registration.submitted_at,
        "address": registration.address,
        "conflicts": [c.value for c in registration.conflicts],
        "state": registration.state.value,
        "decided_at": registration.decided_at,
        "decided_by": registration.decided_by,
        "reason": registration.reason,
        "scope": registration.scope,
    }


def _registration(doc: dict[str, Any]) -> Registration:
    proposed = doc.get("proposal")
    proposal = (
        ShopProposal(
            name=proposed["name"],
            address=proposed["address"],
            kind=ProposedKind(proposed["kind"]),
            trade=proposed["trade"],
            lon=proposed["location"]["lon"],
            lat=proposed["location"]["lat"],
        )
        if proposed
        else None
    )
    return Registration(
        id=doc["_id"],
        role=Role(doc["role"]),
        username=doc["username"],
        email=doc["email"],
        full_name=doc["full_name"],
        message=doc.get("message", ""),
        shop_id=doc.get("shop_id"),
        proposal=proposal,
        submitted_at=doc["submitted_at"],
        address=doc.get("address"),
        conflicts=tuple(Conflicts(c) for c in doc.get("conflicts", [])),
        state=RegistrationState(doc["state"]),
        decided_at=doc.get("decided_at"),
        decided_by=doc.get("decided_by"),
        reason=doc.get("reason"),
        scope=doc.get("scope"),
    )


class RegistrationStore:
    indexes: IndexSpec = {
        "registrations": [
            IndexModel([("state", ASCENDING), ("submitted_at", DESCENDING)], name="registrations_by_state"),
            IndexModel([("username", ASCENDING), ("state", ASCENDING)], name="registrations_by_username"),
            IndexModel([("email", ASCENDING), ("state", ASCENDING)], name="registrations_by_email"),
        ]
    }

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.registrations = db["registrations"]

    async def add(self, registration: Registration, session: AsyncClientSession | None = None) -> None:
        await self.registrations.insert_one(_doc(registration), session=session)

    async def get(self, registration_id: str, session: AsyncClientSession | None = None) -> Registration:
        missing = Said(f"non c'è la richiesta {registration_id}", f"there is no registration {registration_id}")
        doc = await mongo.find_existing(self.registrations, {"_id": registration_id}, missing, session)
        return _registration(doc)

    async def pending_like(self, username: str, email: str) -> bool:
        """Whether a pending registration asks for this username or gives this e-mail."""
        query = {"state": RegistrationState.PENDING.value, "$or": [{"username": username}, {"email": email}]}
        return await self.registrations.find_one(query, {"_id": 1}) is not None

    async def decide(
        self, before: Registration, after: Registration, session: AsyncClientSession | None = None
    ) -> bool:
        """Store the decision if the registration is still as ``before`` (pending); False if it changed."""
        return await overwrite_if(self.registrations, _doc(after), {"state": before.state.value}, session=session)

    async def page(self, state: RegistrationState | None, limit: int, offset: int) -> tuple[list[Registration], int]:
        query = {"state": state.value} if state else {}
        order = [("submitted_at", DESCENDING), ("_id", DESCENDING)]
        return await find_page(self.registrations, query, order, _registration, limit=limit, offset=offset)
