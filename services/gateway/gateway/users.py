"""Accounts and failed-login counters in the gateway's own MongoDB database.

The only module that knows the ``users`` and ``login_failures`` collections. Failed logins are
counted per submitted username whether or not the account exists, so the lock-out itself
cannot reveal which usernames are real.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.errors import Conflict
from shared.events import utcnow
from shared.identity import Role
from shared.mongo import IndexSpec

FAILURE_MEMORY = timedelta(days=1)


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    scope: str | None
    password_hash: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        return {"username": self.username, "role": self.role.value, "scope": self.scope, "created_at": self.created_at}


def _user(doc: dict[str, Any]) -> User:
    return User(
        username=doc["_id"],
        role=Role(doc["role"]),
        scope=doc.get("scope"),
        password_hash=doc["password_hash"],
        created_at=doc["created_at"],
    )


class UserStore:
    indexes: IndexSpec = {
        "users": [IndexModel([("created_at", DESCENDING)], name="users_by_creation")],
        "login_failures": [
            IndexModel(
                [("updated_at", ASCENDING)], name="failures_ttl", expireAfterSeconds=int(FAILURE_MEMORY.total_seconds())
            )
        ],
    }

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.users = db["users"]
        self.failures = db["login_failures"]

    async def get(self, username: str) -> User | None:
        doc = await self.users.find_one({"_id": username})
        return _user(doc) if doc else None

    async def create(self, username: str, role: Role, scope: str | None, password_hash: str) -> User:
        doc = {
            "_id": username,
            "role": role.value,
            "scope": scope,
            "password_hash": password_hash,
            "created_at": utcnow(),
        }
        try:
            await self.users.insert_one(doc)
        except DuplicateKeyError as exc:
            raise Conflict(f"the username {username!r} is already taken") from exc
        return _user(doc)

    async def create_if_missing(self, username: str, role: Role, scope: str | None, password_hash: str) -> bool:
        doc = {"role": role.value, "scope": scope, "password_hash": password_hash, "created_at": utcnow()}
        result = await self.users.update_one({"_id": username}, {"$setOnInsert": doc}, upsert=True)
        return result.upserted_id is not None

    async def set_password_hash(self, username: str, password_hash: str) -> None:
        await self.users.update_one({"_id": username}, {"$set": {"password_hash": password_hash}})

    async def page(self, limit: int, offset: int) -> tuple[list[User], int]:
        cursor = self.users.find({}).sort([("created_at", ASCENDING), ("_id", ASCENDING)]).skip(offset).limit(limit)
        items = [_user(doc) async for doc in cursor]
        return items, await self.users.count_documents({})

    async def locked_until(self, username: str) -> datetime | None:
        doc = await self.failures.find_one({"_id": username}, {"locked_until": 1})
        until: datetime | None = doc.get("locked_until") if doc else None
        return until if until and until > utcnow() else None

    async def record_failure(self, username: str, max_failures: int, lockout: timedelta) -> datetime | None:
        """Count a failed login; after ``max_failures`` in a row lock the name and return until when."""
        now = utcnow()
        doc = await self.failures.find_one_and_update(
            {"_id": username},
            {"$inc": {"failures": 1}, "$set": {"updated_at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None, "an upsert always returns the document"
        if doc["failures"] < max_failures:
            return None
        until = now + lockout
        await self.failures.update_one({"_id": username}, {"$set": {"failures": 0, "locked_until": until}})
        return until

    async def clear_failures(self, username: str) -> None:
        await self.failures.delete_one({"_id": username})
