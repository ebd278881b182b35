"""Where calls, their applications and their awarded rankings are kept (MongoDB).

The only module that knows these collections and their indexes. An awarded call keeps the ranking
it was decided with (``result``), so the published ranking is always the one that was applied.
Every evaluation of the committee is its own document (``revision`` 1, 2, … per application), so
re-evaluating keeps the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from markets.calls.domain import (
    Application,
    Call,
    CallStatus,
    Evaluation,
    Ranking,
)
from shared import mongo
from shared.errors import Conflict
from shared.i18n import Said
from shared.mongo import Document, IndexSpec, Session, find_page, from_document, to_document

CALLS, APPLICATIONS, EVALUATIONS = "calls", "applications", "call_evaluations"


def _call(doc: Document) -> Call:
    return from_document(Call, doc)


def _application(doc: Document) -> Application:
    """An application (those filed when applicants declared their own scores keep them; they are ignored)."""
    return from_document(Application, doc)


def _evaluation(doc: Document) -> Evaluation:
    return from_document(Evaluation, doc, key=None)


# a ranking's entries are stored as "items"
RANKING_STORED_AS = {"entries": "items"}


def _ranking_doc(ranking: Ranking) -> Document:
    return to_document(ranking, key=None, stored_as=RANKING_STORED_AS)


def _ranking(doc: Document) -> Ranking:
    """The stored ranking (rankings stored before this layout carry more keys; they are ignored)."""
    items = [{**e, "reason": _said(e["reason"])} for e in doc["items"]]
    return from_document(Ranking, {**doc, "items": items}, key=None, stored_as=RANKING_STORED_AS)


def _said(stored: str | dict[str, str]) -> dict[str, str]:
    """A stored reason: both languages, or (rankings stored before) the English text alone."""
    return stored if isinstance(stored, dict) else {"it": stored, "en": stored}


def _applied_already(applicant: str, number: str) -> Conflict:
    return Conflict(
        Said(
            it=f"{applicant} ha già presentato domanda a questo bando: domanda {number}",
            en=f"{applicant} has already applied to this call: application {number}",
        ),
        code="call-already-applied",
        application=number,
    )


class CallStore:
    indexes: ClassVar[IndexSpec] = {
        CALLS: [IndexModel([("market_id", ASCENDING), ("created_at", DESCENDING)], name="by_market")],
        APPLICATIONS: [
            IndexModel([("call_id", ASCENDING), ("applicant", ASCENDING)], name="one_per_applicant", unique=True),
            IndexModel([("applicant", ASCENDING), ("submitted_at", DESCENDING)], name="by_applicant"),
        ],
        EVALUATIONS: [
            IndexModel([("application_id", ASCENDING), ("revision", ASCENDING)], name="one_per_revision", unique=True),
            IndexModel([("call_id", ASCENDING), ("at", ASCENDING)], name="by_call"),
        ],
    }

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.calls = db[CALLS]
        self.applications = db[APPLICATIONS]
        self.evaluations = db[EVALUATIONS]

    async def insert_call(self, call: Call, session: Session) -> None:
        await self.calls.insert_one({**to_document(call), "result": None}, session=session)

    async def get_call(self, call_id: str, session: Session = None) -> tuple[Call, Ranking | None]:
        """The call and, once awarded, the ranking it was awarded with."""
        missing = Said(it=f"nessun bando {call_id!r}", en=f"no call {call_id!r}")
        doc = await mongo.find_existing(self.calls, {"_id": call_id}, missing, session)
        result = doc.get("result")
        return _call(doc), _ranking(result) if result else None

    async def list_calls(
        self, market_id: str | None, status: CallStatus | None, now: datetime, *, limit: int, offset: int
    ) -> tuple[list[Call], int]:
        """A page of the calls of ``market_id`` (of every market when None) in ``status`` at ``now``
        (any when None), newest first."""
        query: Document = {} if market_id is None else {"market_id": market_id}
        if status is CallStatus.AWARDED:
            query["awarded_at"] = {"$ne": None}
        elif status is CallStatus.OPEN:
            query |= {"awarded_at": None, "deadline": {"$gt": now}}
        elif status is CallStatus.CLOSED:
            query |= {"awarded_at": None, "deadline": {"$lte": now}}
        order = [("created_at", DESCENDING), ("_id", ASCENDING)]
        return await find_page(self.calls, query, order, _call, limit=limit, offset=offset)

    async def live_calls_with_stalls(self, market_id: str, numbers: Sequence[str], session: Session) -> list[Call]:
        """Calls of the market not yet awarded that include any of ``numbers``."""
        cursor = self.calls.find(
            {"market_id": market_id, "awarded_at": None, "stalls": {"$in": list(numbers)}}, session=session
        )
        return [_call(d) async for d in cursor]

    async def mark_awarded(self, call: Call, ranking: Ranking, session: Session) -> None:
        await self.calls.update_one(
            {"_id": call.id, "awarded_at": None},
            {"$set": {"awarded_at": call.awarded_at, "result": _ranking_doc(ranking)}},
            session=session,
        )

    async def evaluating(self, call_id: str, session: Session) -> bool:
        """Mark the call as being evaluated; False when it is already awarded.

        Writing the call's document makes an evaluation and an award of the same call conflict, so
        one of the two transactions is retried and sees the other.
        """
        found = await self.calls.update_one(
            {"_id": call_id, "awarded_at": None}, {"$inc": {"evaluations": 1}}, session=session
        )
        return found.matched_count == 1

    async def insert_application(self, application: Application, session: Session) -> None:
        """Store the application; 409 naming the one the trader already filed to this call."""
        who = {"call_id": application.call_id, "applicant": application.applicant}
        existing = await self.applications.find_one(who, session=session)
        if existing is not None:
            raise _applied_already(application.applicant, existing["_id"])
        try:
            await self.applications.insert_one(
                to_document(replace(application, filed_by=application.filer)),
                session=session,
            )
        except DuplicateKeyError as exc:  # filed at the same moment by another request: read what won
            winner = await self.applications.find_one(who)
            raise _applied_already(application.applicant, winner["_id"] if winner else "?") from exc

    async def applications_to(self, call_id: str, session: Session = None) -> list[Application]:
        cursor = self.applications.find({"call_id": call_id}, session=session).sort("submitted_at", ASCENDING)
        return [_application(d) async for d in cursor]

    async def list_applications(self, call_id: str, *, limit: int, offset: int) -> tuple[list[Application], int]:
        """A page of the call's applications, in the order they were submitted."""
        query: Document = {"call_id": call_id}
        order = [("submitted_at", ASCENDING), ("_id", ASCENDING)]
        return await find_page(self.applications, query, order, _application, limit=limit, offset=offset)

    async def applications_of(self, applicant: str | None, *, limit: int, offset: int) -> tuple[list[Application], int]:
        """A page of ``applicant``'s applications to every call (everyone's when None), newest first."""
        query: Document = {} if applicant is None else {"applicant": applicant}
        order = [("submitted_at", DESCENDING), ("_id", ASCENDING)]
        return await find_page(self.applications, query, order, _application, limit=limit, offset=offset)

    async def count_applications(self, call_ids: Sequence[str]) -> dict[str, int]:
        pipeline: list[Document] = [
            {"$match": {"call_id": {"$in": list(call_ids)}}},
            {"$group": {"_id": "$call_id", "n": {"$sum": 1}}},
        ]
        return {d["_id"]: d["n"] async for d in await self.applications.aggregate(pipeline)}

    async def get_application(self, application_id: str, session: Session = None) -> Application | None:
        doc = await self.applications.find_one({"_id": application_id}, session=session)
        return None if doc is None else _application(doc)

    async def insert_evaluation(self, evaluation: Evaluation, session: Session) -> None:
        taken = Said(
            f"la domanda {evaluation.application_id} è stata valutata nello stesso momento da altri: "
            "invia di nuovo la valutazione",
            f"application {evaluation.application_id} was evaluated at the same time: send the evaluation again",
        )
        key = f"{evaluation.application_id}/{evaluation.revision}"
        await mongo.insert_new(self.evaluations, {"_id": key, **to_document(evaluation, key=None)}, taken, session)

    async def evaluations_of(self, application_id: str, session: Session = None) -> list[Evaluation]:
        cursor = self.evaluations.find({"application_id": application_id}, session=session).sort("revision", ASCENDING)
        return [_evaluation(d) async for d in cursor]

    async def evaluations_to(self, call_id: str, session: Session = None) -> list[Evaluation]:
        """Every evaluation of the call's applications, oldest first."""
        cursor = self.evaluations.find({"call_id": call_id}, session=session).sort(
            [("at", ASCENDING), ("revision", ASCENDING)]
        )
        return [_evaluation(d) async for d in cursor]

    async def list_evaluations(
        self, call_id: str, application_id: str | None, *, limit: int, offset: int
    ) -> tuple[list[Evaluation], int]:
        """A page of the call's evaluations (of one application when given), oldest first."""
        query: Document = {"call_id": call_id}
        if application_id is not None:
            query["application_id"] = application_id
        order = [("at", ASCENDING), ("revision", ASCENDING)]
        return await find_page(self.evaluations, query, order, _evaluation, limit=limit, offset=offset)
