"""Response bodies of documents (shapes in docs/api.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shops.documents.domain import Document


class DocumentPublic(BaseModel):
    id: str = Field(description="cite it in a recognition application's documents[].document_id")
    shop_id: str
    filename: str = Field(description="the name the file had when it was sent (for display only)")
    content_type: str = Field(description="application/pdf, image/jpeg or image/png, read from the content")
    size: int = Field(description="bytes")
    sha256: str
    uploaded_at: datetime
    uploaded_by: str

    @classmethod
    def of(cls, document: Document) -> DocumentPublic:
        return cls(
            id=document.id,
            shop_id=document.shop_id,
            filename=document.filename,
            content_type=document.content_type,
            size=document.size,
            sha256=document.sha256,
            uploaded_at=document.uploaded_at,
            uploaded_by=document.uploaded_by,
        )
