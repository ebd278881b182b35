"""The local stack's mail sink: an SMTP server (aiosmtpd) that delivers every message to a folder.

Nothing leaves the machine. Each message accepted is written as one ``.eml`` file (RFC 5322, as
received, with ``Delivered-To`` and ``Return-Path`` lines added for the envelope) under the
folder, so a developer opens it with any mail reader and tests read it with :class:`Mailbox`.
A file appears whole: it is written under a temporary name and then renamed.

Run: ``python -m devkit.stack.mail_sink --host 127.0.0.1 --port 2525 --dir .data/mail``
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import itertools
import os
import signal
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

DELIVERED = "250 OK: delivered to the local mail folder"


@dataclass
class FolderDelivery:
    """The aiosmtpd handler: each message's bytes into ``folder/<time>-<n>.eml``."""

    folder: Path

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        envelope_lines = [f"Return-Path: <{envelope.mail_from or ''}>"]
        envelope_lines += [f"Delivered-To: {recipient}" for recipient in envelope.rcpt_tos]
        data = ("\r\n".join(envelope_lines) + "\r\n").encode() + content
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._numbers)}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(data)
        partial.rename(self.folder / name)
        return DELIVERED


@dataclass(frozen=True)
class Mailbox:
    """The messages a sink delivered to ``folder``, read as the tests and developers see them."""

    folder: Path

    def messages(self) -> list[EmailMessage]:
        """Every delivered message, oldest first."""
        if not self.folder.exists():
            return []
        found = []
        for path in sorted(self.folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to ``address`` (an envelope recipient, compared case-insensitively)."""
        wanted = address.strip().lower()
        return [m for m in self.messages() if wanted in _recipients(m)]

    async def wait_for(self, address: str, timeout_s: float = 20.0, count: int = 1) -> EmailMessage:
        """The ``count``-th message to ``address``, once it has arrived (AssertionError after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            arrived = self.to(address)
            if len(arrived) >= count:
                return arrived[count - 1]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no message {count} to {address} in {self.folder} after {timeout_s:.0f}s "
                    f"({len(arrived)} arrived for it, {len(self.messages())} in all)"
                )
            await asyncio.sleep(0.1)


def _recipients(message: EmailMessage) -> set[str]:
    delivered = [str(v) for v in message.get_all("Delivered-To", [])]
    headers = [str(v) for v in message.get_all("To", [])]
    return {address.lower() for _, address in getaddresses(delivered + headers) if address}


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a message (its text/plain part when it has several)."""
    part: Any = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text/plain part"
    return str(part.get_content())


async def serve(host: str, port: int, folder: Path) -> None:
    loop = asyncio.get_running_loop()
    handler = FolderDelivery(folder)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="mail-sink.localhost", data_size_limit=10 * 1024 * 1024), host, port
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"mail sink on smtp://{host}:{port}, delivering to {folder}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devkit.stack.mail_sink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", type=Path, required=True, help="the folder the messages are delivered to")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.dir.resolve()))


if __name__ == "__main__":
    main()
