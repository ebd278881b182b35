"""A minimal service on the shared runtime, for the event backbone's tests and benchmark (not part of the product)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.app import Runtime, ServiceSpec, create_service_app
from shared.consumer import Handler, PoisonEvent
from shared.events import CloudEvent, EventData
from shared.outbox import UnitOfWork
from shared.settings import ServiceSettings


class NoteWritten(EventData):
    event_type = "probe.note.written.v1"
    source = "/probe"
    note_id: str
    text: str

    def subject(self) -> str:
        return self.note_id


class NoteIn(BaseModel):
    id: str
    text: str


def build(settings: ServiceSettings, topic: str, group: str | None = None, handler: Handler | None = None) -> Any:
    """The probe service publishing on ``topic``; with a ``group``, it also consumes the topic with
    ``handler`` (by default: count each note seen, refuse "poison", fail on "boom")."""
    router = APIRouter()

    @router.post("/notes", status_code=201)
    async def write(note: NoteIn, request: Request) -> dict[str, str]:
        runtime: Runtime = request.app.state.runtime
        assert runtime.outbox is not None

        async def work(uow: UnitOfWork) -> None:
            await runtime.mongo.db.notes.insert_one({"_id": note.id, "text": note.text}, session=uow.session)
            uow.emit(NoteWritten(note_id=note.id, text=note.text))

        await runtime.outbox.run(work)
        return {"id": note.id}

    async def project(event: CloudEvent, session: AsyncClientSession) -> None:
        data = event.payload(NoteWritten)
        if data.text == "poison":
            raise PoisonEvent("the probe refuses this note")
        if data.text == "boom":
            raise ValueError("the probe handler fails on this note")
        # deliberately not idempotent by itself: only the consumer's dedupe keeps counts right
        await session.client[settings.database_name].seen.update_one(
            {"_id": data.note_id}, {"$inc": {"count": 1}}, upsert=True, session=session
        )

    async def wire(runtime: Runtime) -> None:
        if group:
            runtime.add_consumer([topic], group, handler or project)

    spec = ServiceSpec(
        name="probe",
        title="probe",
        description="backbone test service",
        routers=[router],
        publishes=topic,
        indexes={"notes": [], "seen": []},
        wire=wire,
    )
    return create_service_app(spec, settings)
