"""Bar charts of a series among its peers for one period: ``rank`` and ``share`` verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
            name = " ".join(v for _, v in s.labels) or s.indicator
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
    what = f"rank {inp.detail('rank')} of {inp.detail('peers_count')} in {period}"
    return BarChart(inp.caption(what), inp.unit, tuple(bars))


def share(inp: FigureInput) -> BarChart | None:
    found = _peers(inp, exclude=inp.param("total"))
    total = as_decimal(inp.detail("total"))
    if found is None or total is None:
        return None
    period, bars = found
    refs = []
    for key in ("min", "max"):
        bound = as_decimal(inp.detail(key))
        if bound is not None:
            refs.append(Reference(f"{key} {format_number(bound, '%')} of {fmt_value(inp, total)} = {fmt_value(inp, bound * total)}", bound * total))
    what = f"share {format_number(as_decimal(inp.detail('share')), '%')} of {fmt_value(inp, total)} in {period}"
    return BarChart(inp.caption(what), inp.unit, tuple(bars), tuple(refs))
