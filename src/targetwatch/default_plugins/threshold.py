"""The ``threshold`` kind (a value within min / max). The ``cap`` kind (never above a ceiling)
lives in :mod:`.cap`; this module registers both."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from ..hookspecs import hookimpl
from ..i18n import _, positional
from ..kind import EvalContext, PreparedKind, RuleKind
from ..model import Judgement, Rule, Series, Status
from ..numbers import Range
from ..params import Bounds, IndicatorRef, Number, PeriodSpec, param
from .cap import CapKind
from .pace import (
    pick,
)


def _margin(bounds: Range, value: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """(margin, nearest bound): distance to the nearest bound, positive on the passing side."""
    low, high = bounds.low, bounds.high
    if not bounds.alert_inside:  # the usual case, without the lists below: the same result
        if high is None:
            return (None, None) if low is None else (value - low, low)
        if low is None:
            return high - value, high
        below, above = value - low, high - value
        return (below, low) if below <= above else (above, high)
    sides = [(value - b, b) for b in (low,) if b is not None]
    sides += [(b - value, b) for b in (high,) if b is not None]
    if not sides:
        return None, None
    # An "@" range passes outside: the violated side (negative distance) is how far clear we are.
    outside = [s for s in sides if s[0] < 0]
    if outside:
        gap, bound = outside[0]
        return -gap, bound
    gap, bound = min(sides, key=lambda s: s[0])
    return -gap, bound


def _bounds_text(bounds: Range, fmt: Callable[[Decimal], str]) -> str:
    low = None if bounds.low is None else fmt(bounds.low)
    high = None if bounds.high is None else fmt(bounds.high)
    if bounds.alert_inside:
        return _("outside {low} to {high}").format(low=low or "−∞", high=high or "∞")
    if low is not None and high is not None:
        return _("within {low} to {high}").format(low=low, high=high)
    return _("at least {low}").format(low=low) if low is not None else _("at most {high}").format(high=high)


@attrs.frozen
class ThresholdParams:
    indicator: str = param(IndicatorRef(), doc="The indicator judged.")
    min: Decimal | None = param(Number(), doc="Lowest passing value (inclusive).", default=None)
    max: Decimal | None = param(Number(), doc="Highest passing value (inclusive).", default=None)
    range: Range | None = param(
        Bounds(),
        doc="The passing range in monitoring-plugins syntax ('95%:', '~:4.89%', '10:20', '@10:20'); instead of min/max.",
        default=None,
    )
    warn_min: Decimal | None = param(
        Number(), doc="A passing value below this is WARN.", default=None
    )
    warn_max: Decimal | None = param(
        Number(), doc="A passing value above this is WARN.", default=None
    )
    warn_range: Range | None = param(
        Bounds(),
        doc="A passing value outside this range is WARN; instead of warn_min/warn_max.",
        default=None,
    )
    period: str | None = param(
        PeriodSpec(),
        doc="Judge the observation for exactly this period (default: the newest observation).",
        default=None,
    )

    def problems(self) -> list[tuple[str, str]]:
        out = []
        if self.range is not None and (self.min is not None or self.max is not None):
            out.append(("range", "give either 'range' or 'min'/'max', not both"))
        if self.range is None and self.min is None and self.max is None:
            out.append(("min", "give at least one of 'min', 'max' or 'range'"))
        if self.min is not None and self.max is not None and self.min > self.max:
            out.append(("min", f"'min' ({self.min}) is above 'max' ({self.max})"))
        if self.warn_range is not None and (self.warn_min is not None or self.warn_max is not None):
            out.append(
                ("warn_range", "give either 'warn_range' or 'warn_min'/'warn_max', not both")
            )
        if (
            self.warn_min is not None
            and self.warn_max is not None
            and self.warn_min > self.warn_max
        ):
            out.append(
                ("warn_min", f"'warn_min' ({self.warn_min}) is above 'warn_max' ({self.warn_max})")
            )
        crit, warn = self.critical(), self.warning()
        if warn is not None and not crit.alert_inside and not warn.alert_inside:
            if warn.low is not None and crit.low is not None and warn.low < crit.low:
                out.append(
                    (
                        "warn_min",
                        f"the warning low end ({warn.low}) is below the critical one ({crit.low})",
                    )
                )
            if warn.high is not None and crit.high is not None and warn.high > crit.high:
                out.append(
                    (
                        "warn_max",
                        f"the warning high end ({warn.high}) is above the critical one ({crit.high})",
                    )
                )
        return out

    def critical(self) -> Range:
        return self.range if self.range is not None else Range(self.min, self.max)

    def warning(self) -> Range | None:
        if self.warn_range is not None:
            return self.warn_range
        if self.warn_min is None and self.warn_max is None:
            return None
        return Range(self.warn_min, self.warn_max)


class ThresholdKind(PreparedKind):
    """Is the value within bounds?

    Judges one observation: the one for exactly ``period`` if given (UNKNOWN when there is
    none), else the newest visible one (UNKNOWN for an empty series). Bounds come from
    ``min``/``max`` or from ``range`` in monitoring-plugins syntax (``@10:20`` passes outside
    10..20); both are inclusive, so a value equal to a bound passes. Outside the bounds is
    BREACH. A value that passes but falls outside the warning bounds (``warn_min``/``warn_max``
    or ``warn_range``) is WARN; otherwise OK. ``target`` is the nearest critical bound and
    ``margin`` the distance to it: positive inside (room to spare), negative outside.
    Details: ``value``, ``min``, ``max``, ``warn_min``, ``warn_max`` (those that apply), ``period``.
    """

    name = "threshold"
    summary = "the value stays within min / max (or a monitoring-plugins range)"
    Params = ThresholdParams

    def prepare(self, rule: Rule, ctx: EvalContext) -> _ThresholdJudge:
        return _ThresholdJudge(rule, ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, prepared: _ThresholdJudge) -> Judgement:
        return prepared.judge(series)


class _ThresholdJudge:
    """One threshold rule, ready to judge many series: its bounds, their details and the
    message templates are worked out once; the bounds' text once per indicator (its unit)."""

    def __init__(self, rule: Rule, ctx: EvalContext) -> None:
        p: ThresholdParams = rule.params
        self.p, self.ctx = p, ctx
        self.crit, self.warn = p.critical(), p.warning()
        bounds: dict[str, Any] = {}
        for key, bound in (("min", self.crit.low), ("max", self.crit.high)):
            if bound is not None:
                bounds[key] = bound
        if self.warn is not None:
            for key, bound in (("warn_min", self.warn.low), ("warn_max", self.warn.high)):
                if bound is not None:
                    bounds[key] = bound
        self.bounds = bounds
        names = ("indicator", "value", "period", "bounds")
        self.breach = positional(_("{indicator} {value} for {period} is not {bounds}"), *names)
        self.warning = positional(_("{indicator} {value} for {period} passes ({bounds}) but is not {warn_bounds}, the warning level"), *names, "warn_bounds")
        self.ok = positional(_("{indicator} {value} for {period} is {bounds}"), *names)
        self.texts: dict[str, tuple[str | None, str, str | None]] = {}

    def of(self, indicator: str) -> tuple[str | None, str, str | None]:
        """The indicator's unit, and the bounds and warning bounds in words in that unit."""
        found = self.texts.get(indicator)
        if found is None:
            unit = self.ctx.unit(indicator)

            def fmt(v: Decimal) -> str:
                return self.ctx.fmt(v, unit)

            warning = None if self.warn is None else _bounds_text(self.warn, fmt)
            found = self.texts[indicator] = (unit, _bounds_text(self.crit, fmt), warning)
        return found

    def judge(self, series: Series) -> Judgement:
        spec = self.p.period
        if spec is None and series.periods:  # the newest observation (the usual case)
            period, value = series.periods[-1], series.values[-1]
        else:
            picked = pick(series, spec, self.ctx)
            if isinstance(picked, Judgement):
                return picked
            period, value = picked
        indicator = series.indicator
        crit, warn = self.crit, self.warn
        margin, target = _margin(crit, value)
        details: dict[str, Any] = {"value": value, "period": period.label, **self.bounds}
        unit, bounds, warn_bounds = self.of(indicator)
        shown_value = self.ctx.fmt(value, unit)
        if crit.alerts(value):
            status, message = Status.BREACH, self.breach(indicator, shown_value, period.label, bounds)
        elif warn is not None and warn.alerts(value):
            status, message = Status.WARN, self.warning(indicator, shown_value, period.label, bounds, warn_bounds)
        else:
            status, message = Status.OK, self.ok(indicator, shown_value, period.label, bounds)
        return Judgement(status, message, value, target, margin, period, None, details)


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(ThresholdKind())
    register(CapKind())
