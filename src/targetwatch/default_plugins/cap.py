"""The ``cap`` kind: a value (or a period's sum, max or mean) never above a ceiling."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from ..i18n import _, positional
from ..kind import EvalContext, PreparedKind
from ..model import Judgement, Rule, Series, Status
from ..params import Choice, IndicatorRef, Number, PeriodSpec, param
from ..periods import Period
from .gaps import gaps_param, incomplete, missing, what_of
from .pace import (
    aggregate_exact,
    aggregate_word,
    closed,
    days_left,
    fmt_share,
    observed_in,
    pick,
    shown,
)


@attrs.frozen
class CapParams:
    indicator: str = param(IndicatorRef(), doc="The indicator judged.")
    max: Decimal = param(Number(), doc="The ceiling; a value equal to it passes.")
    warn_at: Decimal | None = param(
        Number(), doc="A value above this (but not above max) is WARN; at most max.", default=None
    )
    period: str | None = param(
        PeriodSpec(),
        doc="With aggregate latest: judge the observation for exactly this period (default the newest). Otherwise the period aggregated (required), e.g. 'current year' or 'last 12 months'.",
        default=None,
    )
    aggregate: str = param(
        Choice("latest", "sum", "max", "mean"),
        doc="latest: one observation; sum / max / mean: of the observations within period.",
        default="latest",
    )
    gaps: str = gaps_param()

    def problems(self) -> list[tuple[str, str]]:
        out = []
        if self.warn_at is not None and self.warn_at > self.max:
            out.append(("warn_at", f"'warn_at' ({self.warn_at}) is above 'max' ({self.max})"))
        if self.aggregate != "latest" and self.period is None:
            out.append(
                ("period", f"aggregate {self.aggregate!r} needs a 'period' to aggregate over")
            )
        return out


class CapKind(PreparedKind):
    """Never above a ceiling.

    With ``aggregate = "latest"`` (the default) one observation is judged, picked as for
    ``threshold``: above ``max`` is BREACH, above ``warn_at`` (up to and including ``max``) is
    WARN, else OK. A value equal to ``max`` passes.

    With ``sum``, ``max`` or ``mean`` the observations lying within ``period`` are aggregated
    (an observation for exactly the period is used alone; mixed grains are combined, never
    double counted). A period not yet started, or one without observations so far, is UNKNOWN.
    Above ``max`` is BREACH, except a ``mean`` while the period is still open, which may yet
    come down and is WARN. For ``sum`` and ``max`` an open period already above the ceiling is
    BREACH at once: assuming values are non-negative, a sum can only grow (and a max never
    falls). While a ``sum``'s period is open, a total at or below the ceiling whose linear
    forecast (total / elapsed fraction of the period) exceeds ``max`` is WARN "on course to
    exceed" (only once some of the period has elapsed); the target shown is then the allowance
    by now, ``max`` × elapsed. ``margin`` is target − value (room left under the ceiling).
    A gap in an aggregated period (``gaps = "unknown"``, the default: a sub-period of the
    observations' grain with no observation, while the period is open only one before the
    newest; also days none of their grain can cover, at the period's start from the start, at
    its end once closed) is UNKNOWN naming what is
    missing, unless a ``max``, or a ``sum`` of non-negative values, is already above ``max``
    (what is missing can only add). ``gaps = "ignore"`` judges what is there; with ``latest``
    there is no period to fill. Details then add ``expected_observations`` and ``missing``.
    Details: ``value``, ``max``, ``warn_at``, ``period``, and for aggregates ``total``,
    ``observations``; for an open sum also ``elapsed``, ``expected`` (the allowance),
    ``forecast``, ``remaining_days``.
    """

    name = "cap"
    summary = "the value (or a period's sum / max / mean) never exceeds a ceiling"
    Params = CapParams

    def prepare(self, rule: Rule, ctx: EvalContext) -> _CapTexts:
        return _CapTexts(rule.params, ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, texts: _CapTexts) -> Judgement:
        p: CapParams = rule.params
        if p.aggregate == "latest":
            if p.period is None and series.periods:  # the newest observation (the usual case)
                period, value = series.periods[-1], series.values[-1]
            else:
                picked = pick(series, p.period, ctx)
                if isinstance(picked, Judgement):
                    return picked
                period, value = picked
            unit, cap, warn = texts.limits(series.indicator)
            head = texts.head(series.indicator, ctx.fmt(value, unit), period.label)
            facts: dict[str, Any] = {"value": value, "max": p.max, "period": period.label}
            if p.warn_at is not None:
                facts["warn_at"] = p.warn_at
            if value > p.max:
                status, why = Status.BREACH, texts.above
            elif p.warn_at is not None and value > p.warn_at:
                status, why = Status.WARN, texts.warned
            else:
                status, why = Status.OK, texts.within
            return Judgement(status, why(head, cap, warn), value, p.max, p.max - value, period, None, facts)
        unit = ctx.unit(series.indicator)
        assert p.period is not None  # problems() requires it
        found = observed_in(series, p.period, ctx)
        if isinstance(found, Judgement):
            return found
        period, obs = found
        total = shown(aggregate_exact([v for _p, v in obs], p.aggregate), places=None)
        done = closed(ctx, period)
        details: dict[str, Any] = {"total": total, "observations": len(obs)}
        # Above the ceiling stands whatever is missing: a maximum only grows, and so does a sum
        # of non-negative values.
        if p.gaps == "unknown" and not (total > p.max and (p.aggregate == "max" or (p.aggregate == "sum" and min(v for _p, v in obs) >= 0))):
            gap = missing(ctx.calendar, period, obs, closed=done, aggregate=p.aggregate)
            if gap is not None:
                return incomplete(what_of(series.indicator, p.aggregate, period), period, gap, {**details, "max": p.max}, closed=done)
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
            status, message = Status.WARN, _(
                "{head} is on course to exceed the cap of {cap}: forecast {forecast} by "
                "{last_day} ({share} of the period elapsed, allowance by now {allowance})"
            ).format(
                head=head, cap=ctx.fmt(p.max, unit), forecast=ctx.fmt(details["forecast"], unit),
                last_day=period.last_day, share=share, allowance=ctx.fmt(shown_allowance, unit),
            )
        else:
            status, message = Status.OK, _(
                "{head} is within the cap of {cap} and its allowance by now ({allowance}, {share} of the period elapsed)"
            ).format(head=head, cap=ctx.fmt(p.max, unit), allowance=ctx.fmt(shown_allowance, unit), share=share)
        return Judgement(status, message, value=total, target=shown_allowance, margin=margin, period=period, details=details)

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
        self.head = positional(_("{indicator} {value} for {period}"), "indicator", "value", "period")
        self.above = positional(_("{head} is above the cap of {cap}"), "head", "cap", "warn")
        self.warned = positional(_("{head} is within the cap of {cap} but above the warning level {warn}"), "head", "cap", "warn")
        self.within = positional(_("{head} is within the cap of {cap}"), "head", "cap", "warn")
        self._limits: dict[str, tuple[str | None, str, str | None]] = {}

    def limits(self, indicator: str) -> tuple[str | None, str, str | None]:
        """The indicator's unit, the cap and the warning level (``None`` without one) in it."""
        found = self._limits.get(indicator)
        if found is None:
            unit = self.ctx.unit(indicator)
            warn = None if self.p.warn_at is None else self.ctx.fmt(self.p.warn_at, unit)
            found = self._limits[indicator] = (unit, self.ctx.fmt(self.p.max, unit), warn)
        return found
