"""The gateway's account data in its own MongoDB database: the only module that knows the collections.

``users`` (accounts), ``login_failures`` (per username and address), ``refresh_tokens`` and
``one_time_tokens`` (stored as SHA-256 hashes, never as issued), ``revoked`` (token versions and
token ids refused until every token they cover has expired) and ``audit``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gateway.accounts.domain import Account, AuditEntry, OneTimePurpose, RefreshToken, new_version
from shared import mongo
from shared.events import utcnow
from shared.i18n import Said
from shared.mongo import IndexSpec, find_page, from_document, overwrite_if, to_document
from shared.roles import Role

FAILURE_MEMORY = timedelta(days=1)
EXPIRED_LINK_MEMORY = timedelta(days=1)


def _ttl(field: str, name: str, after_s: int = 0) -> IndexModel:
    return IndexModel([(field, ASCENDING)], name=name, expireAfterSeconds=after_s)


def _account(doc: dict[str, Any]) -> Account:
    return Account(
        username=doc["_id"],
        role=Role(doc["role"]),
        scope=doc.get("scope"),
        password_hash=doc.get("password_hash"),
        created_at=doc["created_at"],
        token_version=doc.get("token_version") or "",
        disabled=bool(doc.get("disabled", False)),
        last_login_at=doc.get("last_login_at"),
    )


def _audit_entry(doc: dict[str, Any]) -> AuditEntry:
    return from_document(AuditEntry, doc)


class AccountStore:
    indexes: IndexSpec = {
        "users": [IndexModel([("created_at", DESCENDING)], name="users_by_creation")],
        "login_failures": [
            _ttl("updated_at", "failures_ttl", int(FAILURE_MEMORY.total_seconds())),
            IndexModel([("username", ASCENDING)], name="failures_by_username"),
        ],
        "refresh_tokens": [
            _ttl("expires_at", "refresh_ttl"),
            IndexModel([("family", ASCENDING)], name="refresh_by_family"),
            IndexModel([("username", ASCENDING)], name="refresh_by_username"),
        ],
        # an expired link is kept a day, so that using it is answered "expired" rather than "unknown"
        "one_time_tokens": [
            _ttl("expires_at", "one_time_ttl", int(EXPIRED_LINK_MEMORY.total_seconds())),
            IndexModel([("username", ASCENDING)], name="ott_user"),
        ],
        "revoked": [_ttl("expires_at", "revoked_ttl")],
        "audit": [
            IndexModel([("at", DESCENDING), ("_id", DESCENDING)], name="audit_by_time"),
            IndexModel([("actor", ASCENDING), ("at", DESCENDING)], name="audit_by_actor"),
        ],
    }

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.users = db["users"]
        self.failures = db["login_failures"]
        self.refresh = db["refresh_tokens"]
        self.one_time = db["one_time_tokens"]
        self.revoked = db["revoked"]
        self.audit = db["audit"]

    # accounts

    async def get(self, username: str) -> Account | None:
        doc = await self.users.find_one({"_id": username})
        if doc is not None and not doc.get("token_version"):
            # an account stored before token versions existed gets its own on first read
            await self.users.update_one(
                {"_id": username, "token_version": {"$in": [None, ""]}}, {"$set": {"token_version": new_version()}}
            )
            doc = await self.users.find_one({"_id": username})
        return _account(doc) if doc else None

    async def create(self, account: Account, session: AsyncClientSession | None = None) -> Account:
        taken = Said(
            f"il nome utente {account.username!r} è già in uso",
            f"the username {account.username!r} is already taken",
        )
        await mongo.insert_new(self.users, self._doc(account), taken, session)
        return account

    async def create_if_missing(self, account: Account) -> bool:
        doc = self._doc(account)
        del doc["_id"]
        result = await self.users.update_one({"_id": account.username}, {"$setOnInsert": doc}, upsert=True)
        return result.upserted_id is not None

    async def replace(self, before: Account, after: Account) -> bool:
        """Store ``after`` if the account is still as ``before`` (same token version); False if it changed."""
        guard = {"token_version": before.token_version}
        return await overwrite_if(self.users, self._doc(after), guard, keep={"created_at"})

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        await self.users.update_one({"_id": username}, {"$set": {"password_hash": password_hash}})

    async def record_login(self, username: str, at: datetime) -> None:
        await self.users.update_one({"_id": username}, {"$set": {"last_login_at": at}})

    async def page(self, limit: int, offset: int) -> tuple[list[Account], int]:
        order = [("created_at", ASCENDING), ("_id", ASCENDING)]
        return await find_page(self.users, {}, order, _account, limit=limit, offset=offset)

    @staticmethod
    def _doc(account: Account) -> dict[str, Any]:
        return to_document(account, key="username")

    # failed logins, per username and address

    async def failures_of(self, username: str, address: str) -> tuple[int, datetime | None]:
        doc = await self.failures.find_one({"_id": f"{username}\n{address}"})
        return (int(doc["failures"]), doc["last_failure_at"]) if doc else (0, None)

    async def record_failure(self, username: str, address: str, at: datetime) -> int:
        doc = await self.failures.find_one_and_update(
            {"_id": f"{username}\n{address}"},
            {"$inc": {"failures": 1}, "$set": {"username": username, "last_failure_at": at, "updated_at": at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None, "an upsert always returns the document"
        return int(doc["failures"])

    async def clear_failures(self, username: str, address: str | None = None) -> int:
        if address is None:
            return (await self.failures.delete_many({"username": username})).deleted_count
        return (await self.failures.delete_many({"_id": f"{username}\n{address}"})).deleted_count

    # revocation

    async def revoke(self, ids: list[str], until: datetime) -> None:
        for revoked_id in ids:
            await self.revoked.update_one(
                {"_id": revoked_id}, {"$max": {"expires_at": until}, "$setOnInsert": {"at": utcnow()}}, upsert=True
            )

    async def is_revoked(self, ids: list[str], now: datetime) -> bool:
        return await self.revoked.find_one({"_id": {"$in": ids}, "expires_at": {"$gt": now}}, {"_id": 1}) is not None

    async def revoked_ids(self, now: datetime) -> list[str]:
        return [doc["_id"] async for doc in self.revoked.find({"expires_at": {"$gt": now}}, {"_id": 1})]

    # refresh tokens

    async def add_refresh(self, token: RefreshToken) -> None:
        await self.refresh.insert_one(to_document(token, "token_hash"))

    async def use_refresh(self, token_hash: str, now: datetime) -> tuple[RefreshToken | None, bool]:
        """Mark a live refresh token used; (the token, whether this call was the one that used it)."""
        doc = await self.refresh.find_one_and_update(
            {"_id": token_hash, "expires_at": {"$gt": now}, "used": False},
            {"$set": {"used": True, "used_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            return from_document(RefreshToken, doc, "token_hash"), True
        doc = await self.refresh.find_one({"_id": token_hash, "expires_at": {"$gt": now}})
        return (from_document(RefreshToken, doc, "token_hash"), False) if doc else (None, False)

    async def find_refresh(self, token_hash: str) -> RefreshToken | None:
        doc = await self.refresh.find_one({"_id": token_hash})
        return from_document(RefreshToken, doc, "token_hash") if doc else None

    async def drop_family(self, family: str) -> int:
        return (await self.refresh.delete_many({"family": family})).deleted_count

    async def drop_refresh_of(self, username: str) -> int:
        return (await self.refresh.delete_many({"username": username})).deleted_count

    # one-time links (password reset, activation)

    async def add_one_time(
        self,
        token_hash: str,
        username: str,
        purpose: OneTimePurpose,
        expires_at: datetime,
        session: AsyncClientSession | None = None,
    ) -> None:
        await self.one_time.delete_many({"username": username, "purpose": purpose.value}, session=session)
        await self.one_time.insert_one(
            {"_id": token_hash, "username": username, "purpose": purpose.value, "expires_at": expires_at},
            session=session,
        )

    async def peek_one_time(self, token_hash: str) -> tuple[str, datetime] | None:
        """The username and expiry of a one-time token not used yet (expired ones stay until the TTL
        index removes them, so that the answer can say the link expired)."""
        doc = await self.one_time.find_one({"_id": token_hash})
        return (str(doc["username"]), doc["expires_at"]) if doc else None

    async def take_one_time(self, token_hash: str, now: datetime) -> tuple[str, OneTimePurpose] | None:
        doc = await self.one_time.find_one_and_delete({"_id": token_hash})
        if doc is None or doc["expires_at"] <= now:
            return None
        return doc["username"], OneTimePurpose(doc["purpose"])

    async def drop_one_time_of(self, username: str) -> None:
        await self.one_time.delete_many({"username": username})

    # audit

    async def record(self, entry: AuditEntry, session: AsyncClientSession | None = None) -> None:
        await self.audit.insert_one(to_document(replace(entry, id=entry.id or uuid.uuid4().hex)), session=session)

    def _audit_query(self, actor: str | None, since: datetime | None, until: datetime | None) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if actor:
            query["actor"] = actor
        if since or until:
            query["at"] = {**({"$gte": since} if since else {}), **({"$lt": until} if until else {})}
        return query

    async def audit_page(
        self, actor: str | None, since: datetime | None, until: datetime | None, limit: int, offset: int
    ) -> tuple[list[AuditEntry], int]:
        query = self._audit_query(actor, since, until)
        order = [("at", DESCENDING), ("_id", DESCENDING)]
        return await find_page(self.audit, query, order, _audit_entry, limit=limit, offset=offset)
