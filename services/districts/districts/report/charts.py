"""The report's pictures as ReportLab drawings: the same drawing goes into the PDF and, as SVG, into the HTML.

Each kind of place on the map has its own shape as well as its own colour, so the map reads in
black and white and without telling colours apart; every chart has its figures in a table too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import FILL_EVEN_ODD, Circle, Drawing, Path, Polygon, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib.colors import Color, HexColor

from districts.report.domain import MARK_KINDS, PerimeterMap, Trend, Words, short_day

FONT = "Helvetica"
INK = HexColor("#1f2933")
MUTED = HexColor("#52606d")
AREA_FILL = HexColor("#e6edf7")
AREA_EDGE = HexColor("#1e3a8a")
KIND_COLOURS = {
    "market": HexColor("#9d174d"),
    "historic": HexColor("#b45309"),
    "kiosk": HexColor("#1d4ed8"),
    "shop": HexColor("#047857"),
}
LINE_COLOURS = (HexColor("#1d4ed8"), HexColor("#b45309"))
WIDTH = 440.0
LEGEND_HEIGHT = 18.0
LABEL_CHARS = 34


def _mark(kind: str, x: float, y: float, size: float = 3.2) -> Rect | Polygon | Circle:
    """A market is a square, a historic shop a diamond, a kiosk a triangle, any other shop a dot."""
    colour = KIND_COLOURS[kind]
    edge = HexColor("#ffffff")
    if kind == "market":
        return Rect(x - size, y - size, 2 * size, 2 * size, fillColor=colour, strokeColor=edge, strokeWidth=0.6)
    if kind == "historic":
        points = [x, y + size * 1.3, x + size * 1.3, y, x, y - size * 1.3, x - size * 1.3, y]
        return Polygon(points, fillColor=colour, strokeColor=edge, strokeWidth=0.6)
    if kind == "kiosk":
        points = [x - size * 1.2, y - size, x + size * 1.2, y - size, x, y + size * 1.2]
        return Polygon(points, fillColor=colour, strokeColor=edge, strokeWidth=0.6)
    return Circle(x, y, size * 0.8, fillColor=colour, strokeColor=edge, strokeWidth=0.4)


def map_drawing(m: PerimeterMap, words: Words) -> Drawing:
    """The perimeter (holes left empty) with the places inside, and a legend with the count of each kind."""
    drawing = Drawing(m.width, m.height + LEGEND_HEIGHT)
    outline = Path(fillColor=AREA_FILL, strokeColor=AREA_EDGE, strokeWidth=1.2, fillMode=FILL_EVEN_ODD)
    for ring in m.rings:
        if not ring:
            continue
        outline.moveTo(ring[0][0], ring[0][1] + LEGEND_HEIGHT)
        for x, y in ring[1:]:
            outline.lineTo(x, y + LEGEND_HEIGHT)
        outline.closePath()
    drawing.add(outline)
    for mark in m.marks:
        drawing.add(_mark(mark.kind, mark.x, mark.y + LEGEND_HEIGHT))
    column = m.width / len(MARK_KINDS)
    for i, kind in enumerate(MARK_KINDS):
        x = i * column + 8
        drawing.add(_mark(kind, x, 7))
        label = f"{words.legend[kind]} ({m.count(kind)})"
        drawing.add(String(x + 8, 4, label, fontName=FONT, fontSize=7, fillColor=INK))
    return drawing


def _step(top: float) -> float:
    """A round step giving at most about five ticks up to ``top``."""
    raw = max(top / 5, 1e-9)
    power = 10 ** math.floor(math.log10(raw))
    return next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw)


def _no_data(drawing: Drawing, text: str) -> Drawing:
    drawing.add(
        String(
            drawing.width / 2, drawing.height / 2, text, fontName=FONT, fontSize=9, fillColor=MUTED, textAnchor="middle"
        )
    )
    return drawing


def trend_drawing(trends: Sequence[Trend], start: date, end: date, words: Words, height: float = 150) -> Drawing:
    """One line per trend, day by day; shares are drawn in percent, the vitality index on 0-100."""
    legend = LEGEND_HEIGHT if len(trends) > 1 else 0.0
    drawing = Drawing(WIDTH, height + legend)
    drawn = [
        (i, [((day - start).days, value * 100 if t.share else value) for day, value in t.days])
        for i, t in enumerate(trends)
    ]
    drawn = [(i, points) for i, points in drawn if points]
    if not drawn:
        return _no_data(drawing, words.no_data)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 44, 24 + legend, WIDTH - 64, height - 36
    plot.data = [points for _, points in drawn]
    days = max((end - start).days, 1)
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, days
    plot.xValueAxis.valueSteps = list(range(0, days + 1, 15))
    plot.xValueAxis.labelTextFormat = lambda v: short_day(start + timedelta(days=int(v)))
    bounded = any(t.share or t.metric == "vitality_index" for t in trends)
    top = 100.0 if bounded else max(max(v for _, points in drawn for _, v in points) * 1.2, 1.0)
    step = 20.0 if bounded else max(_step(top), 1.0)  # counts: whole ticks
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, math.ceil(top / step) * step
    plot.yValueAxis.valueStep = step
    plot.yValueAxis.labelTextFormat = lambda v: f"{v:g}".replace(".", words.decimal)
    for axis in (plot.xValueAxis, plot.yValueAxis):
        axis.labels.fontName, axis.labels.fontSize, axis.labels.fillColor = FONT, 7, MUTED
        axis.strokeColor = MUTED
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = HexColor("#d9e2ec")
    for line, (i, _) in enumerate(drawn):
        colour: Color = LINE_COLOURS[i % len(LINE_COLOURS)]
        plot.lines[line].strokeColor = colour
        plot.lines[line].strokeWidth = 1.5
        plot.lines[line].symbol = makeMarker("FilledCircle", size=2.5, fillColor=colour, strokeColor=colour)
    drawing.add(plot)
    if legend:
        for i, trend in enumerate(trends):
            x = 44 + i * (WIDTH - 64) / len(trends)
            colour = LINE_COLOURS[i % len(LINE_COLOURS)]
            drawing.add(Rect(x, 5, 12, 3, fillColor=colour, strokeColor=colour))
            drawing.add(String(x + 16, 3, trend.label, fontName=FONT, fontSize=7, fillColor=INK))
    return drawing


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def bars_drawing(labels: Sequence[str], values: Sequence[float | None], texts: Sequence[str], top: float) -> Drawing:
    """Horizontal bars, the first label at the top, each bar labelled with its text."""
    rows = max(len(labels), 1)
    drawing = Drawing(WIDTH, 28 + rows * 18)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 170, 18, WIDTH - 215, rows * 18
    chart.data = [[v or 0.0 for v in values]]
    chart.bars[0].fillColor = AREA_EDGE
    chart.bars[0].strokeColor = None
    chart.categoryAxis.categoryNames = [_short(label) for label in labels]
    chart.categoryAxis.reverseDirection = 1
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = FONT, 7
    chart.categoryAxis.labels.fillColor = INK
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.valueAxis.valueStep = _step(top) if top >= 100 else max(_step(top), 1.0)  # counts: whole ticks
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = FONT, 7
    chart.valueAxis.labels.fillColor = MUTED
    chart.valueAxis.labelTextFormat = lambda v: f"{v:g}"
    chart.barLabelFormat = "values"
    chart.barLabelArray = [list(texts)]
    chart.barLabels.fontName, chart.barLabels.fontSize, chart.barLabels.fillColor = FONT, 7, INK
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing
