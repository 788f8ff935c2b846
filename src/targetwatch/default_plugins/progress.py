"""The ``progress`` kind: cumulative progress toward a target by a deadline."""

from __future__ import annotations

import bisect
import datetime as dt
import operator
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import PeriodError
from ..hookspecs import hookimpl
from ..i18n import _, positional
from ..kind import EvalContext, PreparedKind, RuleKind, unknown
from ..model import Judgement, Rule, Series, Status
from ..numbers import format_number
from ..params import Date, Flag, IndicatorRef, Number, param
from .gaps import (
    Gap,
    covered_in,
    finest,
    gaps_param,
    incomplete,
    starting_within,
    uncovered,
)
from .pace import PaceLine, days_left, fmt_share, window_fraction
from .totals import combined

if TYPE_CHECKING:
    from ..periods import Calendar, Period

_ONE_DAY = dt.timedelta(days=1)
_START = operator.attrgetter("start")
_GRAIN = operator.attrgetter("grain")


@attrs.frozen
class ProgressParams:
    indicator: str = param(IndicatorRef(), doc="The indicator counting progress.")
    target: Decimal = param(Number(), doc="The total to reach (inclusive).")
    start: dt.date = param(Date(), doc="Counting starts on this day.")
    deadline: dt.date = param(Date(), doc="The last day: the target is due by the end of it.")
    cumulative: bool = param(
        Flag(),
        doc="false: values are increments, summed; true: each value is the running total, the newest counts.",
        default=False,
    )
    hopeless_at: Decimal | None = param(
        Number(percent=False, minimum=1),
        doc="While open and behind pace, BREACH early once the pace still needed for the rest of the period is at least this many times the pace so far (e.g. 2).",
        default=None,
    )
    gaps: str = gaps_param()

    def problems(self) -> list[tuple[str, str]]:
        if self.deadline <= self.start:
            return [
                ("deadline", f"'deadline' ({self.deadline}) must be after 'start' ({self.start})")
            ]
        return []


class ProgressKind(PreparedKind):
    """Cumulative progress toward ``target`` by ``deadline``, judged on pace.

    The window runs from ``start`` 00:00 to the end of ``deadline`` (the deadline day is
    included), local time in the configured zone. Progress counts the observations whose period
    starts within the window (on or after ``start``, on or before ``deadline``): with
    ``cumulative = false`` their values are increments and are summed, each day once (of
    a quarter and its own months, the months count; see the ``minimum`` kind); with
    ``cumulative = true`` each is a running total and the newest counts.

    - ``as_of`` before ``start``: UNKNOWN (not started).
    - No observation at all in the series: UNKNOWN (zero progress is never assumed). With
      ``cumulative = true``, no running total reported within the window: UNKNOWN. With
      increments and older observations but none in the window, progress so far is 0.
    - Done ≥ ``target``: OK ("reached"), at any time.
    - After the deadline and short: BREACH ("missed").
    - Open: expected = ``target`` × elapsed share of the window (calendar time); done ≥
      expected is OK ("on pace"), else WARN ("behind"), naming the linear forecast at the
      deadline (done / elapsed) and the rate per day needed over the days left (today counted).
      With ``hopeless_at = R`` a behind-pace verdict is BREACH early ("on course to miss")
      once the pace still needed until the deadline is at least R times the pace so far.

    A gap (``gaps = "unknown"``, the default): counted in the finest grain of the counted
    observations (a half covers its quarters), a period of that grain starting within the
    window with no observation — one that has ended, once the deadline has passed; while
    open, one before the newest observation; with ``cumulative = true`` only one after the
    newest, once passed — makes a verdict other than OK UNKNOWN, naming what is missing (an
    OK of non-negative values stands: what is missing can only add). ``gaps = "ignore"``
    judges what is there. Details then add ``expected_observations`` and ``missing``, without
    the pace figures.

    ``target`` in the verdict is what done was held to now (expected-by-now while open, else
    the target); ``margin`` = done − that. Details: ``done``, ``target``, ``start``,
    ``deadline``, ``observations``, and while open ``elapsed``, ``expected``, ``forecast``,
    ``remaining_days``, ``rate_needed_per_day``.
    """

    name = "progress"
    summary = "cumulative progress toward a target by a deadline, on pace and forecast"
    Params = ProgressParams

    def earliest(self, rule: Rule, as_of: dt.datetime, calendar: Calendar) -> dt.date | None:
        """Only observations from ``start`` on count (a running total needs nothing older either)."""
        start: dt.date = rule.params.start
        return start

    def prepare(self, rule: Rule, ctx: EvalContext) -> _ProgressJudge:
        return _ProgressJudge(rule, ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, prepared: _ProgressJudge) -> Judgement:
        return prepared.judge(series)


class _ProgressJudge:
    """One progress rule, ready to judge many series: where ``as_of`` falls in the window (not
    started, over, or the elapsed share and the pace line) and the message templates are worked
    out once; the numbers that do not depend on the series once per unit."""

    def __init__(self, rule: Rule, ctx: EvalContext) -> None:
        p: ProgressParams = rule.params
        self.p, self.ctx = p, ctx
        tz = ctx.calendar.tzinfo
        self.started = not ctx.as_of < dt.datetime.combine(p.start, dt.time(), tzinfo=tz)
        self.ended = ctx.as_of >= dt.datetime.combine(p.deadline + _ONE_DAY, dt.time(), tzinfo=tz)
        self.window = (p.start.isoformat(), p.deadline.isoformat())
        names: tuple[str, ...] = ("head", "done", "target", "deadline")
        self.reached = positional(_("{head}: reached: {done} of {target} (due by {deadline})"), *names)
        self.missed = positional(_("{head}: missed: {done} of {target} by {deadline}"), *names)
        names += ("expected", "share", "rate")
        self.on_pace = positional(
            _("{head}: on pace: {done} done, {expected} expected by now ({share} of the time elapsed) toward {target} by {deadline}"), *names
        )
        names += ("forecast",)
        self.hopeless = positional(
            _(
                "{head}: on course to miss: {done} done, {expected} expected by now ({share} of the time elapsed); "
                "{forecast}; needs {rate} per day to reach {target}"
            ),
            *names,
        )
        self.behind = positional(
            _(
                "{head}: behind: {done} done, {expected} expected by now ({share} of the time elapsed); "
                "{forecast}; needs {rate} per day to reach {target}"
            ),
            *names,
        )
        self.no_forecast = _("no forecast yet")
        self.forecast = positional(_("forecast {forecast} by {deadline}"), "forecast", "deadline")
        self._line: tuple[PaceLine, str] | None = None
        self._targets: dict[str | None, str] = {}
        self._expected: dict[str, tuple[range, int | None]] = {}

    def only_grows(self, counted: Sequence[Decimal]) -> bool:
        """Whether what is missing could only add to what is done, taking the unseen figures
        to be like the seen ones: increments none negative, running totals never falling."""
        if self.p.cumulative:
            return all(a <= b for a, b in zip(counted, counted[1:]))
        return min(counted) >= 0

    def gaps(self, counted: Sequence[Period]) -> Gap | None:
        """What the counted observations leave out of the window (see the class's
        description), in their finest grain; nothing with a span or a term among them."""
        grains = {q.grain for q in counted}
        grain = finest(grains)
        if grain is None:
            return None
        calendar = self.ctx.calendar
        found = self._expected.get(grain)
        if found is None:
            try:
                expected = starting_within(calendar, grain, self.p.start, self.p.deadline)
                # Once the deadline has passed, every period that has ended must be there.
                ended = calendar.containing(grain, self.ctx.today).ordinal - 1 if self.ended else None
            except PeriodError:
                expected, ended = range(0), None
            found = self._expected[grain] = (expected, ended)
        expected, ended = found
        if not expected:
            return None
        first, last = expected[0], expected[-1]
        if len(grains) == 1:  # the usual case: distinct ordinals of one grain
            covered: Collection[int] = [q.ordinal for q in counted if first <= q.ordinal <= last]
        else:
            covered = covered_in(calendar, grain, counted, expected)
        return uncovered(calendar, grain, expected, covered, through=ended, latest=self.p.cumulative)

    def line(self) -> tuple[PaceLine, str]:
        """The pace line of the open window and its elapsed share in words (worked out the
        first time a series needs them)."""
        if self._line is None:
            p, ctx = self.p, self.ctx
            elapsed = window_fraction(ctx.calendar, p.start, p.deadline + _ONE_DAY, ctx.as_of)
            self._line = (PaceLine(p.target, elapsed, days_left(ctx.today, p.deadline)), fmt_share(elapsed))
        return self._line

    def target(self, unit: str | None) -> str:
        """The target in ``unit``."""
        if unit not in self._targets:
            self._targets[unit] = self.ctx.fmt(self.p.target, unit)
        return self._targets[unit]

    def judge(self, series: Series) -> Judgement:
        p, ctx = self.p, self.ctx
        if not self.started:
            return unknown(_("not started: counting {indicator} starts {start}").format(indicator=series.indicator, start=p.start))
        if len(series) == 0:
            return unknown(_("no observations of {indicator} since {start}").format(indicator=series.indicator, start=p.start))
        # The observations whose period starts within the window (periods sort by start).
        periods = series.periods
        lo = bisect.bisect_left(periods, p.start, key=_START)
        hi = bisect.bisect_right(periods, p.deadline, lo=lo, key=_START)
        counted: Sequence[Decimal] = series.values[lo:hi]
        in_window: Sequence[Period] = periods[lo:hi]
        if not p.cumulative and len(set(map(_GRAIN, in_window))) > 1:
            # Increments of mixed grains (a quarter and its months): each day counted once.
            kept = combined(list(zip(in_window, counted)))
            in_window, counted = [q for q, _v in kept], [v for _q, v in kept]
        if p.cumulative:
            if not counted:
                return unknown(_("no running total of {indicator} reported since {start}").format(indicator=series.indicator, start=p.start))
            done = counted[-1]
        else:
            done = sum(counted, Decimal(0))
        head = series.indicator
        unit = ctx.unit(head)
        fmt = ctx.fmt
        details: dict[str, Any] = {
            "done": done,
            "target": p.target,
            "start": self.window[0],
            "deadline": self.window[1],
            "observations": len(counted),
        }
        said: tuple[Any, ...] = (head, fmt(done, unit), self.target(unit), p.deadline)
        target = p.target
        if done >= target:
            status, message = Status.OK, self.reached(*said)
        elif self.ended:
            status, message = Status.BREACH, self.missed(*said)
        else:
            line, share = self.line()
            details.update(line.details(done))
            target = details["expected"]
            # The rate and the forecast are formatted without the context's memo: they are new
            # fractions for most series, and hashing a new Decimal costs more than formatting it.
            said += (fmt(target, unit), share, format_number(details["rate_needed_per_day"], unit))
            if line.on_pace(done):
                status, message = Status.OK, self.on_pace(*said)
            else:
                forecast = self.forecast(format_number(details["forecast"], unit), p.deadline) if line.has_forecast() else self.no_forecast
                if p.hopeless_at is not None and line.hopeless(done, p.hopeless_at):
                    status, message = Status.BREACH, self.hopeless(*said, forecast)
                else:
                    status, message = Status.WARN, self.behind(*said, forecast)
        if p.gaps == "unknown" and counted and not (status is Status.OK and self.only_grows(counted)):
            gap = self.gaps(in_window)
            if gap is not None:
                what = _("{indicator} from {start} to {deadline}").format(indicator=head, start=p.start, deadline=p.deadline)
                return incomplete(what, None, gap, details, closed=self.ended)
        return Judgement(status, message, done, target, done - target, None, None, details)


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(ProgressKind())
