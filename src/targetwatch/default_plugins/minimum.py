"""The ``minimum`` kind: does a period's total (sum, latest, mean, max, min, count) reach N?"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import PeriodError
from ..hookspecs import hookimpl
from ..i18n import _, positional
from ..kind import EvalContext, PreparedKind, RuleKind
from ..model import Judgement, Rule, Series, Status
from ..params import Choice, Flag, IndicatorRef, Number, PeriodSpec, param
from .gaps import gaps_param, incomplete, missing, what_of
from .pace import (
    Pace,
    days_left,
    exact,
    exact_total,
    fmt_share,
    no_observations_in,
    observations_in,
    observed_in,
    resolve,
    shown,
)

if TYPE_CHECKING:
    from ..periods import Calendar, Period

#: Aggregates that only accumulate over a period, so that being "behind pace" means something.
_CUMULATIVE = ("sum", "count")


@attrs.frozen
class MinimumParams:
    indicator: str = param(IndicatorRef(), doc="The indicator judged.")
    min: Decimal = param(Number(), doc="The least the period's aggregate must reach (inclusive).")
    period: str = param(
        PeriodSpec(),
        doc="The period judged, a label or relative ('current half'; 'last 6 months' for the six months before the current one).",
        default="current year",
    )
    aggregate: str = param(
        Choice("sum", "latest", "mean", "max", "min", "count"),
        doc="How the observations within the period combine: sum, latest (the newest), mean, max, min, or count (how many).",
        default="sum",
    )
    pace: bool = param(
        Flag(),
        doc="While the period is open, judge a sum or count on pace (min × elapsed share of the period).",
        default=True,
    )
    hopeless_at: Decimal | None = param(
        Number(percent=False, minimum=1),
        doc="While open and behind pace, BREACH early once the pace still needed for the rest of the period is at least this many times the pace so far (e.g. 2).",
        default=None,
    )
    warn_below: Decimal | None = param(
        Number(),
        doc="A final (or, for level aggregates, current) value at or above min but below this is WARN; at least min.",
        default=None,
    )
    gaps: str = gaps_param()

    def problems(self) -> list[tuple[str, str]]:
        if self.warn_below is not None and self.warn_below < self.min:
            return [("warn_below", f"'warn_below' ({self.warn_below}) is below 'min' ({self.min})")]
        return []


class MinimumKind(PreparedKind):
    """Does the period's aggregate reach ``min``? Judged on pace while the period is open.

    ``period`` (default ``current year``) is resolved against ``as_of``; the observations lying
    within it are combined by ``aggregate`` (an observation for exactly the period is used
    alone; mixed grains are combined, never double counted: a quarter and the three months
    after it make a half, a quarter and its own months count once). Bounds are inclusive.

    - The period has not started at ``as_of``: UNKNOWN. No observation within it so far:
      UNKNOWN (absent data is never OK and never BREACH).
    - Closed (``as_of`` at or after its end): aggregate ≥ ``min`` is OK (WARN if below
      ``warn_below``), else BREACH.
    - Open, ``sum``/``count`` with ``pace`` on: at or above ``min`` already is OK ("already
      reached"). Otherwise expected = ``min`` × elapsed share of the period (calendar time in
      the configured zone); at or above expected is OK ("on pace"), below is WARN ("behind
      pace"), with the rate per day needed over the days left (today counted) to reach ``min``.
      With ``hopeless_at = R`` a behind-pace total is BREACH early ("on course to miss") once
      the pace still needed for the rest of the period is at least R times the pace so far
      (a straight-line forecast alone would not do: it falls short exactly when the total is
      behind pace). ``warn_below`` is not applied to an open sum (it can still grow).
    - Open, ``pace`` off or a level aggregate (latest, mean, max, min): at or above ``min`` is
      OK (WARN if below ``warn_below``), below is WARN (there is still time); BREACH only once
      the period has closed.
    - A gap (``gaps = "unknown"``, the default): when the observations leave out a sub-period
      of their grain (a month of the half; while the period is open, only one before the
      newest observation counts), or days that none of their grain can cover (the ends of a
      month judged from weeks: at its start from the start, at its end once closed), the
      verdict is UNKNOWN naming what is missing —
      unless what is missing cannot change it: a ``max`` at the minimum, or a ``sum`` of
      non-negative values, is OK, and a ``min`` below it stays below. A ``count`` never has a
      gap, and ``latest`` only once the period has closed without its last sub-period (only
      what follows the newest is named). ``gaps = "ignore"`` judges what is there. Details
      then add ``expected_observations`` and ``missing`` (runs as ``FIRST..LAST``), without
      the pace figures.

    ``target`` is what the value was held to now (expected-by-now when judged on pace, else
    ``min``); ``margin`` = value − target. Details: ``total``, ``target`` (= min),
    ``aggregate``, ``observations``, ``period``, and on pace ``elapsed``, ``expected``,
    ``forecast``, ``remaining_days``, ``rate_needed_per_day``.
    """

    name = "minimum"
    summary = (
        "a period's total (sum, latest, max ...) reaches N; judged on pace while the period is open"
    )
    Params = MinimumParams

    def earliest(self, rule: Rule, as_of: dt.datetime, calendar: Calendar) -> dt.date | None:
        """Only observations within the judged period count."""
        try:
            return calendar.resolve(rule.params.period, as_of).start
        except PeriodError:
            return None

    def prepare(self, rule: Rule, ctx: EvalContext) -> _MinimumTexts:
        return _MinimumTexts(rule.params, ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, texts: _MinimumTexts) -> Judgement:
        p: MinimumParams = rule.params
        period = texts.period
        if period is None:  # the period does not resolve, or has not started: UNKNOWN, saying why
            found = observed_in(series, p.period, ctx)
            if isinstance(found, Judgement):
                return found
            period, obs = found
        else:
            obs = observations_in(series, period)
            if not obs:
                return no_observations_in(series, period)
        # An exact Decimal where one holds the aggregate (a sum, mostly), else a Fraction.
        values = [v for _, v in obs]
        total_exact = exact_total(values, p.aggregate)
        total = shown(total_exact, places=None)
        unit, what, fmt_min = texts.of(series.indicator, period)
        fmt = ctx.fmt
        details: dict[str, Any] = {
            "total": total,
            "target": p.min,
            "aggregate": p.aggregate,
            "observations": len(obs),
            "period": period.label,
        }
        is_closed = ctx.ended(period)
        target = p.min
        if not _below(total_exact, p.min):
            if (
                p.warn_below is not None
                and _below(total_exact, p.warn_below)
                and (is_closed or p.aggregate not in _CUMULATIVE)
            ):
                status, message = Status.WARN, texts.warned(what, fmt(total, unit), fmt_min, fmt(p.warn_below, unit))
            else:
                reached = texts.reached if is_closed else texts.already
                status, message = Status.OK, reached(what, fmt(total, unit), fmt_min)
        elif is_closed:
            status, message = Status.BREACH, texts.short(what, fmt(total, unit), fmt_min, fmt(p.min - total, unit))
        elif not (p.pace and p.aggregate in _CUMULATIVE):
            status, message = Status.WARN, texts.open(what, fmt(total, unit), fmt_min, period.last_day)
        else:

            def in_unit(v: Decimal | int | None) -> str:
                return fmt(v, unit)

            status, message, target = self._on_pace(
                p,
                period.last_day,
                exact(total_exact),
                ctx.elapsed(period),
                days_left(ctx.today, period.last_day),
                what,
                in_unit,
                details,
            )
        if p.gaps == "unknown" and not _decided(status, p.aggregate, values, _below(total_exact, p.min)):
            gap = missing(ctx.calendar, period, obs, closed=is_closed, aggregate=p.aggregate)
            if gap is not None:
                return incomplete(what, period, gap, details, closed=is_closed)
        judged_unit = "" if p.aggregate == "count" else None
        return Judgement(status, message, total, target, total - target, period, judged_unit, details)

    @staticmethod
    def _on_pace(
        p: MinimumParams,
        last_day: dt.date,
        total: Fraction,
        elapsed: Fraction,
        remaining: int,
        what: str,
        fmt: Callable[[Decimal | int | None], str],
        details: dict[str, Any],
    ) -> tuple[Status, str, Decimal]:
        """The status, message and target of an open sum or count judged on pace."""
        pace = Pace.of(total, p.min, elapsed, remaining)
        details.update(pace.details())
        expected = details["expected"]
        said = {
            "what": what, "total": fmt(shown(total)), "expected": fmt(expected), "share": fmt_share(elapsed), "min": fmt(p.min),
            "last_day": last_day, "rate": fmt(details["rate_needed_per_day"]), "forecast": fmt(details["forecast"]),
        }
        if pace.on_pace:
            message = _("{what}: on pace: {total} so far, {expected} expected by now ({share} of the period elapsed) toward {min} by {last_day}")
            return Status.OK, message.format(**said), expected
        if p.hopeless_at is not None and pace.hopeless(p.hopeless_at):
            message = _(
                "{what}: on course to miss: {total} so far, {expected} expected by now ({share} of the period elapsed); "
                "forecast {forecast}; needs {rate} per day to reach {min} by {last_day}"
            )
            return Status.BREACH, message.format(**said), expected
        message = _(
            "{what}: behind pace: {total} so far, {expected} expected by now ({share} of the period elapsed); "
            "needs {rate} per day to reach {min} by {last_day}"
        )
        return Status.WARN, message.format(**said), expected


def _decided(status: Status, aggregate: str, values: list[Decimal], below: bool) -> bool:
    """Whether observations missing from the period could not change ``status``: a maximum
    at the minimum (or a sum, of non-negative values) only grows, a minimum below it only
    falls (``below``: the total is below the minimum)."""
    if status is Status.OK:
        return aggregate == "max" or (aggregate == "sum" and min(values) >= 0)
    return aggregate == "min" and below


def _below(total: Decimal | Fraction, bound: Decimal) -> bool:
    """``total < bound``, exactly (Decimals compare exactly; a Fraction against the bound's)."""
    return total < bound if isinstance(total, Decimal) else total < Fraction(bound)


class _MinimumTexts:
    """What a minimum rule says the same way for every series: its period (when it resolves
    and has started), its message templates, and per indicator its unit, what is judged
    (``x (mean) in 2023-H1``) and the minimum in that unit."""

    def __init__(self, p: MinimumParams, ctx: EvalContext) -> None:
        self.p, self.ctx = p, ctx
        period = resolve(ctx, p.period)
        self.period = period if not isinstance(period, Judgement) and ctx.started(period) else None
        self.warned = positional(_("{what}: {total} reaches the minimum {min} but is below the warning level {warn}"), "what", "total", "min", "warn")
        self.reached = positional(_("{what}: {total}, reached the minimum {min}"), "what", "total", "min")
        self.already = positional(_("{what}: {total}, already reached the minimum {min}"), "what", "total", "min")
        self.short = positional(_("{what}: {total}, short of the minimum {min} by {gap}"), "what", "total", "min", "gap")
        self.open = positional(
            _("{what}: {total} so far, below the minimum {min}; the period is open until {last_day}"), "what", "total", "min", "last_day"
        )
        self._found: dict[tuple[str, Period], tuple[str | None, str, str]] = {}

    def of(self, indicator: str, period: Period) -> tuple[str | None, str, str]:
        """The unit of the numbers, what is judged, and the minimum in that unit."""
        found = self._found.get((indicator, period))
        if found is None:
            p = self.p
            unit = "" if p.aggregate == "count" else self.ctx.unit(indicator)
            what = what_of(indicator, p.aggregate, period)
            found = self._found[(indicator, period)] = (unit, what, self.ctx.fmt(p.min, unit))
        return found


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(MinimumKind())
