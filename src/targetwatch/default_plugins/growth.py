"""The ``growth`` kind: change against a base (year on year, period on period, a fixed
baseline, or compound annual growth)."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from ..errors import PeriodError
from ..hookspecs import hookimpl
from ..i18n import _, pgettext, positional
from ..kind import EvalContext, PreparedKind, RuleKind, unknown
from ..model import Judgement, Rule, Series, Status
from ..numbers import format_number
from ..params import Choice, Flag, IndicatorRef, Number, PeriodSpec, param
from ..periods import Period
from ..spans import span_length, span_unit
from .pace import resolve, shown

#: Growth figures are shown to this many decimal places (of the fraction: 1e-12 = 1e-10 %).
_PLACES = Decimal("1e-12")


@attrs.frozen
class GrowthParams:
    indicator: str = param(IndicatorRef(), doc="The indicator judged.")
    min: Decimal = param(
        Number(),
        doc="Least growth that passes (inclusive), e.g. '5%'; 0 means 'not down'.",
        default=Decimal(0),
    )
    max: Decimal | None = param(Number(), doc="Most growth that passes (inclusive).", default=None)
    compare: str = param(
        Choice("year_on_year", "period_on_period", "baseline", "cagr"),
        doc="The base: the same period a year earlier, the period before, the baseline period, or compound annual growth since the baseline.",
        default="year_on_year",
    )
    baseline: str | None = param(
        PeriodSpec(),
        doc="The base period for compare = baseline or cagr; a rolling window (span) is compared only with a window of its grain and length.",
        default=None
    )
    period: str | None = param(
        PeriodSpec(),
        doc="The period judged (default: the newest observation whose period has closed).",
        default=None,
    )
    include_open: bool = param(
        Flag(),
        doc="Also judge a period still open at as_of (its partial value against a full base).",
        default=False,
    )
    warn_min: Decimal | None = param(
        Number(), doc="Growth at or above min but below this is WARN; at least min.", default=None
    )

    def problems(self) -> list[tuple[str, str]]:
        out = []
        if self.compare in ("baseline", "cagr") and self.baseline is None:
            out.append(("baseline", f"compare = {self.compare!r} needs a 'baseline' period"))
        if self.compare not in ("baseline", "cagr") and self.baseline is not None:
            out.append(
                (
                    "baseline",
                    f"'baseline' is only used with compare = 'baseline' or 'cagr', not {self.compare!r}",
                )
            )
        if self.max is not None and self.max < self.min:
            out.append(("max", f"'max' ({self.max}) is below 'min' ({self.min})"))
        if self.warn_min is not None and self.warn_min < self.min:
            out.append(("warn_min", f"'warn_min' ({self.warn_min}) is below 'min' ({self.min})"))
        if self.compare == "cagr":
            for key, rate in (("min", self.min), ("max", self.max), ("warn_min", self.warn_min)):
                if rate is not None and rate <= -1:
                    out.append((key, f"an annual growth rate must be above -100%; found {rate}"))
        return out


class GrowthKind(PreparedKind):
    """Change against a base: growth = value / base − 1, held to ``min`` (and ``max``).

    The period judged is ``period`` if given, else the newest observation whose period has
    closed at ``as_of`` (an open period's partial value is never compared with a full one);
    with ``include_open = true`` the newest observation even if its period is still open. A
    named ``period`` still open without ``include_open`` is UNKNOWN.

    The base period: ``year_on_year`` the same period a year earlier (2023-H1 → 2022-H1);
    ``period_on_period`` the one before (2023-H1 → 2022-H2); ``baseline`` and ``cagr`` the
    ``baseline`` period. A missing, zero or negative base is UNKNOWN with the reason, never a
    crash or infinity.

    The decision is exact, without dividing: passes when value − base ≥ ``min`` × base (and ≤
    ``max`` × base), so exactly-on-target passes (1.1 → 1.21 is +10 %). For ``cagr`` over n
    years (n = whole years between the two periods' starts; both periods must be of the same
    grain and length and start on the same month and day, else UNKNOWN): passes when value ≥ base ×
    (1 + ``min``)^n, computed exactly; the shown CAGR is (value / base)^(1/n) − 1. Growth below
    ``min`` (or above ``max``) is BREACH; at or above ``min`` but below ``warn_min`` is WARN.

    ``value`` is the growth (unit ``%``), ``target`` is ``min`` (``max`` when that is what was
    exceeded) and ``margin`` the distance to it (positive = room to spare). Details:
    ``current``, ``base``, ``base_period``, ``growth``, ``compare``, ``period``, and for cagr
    ``years`` and ``required`` (the least value that passes).
    """

    name = "growth"
    summary = "change against a base: year on year, period on period, a fixed baseline, or CAGR"
    Params = GrowthParams

    def prepare(self, rule: Rule, ctx: EvalContext) -> _GrowthJudge:
        return _GrowthJudge(rule, ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, prepared: _GrowthJudge) -> Judgement:
        return prepared.judge(series)


class _GrowthJudge:
    """One growth rule, ready to judge many series: the message templates, the bounds in words
    and each period's base period are worked out once, not once per series."""

    def __init__(self, rule: Rule, ctx: EvalContext) -> None:
        p: GrowthParams = rule.params
        self.p, self.ctx = p, ctx
        self.cagr = p.compare == "cagr"
        # One English sentence, but languages name the kinds of growth apart (Chinese 同比 / 环比).
        if p.compare == "cagr":
            head = _("{indicator} {value} for {period} against {base}: CAGR {growth}")
        elif p.compare == "year_on_year":
            head = pgettext("year on year", "{indicator} {value} for {period} against {base}: growth {growth}")
        elif p.compare == "period_on_period":
            head = pgettext("period on period", "{indicator} {value} for {period} against {base}: growth {growth}")
        else:
            head = pgettext("against a baseline", "{indicator} {value} for {period} against {base}: growth {growth}")
        self.head = positional(head, "indicator", "value", "period", "base", "growth")
        self.base_text = positional(_("{value} for {period}"), "value", "period")
        self.below = positional(_("{head}, below the minimum {min}"), "head", "min")
        self.warned = positional(_("{head}, meets the minimum {min} but is below the warning level {warn}"), "head", "min", "warn")
        self.meets = positional(_("{head}, meets the minimum {min}"), "head", "min")
        self.units: dict[str, str | None] = {}
        self.bases: dict[Period, Period | str] = {}
        self.signed: dict[str, str] = {}

    def unit(self, indicator: str) -> str | None:
        if indicator not in self.units:
            self.units[indicator] = self.ctx.unit(indicator)
        return self.units[indicator]

    def rate(self, key: str, rate: Decimal) -> str:
        """A bound of the rule (``min``, ``max``, ``warn_min``) as a signed percentage."""
        found = self.signed.get(key)
        if found is None:
            found = self.signed[key] = _signed(rate, self.ctx.fmt)
        return found

    def judge(self, series: Series) -> Judgement:
        p, ctx = self.p, self.ctx
        periods = series.periods
        if p.period is None and periods and (p.include_open or ctx.ended(periods[-1])):
            period, cur = periods[-1], series.values[-1]  # the newest observation (the usual case)
        else:
            picked = self.current(series)
            if isinstance(picked, Judgement):
                return picked
            period, cur = picked
        base_period = self.bases.get(period)  # of year on year and period on period, once found
        if not isinstance(base_period, Period):
            found = self.base_period(period)
            if isinstance(found, Judgement):
                return found
            base_period = found
        base = series.value_at(base_period)
        if base is None:
            return unknown(
                _("no observation of {indicator} for the base period {base_period}").format(indicator=series.indicator, base_period=base_period),
                period=period,
            )
        indicator = series.indicator
        unit = self.unit(indicator)
        fmt = ctx.fmt
        shown_base = self.base_text(fmt(base, unit), base_period.label)
        if base <= 0:
            if base == 0:
                return unknown(_("the base ({base}) is zero; growth is undefined").format(base=shown_base), period=period)
            return unknown(_("the base ({base}) is negative; growth is not meaningful").format(base=shown_base), period=period)
        details: dict[str, Any] = {
            "current": cur,
            "base": base,
            "base_period": base_period.label,
            "compare": p.compare,
            "period": period.label,
        }
        minimum, warn_min = p.min, p.warn_min
        years: int | None = None
        if self.cagr:
            whole = _whole_years(base_period, period)
            if isinstance(whole, str):
                return unknown(
                    _("cannot compute CAGR from {base_period} to {period}: {reason}").format(base_period=base_period, period=period, reason=whole),
                    period=period,
                )
            years = whole
            if cur < 0:
                return unknown(
                    _("{indicator} {value} for {period} is negative; CAGR is undefined").format(
                        indicator=series.indicator, value=ctx.fmt(cur, unit), period=period
                    ),
                    period=period,
                )
            details["years"] = years
            required = Fraction(base) * (1 + Fraction(minimum)) ** years
            details["required"] = Decimal(required.numerator) / Decimal(required.denominator)
            growth = _cagr(cur, base, years)
            ok_min = Fraction(cur) >= required
            ok_max = p.max is None or Fraction(cur) <= Fraction(base) * (1 + Fraction(p.max)) ** years
        else:
            # Exact, without dividing: value - base against rate x base.
            change = cur - base
            ok_min = change >= minimum * base
            ok_max = p.max is None or change <= p.max * base
            # Rounding toward -inf keeps the shown growth on the same side of any bound with
            # at most 12 decimals as the exact figure.
            growth = (cur / base - 1).quantize(_PLACES, rounding=decimal.ROUND_FLOOR)
        # A shown CAGR comes from a root and can land a hair off a bound the exact test met.
        if ok_min:
            if growth < minimum:
                growth = minimum
        elif growth >= minimum:
            growth = minimum - _PLACES
        growth = shown(growth, places=None)  # drop trailing zeros: 0.100000000000 -> 0.1
        details["growth"] = growth
        # Formatted without the context's memo: a growth figure is new for almost every series,
        # and hashing a new Decimal to look it up costs more than formatting it.
        head = self.head(indicator, fmt(cur, unit), period.label, shown_base, _signed(growth, format_number))
        if not ok_max:
            assert p.max is not None
            message = _("{head}, above the maximum {max}").format(head=head, max=self.rate("max", p.max))
            return Judgement(Status.BREACH, message, value=growth, target=p.max,
                             margin=p.max - growth, period=period, unit="%", details=details)  # fmt: skip
        if not ok_min:
            status, message = Status.BREACH, self.below(head, self.rate("min", minimum))
        elif warn_min is not None and not _passes(cur, base, warn_min, years):
            status, message = Status.WARN, self.warned(head, self.rate("min", minimum), self.rate("warn_min", warn_min))
        else:
            status, message = Status.OK, self.meets(head, self.rate("min", minimum))
        return Judgement(status, message, growth, minimum, growth - minimum, period, "%", details)

    def current(self, series: Series) -> tuple[Period, Decimal] | Judgement:
        p, ctx = self.p, self.ctx
        if p.period is not None:
            period = resolve(ctx, p.period)
            if isinstance(period, Judgement):
                return period
            value = series.value_at(period)
            if value is None:
                return unknown(_("no observation of {indicator} for {period}").format(indicator=series.indicator, period=period), period=period)
            if not p.include_open and not ctx.ended(period):
                return unknown(
                    _(
                        "{period} is still open until {last_day}; its partial value is not compared with a full one "
                        "(set include_open = true to compare it)"
                    ).format(period=period, last_day=period.last_day),
                    period=period,
                )
            return period, value
        periods = series.periods
        for i in range(len(periods) - 1, -1, -1):
            if p.include_open or ctx.ended(periods[i]):
                return periods[i], series.values[i]
        newest = series.latest()
        if newest is None:
            return unknown(_("no observation of {indicator} up to {today}").format(indicator=series.indicator, today=ctx.today))
        return unknown(
            _("no observation of {indicator} for a period closed by {today} ({newest} is still open)").format(
                indicator=series.indicator, today=ctx.today, newest=newest[0]
            )
        )

    def base_period(self, period: Period) -> Period | Judgement:
        p, ctx = self.p, self.ctx
        if p.compare in ("baseline", "cagr"):
            assert p.baseline is not None  # problems() requires it
            base = resolve(ctx, p.baseline)
            if p.compare == "baseline" and not isinstance(base, Judgement) and base.grain != period.grain and (
                span_unit(base.grain) or span_unit(period.grain)
            ):  # a rolling window against a window of another grain or length: no growth
                return unknown(_("the periods are of different grains ({base} and {current})").format(base=base.grain, current=period.grain), period=period)
            if p.compare == "baseline" and not isinstance(base, Judgement) and span_length(base) != span_length(period):
                return unknown(_("the periods are of different lengths ({base} and {current})").format(base=base, current=period), period=period)
            return base
        found = self.bases.get(period)
        if found is None:
            try:
                found = ctx.calendar.year_ago(period) if p.compare == "year_on_year" else ctx.calendar.previous(period)
            except PeriodError as exc:
                found = _("no base period for {period}: {error}").format(period=period, error=exc)
            self.bases[period] = found
        if isinstance(found, str):
            return unknown(found, period=period)
        return found


def _whole_years(base: Period, current: Period) -> int | str:
    """Whole years from ``base`` to ``current``, or the reason there is no such number."""
    if base.grain != current.grain:
        return _("the periods are of different grains ({base} and {current})").format(base=base.grain, current=current.grain)
    if span_length(base) != span_length(current):
        return _("the periods are of different lengths ({base} and {current})").format(base=base, current=current)
    if (base.start.month, base.start.day) != (current.start.month, current.start.day):
        return _("they are not a whole number of years apart")
    years = current.start.year - base.start.year
    if years <= 0:
        return _("the baseline must come at least a year before the period judged")
    return years


def _passes(cur: Decimal, base: Decimal, rate: Decimal, years: int | None) -> bool:
    """Whether growth from ``base`` to ``cur`` is at least ``rate``, exactly and without
    dividing: in all (``years`` ``None``), or per year, compounded over ``years``."""
    if years is None:
        return cur - base >= rate * base
    return Fraction(cur) >= Fraction(base) * (1 + Fraction(rate)) ** years


def _cagr(cur: Decimal, base: Decimal, years: int) -> Decimal:
    ratio = cur / base
    if years == 1:
        root = ratio
    elif ratio == 0:
        root = Decimal(0)
    else:
        root = ratio ** (Decimal(1) / Decimal(years))
    return (root - 1).quantize(_PLACES, rounding=decimal.ROUND_HALF_EVEN)


def _signed(rate: Decimal, fmt: Callable[[Decimal | int | None, str | None], str]) -> str:
    text = fmt(rate, "%")
    return text if text.startswith("-") or text == "0%" else f"+{text}"


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(GrowthKind())
