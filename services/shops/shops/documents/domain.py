"""Documents a shop hands to the office (a founding deed, old photographs): what is accepted.

Pure rules, no I/O. The type of a file is read from its first bytes (the signature each format
begins with), never from the name or the type the sender declared, so a text file named ``.pdf``
is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from shared.errors import PayloadTooLarge, UnsupportedMediaType
from shared.i18n import Said

MAX_BYTES = 10 * 1024 * 1024  # 10 MiB
SNIFF_BYTES = 8
# format signatures: PDF (ISO 32000-1 §7.5.2, "%PDF-"), PNG (ISO/IEC 15948 §5.2), JPEG (ITU T.81: SOI then a marker)
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
ACCEPTED = tuple(content_type for _, content_type in SIGNATURES)


def content_type_of(head: bytes) -> str:
    """The content type the file's first bytes announce; 415 for anything but PDF, PNG and JPEG."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    raise UnsupportedMediaType(
        Said(
            it="si accettano solo PDF, JPEG e PNG, riconosciuti dal contenuto del file (non dal nome)",
            en="only PDF, JPEG and PNG are accepted, recognised by the file's content (not its name)",
        ),
        accepted=list(ACCEPTED),
    )


def check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise PayloadTooLarge(
            Said(
                it=f"il documento supera i {MAX_BYTES} byte (10 MiB)",
                en=f"the document is larger than {MAX_BYTES} bytes (10 MiB)",
            ),
            max_bytes=MAX_BYTES,
        )


def clean_filename(name: str | None) -> str:
    """The name the file had on the sender's device, without folders or control characters (for display)."""
    base = re.split(r"[/\\]", name or "")[-1]
    printable = "".join(ch for ch in base if ch.isprintable()).strip()
    return printable[:200] or "document"


@dataclass(frozen=True, kw_only=True)
class Document:
    """A stored document of a shop; ``sha256`` spots the same file uploaded twice."""

    id: str
    shop_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
