"""The report in GitHub-flavoured Markdown, for pasting into a written report: a heading, the
moment judged, the summary, then one table per group. No charts and no links; a trend column
shows the plotted values as a text sparkline."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from ..default_plugins.markdown_output import escape_cell
from ..default_plugins.outputs import counts_text
from ..i18n import _, status_label
from .chartspec import BarChart, Chart

if TYPE_CHECKING:
    from . import Report

HEADERS: Final = ("Status", "Title", "Series", "Period", "Value", "Target", "Margin", "Trend", "Message")


def headers() -> list[str]:
    """:data:`HEADERS` in the current locale."""
    return [_("Status"), _("Title"), _("Series"), _("Period"), _("Value"), _("Target"), _("Margin"), _("Trend"), _("Message")]
_TICKS: Final = "▁▂▃▄▅▆▇█"
_ENTITY = re.compile(r"&(?=#?\w+;)")


def cell(text: str) -> str:
    """``text`` safe inside a table cell and shown literally: pipes and line breaks as
    :func:`escape_cell` does, and ``<`` / ``>`` (and ``&`` starting an entity) backslash-escaped
    so that no renderer reads user text as HTML."""
    return escape_cell(_ENTITY.sub(r"\\&", text).replace("<", "\\<").replace(">", "\\>"))


def sparkline(chart: Chart | None) -> str:
    """The chart's data (the series, the running total or the bars) as block characters."""
    if chart is None:
        return ""
    if isinstance(chart, BarChart):
        values = [float(b.value) for b in chart.bars]
    else:
        data = [ln for ln in chart.lines if ln.role in ("series", "cumulative")]
        values = [float(p.y) for p in data[0].points] if data else []
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(_TICKS[int((v - low) / span * (len(_TICKS) - 1)) if span else 3] for v in values)


def render_markdown(report: Report) -> str:
    """The whole report as Markdown text (ends with a newline)."""
    from tabulate import tabulate

    blocks = [f"# {cell(report.title)}", f"{cell(report.period)} ({report.period_start} – {report.period_last_day}) · {cell(report.subtitle)}",
              f"**{cell(report.as_of_note)}**",
              f"**{_('Summary:')}** " + (" · ".join(_("{count} {status}").format(count=n, status=status_label(s)) for s, n in report.summary.items() if n)
                                          if report.rule_count else _("no targets"))]
    for group in report.groups:
        counts = counts_text(group.summary)
        rows = [[cell(f"{e.symbol} {status_label(e.status)}"), cell(e.title), cell(e.series or "—"), cell(e.period), cell(e.value), cell(e.target),
                 cell(e.margin), sparkline(e.chart), cell(e.message)] for e in group.entries]
        blocks.append(f"## {cell(group.title)} ({counts})")
        blocks.append(tabulate(rows, headers=headers(), tablefmt="github", disable_numparse=True))
    if report.problems:
        blocks.append(f"**{_('Problems:')}**\n\n" + "\n".join(f"- {cell(p)}" for p in report.problems))
    return "\n\n".join(blocks) + "\n"
