"""Use cases of imports: accept an uploaded open-data file as a job, run it in the background, follow it.

A job runs in the gateway process, one at a time (others wait ``queued``): it counts the file's rows,
then loads them a few at a time through the gateway's **own public API, in process** — every write
passes the same authentication, access rules, rate limits and proxy as any client's — with an
access token the gateway issues for the office account that uploaded the file, issued again before
it expires, and in the uploader's language. Progress is saved every ``import_progress_s`` and at the
end; the audit log records each finished import.

A job beats while it is unfinished. A gateway that stops leaves its jobs without a heartbeat: they are
then reported ``interrupted`` (uploading the file again is safe: every importer upserts).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from pymongo.errors import PyMongoError
from starlette.types import ASGIApp

from gateway.accounts.service import AccountService, Actor
from gateway.imports.domain import (
    Api,
    Importer,
    ImportJob,
    JobState,
    Row,
    RowError,
    Source,
    Tally,
    recognise,
)
from gateway.imports.importers import IMPORTERS
from gateway.imports.store import ImportStore
from gateway.settings import GatewaySettings
from shared import tasks
from shared.errors import InvalidInput, NotFound, PayloadTooLarge, Unauthorized
from shared.events import utcnow
from shared.i18n import Said, language
from shared.tasks import cancel
from shared.web.client import ApiError, Bearer, PlatformClient

log = logging.getLogger(__name__)

AUDIT_ACTION = "import.run"
INTERRUPTED = Said(
    "il gateway si è fermato durante l'importazione; caricare di nuovo il file (reimportarlo è sicuro)",
    "the gateway stopped during the import; upload the file again (re-importing is safe)",
)
# the base of the in-process calls: a host name, never an address (nothing is listening there)
IN_PROCESS = "http://gateway.import/api/v1"


@dataclass(frozen=True)
class Upload:
    """A file the office uploaded: its name and bytes, who sent it (their bearer token), in which language."""

    filename: str
    data: bytes
    token: str
    actor: Actor
    language: str | None = None


class CredentialsRefused(Exception):
    """The platform no longer accepts the uploader's credentials: the whole import stops; ``reason``
    says why (in both languages when the platform said it in both)."""

    def __init__(self, reason: str | Said) -> None:
        super().__init__(str(reason))
        self.reason = reason if isinstance(reason, Said) else Said(reason, reason)


class JobCredentials:
    """The uploader's bearer token for the whole import: issued again by the gateway when a quarter of
    its life (at most a minute) is left, so a long import never fails on expiry."""

    def __init__(self, accounts: AccountService, token: str) -> None:
        self.accounts = accounts
        self.claims = accounts.verifier.verify_signature(token)
        self._token, self._expires_at = token, self.claims.expires_at
        self._lifetime = max(1.0, self._expires_at - time.time())
        self._renewing = asyncio.Lock()

    async def __call__(self) -> str:
        margin = min(60.0, self._lifetime / 4)
        if self._expires_at - time.time() > margin:
            return self._token
        async with self._renewing:
            if self._expires_at - time.time() <= margin:
                try:
                    self._token, self._expires_at = await self.accounts.token_for_job(self.claims)
                except Unauthorized as exc:
                    raise CredentialsRefused(exc.said or exc.detail) from exc
                self._lifetime = max(1.0, self._expires_at - time.time())
        return self._token


# the job whose rows are being loaded, in the tasks that load them: the writes they send through the
# gateway's own API belong to the import, which the audit log records once (``import.run``)
IMPORTING: contextvars.ContextVar[str | None] = contextvars.ContextVar("importing", default=None)


class InProcessApi(PlatformClient):
    """The gateway's public API called in process (an :class:`Api` for the importers): ``bearer``
    gives the token of each call, ``language`` is sent as ``Accept-Language``."""

    def __init__(
        self, app: ASGIApp, bearer: Bearer, language: str | None = None, *, base_url: str = IN_PROCESS
    ) -> None:
        headers = {"Accept-Language": language} if language else {}
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        http = httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers, timeout=60.0)
        super().__init__(http, bearer=bearer)

    async def __aenter__(self) -> InProcessApi:
        return self


def credentials_refused(refused: CredentialsRefused) -> Said:
    return Said(
        f"la piattaforma ha rifiutato le credenziali di chi ha caricato il file: {refused.reason.it}",
        f"the platform refused the uploader's credentials: {refused.reason.en}",
    )


def refused_by_platform(detail: str) -> Said:
    """A row the platform refused; ``detail`` is the service's problem, already in the job's language."""
    return Said(f"rifiutata dalla piattaforma: {detail}", f"refused by the platform: {detail}")


def failed(exc: BaseException) -> Said:
    what = f"{type(exc).__name__}: {exc}"
    return Said(f"l'importazione non è riuscita per un errore: {what}", f"the import failed: {what}")


async def load_rows(importer: Importer, api: Api, rows: list[Row], tally: Tally, concurrency: int) -> None:
    """Every row through ``importer``, ``concurrency`` at a time; a bad or refused row is counted (its
    reason in the tally's language) and skipped. The uploader's token refused (401) stops them all."""
    pending = iter(rows)

    async def worker() -> None:
        for row in pending:
            try:
                tally.count(await importer.load(api, row))
            except RowError as exc:
                tally.reject(row.line, exc.reason)
            except ApiError as exc:
                if exc.status == 401:
                    raise CredentialsRefused(exc.detail) from exc
                tally.reject(row.line, refused_by_platform(exc.detail))

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, concurrency)):
            group.create_task(worker())


@dataclass(eq=False)
class ImportService:
    settings: GatewaySettings
    store: ImportStore
    accounts: AccountService
    app: ASGIApp
    importers: list[Importer] = field(default_factory=lambda: list(IMPORTERS))
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    _slot: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1), init=False)
    _beating: asyncio.Task[None] | None = field(default=None, init=False)

    def kinds(self, language: str) -> str:
        return "; ".join(f"{i.name} ({i.description.in_(language)})" for i in self.importers)

    async def submit(self, upload: Upload) -> ImportJob:
        """Recognise the file, store it with its job and start the job; the job as it starts (queued)."""
        size = len(upload.data)
        if size > self.settings.import_max_bytes:
            raise PayloadTooLarge(
                Said(
                    f"il file è più grande di {self.settings.import_max_bytes} byte",
                    f"the file is larger than {self.settings.import_max_bytes} bytes",
                ),
                max_bytes=self.settings.import_max_bytes,
            )
        if size == 0:
            raise InvalidInput(
                "body.file", Said(f"il file {upload.filename!r} è vuoto", f"{upload.filename!r} is empty")
            )
        source = Source(upload.filename, upload.data)
        importer = await asyncio.to_thread(recognise, self.importers, source)
        if importer is None:
            raise InvalidInput(
                "body.file",
                Said(
                    f"nessun importatore riconosce {upload.filename!r}; i file riconosciuti sono: {self.kinds('it')}",
                    f"no importer recognises {upload.filename!r}; the files it knows are: {self.kinds('en')}",
                ),
            )
        now, spoken = utcnow(), language(upload.language)
        job = ImportJob(
            id=uuid.uuid4().hex,
            file=upload.filename,
            size=size,
            importer=importer.name,
            description=importer.description.in_(spoken),
            state=JobState.QUEUED,
            actor=upload.actor.username,
            submitted_at=now,
            heartbeat_at=now,
            language=spoken,
        )
        # checked now, while the upload's token is fresh: the job may wait for another one to end
        credentials = JobCredentials(self.accounts, upload.token)
        await self.store.add(job, upload.data)
        task = asyncio.create_task(self._run(job, source, importer, upload, credentials), name=f"import-{job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))
        return job

    async def job(self, job_id: str) -> ImportJob:
        await self.reap_stale()
        job = await self.store.get(job_id)
        if job is None:
            raise NotFound(Said(f"non c'è un'importazione {job_id!r}", f"there is no import {job_id!r}"))
        return job

    async def page(self, limit: int, offset: int) -> tuple[list[ImportJob], int]:
        await self.reap_stale()
        return await self.store.page(limit, offset)

    # the background

    async def start(self) -> None:
        await self.reap_stale()
        self._beating = asyncio.create_task(self._beat(), name="import-heartbeat")

    async def stop(self) -> None:
        """Stop with the gateway: running and queued jobs end ``interrupted``."""
        await cancel(self._beating, *self._tasks.values())

    async def reap_stale(self) -> None:
        """Jobs left unfinished by a gateway that stopped (no heartbeat for a while) end ``interrupted``."""
        before = utcnow() - timedelta(seconds=self.settings.import_stale_after_s)
        for job_id, spoken in await self.store.stale(before):
            if job_id not in self._tasks:
                await self._end(job_id, JobState.INTERRUPTED, error=INTERRUPTED.in_(spoken))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.import_heartbeat_s)
            try:
                await self.store.beat(list(self._tasks), utcnow())
            except PyMongoError:
                log.warning("could not record the heartbeat of the running imports", exc_info=True)

    async def _run(
        self, job: ImportJob, source: Source, importer: Importer, upload: Upload, credentials: JobCredentials
    ) -> None:
        spoken = job.language
        try:
            async with self._slot:
                await self._import(job.id, source, importer, upload, credentials, spoken)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                error = INTERRUPTED.in_(spoken)
                await asyncio.shield(self._end(job.id, JobState.INTERRUPTED, upload.actor, error=error))
            raise
        except CredentialsRefused as exc:
            error = credentials_refused(exc).in_(spoken)
            await self._end(job.id, JobState.FAILED, upload.actor, error=error)
        except Exception as exc:
            log.exception("import %s of %s failed", job.id, job.file)
            await self._end(job.id, JobState.FAILED, upload.actor, error=failed(exc).in_(spoken)[:500])

    async def _import(
        self,
        job_id: str,
        source: Source,
        importer: Importer,
        upload: Upload,
        credentials: JobCredentials,
        spoken: str,
    ) -> None:
        try:
            rows = await asyncio.to_thread(lambda: list(importer.rows(source)))
        except (ValueError, RowError) as exc:
            why = exc.in_(spoken) if isinstance(exc, RowError) else str(exc)
            unreadable = Said(f"il file non si può leggere: {why}", f"the file cannot be read: {why}")
            await self._end(job_id, JobState.FAILED, upload.actor, rows_total=0, error=unreadable.in_(spoken)[:500])
            return
        tally = Tally(len(rows), spoken)
        now = utcnow()
        await self.store.update(
            job_id, state=JobState.RUNNING, started_at=now, heartbeat_at=now, rows_total=tally.rows_total
        )
        IMPORTING.set(job_id)  # this job's own task: the loaders it starts inherit it
        async with InProcessApi(self.app, credentials, upload.language) as api:
            saving = asyncio.create_task(self._save_progress(job_id, tally))
            try:
                await load_rows(importer, api, rows, tally, self.settings.import_concurrency)
            except ExceptionGroup as group:
                first = group.exceptions[0]
                if isinstance(first, CredentialsRefused):
                    error = credentials_refused(first)
                else:
                    log.error("import %s failed", job_id, exc_info=first)
                    error = failed(first)
                await self._end(
                    job_id, JobState.FAILED, upload.actor, error=error.in_(spoken)[:500], **tally.progress()
                )
                return
            finally:
                await tasks.cancel(saving)
        await self._end(job_id, JobState.DONE, upload.actor, **tally.progress())

    async def _save_progress(self, job_id: str, tally: Tally) -> None:
        saved = 0
        while True:
            await asyncio.sleep(self.settings.import_progress_s)
            if tally.changes != saved:
                saved = tally.changes
                await self.store.update(job_id, heartbeat_at=utcnow(), **tally.progress())

    async def _end(self, job_id: str, state: JobState, actor: Actor | None = None, **changes: Any) -> None:
        """Finish the job and record it in the audit log (once: a job already finished stays so)."""
        ended = await self.store.finish(job_id, state, utcnow(), **changes)
        if ended is None:
            return
        log.info("import %s of %s (%s): %s", job_id, ended.file, ended.importer, state.value)
        await self.accounts.audit(
            actor or Actor(ended.actor),
            AUDIT_ACTION,
            f"import:{job_id}",
            None,
            {**ended.summary(), "state": state.value},
        )
