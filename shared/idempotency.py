"""The stored answers to requests sent with an ``Idempotency-Key`` (see ``shared.web.idempotency``).

One document per key and scope (who called, the method and the route): the request's fingerprint,
whether it is still running (and until when its lease holds) or answered, and the answer itself.
The answer is written in the transaction that commits what the request created, so a creation
without its stored answer cannot exist. Documents expire 24 hours after the first attempt (a TTL
index; one found past its time before the server removes it counts as gone).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import Binary
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.events import utcnow
from shared.mongo import Document, IndexSpec, Session

IDEMPOTENCY = "idempotency_keys"
RETENTION = timedelta(hours=24)
RUNNING, ANSWERED = "running", "answered"


def scope_id(subject: str | None, method: str, route: str, key: str) -> str:
    """The stored id of a key: the same key of another caller, method or route is another key.

    An anonymous caller (``subject`` None) is scoped by the key alone; keys are meant to be random.
    """
    scope = json.dumps([subject, method.upper(), route, key], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(scope.encode()).hexdigest()


def fingerprint(path: str, query: bytes, content_type: str, body_sha256: bytes) -> str:
    """What makes a retry the same request: the target (path and query), the body's media type and
    the body itself (its SHA-256 digest, taken as it was received)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    digest = hashlib.sha256()
    for part in (path.encode(), query, media_type.encode(), body_sha256):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as it is stored and replayed: status, headers (as sent) and body."""

    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes


# what a claim finds
@dataclass(frozen=True)
class Claimed:
    """The key is this request's to run (first seen, or its earlier attempt died without answering)."""


@dataclass(frozen=True)
class Answered:
    answer: Answer


@dataclass(frozen=True)
class Reused:
    """The key was used with another request (another fingerprint)."""


@dataclass(frozen=True)
class Running:
    """An earlier attempt with this key is still running; its lease ends in ``retry_after_s``."""

    retry_after_s: float


Claim = Claimed | Answered | Reused | Running


class IdempotencyStore:
    indexes: IndexSpec = {
        IDEMPOTENCY: [
            IndexModel([("created_at", ASCENDING)], name="expiry", expireAfterSeconds=int(RETENTION.total_seconds())),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document], lease: timedelta, clock: Callable[[], datetime] = utcnow) -> None:
        self.keys = db[IDEMPOTENCY]
        self.lease = lease
        self.clock = clock

    async def claim(self, key_id: str, print_: str, owner: str) -> Claim:
        """Take the key for a run, or say what an earlier request with it left."""
        for _ in range(3):
            now = self.clock()
            running = {"state": RUNNING, "owner": owner, "lease_until": now + self.lease}
            try:
                await self.keys.insert_one({"_id": key_id, "fingerprint": print_, "created_at": now, **running})
                return Claimed()
            except DuplicateKeyError:
                found = await self.keys.find_one({"_id": key_id})
            if found is None:
                continue  # expired meanwhile
            if found["created_at"] + RETENTION <= now:
                await self.keys.delete_one({"_id": key_id, "created_at": found["created_at"]})
                continue
            if found["fingerprint"] != print_:
                return Reused()
            if found["state"] == ANSWERED:
                return Answered(_answer_of(found))
            if found["lease_until"] > now:
                return Running((found["lease_until"] - now).total_seconds())
            # the earlier attempt died without answering (nothing it wrote was committed): run again
            taken = await self.keys.update_one(
                {"_id": key_id, "state": RUNNING, "owner": found["owner"]}, {"$set": running}
            )
            if taken.modified_count == 1:
                return Claimed()
        return Running(1.0)

    async def answer(self, key_id: str, owner: str, answer: Answer, session: Session) -> bool:
        """Store the answer of the run ``owner`` holds, in the caller's transaction; False when the run
        is no longer its own (its lease ended and a retry took the key over)."""
        stored: dict[str, Any] = {
            "state": ANSWERED,
            "status": answer.status,
            "headers": [list(pair) for pair in answer.headers],
            "body": Binary(answer.body),
            "answered_at": self.clock(),
        }
        result = await self.keys.update_one(
            {"_id": key_id, "state": RUNNING, "owner": owner},
            {"$set": stored, "$unset": {"lease_until": ""}},
            session=session,
        )
        return result.matched_count == 1

    async def release(self, key_id: str, owner: str) -> None:
        """Give the key back after a run that created nothing (an error answer): it may be used again."""
        await self.keys.delete_one({"_id": key_id, "state": RUNNING, "owner": owner})


def _answer_of(doc: Document) -> Answer:
    return Answer(doc["status"], [(name, value) for name, value in doc["headers"]], bytes(doc["body"]))
