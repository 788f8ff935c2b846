"""The ``freshness`` rule kind: the newest observation is recent enough."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from ..hookspecs import hookimpl
from ..i18n import _
from ..kind import EvalContext, PreparedKind, RuleKind, unknown
from ..model import Judgement, Rule, Series, Status
from ..params import Duration, IndicatorRef, param
from ..periods import Period, Span
from .coverage import tidy

_UTC = dt.UTC
_MICROSECOND = dt.timedelta(microseconds=1)
_DAY_MICROSECONDS = 86_400 * 1_000_000
_TENTH = Decimal("0.1")


def _days(microseconds: int) -> Decimal:
    """Whole microseconds as days, to one decimal place."""
    with decimal.localcontext() as c:
        c.prec = 40
        return (Decimal(microseconds) / _DAY_MICROSECONDS).quantize(
            _TENTH, rounding=decimal.ROUND_HALF_EVEN
        )


def span_days(span: Span) -> Decimal | None:
    """The span in days, or ``None`` when it has calendar months (their length varies)."""
    if span.months:
        return None
    return tidy(Decimal(span.seconds) / 86_400)


@attrs.frozen
class FreshnessParams:
    indicator: str = param(
        IndicatorRef(),
        doc="The indicator whose newest observation is checked; verdicts are per series.",
    )
    max_age: Span = param(
        Duration(),
        doc="How old the newest data may be, counted from the end of its period: e.g. '45d' for monthly data reported within six weeks, or '2mo'.",
    )
    warn_age: Span | None = param(
        Duration(),
        default=None,
        doc="Data older than this (but not older than max_age) is WARN; shorter than max_age.",
    )

    def problems(self) -> list[tuple[str, str]]:
        warn, limit = self.warn_age, self.max_age
        if warn is None:
            return []
        # Months and seconds only compare when the span uses one of them alone.
        comparable = (warn.months == 0 and limit.months == 0) or (
            warn.seconds == 0 and limit.seconds == 0
        )
        if comparable and (warn.months, warn.seconds) >= (limit.months, limit.seconds):
            return [("warn_age", f"expected warn_age shorter than max_age ({limit}), found {warn}")]
        return []


class FreshnessKind(PreparedKind):
    """``freshness``: is the newest observation no older than ``max_age``?

    - Age runs from the END of the newest observation's period to ``as_of``: data for 2023-09
      is as of 2023-10-01 00:00 in the configured time zone. A period that has not ended yet
      counts as age 0 (it is as fresh as data can be).
    - Stale, BREACH, when ``as_of - max_age`` is after the period's end; exactly ``max_age`` old
      passes. Months are calendar months (``2mo`` before 2023-10-31 is 2023-08-31).
    - With ``warn_age``: older than ``warn_age`` but not stale is WARN.
    - A series with no observation is UNKNOWN, never OK.
    - Value is the age in days (one decimal), target ``max_age`` in days (``None`` for a span
      with months, stated in the message instead), margin target − value. Details:
      ``newest_period``, ``period_end``, ``age_days``, ``max_age``, ``warn_age``.
    """

    name = "freshness"
    summary = "the newest observation is no older than max_age"
    Params = FreshnessParams

    exact = False

    def prepare(self, rule: Rule, ctx: EvalContext) -> _FreshnessJudge:
        return _FreshnessJudge(rule.params, ctx)

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, prepared: _FreshnessJudge) -> Judgement:
        return prepared.judge(series)


class _FreshnessJudge:
    """One freshness rule, ready to judge many series: the moments before which data is stale
    (or old enough to warn) and each period end are worked out once, when first needed."""

    def __init__(self, p: FreshnessParams, ctx: EvalContext) -> None:
        self.p, self.ctx = p, ctx
        self.ends: dict[Period, dt.datetime] = {}
        self.limits: dict[str, Any] = {}

    def limit(self, name: str) -> Any:
        """``max_age`` in days, or the moment ``max_age`` / ``warn_age`` before ``as_of``."""
        if name not in self.limits:
            p, as_of = self.p, self.ctx.as_of
            if name == "days":
                self.limits[name] = span_days(p.max_age)
            elif name == "stale":
                self.limits[name] = p.max_age.before(as_of)
            else:
                assert p.warn_age is not None
                self.limits[name] = p.warn_age.before(as_of)
        return self.limits[name]

    def judge(self, series: Series) -> Judgement:
        p, ctx = self.p, self.ctx
        latest = series.latest()
        if latest is None:
            return unknown(_("no observation of {indicator} up to {today}").format(indicator=series.indicator, today=ctx.today), unit="days")
        period = latest[0]
        end = self.ends.get(period)
        if end is None:
            end = self.ends[period] = ctx.calendar.end_moment(period)
        # Aware arithmetic within one zone ignores DST; subtract UTC instants instead.
        elapsed = (ctx.as_of.astimezone(_UTC) - end.astimezone(_UTC)) // _MICROSECOND
        age = _days(max(elapsed, 0))
        limit = self.limit("days")
        details: dict[str, Any] = {
            "newest_period": period.label,
            "period_end": end.isoformat(),
            "age_days": age,
            "max_age": str(p.max_age),
            "warn_age": None if p.warn_age is None else str(p.warn_age),
        }
        if self.limit("stale") > end:
            status = Status.BREACH
            tail = _("expected no older than {max_age}").format(max_age=p.max_age)
        elif p.warn_age is not None and self.limit("warn") > end:
            status = Status.WARN
            tail = _("older than the warning age {warn_age}; at most {max_age} allowed").format(warn_age=p.warn_age, max_age=p.max_age)
        else:
            status = Status.OK
            tail = _("within {max_age}").format(max_age=p.max_age)
        if elapsed < 0:
            said = _("newest data is for {period}, which has not ended yet").format(period=period)
        else:
            said = _("newest data is for {period} (through {last_day}), {age} old").format(
                period=period, last_day=period.last_day, age=ctx.fmt(age, "days")
            )
        return Judgement(
            status,
            _("{said}; {tail}").format(said=said, tail=tail),
            value=age,
            target=limit,
            margin=None if limit is None else limit - age,
            period=period,
            unit="days",
            details=details,
        )


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(FreshnessKind())
