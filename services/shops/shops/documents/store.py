"""The shop documents' GridFS bucket (``documents.files`` and ``documents.chunks`` in the shops database).

A file's descriptive fields live in the GridFS file document's ``metadata``. GridFS writes the
chunks first and the file document last, so a document is listed only once it is complete; a
write that fails part-way removes the chunks it wrote.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import IO

from gridfs import NoFile
from gridfs.asynchronous.grid_file import AsyncGridFSBucket
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document as MongoDocument
from shared.mongo import IndexSpec, find_page
from shops.documents.domain import Document

BUCKET = "documents"
FILES, CHUNKS = f"{BUCKET}.files", f"{BUCKET}.chunks"
CHUNK_BYTES = 255 * 1024


def document_from_doc(doc: MongoDocument) -> Document:
    meta = doc["metadata"]
    return Document(
        id=doc["_id"],
        shop_id=meta["shop_id"],
        filename=doc["filename"],
        content_type=meta["content_type"],
        size=doc["length"],
        sha256=meta["sha256"],
        uploaded_at=meta["uploaded_at"],
        uploaded_by=meta["uploaded_by"],
    )


class DocumentStore:
    indexes: IndexSpec = {
        # the two GridFS itself asks for (same keys), made before the service serves
        FILES: [
            IndexModel([("filename", ASCENDING), ("uploadDate", ASCENDING)], name="filename_1_uploadDate_1"),
            IndexModel([("metadata.shop_id", ASCENDING), ("metadata.sha256", ASCENDING)], name="shop_sha256"),
        ],
        CHUNKS: [IndexModel([("files_id", ASCENDING), ("n", ASCENDING)], name="files_id_1_n_1", unique=True)],
    }

    def __init__(self, db: AsyncDatabase[MongoDocument]) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)
        self.files = db[FILES]

    async def add(self, document: Document, content: IO[bytes]) -> None:
        """Store the file's bytes and its description; on any failure no part of it stays behind."""
        metadata = {
            "shop_id": document.shop_id,
            "content_type": document.content_type,
            "sha256": document.sha256,
            "uploaded_by": document.uploaded_by,
            "uploaded_at": document.uploaded_at,
        }
        upload = self.bucket.open_upload_stream_with_id(document.id, document.filename, metadata=metadata)
        try:
            await upload.write(content)
            await upload.close()
        except BaseException:
            await upload.abort()
            raise

    async def get(self, shop_id: str, document_id: str) -> Document | None:
        doc = await self.files.find_one({"_id": document_id, "metadata.shop_id": shop_id})
        return document_from_doc(doc) if doc else None

    async def same_file(self, shop_id: str, sha256: str) -> Document | None:
        doc = await self.files.find_one({"metadata.shop_id": shop_id, "metadata.sha256": sha256})
        return document_from_doc(doc) if doc else None

    async def of_shop(self, shop_id: str, *, limit: int, offset: int) -> tuple[list[Document], int]:
        selector = {"metadata.shop_id": shop_id}
        order = [("uploadDate", ASCENDING)]
        return await find_page(self.files, selector, order, document_from_doc, limit=limit, offset=offset)

    async def owned(self, shop_id: str, document_ids: Collection[str]) -> set[str]:
        """Which of ``document_ids`` are documents of this shop."""
        docs = self.files.find({"_id": {"$in": list(document_ids)}, "metadata.shop_id": shop_id}, {"_id": 1})
        return {d["_id"] async for d in docs}

    async def content(self, document_id: str) -> AsyncIterator[bytes]:
        """The file's bytes, chunk by chunk."""
        try:
            stream = await self.bucket.open_download_stream(document_id)
        except NoFile:
            return
        async with stream:
            while chunk := await stream.readchunk():
                yield chunk
