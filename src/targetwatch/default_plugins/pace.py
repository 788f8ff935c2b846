"""Pace, forecast and rate-needed arithmetic, and period aggregation, shared by the ``minimum``,
``progress`` and ``cap`` kinds.

Everything here is exact: decisions are made on :class:`~fractions.Fraction` values built from
the Decimals (``Fraction(Decimal("1.1"))`` is exactly 11/10), so nothing is rounded before a
comparison. Only :func:`shown` turns a fraction into a Decimal, for messages and details.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Final

import attrs

from ..errors import PeriodError
from ..i18n import _, pgettext
from ..kind import EvalContext, pick_observation, unknown
from ..model import Judgement
from ..numbers import exact_context, format_number
from ..spans import SPAN_GRAINS
from .totals import combined

if TYPE_CHECKING:
    from ..model import Series
    from ..periods import Calendar, Period

#: The aggregates a kind may offer; ``latest`` is the value of the newest observation.
AGGREGATES: Final = ("sum", "latest", "mean", "max", "min", "count")

_UTC = dt.UTC
_MICROSECOND = dt.timedelta(microseconds=1)


def exact(value: Decimal | int | Fraction) -> Fraction:
    """``value`` as an exact fraction."""
    # Decimal first: an isinstance test against Fraction (an abstract-base-class check) is slow.
    if isinstance(value, Decimal):
        return Fraction(value)
    return value if isinstance(value, Fraction) else Fraction(value)


def aggregate_exact(values: Sequence[Decimal], how: str) -> Fraction:
    """The aggregate of ``values`` (in period order) as an exact fraction.

    Raises ``ValueError`` for no values (except ``count``, which is then 0) or an unknown ``how``.
    """
    if how == "count":
        return Fraction(len(values))
    if not values:
        raise ValueError(f"cannot take the {how} of no values")
    if how == "sum":
        return sum((Fraction(v) for v in values), Fraction(0))
    if how == "latest":
        return Fraction(values[-1])
    if how == "max":
        return Fraction(max(values))
    if how == "min":
        return Fraction(min(values))
    if how == "mean":
        return sum((Fraction(v) for v in values), Fraction(0)) / len(values)
    raise ValueError(f"unknown aggregate {how!r}; expected one of {', '.join(AGGREGATES)}")


def aggregate(values: Sequence[Decimal], how: str) -> Decimal:
    """The aggregate of ``values`` as a Decimal (exact except a mean that does not terminate,
    which is carried to the full comparison precision)."""
    return shown(aggregate_exact(values, how), places=None)


def shown(value: Fraction | Decimal | int, places: int | None = 6) -> Decimal:
    """A fraction as a Decimal for display: exact when it terminates within ``places`` decimals
    (integers stay integers, ``5/2`` is ``2.5``), else rounded half-even to ``places``.
    ``places=None`` keeps the full comparison precision."""
    # Decimal first: an isinstance test against Fraction (an abstract-base-class check) is slow.
    if isinstance(value, Decimal):
        if places is None and value.is_finite():
            try:  # within the precision, the quotient below is the value without trailing zeros
                out = value.normalize(_NORMALIZE)
            except decimal.DecimalException:
                pass
            else:
                return Decimal(int(out)) if out == out.to_integral_value(context=_EXACT) else out
        n, d = value.as_integer_ratio()  # what Fraction(value) holds, without building it
        return shown_ratio(n, d, places)
    if isinstance(value, Fraction):
        return shown_ratio(value.numerator, value.denominator, places)
    fr = Fraction(value)
    return shown_ratio(fr.numerator, fr.denominator, places)


_EXACT: Final = exact_context()
#: Normalizes within the comparison precision, or signals that it cannot (without rounding,
#: within the exponent limits).
_NORMALIZE: Final = decimal.Context(
    prec=exact_context().prec, traps=[decimal.Inexact, decimal.Overflow, decimal.Subnormal, decimal.InvalidOperation]
)


def shown_ratio(numerator: int, denominator: int, places: int | None = 6) -> Decimal:
    """:func:`shown` of ``numerator / denominator`` (``denominator`` > 0, need not be in
    lowest terms): the same Decimal, without building a :class:`~fractions.Fraction`."""
    if denominator == 1 or numerator % denominator == 0:
        return Decimal(numerator // denominator)
    # Dividing within the shared exact context (passed, not entered): the quotient is rounded
    # to its precision exactly as the ratio in lowest terms would be.
    out = _EXACT.divide(Decimal(numerator), Decimal(denominator))
    if places is not None:
        out = out.quantize(_quantum(places), context=_EXACT)
        # Up to 6 places the quantized number always prints with a point (never an exponent).
        if 0 < places <= 6 or "." in str(out):
            # Strip trailing zeros without normalize(), which would switch to exponent form.
            text = format(out, "f").rstrip("0").rstrip(".")
            out = Decimal(text or "0")
    return out


_QUANTA: Final = {places: Decimal(1).scaleb(-places) for places in range(13)}


def _quantum(places: int) -> Decimal:
    found = _QUANTA.get(places)
    return Decimal(1).scaleb(-places, _EXACT) if found is None else found


#: Adds Decimals exactly or not at all: a sum that would need rounding signals Inexact.
_EXACT_SUM: Final = decimal.Context(
    prec=exact_context().prec, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow]
)


def exact_total(values: Sequence[Decimal], how: str) -> Decimal | Fraction:
    """:func:`aggregate_exact`, as an exact Decimal where one holds it (a sum within the
    comparison precision, the newest, the largest or smallest value, a count) and as a
    Fraction otherwise (a mean, a sum too long to hold). Either compares, and goes through
    :func:`shown`, :func:`exact` and :class:`Pace`, exactly as the Fraction would."""
    if values:
        if how == "sum":
            try:
                total = functools.reduce(_EXACT_SUM.add, values)
            except decimal.DecimalException:
                return aggregate_exact(values, how)
            if total.is_finite():
                return total
        elif how == "latest" and values[-1].is_finite():
            return values[-1]
    return aggregate_exact(values, how)


def observations_in(series: Series, period: Period) -> list[tuple[Period, Decimal]]:
    """The observations that make up ``period``'s aggregate, never double counting.

    An observation for exactly ``period`` is the authoritative figure and is used alone.
    Otherwise the observations lying inside ``period`` are used; if they are of mixed grains
    they are combined without overlap (:func:`~targetwatch.default_plugins.totals.combined`:
    a quarter and the three months after it make a half; a quarter and its own three months
    count once, as the months). Observations of spans (``2023-04..2023-09``, rolling windows)
    count only for exactly their own period: spans of one grain may overlap one another.
    """
    whole = series.value_at(period)
    if whole is not None:
        return [(period, whole)]
    inside = series.within(period)  # none of them is ``period`` itself: it has no value
    grains = {p.grain for p, _ in inside}
    if not grains.isdisjoint(SPAN_GRAINS):
        inside = [(p, v) for p, v in inside if p.grain not in SPAN_GRAINS]
        grains -= set(SPAN_GRAINS)
    if len(grains) <= 1:
        return inside
    return combined(inside)


def window_fraction(
    calendar: Calendar, start_day: dt.date, end_day_exclusive: dt.date, as_of: dt.datetime
) -> Fraction:
    """The exact share of the window [``start_day`` 00:00, ``end_day_exclusive`` 00:00) local
    time elapsed at ``as_of``, by real elapsed time (DST counted as it happened), in [0, 1]."""
    if not start_day < end_day_exclusive:
        raise ValueError(f"empty window {start_day}..{end_day_exclusive}")
    start = _instant(calendar, start_day)
    total = (_instant(calendar, end_day_exclusive) - start) // _MICROSECOND
    done = (calendar.localize(as_of).astimezone(_UTC) - start) // _MICROSECOND
    return Fraction(min(max(done, 0), total), total)


def _instant(calendar: Calendar, day: dt.date) -> dt.datetime:
    # Subtract UTC instants: same-tzinfo datetime subtraction ignores DST offsets.
    return dt.datetime.combine(day, dt.time(), tzinfo=calendar.tzinfo).astimezone(_UTC)


def days_left(today: dt.date, last_day: dt.date) -> int:
    """Calendar days from ``today`` through ``last_day``, both counted (0 once past it)."""
    return max((last_day - today).days + 1, 0)


@attrs.frozen
class Pace:
    """Where a cumulative total stands against a target on a straight line through the window.

    ``expected`` = target × elapsed (what should be done by now); ``forecast`` = done / elapsed
    (the total at the end at the rate so far; ``None`` before any time has elapsed);
    ``rate_needed_per_day`` = (target − done) / remaining days (0 once the target is reached,
    ``None`` with no days left). All exact fractions.
    """

    done: Fraction
    target: Fraction
    elapsed: Fraction
    remaining_days: int

    @classmethod
    def of(
        cls,
        done: Decimal | Fraction,
        target: Decimal | Fraction,
        elapsed: Fraction,
        remaining_days: int,
    ) -> Pace:
        if not 0 <= elapsed <= 1:
            raise ValueError(f"elapsed fraction {elapsed} is outside [0, 1]")
        return cls(exact(done), exact(target), elapsed, remaining_days)

    @property
    def expected(self) -> Fraction:
        return self.target * self.elapsed

    @property
    def forecast(self) -> Fraction | None:
        return self.done / self.elapsed if self.elapsed > 0 else None

    @property
    def on_pace(self) -> bool:
        """Done at least what is expected by now (inclusive)."""
        return self.done >= self.expected

    @property
    def reached(self) -> bool:
        return self.done >= self.target

    def hopeless(self, ratio: Decimal) -> bool:
        """Behind pace so badly that the rest of the window needs at least ``ratio`` times the
        pace so far: (target − done) / (1 − elapsed) ≥ ratio × done / elapsed, compared without
        dividing. Nothing done yet with time elapsed is hopeless; an ended window is not
        judged here (it is simply missed or reached)."""
        if self.reached or self.elapsed == 0 or self.elapsed >= 1:
            return False
        return (self.target - self.done) * self.elapsed >= exact(ratio) * self.done * (1 - self.elapsed)

    @property
    def rate_needed_per_day(self) -> Fraction | None:
        if self.reached:
            return Fraction(0)
        if self.remaining_days <= 0:
            return None
        return (self.target - self.done) / self.remaining_days

    def details(self) -> dict[str, Decimal | int | None]:
        """The pace figures by their shared detail names, rounded for display."""
        forecast, rate = self.forecast, self.rate_needed_per_day
        return {
            "elapsed": shown(self.elapsed),
            "expected": shown(self.expected),
            "forecast": None if forecast is None else shown(forecast),
            "remaining_days": self.remaining_days,
            "rate_needed_per_day": None if rate is None else shown(rate),
        }


class PaceLine:
    """:class:`Pace` for one target at one point of its window, for many totals: what depends
    only on the target and the elapsed share (the amount expected by now, both shown) is worked
    out once, and each total is compared in integers. Every figure and decision is the one
    :class:`Pace` gives for that total."""

    def __init__(self, target: Decimal | Fraction, elapsed: Fraction, remaining_days: int) -> None:
        if not 0 <= elapsed <= 1:
            raise ValueError(f"elapsed fraction {elapsed} is outside [0, 1]")
        t = exact(target)
        self._tn, self._td = t.numerator, t.denominator
        self._ea, self._eb = elapsed.numerator, elapsed.denominator
        self.elapsed = elapsed
        self.remaining_days = remaining_days
        self.expected = t * elapsed
        self._shown = (shown(elapsed), shown(self.expected))

    @staticmethod
    def _ratio(done: Decimal | Fraction) -> tuple[int, int]:
        if isinstance(done, Decimal):  # tested first: isinstance(..., Fraction) is slow
            return done.as_integer_ratio()
        return done.numerator, done.denominator

    def has_forecast(self) -> bool:
        """Whether any time has elapsed (else there is no forecast)."""
        return self._ea > 0

    def on_pace(self, done: Decimal | Fraction) -> bool:
        """``done`` at least what is expected by now (inclusive)."""
        n, d = self._ratio(done)
        return n * self._td * self._eb >= self._tn * self._ea * d

    def hopeless(self, done: Decimal | Fraction, ratio: Decimal) -> bool:
        """:meth:`Pace.hopeless` for ``done``: (target − done) × elapsed ≥ ratio × done × (1 − elapsed)."""
        n, d = self._ratio(done)
        tn, td, ea, eb = self._tn, self._td, self._ea, self._eb
        if n * td >= tn * d or ea == 0 or ea >= eb:  # reached, or no time elapsed, or ended
            return False
        rn, rd = ratio.as_integer_ratio()
        return (tn * d - n * td) * ea * rd >= rn * n * (eb - ea) * td

    def details(self, done: Decimal | Fraction) -> dict[str, Decimal | int | None]:
        """:meth:`Pace.details` for ``done``."""
        n, d = self._ratio(done)
        tn, td, ea, eb = self._tn, self._td, self._ea, self._eb
        if n * td >= tn * d:  # reached
            rate: Decimal | None = shown_ratio(0, 1)
        elif self.remaining_days <= 0:
            rate = None
        else:
            rate = shown_ratio(tn * d - n * td, td * d * self.remaining_days)
        return {
            "elapsed": self._shown[0],
            "expected": self._shown[1],
            "forecast": shown_ratio(n * eb, d * ea) if ea > 0 else None,
            "remaining_days": self.remaining_days,
            "rate_needed_per_day": rate,
        }


def resolve(ctx: EvalContext, spec: str) -> Period | Judgement:
    """``spec`` resolved against ``as_of``, or an UNKNOWN judgement saying why it cannot be
    (``current term`` between terms, a year-ago of the first configured term ...)."""
    try:
        return ctx.resolve(spec)
    except PeriodError as exc:
        return unknown(_("cannot resolve period {spec!r}: {error}").format(spec=spec, error=exc))


def pick(series: Series, spec: str | None, ctx: EvalContext) -> tuple[Period, Decimal] | Judgement:
    """:func:`~targetwatch.kind.pick_observation`, with an unresolvable spec as UNKNOWN."""
    if spec is not None:
        period = resolve(ctx, spec)
        if isinstance(period, Judgement):
            return period
    return pick_observation(series, spec, ctx)


def observed_in(series: Series, spec: str, ctx: EvalContext) -> tuple[Period, list[tuple[Period, Decimal]]] | Judgement:
    """The period ``spec`` names and the observations that make up its aggregate
    (:func:`observations_in`), or the UNKNOWN judgement saying why there are none: the spec
    does not resolve, the period has not started, or nothing was observed in it so far."""
    period = resolve(ctx, spec)
    if isinstance(period, Judgement):
        return period
    if not_started(ctx, period):
        return not_started_yet(period)
    obs = observations_in(series, period)
    if not obs:
        return no_observations_in(series, period)
    return period, obs


def not_started_yet(period: Period) -> Judgement:
    """UNKNOWN: ``period`` has not started at ``as_of``."""
    return unknown(_("{period} has not started (it starts {start})").format(period=period, start=period.start), period=period)


def no_observations_in(series: Series, period: Period) -> Judgement:
    """UNKNOWN: nothing observed within ``period`` so far."""
    return unknown(_("no observations of {indicator} in {period} so far").format(indicator=series.indicator, period=period), period=period)


def aggregate_word(how: str) -> str:
    """An aggregate's name for a message, in the current locale (``sum``; Chinese ``合计``)."""
    words = {
        "sum": pgettext("aggregate", "sum"),
        "latest": pgettext("aggregate", "latest"),
        "mean": pgettext("aggregate", "mean"),
        "max": pgettext("aggregate", "max"),
        "min": pgettext("aggregate", "min"),
        "count": pgettext("aggregate", "count"),
    }
    return words.get(how, how)


def not_started(ctx: EvalContext, period: Period) -> bool:
    return not ctx.started(period)


def closed(ctx: EvalContext, period: Period) -> bool:
    """Whether ``period`` has ended at ``as_of`` (its end moment is exclusive)."""
    return ctx.ended(period)


def fmt_share(elapsed: Fraction) -> str:
    """The elapsed share as a percentage for messages (``0.576087`` -> ``57.61%``)."""
    return format_number(shown(elapsed), "%")
