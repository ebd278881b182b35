"""Telling the office about new district alerts, by mail and to a webhook, without holding anything up.

The consumer of ``districts.events`` only records a notice, in the transaction that marks the event
processed (so a redelivered event records nothing new). A sender task of its own then delivers the
pending notices, each channel retried with backoff (``shared.retry``); a channel that keeps failing
marks the notice ``failed`` and the sender moves on. Districts' projection never waits for any of it.
Delivery is at least once: a process killed after sending and before recording it sends again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from gateway.mail import Letter, Mailer, MailOutcome
from gateway.notices.domain import DeliveryState, Notice, notice_of
from gateway.notices.store import NoticeStore
from gateway.settings import GatewaySettings
from shared.consumer import PoisonEvent
from shared.events import CloudEvent, utcnow
from shared.retry import at_most
from shared.tasks import cancel

log = logging.getLogger(__name__)

NOTICE_LEASE = timedelta(minutes=2)
WEBHOOK_FAILURES = (httpx.HTTPError,)


@dataclass
class AlertNotices:
    settings: GatewaySettings
    store: NoticeStore
    mailer: Mailer
    http: httpx.AsyncClient
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @property
    def wanted(self) -> bool:
        """Is anyone to be told? (mail needs both recipients and an SMTP server)"""
        return bool((self.settings.alert_mail_to and self.mailer.configured) or self.settings.alert_webhook_url)

    async def record(self, event: CloudEvent, session: AsyncClientSession) -> None:
        """The consumer's handler: a raised alert becomes a pending notice."""
        recipients = tuple(self.settings.alert_mail_to) if self.mailer.configured else ()
        try:
            notice = notice_of(
                event,
                recipients,
                bool(self.settings.alert_webhook_url),
                utcnow(),
                timedelta(hours=self.settings.alert_notice_max_age_h),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PoisonEvent(f"an alert event without the fields of its type ({exc})") from exc
        if notice is not None:
            await self.store.add(notice, utcnow(), session)
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-notices")

    async def stop(self) -> None:
        await cancel(self._task)
        await self.http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                while await self.send_one():
                    pass
            except PyMongoError as exc:
                log.warning("alert notices not read (%s); trying again shortly", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.alert_notice_poll_s)
            self._wake.clear()

    async def send_one(self) -> bool:
        """Deliver one pending notice; False when none is waiting."""
        now = utcnow()
        notice = await self.store.claim(now, now + NOTICE_LEASE)
        if notice is None:
            return False
        outcomes: dict[str, str] = {}
        for address in notice.recipients:
            letter = Letter(address, notice.subject, notice.text(self.settings.public_url or ""))
            outcomes[f"mail:{address}"] = await self.mailer.send(letter, f"alert {notice.alert_id} notice")
        if notice.webhook:
            outcomes["webhook"] = await self._post(notice)
        failed = any(o == MailOutcome.FAILED for o in outcomes.values())
        await self.store.finish(notice.id, DeliveryState.FAILED if failed else DeliveryState.SENT, outcomes, utcnow())
        return True

    async def _post(self, notice: Notice) -> str:
        url = self.settings.alert_webhook_url
        assert url is not None
        what = f"alert {notice.alert_id} webhook"
        try:
            async for attempt in at_most(
                self.settings.alert_webhook_attempts, WEBHOOK_FAILURES, what, first_wait_s=0.5
            ):
                with attempt:
                    answer = await self.http.post(
                        url, json=notice.webhook_body(), headers={"Idempotency-Key": notice.id}
                    )
                    answer.raise_for_status()
        except WEBHOOK_FAILURES as exc:
            log.error("%s failed (%s: %s)", what, type(exc).__name__, str(exc)[:200])
            return MailOutcome.FAILED
        log.info("%s delivered", what)
        return MailOutcome.SENT
