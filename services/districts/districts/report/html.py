"""The report as one self-contained, accessible HTML page: inline style, charts as inline SVG.

The page is rendered by Jinja2 with autoescaping, so every text that came from a user (a district's
or a market's name, a title) is escaped. The charts are the ReportLab drawings of the PDF rendered
to SVG; each gets a title and a description (``role="img"``) and its figures are in a table
beside it. The style is one inline block whose hash the page's Content-Security-Policy allows,
and the SVG's inline ``style`` attributes become presentation attributes, so the page needs no
``'unsafe-inline'`` and loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing

from districts.report import charts
from districts.report.domain import IMPACT_WINDOW_DAYS, Report, day_text

TEMPLATES = Path(__file__).parent / "templates"
CSS = (TEMPLATES / "report.css").read_text(encoding="utf-8")
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"style-src 'sha256-{CSS_HASH}'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True
)
_STYLE = re.compile(r' style="([^"]*)"')


def _presentation(match: re.Match[str]) -> str:
    """``style="fill: red; stroke:none;"`` as ``fill="red" stroke="none"`` (the text is already XML-escaped)."""
    pairs = (part.partition(":") for part in match.group(1).split(";") if ":" in part)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, _, value in pairs)


def inline_svg(drawing: Drawing, ident: str, title: str, description: str) -> Markup:
    """A drawing as an ``<svg>`` element for the page, named by ``title`` and described by ``description``."""
    text = renderSVG.drawToString(drawing, useClip=True)
    svg = text[text.index("<svg") :]
    svg = _STYLE.sub(_presentation, svg).replace(' id="group"', "", 1)
    svg = re.sub(r' clip="[^"]*"', "", svg, count=1)
    svg = svg.replace("<title>...</title>", f'<title id="{ident}-title">{escape(title)}</title>', 1)
    svg = svg.replace("<desc>...</desc>", f'<desc id="{ident}-desc">{escape(description)}</desc>', 1)
    labelled = f'<svg role="img" aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" '
    return Markup(labelled + svg[len("<svg ") :])  # noqa: S704 - ReportLab's SVG writer escapes every text


def _charts(report: Report) -> dict[str, object]:
    words = report.words
    components = report.components
    markets = report.markets
    return {
        "map": inline_svg(charts.map_drawing(report.map, words), "map", words.perimeter, report.map_alt),
        "trends": {
            t.metric: inline_svg(
                charts.trend_drawing([t], report.period_start, report.period_end, words),
                f"trend-{t.metric.replace('_', '-')}-chart",
                t.label,
                report.trend_alt(t),
            )
            for t in report.trends
        },
        "movements": inline_svg(
            charts.trend_drawing(report.movement_trends, report.period_start, report.period_end, words),
            "movements-chart",
            words.movements,
            words.movements_alt.format(
                start=day_text(report.period_start, words), end=day_text(report.period_end, words)
            ),
        ),
        "components": inline_svg(
            charts.bars_drawing(
                [c.label for c in components], [c.score for c in components], [c.score_text for c in components], 100
            ),
            "components-chart",
            words.vitality,
            words.components_alt,
        ),
        "occupancy": inline_svg(
            charts.bars_drawing(
                [m.name for m in markets],
                [None if m.occupancy is None else m.occupancy * 100 for m in markets],
                [m.occupancy_text for m in markets],
                100,
            ),
            "occupancy-chart",
            words.markets,
            words.occupancy_alt,
        ),
        "services": inline_svg(
            charts.bars_drawing(
                [s.label for s in report.services],
                [float(s.points) for s in report.services],
                [str(s.points) for s in report.services],
                max([s.points for s in report.services], default=1),
            ),
            "services-chart",
            words.services,
            words.services_alt,
        ),
    }


def render_html(report: Report) -> str:
    template = _ENVIRONMENT.get_template("report.html.j2")

    def day(value: date) -> str:
        return day_text(value, report.words)

    return template.render(
        report=report,
        css=Markup(CSS),  # noqa: S704 - the package's own style sheet, allowed by its hash
        charts=_charts(report),
        day_text=day,
        impact_days=IMPACT_WINDOW_DAYS,
    )
