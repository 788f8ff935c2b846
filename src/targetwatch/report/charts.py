"""Small, self-contained SVG charts for the report, drawn from a :mod:`.chartspec` chart.

Why our own few hundred lines rather than a charting library: the report must be one
offline file that diffs and tests well. The server-side SVG library that fits (pygal) emits
random element ids, a timestamp, links to its site and a stylesheet in every chart (about
17 kB for four points), reads the x axis as categories (our periods are calendar intervals of
mixed lengths) and has no notion of a pace line, shaded base period or a marker on one point.

The output is deterministic for a given chart, uses presentation attributes only (a chart
copied out of the page keeps its look), never contains a URL, and carries its numbers for
screen readers in ``aria-label`` and ``<title>``. Every drawn datum has the class ``data``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from markupsafe import Markup, escape

from ..i18n import _, pgettext, status_label
from ..numbers import format_number
from .chartspec import Bar, BarChart, Chart, Line, TimeChart

WIDTH = 480
PLOT_HEIGHT = 120
LEFT, RIGHT, TOP = 58, 14, 18
LEGEND_LINE = 15
FONT = 10

#: Stroke colour and dash pattern of each line role.
LINE_STYLE = {
    "series": ("#0969da", "", 2.0),
    "cumulative": ("#0969da", "", 2.5),
    "target": ("#24292f", "6 4", 1.5),
    "warn": ("#bf8700", "4 3", 1.5),
    "pace": ("#6e7781", "2 3", 1.5),
    "forecast": ("#0969da", "1 3", 1.5),
}
RULE_STYLE = {"as_of": ("#6e7781", "3 2"), "deadline": ("#24292f", ""), "stale": ("#bf8700", "")}
BAND_FILL = {"judged": "#ddf4ff", "base": "#eaeef2"}
BREACH = "#cf222e"
BAR_OWN, BAR_PEER = "#0969da", "#afb8c1"


def render(chart: Chart, chart_id: str) -> Markup:
    """The chart as an inline ``<svg class="chart">`` element (markup-safe)."""
    if isinstance(chart, BarChart):
        return _bar_chart(chart, chart_id)
    return _time_chart(chart, chart_id)


def describe(chart: Chart) -> str:
    """The chart in words, with every number drawn (for ``aria-label``), in the current locale."""
    comma = pgettext("list separator", ", ")
    parts = [chart.caption]
    if isinstance(chart, BarChart):
        names = [_("{label} (this series)").format(label=b.label) if b.own else b.label for b in chart.bars]
        parts.append(comma.join(f"{name} {_num(b.value, chart.unit)}" for name, b in zip(names, chart.bars, strict=True)))
        parts += [r.label for r in chart.references]
    else:
        for line in chart.lines:
            if line.role in ("series", "cumulative"):
                values = comma.join(f"{p.label} {_num(p.y, chart.unit)}" for p in line.points)
                parts.append(_("{label}: {values}").format(label=line.label, values=values))
            else:
                parts.append(line.label)
        parts += [m.label for m in chart.markers] + [r.label for r in chart.rules] + [b.label for b in chart.bands]
    return pgettext("list separator", "; ").join(parts)


# -- scales ----------------------------------------------------------------------------------


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) covering ``[low, high]``."""
    if not high - low > 1e-9 * max(1.0, abs(low), abs(high)):  # one value (or float noise): pad it
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / count
    exponent = math.floor(math.log10(raw))
    magnitude = 10.0**exponent
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    # Rounded to the step's own precision, so 0.1 + 0.2 shows as 0.3.
    return [round(i * step, max(0, 2 - exponent)) for i in range(first, last + 1)]


def _num(value: Decimal | float, unit: str | None) -> str:
    return format_number(value if isinstance(value, Decimal) else Decimal(repr(value)), unit)


def _tick_text(value: float, unit: str | None) -> str:
    return _num(value, "%" if unit == "%" else None)


def _text_width(text: str, size: float = FONT) -> float:
    """Rough rendered width: CJK characters are about one em, others about 0.6 em."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.6 for c in text)


class _Scale:
    def __init__(self, low: float, high: float, out_low: float, out_high: float) -> None:
        self.low, self.high, self.out_low, self.out_high = low, high, out_low, out_high

    def __call__(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return round(self.out_low + (value - self.low) / span * (self.out_high - self.out_low), 1)


def _y_scale(values: Iterable[float], zero: bool, bottom: float) -> tuple[_Scale, list[float]]:
    values = list(values) or [0.0]
    low, high = min(values), max(values)
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    elif high > low:
        pad = (high - low) * 0.08
        low, high = low - pad, high + pad
    ticks = nice_ticks(low, high)
    return _Scale(ticks[0], ticks[-1], bottom, TOP), ticks


def _x_ticks(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    days = (end - start).days
    if days <= 16:
        return [(start + dt.timedelta(days=i), (start + dt.timedelta(days=i)).strftime("%m-%d")) for i in range(0, days + 1, max(1, days // 6))]
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    every = next((n for n in (1, 2, 3, 6) if months / n <= 7), 0)
    if every:
        out = []
        y, m = start.year, start.month
        while (y, m) <= (end.year, end.month):
            day = dt.date(y, m, 1)
            if start <= day <= end and (m - 1) % every == 0:
                out.append((day, day.strftime("%Y-%m")))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    years = end.year - start.year + 1
    step = max(1, math.ceil(years / 7))
    return [(dt.date(y, 1, 1), str(y)) for y in range(start.year, end.year + 1, step) if start <= dt.date(y, 1, 1) <= end]


# -- drawing ---------------------------------------------------------------------------------


def _attrs(**values: object) -> str:
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in values.items() if v not in (None, ""))


def _legend(items: list[tuple[str, str]], top: float) -> tuple[list[str], float]:
    """Legend entries (an SVG swatch and a label) laid out in rows; returns the rows' height."""
    out, x, y = [], float(LEFT), top
    for swatch, label in items:
        width = 22 + _text_width(label) + 14
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = float(LEFT), y + LEGEND_LINE
        out.append(f'<g transform="translate({x:.0f},{y:.0f})">{swatch}<text x="22" y="4"{_attrs(font_size=FONT)} fill="#57606a">{escape(label)}</text></g>')
        x += width
    return out, (y - top + LEGEND_LINE) if items else 0.0


def _line_swatch(role: str) -> str:
    colour, dash, width = LINE_STYLE[role]
    return f'<line x1="0" y1="0" x2="16" y2="0"{_attrs(stroke=colour, stroke_width=width, stroke_dasharray=dash)}/>'


def _svg(chart: Chart, chart_id: str, height: float, body: list[str]) -> Markup:
    label = describe(chart)
    head = (f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
            f'role="img" aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
            f"<title>{escape(label)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def _y_axis(scale: _Scale, ticks: list[float], unit: str | None) -> list[str]:
    out = []
    for t in ticks:
        y = scale(t)
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#d0d7de" stroke-width="0.7"/>')
        out.append(f'<text x="{LEFT - 5}" y="{y + 3.5}" text-anchor="end"{_attrs(font_size=FONT)} fill="#57606a">{escape(_tick_text(t, unit))}</text>')
    if unit and unit != "%":
        out.append(f'<text x="{LEFT - 5}" y="{TOP - 7}" text-anchor="end"{_attrs(font_size=FONT)} fill="#57606a">{escape(unit)}</text>')
    return out


def _time_chart(chart: TimeChart, chart_id: str) -> Markup:
    bottom = TOP + PLOT_HEIGHT
    span = max((chart.end - chart.start).days, 1)
    xs = _Scale(0, span, LEFT, WIDTH - RIGHT)

    def x(day: dt.date) -> float:
        return xs(min(max((day - chart.start).days, 0), span))

    values = [float(p.y) for line in chart.lines for p in line.points] + [float(m.point.y) for m in chart.markers]
    ys, ticks = _y_scale(values, chart.zero, bottom)
    body: list[str] = []
    for band in chart.bands:
        x1, x2 = x(band.start), x(band.end)
        body.append(f'<rect class="band band-{band.role}" x="{x1}" y="{TOP}" width="{max(x2 - x1, 1)}" height="{PLOT_HEIGHT}" fill="{BAND_FILL[band.role]}"/>')
        body.append(f'<text x="{x1 + 3}" y="{TOP + 10}"{_attrs(font_size=FONT - 1)} fill="#57606a">{escape(band.label)}</text>')
    body += _y_axis(ys, ticks, chart.unit)
    body.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#57606a" stroke-width="1"/>')
    for day, text in _x_ticks(chart.start, chart.end):
        # A label at the right edge would be cut in half: it ends at its tick instead.
        anchor = "end" if x(day) + _text_width(text) / 2 > WIDTH - 2 else "middle"
        body.append(f'<line x1="{x(day)}" y1="{bottom}" x2="{x(day)}" y2="{bottom + 4}" stroke="#57606a"/>')
        body.append(f'<text x="{x(day)}" y="{bottom + 15}" text-anchor="{anchor}"{_attrs(font_size=FONT)} fill="#57606a">{escape(text)}</text>')
    for rule in chart.rules:
        colour, dash = RULE_STYLE[rule.role]
        body.append(f'<line class="rule rule-{rule.role}" x1="{x(rule.x)}" y1="{TOP}" x2="{x(rule.x)}" y2="{bottom}"{_attrs(stroke=colour, stroke_dasharray=dash, stroke_width=1.2)}/>')
    order = {"target": 0, "warn": 1, "pace": 2, "forecast": 3, "series": 4, "cumulative": 5}
    for line in sorted(chart.lines, key=lambda ln: order[ln.role]):
        body += _polyline(line, x, ys)
    for marker in chart.markers:
        cx, cy = x(marker.point.x), ys(float(marker.point.y))
        if marker.role == "breach":
            body.append(f'<g class="data marker marker-breach"><title>{escape(marker.label)}</title>'
                        f'<circle cx="{cx}" cy="{cy}" r="6.5" fill="none" stroke="{BREACH}" stroke-width="2"/>'
                        f'<path d="M{cx - 3.5} {cy - 3.5}L{cx + 3.5} {cy + 3.5}M{cx + 3.5} {cy - 3.5}L{cx - 3.5} {cy + 3.5}" stroke="{BREACH}" stroke-width="2"/></g>')
        else:
            body.append(f'<path class="data marker marker-expected" d="M{cx} {cy - 5}L{cx + 5} {cy}L{cx} {cy + 5}L{cx - 5} {cy}Z" fill="#fff" stroke="#6e7781" stroke-width="1.5"><title>{escape(marker.label)}</title></path>')
    items = [(_line_swatch(ln.role), ln.label) for ln in chart.lines]
    items += [(f'<line x1="8" y1="-5" x2="8" y2="5"{_attrs(stroke=RULE_STYLE[r.role][0], stroke_dasharray=RULE_STYLE[r.role][1], stroke_width=1.2)}/>', r.label) for r in chart.rules]
    items += [(_marker_swatch(m.role), m.label) for m in chart.markers]
    legend, legend_height = _legend(items, bottom + 32)
    return _svg(chart, chart_id, bottom + 26 + legend_height, body + legend)


def _marker_swatch(role: str) -> str:
    if role == "breach":
        return f'<circle cx="8" cy="0" r="5" fill="none" stroke="{BREACH}" stroke-width="2"/>'
    return '<path d="M8 -4L12 0L8 4L4 0Z" fill="#fff" stroke="#6e7781" stroke-width="1.5"/>'


def _polyline(line: Line, x: Callable[[dt.date], float], ys: _Scale) -> list[str]:
    colour, dash, width = LINE_STYLE[line.role]
    coords = [(x(p.x), ys(float(p.y))) for p in line.points]
    points = " ".join(f"{cx},{cy}" for cx, cy in coords)
    out = []
    if len(coords) > 1:  # one point draws no line: its dot shows it
        out.append(f'<polyline class="data line line-{line.role}" points="{points}" fill="none"{_attrs(stroke=colour, stroke_width=width, stroke_dasharray=dash)} stroke-linejoin="round"/>')
    if line.dots:
        for (cx, cy), p in zip(coords, line.points):
            out.append(f'<circle class="data dot" cx="{cx}" cy="{cy}" r="3" fill="#fff" stroke="{colour}" stroke-width="1.8"><title>{escape(_("{label}: {value}").format(label=p.label, value=p.y))}</title></circle>')
    return out


def _bar_chart(chart: BarChart, chart_id: str) -> Markup:
    bottom = TOP + PLOT_HEIGHT
    values = [float(b.value) for b in chart.bars] + [float(r.value) for r in chart.references]
    ys, ticks = _y_scale(values, True, bottom)
    body = _y_axis(ys, ticks, chart.unit)
    slot = (WIDTH - RIGHT - LEFT) / max(len(chart.bars), 1)
    width = min(slot * 0.7, 40)
    for i, bar in enumerate(chart.bars):
        body += _bar(bar, LEFT + slot * i + (slot - width) / 2, width, ys, chart.unit)
        label = bar.label if _text_width(bar.label) <= slot else bar.label[: max(int(slot // FONT), 2)] + "…"
        weight = "bold" if bar.own else ""
        body.append(f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{bottom + 15}" text-anchor="middle"{_attrs(font_size=FONT, font_weight=weight)} fill="#24292f">{escape(label)}</text>')
    body.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#57606a" stroke-width="1"/>')
    for ref in chart.references:
        y = ys(float(ref.value))
        body.append(f'<polyline class="data line line-target" points="{LEFT},{y} {WIDTH - RIGHT},{y}" fill="none" stroke="#24292f" stroke-width="1.5" stroke-dasharray="6 4"/>')
    items = [(f'<rect x="2" y="-5" width="12" height="10" fill="{BAR_OWN}"/>', pgettext("chart", "this series")),
             (f'<rect x="2" y="-5" width="12" height="10" fill="{BAR_PEER}"/>', pgettext("chart", "peers"))]
    if any(b.breach for b in chart.bars):
        items.append((f'<rect x="2" y="-5" width="12" height="10" fill="{BREACH}"/>', pgettext("chart", "breach")))
    items += [(_line_swatch("target"), r.label) for r in chart.references]
    legend, legend_height = _legend(items, bottom + 32)
    return _svg(chart, chart_id, bottom + 26 + legend_height, body + legend)


def _bar(bar: Bar, left: float, width: float, ys: _Scale, unit: str | None) -> list[str]:
    top, base = ys(float(bar.value)), ys(0.0)
    fill = BREACH if bar.breach else BAR_OWN if bar.own else BAR_PEER
    text = escape(_("{label}: {value}").format(label=bar.label, value=_num(bar.value, unit)))
    return [f'<rect class="data bar{" bar-own" if bar.own else ""}" x="{left:.1f}" y="{min(top, base)}" width="{width:.1f}" height="{max(abs(base - top), 0.5):.1f}" fill="{fill}"><title>{text}</title></rect>',
            f'<text x="{left + width / 2:.1f}" y="{min(top, base) - 3}" text-anchor="middle"{_attrs(font_size=FONT - 1)} fill="#57606a">{escape(_num(bar.value, "%" if unit == "%" else None))}</text>']


STATUS_FILL = {"OK": "#2da44e", "WARN": "#d4a72c", "BREACH": BREACH, "UNKNOWN": "#8c959f", "ERROR": "#8250df"}


def status_bar(summary: Mapping[str, int], order: tuple[str, ...]) -> Markup:
    """A horizontal bar split by status counts, labelled for screen readers in the current
    locale (``2 BREACH, 4 WARN``; ``BREACH 未达标 2 项，WARN 预警 4 项``)."""
    counts = {s: summary.get(s, 0) for s in order}
    total = sum(counts.values())
    words = (_("{count} {status}").format(count=n, status=status_label(s)) for s, n in counts.items() if n)
    label = pgettext("list separator", ", ").join(words) or _("no targets")
    out = [f'<svg class="status-bar" viewBox="0 0 600 14" width="600" height="14" role="img" aria-label="{escape(label)}" preserveAspectRatio="none"><title>{escape(label)}</title>']
    x = 0.0
    for status, n in counts.items():
        if n and total:
            width = 600 * n / total
            out.append(f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="14" fill="{STATUS_FILL[status]}"/>')
            x += width
    return Markup("".join(out) + "</svg>")
