"""Which chart a verdict gets, decided from its kind, its ``details`` and its series (pure).

Every built-in kind has a builder that draws what its verdict was about: the running total
against the target and the pace line for ``minimum`` and ``progress``; the judged period
against its base for ``growth``; the levels against their bounds for ``threshold``, ``cap``
and ``coverage``; the peers for ``rank`` and ``share``; the deadline for ``milestone``; the
age for ``freshness``. A kind the report does not know, or a builder that meets details it
did not expect, falls back to a plain line chart of the series: a report never fails on a
chart.

Every text a chart shows (caption, legend, band and marker labels) is built in the current
locale (:mod:`targetwatch.i18n`); the English text is the msgid itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ..i18n import _, pgettext, status_label
from ..model import Status
from ..numbers import format_number
from .chartspec import Band, Chart, Line, Marker, Point, TimeChart, VRule

if TYPE_CHECKING:
    from ..data import Dataset
    from ..model import Indicator, Rule, Series, Verdict
    from ..periods import Calendar, Period

log = logging.getLogger(__name__)
ONE_DAY = dt.timedelta(days=1)
#: Level charts show at most this many of the newest observations.
RECENT = 12


@attrs.frozen
class FigureInput:
    """What a builder may look at: the verdict, its rule (``None`` if unknown), the series it
    judged as visible at ``as_of`` (``None`` when there is none), and all the visible data."""

    verdict: Verdict
    rule: Rule | None
    series: Series | None
    data: Dataset
    calendar: Calendar
    as_of: dt.datetime
    indicators: Mapping[str, Indicator]

    @property
    def today(self) -> dt.date:
        return self.as_of.date()

    @property
    def unit(self) -> str | None:
        info = self.indicators.get(self.verdict.indicator)
        return info.unit if info else None

    @property
    def breached(self) -> bool:
        return self.verdict.status is Status.BREACH

    def param(self, name: str, default: Any = None) -> Any:
        return getattr(self.rule.params, name, default) if self.rule is not None else default

    def detail(self, name: str) -> Any:
        return self.verdict.details.get(name)

    def period(self, text: object) -> Period:
        from ..periods import Period

        return text if isinstance(text, Period) else self.calendar.parse(str(text))

    def caption(self, what: str) -> str:
        info = self.indicators.get(self.verdict.indicator)
        name = (info.title if info and info.title else None) or self.verdict.indicator
        labels = pgettext("list separator", ", ").join(v for _key, v in self.verdict.labels)
        if labels:
            return _("{name} ({labels}): {what}").format(name=name, labels=labels, what=what)
        return _("{name}: {what}").format(name=name, what=what)


Builder = Callable[[FigureInput], Chart | None]


def figure(inp: FigureInput) -> Chart | None:
    """The chart for one verdict, or ``None`` when there is nothing to draw (no data)."""
    builder = builders().get(inp.verdict.kind)
    chart: Chart | None = None
    if builder is not None:
        try:
            with decimal.localcontext() as ctx:
                ctx.prec = 28
                chart = builder(inp)
        except Exception as exc:  # noqa: BLE001 - a chart must never take the report down
            log.debug("no %s chart for %s: %s: %s", inp.verdict.kind, inp.verdict.rule, type(exc).__name__, exc)
            chart = None
    if chart is None or not chart.has_data:
        chart = plain(inp)
    return chart if chart is not None and chart.has_data else None


# -- helpers ---------------------------------------------------------------------------------


def as_decimal(value: object) -> Decimal | None:
    """A detail as a Decimal (details hold Decimals, ints or their text); ``None`` if it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except decimal.InvalidOperation:
        return None


def _day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _mid(period: Period) -> dt.date:
    return period.start + (period.end - period.start) // 2


def _obs(observations: Sequence[tuple[Period, Decimal]]) -> tuple[Point, ...]:
    return tuple(Point(_mid(p), v, p.label) for p, v in observations)


def _hline(role: Any, label: str, value: Decimal, start: dt.date, end: dt.date) -> Line:
    return Line(role, label, (Point(start, value, label), Point(end, value, label)))


def fmt_value(inp: FigureInput, value: Decimal | int | None) -> str:
    """A value in the verdict's indicator unit, for legends and chart descriptions."""
    return format_number(value, inp.unit)


def _as_of_rule(inp: FigureInput, start: dt.date, end: dt.date) -> tuple[VRule, ...]:
    return (VRule("as_of", _("as of {date}").format(date=inp.today), inp.today),) if start < inp.today < end else ()


def _recent(series: Series | None, judged: Period | None = None) -> list[tuple[Period, Decimal]]:
    if series is None:
        return []
    points = list(series)
    if judged is not None:
        # Nothing newer than the judged observation: it is what the verdict is about.
        points = [(p, v) for p, v in points if p.start <= judged.start]
    return points[-RECENT:]


# -- builders --------------------------------------------------------------------------------


def plain(inp: FigureInput) -> TimeChart | None:
    """The series' newest observations as a line; the judged period shaded; a breach marked."""
    judged = inp.verdict.period
    points = _recent(inp.series)
    if not points:
        return None
    start, end = points[0][0].start, max(p.end for p, _v in points)
    bands = (_judged_band(judged),) if judged is not None and judged.start >= start else ()
    status = status_label(inp.verdict.status.value)
    markers = tuple(Marker("breach", _("{status}: {period}").format(status=status, period=p.label), Point(_mid(p), v, p.label))
                    for p, v in points if inp.breached and p == judged)
    return TimeChart(inp.caption(pgettext("chart", "observations")), inp.unit, start, end, (Line("series", inp.verdict.indicator, _obs(points), dots=True),),
                     markers, _as_of_rule(inp, start, end), bands)


def _judged_band(judged: Period) -> Band:
    return Band("judged", _("judged: {period}").format(period=judged), judged.start, judged.end)


def _breach_at(value: str, period: object) -> str:
    return _("breach: {value} for {period}").format(value=value, period=period)


def _in(how: str, period: Period) -> str:
    """``sum in 2023-H2``: an aggregate over a period, for captions and legends."""
    from ..default_plugins.pace import aggregate_word

    return _("{how} in {period}").format(how=aggregate_word(how), period=period)


def _level(inp: FigureInput, points: list[tuple[Period, Decimal]], bounds: Sequence[tuple[Any, str, Decimal | None]],
           alerts: Callable[[Decimal], bool] | None, what: str, unit: str | None = None) -> TimeChart | None:
    """Values against horizontal bounds (role, translated label with a ``{value}`` placeholder,
    value); every value that ``alerts`` is marked."""
    if not points:
        return None
    unit = inp.unit if unit is None else unit
    judged = inp.verdict.period
    start, end = points[0][0].start, max(p.end for p, _v in points)
    if judged is not None:
        start, end = min(start, judged.start), max(end, judged.end)
    lines = [Line("series", what, _obs(points), dots=True)]
    for role, label, value in bounds:
        if value is not None:
            lines.append(_hline(role, label.format(value=format_number(value, unit)), value, start, end))
    flagged = [(p, v) for p, v in points if (alerts(v) if alerts else inp.breached and p == judged)]
    markers = tuple(Marker("breach", _breach_at(format_number(v, unit), p.label), Point(_mid(p), v, p.label)) for p, v in flagged)
    bands = (_judged_band(judged),) if judged is not None else ()
    return TimeChart(inp.caption(what), unit, start, end, tuple(lines), markers, _as_of_rule(inp, start, end), bands)


def threshold(inp: FigureInput) -> TimeChart | None:
    crit = inp.param("critical")
    alerts = crit().alerts if callable(crit) else None
    bounds = [("target", _("min {value}"), as_decimal(inp.detail("min"))), ("target", _("max {value}"), as_decimal(inp.detail("max"))),
              ("warn", _("warn below {value}"), as_decimal(inp.detail("warn_min"))), ("warn", _("warn above {value}"), as_decimal(inp.detail("warn_max")))]
    return _level(inp, _recent(inp.series, inp.verdict.period), bounds, alerts, pgettext("chart", "observations"))


def coverage(inp: FigureInput) -> TimeChart | None:
    if inp.series is None:
        return None
    low, high = as_decimal(inp.detail("min")), as_decimal(inp.detail("max"))
    points = list(inp.series)
    if inp.rule is not None and len(inp.rule.indicators) > 1:
        den = inp.data.get(inp.rule.indicators[1], inp.series.labels)
        shares = []
        for p, num in points:
            whole = den.value_at(p) if den is not None else None
            if whole is not None and whole > 0:
                shares.append((p, num / whole))
        points = shares
    judged = inp.verdict.period
    points = [(p, v) for p, v in points if judged is None or p.start <= judged.start][-RECENT:]

    def alerts(v: Decimal) -> bool:
        return (low is not None and v < low) or (high is not None and v > high)

    bounds = [("target", _("min {value}"), low), ("target", _("max {value}"), high), ("warn", _("warn below {value}"), as_decimal(inp.detail("warn_min")))]
    return _level(inp, points, bounds, alerts, pgettext("chart", "coverage"), unit="%")


def _pace(inp: FigureInput, start: dt.date, end: dt.date, obs: Sequence[tuple[Period, Decimal]], target: Decimal,
          *, increments: bool, count: bool = False, ceiling: bool = False) -> TimeChart:
    """A running total over the window ``[start, end)`` against the target, with the pace line
    (target × elapsed) and the forecast while the window is open."""
    today = inp.today
    open_ = start <= today < end
    points: list[Point] = [Point(start, Decimal(0), str(start))] if increments else []
    total = Decimal(0)
    for p, v in sorted(obs, key=lambda o: (o[0].end, o[0].start)):
        total = total + (1 if count else v) if increments else v
        x = min(max(p.end, start), end, today if open_ else end)
        points.append(Point(x, total, p.label))
    so_far = pgettext("chart", "count so far") if count else pgettext("chart", "total so far")
    limit = (_("max {value}") if ceiling else _("target {value}")).format(value=fmt_value(inp, target))
    lines = [Line("cumulative", so_far, tuple(points), dots=True), _hline("target", limit, target, start, end)]
    markers: list[Marker] = []
    if open_:
        pace = _("pace (allowance × time elapsed)") if ceiling else _("pace (target × time elapsed)")
        lines.append(Line("pace", pace, (Point(start, Decimal(0), str(start)), Point(end, target, str(end - ONE_DAY)))))
        expected = as_decimal(inp.detail("expected"))
        if expected is not None:
            markers.append(Marker("expected", _("expected by now {value}").format(value=fmt_value(inp, expected)), Point(today, expected, str(today))))
        forecast = as_decimal(inp.detail("forecast"))
        if forecast is not None and points:
            last = points[-1]
            lines.append(Line("forecast", _("forecast {value}").format(value=fmt_value(inp, forecast)), (Point(today, last.y, str(today)), Point(end, forecast, str(end - ONE_DAY)))))
    if inp.breached and points:
        last = points[-1]
        status = status_label(inp.verdict.status.value)
        markers.append(Marker("breach", _("{status}: {value} by {period}").format(status=status, value=fmt_value(inp, last.y), period=last.label), last))
    rules = _as_of_rule(inp, start, end)
    return TimeChart(inp.caption(_("{start} to {end}").format(start=start, end=end - ONE_DAY)), inp.unit, start, end, tuple(lines), tuple(markers), rules, zero=True)


def minimum(inp: FigureInput) -> TimeChart | None:
    from ..default_plugins.pace import observations_in

    period = inp.period(inp.verdict.period or inp.detail("period") or inp.calendar.resolve(inp.param("period"), inp.as_of))
    obs = observations_in(inp.series, period) if inp.series is not None else []
    how = str(inp.detail("aggregate") or inp.param("aggregate", "sum"))
    target = as_decimal(inp.detail("target")) if inp.detail("target") is not None else as_decimal(inp.param("min"))
    if target is None:
        return None
    if how in ("sum", "count"):
        chart = _pace(inp, period.start, period.end, obs, target, increments=True, count=how == "count")
        return attrs.evolve(chart, caption=inp.caption(_in(how, period)))
    bounds = [("target", _("min {value}"), target), ("warn", _("warn below {value}"), as_decimal(inp.param("warn_below")))]
    return _level(inp, list(obs), bounds, None, _in(how, period))


def progress(inp: FigureInput) -> TimeChart | None:
    start, deadline = _day(inp.detail("start") or inp.param("start")), _day(inp.detail("deadline") or inp.param("deadline"))
    target = as_decimal(inp.detail("target")) or as_decimal(inp.param("target"))
    if target is None:
        return None
    obs = [(p, v) for p, v in (inp.series or ()) if start <= p.start <= deadline]
    chart = _pace(inp, start, deadline + ONE_DAY, obs, target, increments=not inp.param("cumulative", False))
    return attrs.evolve(chart, caption=inp.caption(_("progress from {start} to {deadline}").format(start=start, deadline=deadline)))


def cap(inp: FigureInput) -> TimeChart | None:
    ceiling = as_decimal(inp.detail("max"))
    how = inp.param("aggregate", "latest")
    if ceiling is None:
        return None
    judged = inp.verdict.period
    if how == "sum" and judged is not None:
        from ..default_plugins.pace import observations_in

        obs = observations_in(inp.series, judged) if inp.series is not None else []
        chart = _pace(inp, judged.start, judged.end, obs, ceiling, increments=True, ceiling=True)
        return attrs.evolve(chart, caption=inp.caption(_in("sum", judged)))
    points = _recent(inp.series, judged)
    if how != "latest" and judged is not None and inp.series is not None:
        points = [(p, v) for p, v in inp.series.within(judged)]
    bounds = [("target", _("max {value}"), ceiling), ("warn", _("warn above {value}"), as_decimal(inp.detail("warn_at")))]
    return _level(inp, points, bounds, lambda v: v > ceiling, pgettext("chart", "observations"))


def growth(inp: FigureInput) -> TimeChart | None:
    judged, base_period = inp.period(inp.detail("period")), inp.period(inp.detail("base_period"))
    base, current = as_decimal(inp.detail("base")), as_decimal(inp.detail("current"))
    if inp.series is None or base is None or current is None:
        return None
    start, end = min(base_period.start, judged.start), max(base_period.end, judged.end)
    points = [(p, v) for p, v in inp.series if p.start >= start and p.end <= end]
    if inp.detail("required") is not None:
        needed: list[tuple[str, Decimal | None]] = [("target", as_decimal(inp.detail("required")))]
    else:
        lo, hi = as_decimal(inp.param("min")), as_decimal(inp.param("max"))
        needed = [("target", base * (1 + lo) if lo is not None else None), ("target", base * (1 + hi) if hi is not None else None)]
        warn = as_decimal(inp.param("warn_min"))
        needed.append(("warn", base * (1 + warn) if warn is not None else None))
    lines = [Line("series", inp.verdict.indicator, _obs(points), dots=True)]
    for role, level in needed:
        if level is not None:
            label = _("warning level {value}") if role == "warn" else _("level that passes {value}")
            lines.append(_hline(role, label.format(value=fmt_value(inp, level)), level, judged.start, judged.end))
    bands = (Band("base", _("base: {period}").format(period=base_period), base_period.start, base_period.end), _judged_band(judged))
    markers = (Marker("breach", _breach_at(fmt_value(inp, current), judged), Point(_mid(judged), current, judged.label)),) if inp.breached else ()
    compare = str(inp.detail("compare") or "growth")
    # The English text shows the parameter's own value (year_on_year), so the msgids are those.
    words = {"year_on_year": pgettext("growth comparison", "year_on_year"), "period_on_period": pgettext("growth comparison", "period_on_period"),
             "baseline": pgettext("growth comparison", "baseline"), "cagr": pgettext("growth comparison", "cagr"),
             "growth": pgettext("growth comparison", "growth")}
    what = _("{period} against {base} ({compare})").format(period=judged, base=base_period, compare=words.get(compare, compare))
    return TimeChart(inp.caption(what), inp.unit, start, end, tuple(lines), markers, (), bands)


def milestone(inp: FigureInput) -> TimeChart | None:
    deadline = _day(inp.detail("deadline") or inp.param("deadline"))
    done_at = as_decimal(inp.detail("done_at")) or Decimal(1)
    points = list(inp.series or ())[-RECENT:]
    if not points:
        return None
    start = min(points[0][0].start, deadline - dt.timedelta(days=30))
    end = max(deadline + ONE_DAY, inp.today + ONE_DAY, max(p.end for p, _v in points))
    done = _("done at {value}").format(value=fmt_value(inp, done_at))
    lines = (Line("series", inp.verdict.indicator, _obs(points), dots=True), _hline("target", done, done_at, start, end))
    rules = (VRule("deadline", _("deadline {date}").format(date=deadline), deadline + ONE_DAY), *_as_of_rule(inp, start, end))
    late = _("{status}: not done by {deadline}").format(status=status_label(inp.verdict.status.value), deadline=deadline)
    markers = (Marker("breach", late, Point(deadline + ONE_DAY, points[-1][1], str(deadline))),) if inp.breached else ()
    return TimeChart(inp.caption(_("due by {deadline}").format(deadline=deadline)), inp.unit, start, end, lines, markers, rules)


def freshness(inp: FigureInput) -> TimeChart | None:
    points = _recent(inp.series)
    if not points:
        return None
    start, end = points[0][0].start, max(max(p.end for p, _v in points), inp.today + ONE_DAY)
    rules = list(_as_of_rule(inp, start, end + ONE_DAY))
    days = as_decimal(inp.verdict.target)
    if days is not None and inp.detail("period_end") is not None:
        stale = _day(inp.detail("period_end")) + dt.timedelta(days=int(days))
        end = max(end, stale + ONE_DAY)
        rules.append(VRule("stale", _("stale after {date}").format(date=stale), stale))
    newest_p, newest_v = points[-1]
    markers = (Marker("breach", _("stale: newest data is for {period}").format(period=newest_p), Point(_mid(newest_p), newest_v, newest_p.label)),) if inp.breached else ()
    line = Line("series", inp.verdict.indicator, _obs(points), dots=True)
    return TimeChart(inp.caption(_("newest data {period}").format(period=newest_p)), inp.unit, start, end, (line,), markers, tuple(rules))


def builders() -> dict[str, Builder]:
    """Chart builders by rule kind; any other kind gets :func:`plain`."""
    from .bars import rank, share

    return {
        "threshold": threshold, "coverage": coverage, "minimum": minimum, "progress": progress, "cap": cap,
        "growth": growth, "milestone": milestone, "freshness": freshness, "rank": rank, "share": share,
    }
