"""The report as a PDF (A4), laid out by ReportLab's platypus with the same drawings as the HTML page.

ReportLab's invariant mode leaves the clock out of the file (creation date and document id), so
the same report gives the same bytes. Every text from a user goes through :func:`_text`, which
escapes it for the Paragraph markup.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from districts.report import charts
from districts.report.domain import IMPACT_WINDOW_DAYS, Report, day_text

# The report embeds nothing from outside: no host and no scheme but inline data may be read by the
# markup (CVE-2020-28463, a fetch through <img> in paragraph markup; every text is escaped anyway).
rl_config.trustedHosts = ["no-remote-resource.invalid"]
rl_config.trustedSchemes = ["data"]

_SHEET = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_SHEET["BodyText"], fontName="Helvetica", fontSize=9, leading=12)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10, textColor=colors.HexColor("#3e4c59"))
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=10)
NUMBER = ParagraphStyle("number", parent=CELL, alignment=TA_RIGHT)
TITLE = ParagraphStyle("title", parent=_SHEET["Title"], fontName="Helvetica-Bold", fontSize=17, leading=21)
HEADING = ParagraphStyle(
    "heading",
    parent=_SHEET["Heading2"],
    fontName="Helvetica-Bold",
    fontSize=12.5,
    textColor=charts.AREA_EDGE,
    keepWithNext=1,
)
SUBHEADING = ParagraphStyle(
    "subheading", parent=_SHEET["Heading3"], fontName="Helvetica-Bold", fontSize=10, keepWithNext=1
)
GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f4f8")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cbd2d9")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _text(value: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(value), style)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> Table:
    """A table whose first ``numeric_from`` columns are text and the rest figures (right-aligned)."""

    def cells(row: Sequence[str], bold: bool = False) -> list[Paragraph]:
        return [
            Paragraph(f"<b>{escape(v)}</b>" if bold else escape(v), CELL if i < numeric_from else NUMBER)
            for i, v in enumerate(row)
        ]

    table = Table([cells(header, bold=True), *(cells(r) for r in rows)], repeatRows=1, hAlign="LEFT")
    table.setStyle(GRID)
    return table


def _section(title: str) -> Paragraph:
    return _text(title, HEADING)


def _flowables(report: Report) -> list[Flowable]:
    w = report.words
    story: list[Flowable] = [
        _text(report.title, TITLE),
        _text(w.subtitle.format(code=report.code), SMALL),
        _text(report.as_of_text, SUBHEADING),
        _text(w.purpose, SMALL),
        _section(w.perimeter),
        charts.map_drawing(report.map, w),
        _text(report.map_alt, SMALL),
        _section(w.figures),
        _text(report.period_text, SMALL),
        _table(
            [w.indicator, w.value, w.at_start, w.change],
            [[f.label, f.value, f.at_start, f.change] for f in report.figures],
        ),
    ]
    for trend in report.trends:
        story.append(
            KeepTogether(
                [
                    _text(trend.label, SUBHEADING),
                    charts.trend_drawing([trend], report.period_start, report.period_end, w),
                    _text(report.trend_alt(trend), SMALL),
                ]
            )
        )
    components = report.components
    story += [
        _section(w.vitality),
        _text(report.vitality_text),
        charts.bars_drawing(
            [c.label for c in components], [c.score for c in components], [c.score_text for c in components], 100
        ),
        _table(
            [w.component, w.value, w.score, w.weight],
            [[c.label, c.value, c.score_text, c.weight] for c in components],
        ),
        _section(w.movements),
        _table(
            [w.indicator, w.value],
            [
                [w.metrics["openings_30d"], report.openings],
                [w.metrics["closures_30d"], report.closures],
                [w.metrics["historic_closures_30d"], report.historic_closures],
                [w.net, report.net],
            ],
        ),
        charts.trend_drawing(report.movement_trends, report.period_start, report.period_end, w),
        _text(
            w.movements_alt.format(start=day_text(report.period_start, w), end=day_text(report.period_end, w)), SMALL
        ),
    ]
    for title, present, content, empty in (
        (w.historic, bool(report.historic), _historic, w.no_historic),
        (w.markets, bool(report.markets), _markets, w.no_markets),
        (w.services, bool(report.services), _services, w.no_services),
        (w.mix, report.mix.available, _mix, w.mix_unavailable),
        (w.interventions, bool(report.interventions), _interventions, w.no_interventions),
        (w.alerts, bool(report.alerts), _alerts, w.no_alerts),
    ):
        story += [_section(title), *(content(report) if present else [_text(empty)])]
    story += [
        _section(w.sources),
        _table([w.source, w.as_of_date], [[s.source, s.as_of] for s in report.sources], numeric_from=2),
        Spacer(1, 4 * mm),
    ]
    return story


# The parts of the report that may have nothing to show: each draws what its report has.


def _historic(report: Report) -> list[Flowable]:
    w = report.words
    return [_table([w.shop_name, w.founded, w.status], [[h.name, h.founded, h.status] for h in report.historic])]


def _markets(report: Report) -> list[Flowable]:
    w, markets = report.words, report.markets
    return [
        charts.bars_drawing(
            [m.name for m in markets],
            [None if m.occupancy is None else m.occupancy * 100 for m in markets],
            [m.occupancy_text for m in markets],
            100,
        ),
        _table(
            [
                w.market,
                w.stalls,
                *(w.stall_statuses[s] for s in ("open", "vacant", "closed", "maintenance")),
                w.occupancy,
            ],
            [
                [
                    m.name,
                    str(m.total),
                    str(m.open),
                    str(m.vacant),
                    str(m.closed),
                    str(m.maintenance),
                    m.occupancy_text,
                ]
                for m in markets
            ],
        ),
    ]


def _services(report: Report) -> list[Flowable]:
    w, services = report.words, report.services
    return [
        charts.bars_drawing(
            [s.label for s in services],
            [float(s.points) for s in services],
            [str(s.points) for s in services],
            max(s.points for s in services),
        ),
        _table(
            [w.service, w.points, w.weekly_hours, w.extended_share],
            [[s.label, str(s.points), s.weekly_hours, s.extended_share] for s in services],
        ),
    ]


def _mix(report: Report) -> list[Flowable]:
    w = report.words
    return [
        _table(
            [w.category, w.businesses, w.share, w.city_share, w.quotient, w.gap],
            [
                [
                    i.label,
                    str(i.count),
                    i.share_text,
                    i.city_share_text,
                    i.quotient_text,
                    w.yes if i.gap else w.no,
                ]
                for i in report.mix.items
            ],
        )
    ]


def _interventions(report: Report) -> list[Flowable]:
    w = report.words
    return [
        _text(w.impact_note.format(days=IMPACT_WINDOW_DAYS), SMALL),
        _table(
            [w.interventions, w.kind, w.started, w.before, w.after, w.change, w.estimate],
            [[i.title, i.kind, i.started, i.before, i.after, i.change, i.estimate] for i in report.interventions],
            numeric_from=3,
        ),
        *(_text(i.sentence, SMALL) for i in report.interventions),
    ]


def _alerts(report: Report) -> list[Flowable]:
    w = report.words
    return [
        _table(
            [w.condition, w.raised_at, w.value, w.threshold],
            [
                [a.condition + (f" ({a.detail})" if a.detail else ""), a.since, a.value, a.threshold]
                for a in report.alerts
            ],
            numeric_from=2,
        )
    ]


def render_pdf(report: Report) -> bytes:
    out = io.BytesIO()
    footer = f"{report.title} · {report.as_of_text}"

    def page_footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(charts.MUTED)
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, str(canvas.getPageNumber()))
        canvas.restoreState()

    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=report.title,
        creator="Milan commerce platform, districts service",
        subject=report.as_of_text,
        lang=report.language,
        invariant=1,
    )
    document.build(_flowables(report), onFirstPage=page_footer, onLaterPages=page_footer)
    return out.getvalue()
