"""The contract of a rule kind, and the context it evaluates in.

A rule kind is a plugin: a :class:`RuleKind` subclass with a ``name``, a one-line
``summary``, a ``Params`` class declared with :func:`targetwatch.params.param`, and an
``evaluate`` method. Evaluation is pure: it reads only its arguments (no clock, no I/O).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .i18n import _
from .model import Indicator, Judgement, Rule, Series, Status
from .numbers import exact_context, format_number

if TYPE_CHECKING:
    from .data import Dataset
    from .periods import Calendar, Period


#: Formatted numbers remembered per unit by one context (about 40 MB when full).
_SHOWN_MAX = 1 << 18


@attrs.frozen
class EvalContext:
    """Everything a kind may consult besides the series itself: the moment, the calendar, the
    other series (for coverage, rank and share) and the declared indicators.

    What depends only on the moment (a resolved period spec, whether a period has started or
    ended, its elapsed share) is worked out once per context and remembered: a rule judged on
    many series asks the same questions for each of them.
    """

    as_of: dt.datetime
    calendar: Calendar
    data: Dataset
    indicators: Mapping[str, Indicator] = attrs.field(factory=dict)
    _resolved: dict[str, Period] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _starts: dict[dt.date, bool] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _ends: dict[dt.date, bool] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _elapsed: dict[Period, Fraction] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _shown: dict[str | None, dict[Decimal | int, str]] = attrs.field(init=False, factory=dict, eq=False, repr=False)

    @property
    def today(self) -> dt.date:
        """The local calendar date of ``as_of`` in the configured time zone."""
        return self.as_of.date()

    def unit(self, indicator: str) -> str | None:
        info = self.indicators.get(indicator)
        return info.unit if info else None

    def resolve(self, spec: str) -> Period:
        """A period label or relative spec (``current half``) resolved against ``as_of``."""
        found = self._resolved.get(spec)
        if found is None:
            found = self._resolved[spec] = self.calendar.resolve(spec, self.as_of)
        return found

    def started(self, period: Period) -> bool:
        """Whether ``period`` has started at ``as_of`` (local midnight of its first day)."""
        found = self._starts.get(period.start)
        if found is None:
            found = self._starts[period.start] = self.as_of >= self.calendar.start_moment(period)
        return found

    def ended(self, period: Period) -> bool:
        """Whether ``period`` has ended at ``as_of`` (its end moment is exclusive)."""
        found = self._ends.get(period.end)
        if found is None:
            found = self._ends[period.end] = self.as_of >= self.calendar.end_moment(period)
        return found

    def elapsed(self, period: Period) -> Fraction:
        """The exact fraction of ``period`` elapsed at ``as_of``, in [0, 1]."""
        found = self._elapsed.get(period)
        if found is None:
            found = self._elapsed[period] = self.calendar.elapsed_fraction(period, self.as_of)
        return found

    def fmt(self, value: Decimal | int | None, unit: str | None) -> str:
        """A number formatted for a message (thousands separators, percentages, unit).

        The text depends only on the number's value, its unit and the locale, so each is
        formatted once per context: series of one indicator share most of their values."""
        if value is None:
            return format_number(None, unit)
        shown = self._shown.get(unit)
        if shown is None:
            shown = self._shown[unit] = {}
        found = shown.get(value)
        if found is None:
            if len(shown) >= _SHOWN_MAX:  # bounded: a long run of distinct values starts afresh
                shown.clear()
            found = shown[value] = format_number(value, unit)
        return found


class RuleKind:
    """Base class of rule kinds. Subclasses set ``name``, ``summary``, ``Params`` and implement
    :meth:`evaluate` (and optionally :meth:`evaluate_batch` for many series at once)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    Params: ClassVar[type]

    def indicators(self, params: Any) -> tuple[str, ...]:
        """The indicators the rule reads; verdicts are per series of the first one."""
        return (params.indicator,)

    def earliest(self, rule: Rule, as_of: dt.datetime, calendar: Calendar) -> dt.date | None:
        """The first day of data this rule can read as of ``as_of``, or ``None`` for all of its
        history. Sources that can filter (databases) then read no older data."""
        return None

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        """Judge one series (already cut to what was visible at ``ctx.as_of``)."""
        raise NotImplementedError

    def evaluate_batch(self, rule: Rule, series: Sequence[Series], ctx: EvalContext) -> list[Judgement]:
        """Judge many series of the rule's indicator at once; one judgement per series, in order."""
        return [self.evaluate(rule, s, ctx) for s in series]


class PreparedKind(RuleKind):
    """A kind that works out a rule's part once (message templates, bounds in words, resolved
    periods, a peer index: whatever :meth:`prepare` returns) and judges each series with it in
    :meth:`judge`. One series (:meth:`evaluate`) and a batch run the same code; with
    ``exact = True`` both run in the exact decimal context."""

    exact: ClassVar[bool] = True

    def prepare(self, rule: Rule, ctx: EvalContext) -> Any:
        """The rule's part, shared by every series of one batch."""
        return None

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, prepared: Any) -> Judgement:
        """Judge one series with what :meth:`prepare` returned for its rule."""
        raise NotImplementedError

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        return self.evaluate_batch(rule, (series,), ctx)[0]

    def evaluate_batch(self, rule: Rule, series: Sequence[Series], ctx: EvalContext) -> list[Judgement]:
        with decimal.localcontext(exact_context()) if self.exact else contextlib.nullcontext():
            prepared = self.prepare(rule, ctx)
            return [self.judge(rule, s, ctx, prepared) for s in series]


def unknown(message: str, **kwargs: Any) -> Judgement:
    """A judgement that the target cannot be judged, with the reason."""
    return Judgement(Status.UNKNOWN, message, **kwargs)


def pick_observation(
    series: Series, spec: str | None, ctx: EvalContext
) -> tuple[Period, Decimal] | Judgement:
    """The observation a point-in-time rule judges: the one for exactly the period ``spec``
    (resolved against ``as_of``) or, without ``spec``, the newest visible one.

    Returns an ``UNKNOWN`` judgement, with the reason, when there is no such observation.
    """
    if spec is None:
        latest = series.latest()
        if latest is None:
            return unknown(_("no observation of {indicator} up to {today}").format(indicator=series.indicator, today=ctx.today))
        return latest
    period = ctx.resolve(spec)
    value = series.value_at(period)
    if value is None:
        return unknown(_("no observation of {indicator} for {period}").format(indicator=series.indicator, period=period), period=period)
    return period, value
