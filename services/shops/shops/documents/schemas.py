"""Response bodies of documents (shapes in docs/api.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.web.public import Public
from shops.documents.domain import Document


class DocumentPublic(Public[Document]):
    id: str = Field(description="cite it in a recognition application's documents[].document_id")
    shop_id: str
    filename: str = Field(description="the name the file had when it was sent (for display only)")
    content_type: str = Field(description="application/pdf, image/jpeg or image/png, read from the content")
    size: int = Field(description="bytes")
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
