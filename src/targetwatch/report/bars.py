"""Bar charts of a series among its peers for one period: ``rank`` and ``share`` verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..i18n import _
from ..numbers import format_number
from .chartspec import Bar, BarChart, Reference
from .figures import FigureInput, as_decimal, fmt_value

if TYPE_CHECKING:
    from ..periods import Period

#: Bar charts show at most this many peers (the series judged always among them).
MAX_BARS = 12


def _peers(inp: FigureInput, exclude: Any = None) -> tuple[Period, list[Bar]] | None:
    from ..default_plugins.peers import peer_series
    from ..kind import EvalContext
    from ..model import LabelSelector

    if inp.series is None or inp.detail("period") is None:
        return None
    period = inp.period(inp.detail("period"))
    selector = inp.param("peers") if isinstance(inp.param("peers"), LabelSelector) else LabelSelector()
    ctx = EvalContext(inp.as_of, inp.calendar, inp.data, dict(inp.indicators))
    others = [s for s in peer_series(inp.series, selector, inp.param("within", ()) or (), ctx) if exclude is None or not exclude.matches(s.labels)]
    bars = []
    for s in [inp.series, *others]:
        value = s.value_at(period)
        if value is not None:
            own = s is inp.series
            name = " ".join(v for _key, v in s.labels) or s.indicator
            bars.append(Bar(name, value, own=own, breach=own and inp.breached))
    reverse = inp.param("order", "desc") != "asc"
    bars.sort(key=lambda b: b.value, reverse=reverse)
    if len(bars) > MAX_BARS:
        bars = [b for i, b in enumerate(bars) if i < MAX_BARS - 1 or b.own][:MAX_BARS]
    return period, bars


def rank(inp: FigureInput) -> BarChart | None:
    found = _peers(inp)
    if found is None:
        return None
    period, bars = found
    what = _("rank {rank} of {count} in {period}").format(rank=inp.detail("rank"), count=inp.detail("peers_count"), period=period)
    return BarChart(inp.caption(what), inp.unit, tuple(bars))


def share(inp: FigureInput) -> BarChart | None:
    found = _peers(inp, exclude=inp.param("total"))
    total = as_decimal(inp.detail("total"))
    if found is None or total is None:
        return None
    period, bars = found
    refs = []
    labels = {"min": _("min {share} of {total} = {amount}"), "max": _("max {share} of {total} = {amount}")}
    for key, label in labels.items():
        bound = as_decimal(inp.detail(key))
        if bound is not None:
            text = label.format(share=format_number(bound, "%"), total=fmt_value(inp, total), amount=fmt_value(inp, bound * total))
            refs.append(Reference(text, bound * total))
    what = _("share {share} of {total} in {period}").format(share=format_number(as_decimal(inp.detail("share")), "%"), total=fmt_value(inp, total), period=period)
    return BarChart(inp.caption(what), inp.unit, tuple(bars), tuple(refs))
