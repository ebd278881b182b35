"""Documents use cases: store a shop's file after checking its size and type, list and read them back.

The bytes come from a file the web layer has already received in full (spooled to disk beyond a
small size, never held whole in memory), so the size is known before anything is written.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from shared.errors import NotFound
from shared.events import utcnow
from shared.i18n import Said
from shops.documents.domain import SNIFF_BYTES, Document, check_size, clean_filename, content_type_of
from shops.documents.store import DocumentStore
from shops.register.store import ShopStore

READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Stored:
    document: Document
    created: bool


def _sha256(content: IO[bytes]) -> str:
    digest = hashlib.sha256()
    content.seek(0)
    while block := content.read(READ_BYTES):
        digest.update(block)
    content.seek(0)
    return digest.hexdigest()


@dataclass
class DocumentsService:
    documents: DocumentStore
    shops: ShopStore
    clock: Callable[[], datetime] = utcnow

    async def upload(self, shop_id: str, filename: str | None, content: IO[bytes], size: int, actor: str) -> Stored:
        """Store the file; the same file uploaded again by this shop is the document stored the first time."""
        await self.shops.existing(shop_id)
        check_size(size)
        content.seek(0)
        content_type = content_type_of(content.read(SNIFF_BYTES))
        sha256 = _sha256(content)
        earlier = await self.documents.same_file(shop_id, sha256)
        if earlier is not None:
            return Stored(earlier, created=False)
        document = Document(
            id=f"doc-{uuid.uuid4().hex[:16]}",
            shop_id=shop_id,
            filename=clean_filename(filename),
            content_type=content_type,
            size=size,
            sha256=sha256,
            uploaded_at=self.clock(),
            uploaded_by=actor,
        )
        await self.documents.add(document, content)
        return Stored(document, created=True)

    async def get(self, shop_id: str, document_id: str) -> Document:
        await self.shops.existing(shop_id)
        document = await self.documents.get(shop_id, document_id)
        if document is None:
            raise NotFound(
                Said(
                    it=f"il negozio {shop_id!r} non ha il documento {document_id!r}",
                    en=f"shop {shop_id!r} has no document {document_id!r}",
                )
            )
        return document

    def content(self, document: Document) -> AsyncIterator[bytes]:
        return self.documents.content(document.id)

    async def of_shop(self, shop_id: str, *, limit: int, offset: int) -> tuple[list[Document], int]:
        await self.shops.existing(shop_id)
        return await self.documents.of_shop(shop_id, limit=limit, offset=offset)
