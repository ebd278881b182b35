"""HTTP route of the DUC report: a district's report as an HTML page or a PDF (anyone may read it)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from districts.report.html import CONTENT_SECURITY_POLICY, render_html
from districts.report.pdf import render_pdf
from districts.report.service import ReportService
from shared.app import provide
from shared.i18n import language
from shared.web.params import Slug

router = APIRouter(tags=["districts"])

Reports = Annotated[ReportService, Depends(provide(ReportService))]


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"


class Language(StrEnum):
    IT = "it"
    EN = "en"


@router.get(
    "/districts/{code}/report",
    summary="The district's report for a regional DUC funding call (HTML, or PDF with format=pdf)",
    response_class=Response,
    responses={
        200: {
            "description": "The report, in Italian unless `lang=en` or `Accept-Language` prefers English",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        404: {"description": "No district with that code"},
    },
)
async def report(
    code: Slug,
    reports: Reports,
    format: Annotated[Format, Query(description="`html` (default) or `pdf`")] = Format.HTML,
    lang: Annotated[Language | None, Query(description="`it` or `en`; else `Accept-Language`")] = None,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    chosen = lang.value if lang is not None else language(accept_language)
    content = await reports.report(code, chosen)
    headers = {"Content-Language": chosen, "Vary": "Accept-Language"}
    if format is Format.PDF:
        body = await run_in_threadpool(render_pdf, content)
        headers["Content-Disposition"] = f'inline; filename="{content.filename}"'
        return Response(body, media_type="application/pdf", headers=headers)
    page = await run_in_threadpool(render_html, content)
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)
