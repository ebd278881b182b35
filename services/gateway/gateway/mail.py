"""Sending mail through the SMTP server of ``SMTP_URL`` (aiosmtplib), with retries.

A message is tried ``SMTP_ATTEMPTS`` times with backoff (``shared.retry``); when every attempt
fails the caller learns it (``MailOutcome.FAILED``) and carries on: mail is a courtesy on top of
what the API answers, never a condition for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from enum import StrEnum
from urllib.parse import unquote, urlsplit

import aiosmtplib

from gateway.settings import GatewaySettings
from shared.retry import at_most

log = logging.getLogger(__name__)

# refused connections, timeouts, and every error an SMTP server can answer with
SEND_FAILURES = (aiosmtplib.SMTPException, OSError, TimeoutError)


class MailOutcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # every attempt failed: the link must be handed over another way
    NOT_CONFIGURED = "not_configured"  # no SMTP_URL


@dataclass(frozen=True)
class Letter:
    """What to send: one recipient, a subject, a plain-text body."""

    to: str
    subject: str
    text: str


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def of(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        implicit_tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 25),
            use_tls=implicit_tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class Mailer:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.server = SmtpServer.of(settings.smtp_url) if settings.smtp_url else None

    @property
    def configured(self) -> bool:
        return self.server is not None

    def message(self, letter: Letter) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = letter.to
        message["Subject"] = letter.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = parseaddr(self.settings.mail_from)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message["Content-Language"] = "it, en"
        message.set_content(letter.text, charset="utf-8")
        return message

    async def send(self, letter: Letter, what: str) -> MailOutcome:
        """Send ``letter``, retrying; ``what`` names it in the logs (never the link it carries)."""
        server = self.server
        if server is None:
            return MailOutcome.NOT_CONFIGURED
        message = self.message(letter)
        try:
            async for attempt in at_most(self.settings.smtp_attempts, SEND_FAILURES, what, first_wait_s=0.5):
                with attempt:
                    await aiosmtplib.send(
                        message,
                        hostname=server.hostname,
                        port=server.port,
                        use_tls=server.use_tls,
                        username=server.username,
                        password=server.password,
                        timeout=self.settings.smtp_timeout_s,
                    )
        except SEND_FAILURES as exc:
            log.error("%s could not be mailed (%s: %s)", what, type(exc).__name__, str(exc)[:200])
            return MailOutcome.FAILED
        log.info("%s mailed", what)
        return MailOutcome.SENT
