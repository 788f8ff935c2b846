"""The ``threshold`` kind (a value within min / max) and the ``cap`` kind (never above a ceiling)."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from ..hookspecs import hookimpl
from ..i18n import _
from ..kind import EvalContext, RuleKind
from ..model import Judgement, Rule, Series, Status
from ..numbers import Range, exact_context
from ..params import Bounds, Choice, IndicatorRef, Number, PeriodSpec, param
from ..periods import Period
from .pace import (
    aggregate_exact,
    aggregate_word,
    closed,
    days_left,
    fmt_share,
    no_observations_in,
    not_started,
    not_started_yet,
    observations_in,
    pick,
    resolve,
    shown,
)


def _margin(bounds: Range, value: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """(margin, nearest bound): distance to the nearest bound, positive on the passing side."""
    sides = [(value - b, b) for b in (bounds.low,) if b is not None]
    sides += [(b - value, b) for b in (bounds.high,) if b is not None]
    if not sides:
        return None, None
    if not bounds.alert_inside:
        return min(sides, key=lambda s: s[0])
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


class ThresholdKind(RuleKind):
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

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        with decimal.localcontext(exact_context()):
            return _ThresholdJudge(rule, ctx).judge(series)

    def evaluate_batch(self, rule: Rule, series: Sequence[Series], ctx: EvalContext) -> list[Judgement]:
        with decimal.localcontext(exact_context()):
            judge = _ThresholdJudge(rule, ctx).judge
            return [judge(s) for s in series]


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
        self.breach = _("{indicator} {value} for {period} is not {bounds}")
        self.warning = _("{indicator} {value} for {period} passes ({bounds}) but is not {warn_bounds}, the warning level")
        self.ok = _("{indicator} {value} for {period} is {bounds}")
        self.units: dict[str, str | None] = {}
        self.texts: dict[tuple[str, bool], str] = {}

    def unit(self, indicator: str) -> str | None:
        if indicator not in self.units:
            self.units[indicator] = self.ctx.unit(indicator)
        return self.units[indicator]

    def bounds_text(self, indicator: str, warning: bool) -> str:
        """The (warning) bounds in words, their numbers in the indicator's unit."""
        found = self.texts.get((indicator, warning))
        if found is None:
            unit = self.unit(indicator)
            bounds = self.warn if warning else self.crit
            assert bounds is not None

            def fmt(v: Decimal) -> str:
                return self.ctx.fmt(v, unit)

            found = self.texts[(indicator, warning)] = _bounds_text(bounds, fmt)
        return found

    def judge(self, series: Series) -> Judgement:
        picked = pick(series, self.p.period, self.ctx)
        if isinstance(picked, Judgement):
            return picked
        period, value = picked
        indicator = series.indicator
        crit, warn = self.crit, self.warn
        margin, target = _margin(crit, value)
        details: dict[str, Any] = {"value": value, "period": period.label, **self.bounds}
        shown_value = self.ctx.fmt(value, self.unit(indicator))
        bounds = self.bounds_text(indicator, False)
        if crit.alerts(value):
            status = Status.BREACH
            message = self.breach.format(indicator=indicator, value=shown_value, period=period, bounds=bounds)
        elif warn is not None and warn.alerts(value):
            status = Status.WARN
            message = self.warning.format(
                indicator=indicator, value=shown_value, period=period, bounds=bounds, warn_bounds=self.bounds_text(indicator, True)
            )
        else:
            status = Status.OK
            message = self.ok.format(indicator=indicator, value=shown_value, period=period, bounds=bounds)
        return Judgement(status, message, value=value, target=target, margin=margin, period=period, details=details)


@attrs.frozen
class CapParams:
    indicator: str = param(IndicatorRef(), doc="The indicator judged.")
    max: Decimal = param(Number(), doc="The ceiling; a value equal to it passes.")
    warn_at: Decimal | None = param(
        Number(), doc="A value above this (but not above max) is WARN; at most max.", default=None
    )
    period: str | None = param(
        PeriodSpec(),
        doc="With aggregate latest: judge the observation for exactly this period (default the newest). Otherwise the period aggregated (required).",
        default=None,
    )
    aggregate: str = param(
        Choice("latest", "sum", "max", "mean"),
        doc="latest: one observation; sum / max / mean: of the observations within period.",
        default="latest",
    )

    def problems(self) -> list[tuple[str, str]]:
        out = []
        if self.warn_at is not None and self.warn_at > self.max:
            out.append(("warn_at", f"'warn_at' ({self.warn_at}) is above 'max' ({self.max})"))
        if self.aggregate != "latest" and self.period is None:
            out.append(
                ("period", f"aggregate {self.aggregate!r} needs a 'period' to aggregate over")
            )
        return out


class CapKind(RuleKind):
    """Never above a ceiling.

    With ``aggregate = "latest"`` (the default) one observation is judged, picked as for
    ``threshold``: above ``max`` is BREACH, above ``warn_at`` (up to and including ``max``) is
    WARN, else OK. A value equal to ``max`` passes.

    With ``sum``, ``max`` or ``mean`` the observations lying within ``period`` are aggregated
    (an observation for exactly the period is used alone; mixed grains are never double
    counted). A period not yet started, or one without observations so far, is UNKNOWN.
    Above ``max`` is BREACH, except a ``mean`` while the period is still open, which may yet
    come down and is WARN. For ``sum`` and ``max`` an open period already above the ceiling is
    BREACH at once: assuming values are non-negative, a sum can only grow (and a max never
    falls). While a ``sum``'s period is open, a total at or below the ceiling whose linear
    forecast (total / elapsed fraction of the period) exceeds ``max`` is WARN "on course to
    exceed" (only once some of the period has elapsed); the target shown is then the allowance
    by now, ``max`` × elapsed. ``margin`` is target − value (room left under the ceiling).
    Details: ``value``, ``max``, ``warn_at``, ``period``, and for aggregates ``total``,
    ``observations``; for an open sum also ``elapsed``, ``expected`` (the allowance),
    ``forecast``, ``remaining_days``.
    """

    name = "cap"
    summary = "the value (or a period's sum / max / mean) never exceeds a ceiling"
    Params = CapParams

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        with decimal.localcontext(exact_context()):
            return self._evaluate(rule, series, ctx, _CapTexts(rule.params, ctx))

    def evaluate_batch(self, rule: Rule, series: Sequence[Series], ctx: EvalContext) -> list[Judgement]:
        with decimal.localcontext(exact_context()):
            texts = _CapTexts(rule.params, ctx)
            return [self._evaluate(rule, s, ctx, texts) for s in series]

    def _evaluate(self, rule: Rule, series: Series, ctx: EvalContext, texts: _CapTexts) -> Judgement:
        p: CapParams = rule.params
        if p.aggregate == "latest":
            picked = pick(series, p.period, ctx)
            if isinstance(picked, Judgement):
                return picked
            period, value = picked
            unit, cap, warn = texts.limits(series.indicator)
            head = texts.head.format(indicator=series.indicator, value=ctx.fmt(value, unit), period=period)
            facts: dict[str, Any] = {"value": value, "max": p.max, "period": period.label}
            if p.warn_at is not None:
                facts["warn_at"] = p.warn_at
            if value > p.max:
                status, why = Status.BREACH, texts.above
            elif p.warn_at is not None and value > p.warn_at:
                status, why = Status.WARN, texts.warned
            else:
                status, why = Status.OK, texts.within
            return Judgement(status, why.format(head=head, cap=cap, warn=warn), value=value, target=p.max,
                             margin=p.max - value, period=period, details=facts)  # fmt: skip
        unit = ctx.unit(series.indicator)
        assert p.period is not None  # problems() requires it
        resolved = resolve(ctx, p.period)
        if isinstance(resolved, Judgement):
            return resolved
        period = resolved
        if not_started(ctx, period):
            return not_started_yet(period)
        obs = observations_in(series, period)
        if not obs:
            return no_observations_in(series, period)
        total = shown(aggregate_exact([v for _p, v in obs], p.aggregate), places=None)
        done = closed(ctx, period)
        details: dict[str, Any] = {"total": total, "observations": len(obs)}
        said = {"indicator": series.indicator, "aggregate": aggregate_word(p.aggregate), "value": ctx.fmt(total, unit), "period": period}
        head = (
            _("{indicator} {aggregate} {value} for {period}") if done else _("{indicator} {aggregate} {value} for {period} so far")
        ).format(**said)
        if (
            done
            or p.aggregate != "sum"
            or total > p.max
            or (p.warn_at is not None and total > p.warn_at)
        ):
            return self._level(
                p,
                head,
                period,
                total,
                ctx,
                unit,
                final=done or p.aggregate != "mean",
                details=details,
            )
        elapsed = ctx.elapsed(period)
        allowance = Fraction(p.max) * elapsed
        details.update(
            max=p.max,
            period=period.label,
            value=total,
            elapsed=shown(elapsed),
            expected=shown(allowance),
            forecast=None if elapsed == 0 else shown(Fraction(total) / elapsed),
            remaining_days=days_left(ctx.today, period.last_day),
        )
        if p.warn_at is not None:
            details["warn_at"] = p.warn_at
        shown_allowance = shown(allowance)
        margin = shown(allowance - Fraction(total))
        share = fmt_share(elapsed)
        if elapsed > 0 and Fraction(total) > allowance:
            message = _(
                "{head} is on course to exceed the cap of {cap}: forecast {forecast} by "
                "{last_day} ({share} of the period elapsed, allowance by now {allowance})"
            ).format(
                head=head, cap=ctx.fmt(p.max, unit), forecast=ctx.fmt(details["forecast"], unit),
                last_day=period.last_day, share=share, allowance=ctx.fmt(shown_allowance, unit),
            )
            return Judgement(
                Status.WARN,
                message,
                value=total,
                target=shown_allowance,
                margin=margin,
                period=period,
                details=details,
            )
        message = _("{head} is within the cap of {cap} and its allowance by now ({allowance}, {share} of the period elapsed)").format(
            head=head, cap=ctx.fmt(p.max, unit), allowance=ctx.fmt(shown_allowance, unit), share=share
        )
        return Judgement(
            Status.OK,
            message,
            value=total,
            target=shown_allowance,
            margin=margin,
            period=period,
            details=details,
        )

    @staticmethod
    def _level(
        p: CapParams,
        head: str,
        period: Period,
        value: Decimal,
        ctx: EvalContext,
        unit: str | None,
        *,
        final: bool,
        details: dict[str, Any],
    ) -> Judgement:
        details = {**details, "value": value, "max": p.max, "period": period.label}
        if p.warn_at is not None:
            details["warn_at"] = p.warn_at
        cap = ctx.fmt(p.max, unit)
        if value > p.max:
            if final:
                status, why = Status.BREACH, _("{head} is above the cap of {cap}")
            else:
                status, why = Status.WARN, _("{head} is above the cap of {cap} while the period is still open")
        elif p.warn_at is not None and value > p.warn_at:
            status, why = Status.WARN, _("{head} is within the cap of {cap} but above the warning level {warn}")
        else:
            status, why = Status.OK, _("{head} is within the cap of {cap}")
        warn = None if p.warn_at is None else ctx.fmt(p.warn_at, unit)
        return Judgement(
            status,
            why.format(head=head, cap=cap, warn=warn),
            value=value,
            target=p.max,
            margin=p.max - value,
            period=period,
            details=details,
        )


class _CapTexts:
    """What a cap rule says the same way for every series: its message templates, and its
    ceiling and warning level written in each indicator's unit."""

    def __init__(self, p: CapParams, ctx: EvalContext) -> None:
        self.p, self.ctx = p, ctx
        self.head = _("{indicator} {value} for {period}")
        self.above = _("{head} is above the cap of {cap}")
        self.warned = _("{head} is within the cap of {cap} but above the warning level {warn}")
        self.within = _("{head} is within the cap of {cap}")
        self._limits: dict[str, tuple[str | None, str, str | None]] = {}

    def limits(self, indicator: str) -> tuple[str | None, str, str | None]:
        """The indicator's unit, the cap and the warning level (``None`` without one) in it."""
        found = self._limits.get(indicator)
        if found is None:
            unit = self.ctx.unit(indicator)
            warn = None if self.p.warn_at is None else self.ctx.fmt(self.p.warn_at, unit)
            found = self._limits[indicator] = (unit, self.ctx.fmt(self.p.max, unit), warn)
        return found


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(ThresholdKind())
    register(CapKind())
