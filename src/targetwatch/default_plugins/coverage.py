"""The ``coverage`` rule kind: a share (numerator / denominator) held to a minimum."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from ..hookspecs import hookimpl
from ..i18n import _, positional
from ..kind import EvalContext, PreparedKind, RuleKind, pick_observation, unknown
from ..model import Judgement, Rule, Series, Status
from ..numbers import exact_context, format_number
from ..params import IndicatorRef, Number, PeriodSpec, param

#: Decimal places kept in a shown ratio (value, margin): far below anything a report prints,
#: yet short enough that 2/3 does not fill a JSON document with 60 digits.
RATIO_PLACES = 12


_EXACT = exact_context()
_PLACES = Decimal(1).scaleb(-RATIO_PLACES)
_ONE = Decimal(1)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` for display, rounded to :data:`RATIO_PLACES` places and
    without trailing zeros. Decisions never use it: they compare products exactly."""
    return tidy(_EXACT.divide(numerator, denominator))


def tidy(value: Decimal) -> Decimal:
    """``value`` rounded to :data:`RATIO_PLACES` places, trailing zeros dropped, no exponent."""
    # The exact context is passed to each operation rather than entered: the same results.
    rounded = value.quantize(_PLACES, context=_EXACT)
    if rounded == rounded.to_integral_value(context=_EXACT):
        return rounded.quantize(_ONE, context=_EXACT)
    return rounded.normalize(_EXACT)


def judge_share(
    part: Decimal,
    whole: Decimal,
    *,
    minimum: Decimal | None,
    maximum: Decimal | None,
    warn_min: Decimal | None,
) -> tuple[Status, Decimal, Decimal | None, Decimal | None]:
    """Hold ``part / whole`` (``whole`` > 0) to ``[minimum, maximum]`` with a warning band
    ``[minimum, warn_min)``, comparing products exactly (``part >= minimum * whole``).

    Returns the status, the shown ratio, the bound it was held to and the signed margin to that
    bound (the nearer one when both are set and the ratio is within them).
    """
    exact = _EXACT.divide(part, whole)
    value = tidy(exact)
    multiply, subtract = _EXACT.multiply, _EXACT.subtract
    below = minimum is not None and part < multiply(minimum, whole)
    above = maximum is not None and part > multiply(maximum, whole)
    warned = warn_min is not None and part < multiply(warn_min, whole)
    room: list[tuple[Decimal, Decimal]] = []
    if minimum is not None:
        room.append((subtract(exact, minimum), minimum))
    if maximum is not None:
        room.append((subtract(maximum, exact), maximum))
    if below or above:
        status = Status.BREACH
    elif warned:
        status = Status.WARN
    else:
        status = Status.OK
    if not room:
        return status, value, None, None
    margin, target = room[-1] if above else min(room, key=lambda item: item[0])
    return status, value, target, tidy(margin)


def bounds_text(
    ctx: EvalContext, minimum: Decimal | None, maximum: Decimal | None, warn_min: Decimal | None
) -> str:
    """``at least 90%`` / ``at most 4.89%`` / ``between 90% and 100%``, plus the warning level."""
    if minimum is not None and maximum is not None:
        text = _("between {min} and {max}").format(min=ctx.fmt(minimum, "%"), max=ctx.fmt(maximum, "%"))
    elif minimum is not None:
        text = _("at least {min}").format(min=ctx.fmt(minimum, "%"))
    else:
        text = _("at most {max}").format(max=ctx.fmt(maximum, "%"))
    if warn_min is not None:
        text = _("{bounds}, warning below {warn}").format(bounds=text, warn=ctx.fmt(warn_min, "%"))
    return text


def standing(
    ctx: EvalContext,
    status: Status,
    value: Decimal,
    minimum: Decimal | None,
    maximum: Decimal | None,
    warn_min: Decimal | None,
    *,
    required: str | None = None,
) -> str:
    """The end of a share's sentence: where ``value`` stands against its bounds, in words
    (``required``: the bounds in words, :func:`bounds_text`, when already known)."""
    if required is None:
        required = bounds_text(ctx, minimum, maximum, warn_min)
    if status is Status.OK:
        return _("is on target ({required})").format(required=required)
    if status is Status.WARN:
        return _("is on target but below the warning level ({required})").format(required=required)
    if minimum is not None and value < minimum:
        points = format_number(minimum - value, "%").removesuffix("%")  # a new figure: not memoized
        return _("is {points} percentage points short of the minimum ({required})").format(points=points, required=required)
    return _("is above the maximum ({required})").format(required=required)


def bound_problems(
    minimum: Decimal | None, maximum: Decimal | None, warn_min: Decimal | None
) -> list[tuple[str, str]]:
    """Cross-field checks shared by ``coverage`` and ``share``."""
    out = []
    if minimum is not None and maximum is not None and maximum < minimum:
        out.append(("max", f"expected max at least min ({minimum}), found {maximum}"))
    if warn_min is not None:
        if minimum is None:
            out.append(
                ("warn_min", "warn_min needs min: the warning band lies just above the minimum")
            )
        elif warn_min < minimum:
            out.append(
                ("warn_min", f"expected warn_min at least min ({minimum}), found {warn_min}")
            )
    return out


@attrs.frozen
class CoverageParams:
    numerator: str = param(
        IndicatorRef(),
        doc='The indicator counted (e.g. inclusive kindergartens), or one that is already a share (0.941 or "94.1%" in the data; a bare 94.1 would mean 9410 %). Verdicts are per series of this indicator.',
    )
    denominator: str | None = param(
        IndicatorRef(),
        default=None,
        doc="The indicator the numerator is a part of (e.g. all kindergartens); its series with exactly the same labels is used. Omit when the numerator is already a share.",
    )
    min: Decimal = param(Number(), doc='The least share that passes, inclusive: "90%" or 0.9.')
    max: Decimal | None = param(
        Number(), default=None, doc='The greatest share that passes, inclusive (e.g. "100%").'
    )
    warn_min: Decimal | None = param(
        Number(),
        default=None,
        doc="A share at or above min but below this is WARN (an early warning band just above the minimum).",
    )
    period: str | None = param(
        PeriodSpec(),
        default=None,
        doc="The period judged (a label or 'previous half'); default: the newest period for which both numerator and denominator have an observation.",
    )

    def problems(self) -> list[tuple[str, str]]:
        return bound_problems(self.min, self.max, self.warn_min)


class CoverageKind(PreparedKind):
    """``coverage``: is the share numerator / denominator at least ``min``?

    - With ``denominator``, the share is numerator / denominator for one period, taking the
      denominator series with exactly the same labels as the numerator series. Without it, the
      numerator's own value is the share (``0.941`` and ``"94.1%"`` in the data mean the same;
      a bare ``94.1`` means 9,410 %).
    - The period is ``period`` when given; otherwise the newest period for which both
      numerator and denominator have an observation.
    - Bounds are inclusive and compared exactly, without dividing: it passes when
      ``numerator >= min * denominator`` (and ``numerator <= max * denominator`` with ``max``).
      Below ``min`` (or above ``max``) is BREACH; at or above ``min`` but below ``warn_min`` is
      WARN; otherwise OK.
    - UNKNOWN, with the reason: no denominator series with those labels, no observation (or no
      period both have), or a denominator that is zero or negative.
    - Value is the share (shown as a percentage), target the bound it was held to, margin
      value − min (or max − value when above ``max``; the nearer bound when within both).
    """

    name = "coverage"
    summary = "numerator / denominator (or a share indicator) is at least min"
    Params = CoverageParams

    def indicators(self, params: Any) -> tuple[str, ...]:
        if params.denominator is None:
            return (params.numerator,)
        return (params.numerator, params.denominator)

    exact = False

    def prepare(self, rule: Rule, ctx: EvalContext) -> _CoverageTexts:
        return _CoverageTexts(rule.params, ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, texts: _CoverageTexts) -> Judgement:
        p: CoverageParams = rule.params
        found = self._observations(p, series, ctx)
        if isinstance(found, Judgement):
            return found
        period, num, den = found
        if den <= 0:
            return unknown(
                _("the denominator {denominator} is {value} for {period}; a share of it is undefined").format(
                    denominator=p.denominator, value=ctx.fmt(den, ctx.unit(p.denominator or "")), period=period
                ),
                period=period,
                unit="%",
                details={"period": period.label, "numerator": num, "denominator": den},
            )
        status, value, target, margin = judge_share(
            num, den, minimum=p.min, maximum=p.max, warn_min=p.warn_min
        )
        details: dict[str, Any] = {
            "period": period.label,
            "numerator": num,
            "denominator": den,
            "coverage": value,
            "min": p.min,
        }
        if p.max is not None:
            details["max"] = p.max
        if p.warn_min is not None:
            details["warn_min"] = p.warn_min
        # The share is formatted without the context's memo: it is a new figure for most series,
        # and hashing a new Decimal costs more than formatting it.
        share, where = format_number(value, "%"), texts.standing(status, value)
        if p.denominator is None:
            message = texts.alone(share, period.label, where)
        else:
            part, whole = ctx.fmt(num, texts.unit(p.numerator)), ctx.fmt(den, texts.unit(p.denominator))
            message = texts.of(share, period.label, where, part, whole)
        return Judgement(status, message, value, target, margin, period, "%", details)

    def _observations(
        self, p: CoverageParams, series: Series, ctx: EvalContext
    ) -> tuple[Any, Decimal, Decimal] | Judgement:
        if p.denominator is None:
            picked = pick_observation(series, p.period, ctx)
            if isinstance(picked, Judgement):
                return picked
            return picked[0], picked[1], Decimal(1)
        den_series = ctx.data.get(p.denominator, series.labels)
        if den_series is None or len(den_series) == 0:
            where = ", ".join(f"{k}={v}" for k, v in series.labels) or _("no labels")
            return unknown(
                _("no observation of the denominator {denominator} with the same labels ({labels})").format(denominator=p.denominator, labels=where),
                unit="%",
            )
        if p.period is not None:
            period = ctx.resolve(p.period)
            num = series.value_at(period)
            den = den_series.value_at(period)
            if num is None or den is None:
                names = [name for name, v in ((p.numerator, num), (p.denominator, den)) if v is None]
                missing = names[0] if len(names) == 1 else _("{first} and {second}").format(first=names[0], second=names[1])
                message = _("no observation of {indicator} for {period}").format(indicator=missing, period=period)
                return unknown(message, period=period, unit="%")
            return period, num, den
        for period, num in zip(reversed(series.periods), reversed(series.values)):
            den = den_series.value_at(period)
            if den is not None:
                return period, num, den
        return unknown(
            _("no period with observations of both {numerator} and {denominator} up to {today}").format(
                numerator=p.numerator, denominator=p.denominator, today=ctx.today
            ),
            unit="%",
        )


class _CoverageTexts:
    """What a coverage (or share) rule says the same way for every series: its templates, the
    bounds in words and the units of its indicators."""

    def __init__(self, p: CoverageParams, ctx: EvalContext) -> None:
        self.p, self.ctx = p, ctx
        names = ("share", "period", "standing")
        self.alone = positional(_("coverage {share} in {period} {standing}"), *names)
        self.of = positional(_("coverage {share} ({part} of {whole}) in {period} {standing}"), *names, "part", "whole")
        self.units: dict[str, str | None] = {}
        self._required: str | None = None
        self._standing: dict[Status, str] = {}

    def unit(self, indicator: str) -> str | None:
        if indicator not in self.units:
            self.units[indicator] = self.ctx.unit(indicator)
        return self.units[indicator]

    def standing(self, status: Status, value: Decimal) -> str:
        """:func:`standing`, with the bounds in words worked out once, and once per status
        but for a share short of the minimum (its gap is in the words)."""
        if self._required is None:
            self._required = bounds_text(self.ctx, self.p.min, self.p.max, self.p.warn_min)
        p = self.p
        if status is not Status.OK and status is not Status.WARN and p.min is not None and value < p.min:
            return standing(self.ctx, status, value, p.min, p.max, p.warn_min, required=self._required)
        found = self._standing.get(status)
        if found is None:
            found = self._standing[status] = standing(self.ctx, status, value, p.min, p.max, p.warn_min, required=self._required)
        return found


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(CoverageKind())
