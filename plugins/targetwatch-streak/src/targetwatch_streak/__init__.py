"""The ``streak`` rule kind: BREACH when an indicator has fallen (or risen) N periods in a row."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs

from targetwatch import hookimpl
from targetwatch.kind import EvalContext, RuleKind, unknown
from targetwatch.model import Judgement, Rule, Series, Status
from targetwatch.numbers import exact_context
from targetwatch.params import Choice, Flag, IndicatorRef, Integer, param
from targetwatch.periods import GRAINS, Period
from targetwatch.spans import slide, span_length

Observation = tuple[Period, Decimal]
ADJECTIVES = {
    "year": "yearly", "half": "half-yearly", "quarter": "quarterly", "month": "monthly",
    "week": "weekly", "day": "daily", "fiscal": "fiscal-year", "term": "term",
}


@attrs.frozen
class StreakParams:
    indicator: str = param(IndicatorRef(), doc="The indicator judged; one verdict per series.")
    periods: int = param(
        Integer(minimum=1),
        default=3,
        doc="How many moves in a row are a breach: 3 means four observations, each strictly below the one before (for a fall).",
    )
    warn_periods: int | None = param(
        Integer(minimum=1),
        default=None,
        doc="How many moves in a row are WARN; fewer than periods. Default: no warning level.",
    )
    direction: str = param(
        Choice("fall", "rise"),
        default="fall",
        doc="fall: each value strictly below the one before; rise: strictly above. An equal value ends a streak.",
    )
    grain: str | None = param(
        Choice(*GRAINS),
        default=None,
        doc="Compare observations of this grain (month, quarter, ...); default: the grain of the newest observation.",
    )
    include_open: bool = param(
        Flag(),
        default=False,
        doc="Also count the observation of a period that has not ended at as_of (a provisional figure).",
    )
    allow_gaps: bool = param(
        Flag(),
        default=False,
        doc="Compare across missing periods (2023-Q1 with 2023-Q3 when 2023-Q2 is missing). By default a missing period stops the count.",
    )

    def problems(self) -> list[tuple[str, str]]:
        if self.warn_periods is not None and self.warn_periods >= self.periods:
            return [("warn_periods", f"expected fewer than periods ({self.periods}), found {self.warn_periods}")]
        return []


def comparable(series: Series, p: StreakParams, ctx: EvalContext) -> list[Observation]:
    """The observations a streak is counted over, oldest first: those of one grain (``grain``,
    else the newest observation's) whose period has ended at ``as_of`` (unless ``include_open``);
    rolling windows (spans) only of the newest one's length."""
    seen = [(period, value) for period, value in series if p.include_open or ctx.as_of >= ctx.calendar.end_moment(period)]
    if not seen:
        return []
    grain = p.grain or seen[-1][0].grain
    same = [(period, value) for period, value in seen if period.grain == grain]
    length = span_length(same[-1][0]) if same else 1
    return [(period, value) for period, value in same if span_length(period) == length]


def moved(before: Decimal, after: Decimal, direction: str) -> bool:
    """Whether going from ``before`` to ``after`` is a move in ``direction``: strictly lower
    for a fall, strictly higher for a rise. An unchanged value is no move."""
    return after < before if direction == "fall" else after > before


def count_back(obs: Sequence[Observation], p: StreakParams) -> tuple[int, int | None]:
    """How many moves in a row end at the newest observation, and, when the count stopped at a
    missing period rather than at a value that did not move, the index of the observation
    right after the gap."""
    moves = 0
    for i in range(len(obs) - 1, 0, -1):
        (earlier, before), (later, after) = obs[i - 1], obs[i]
        if not p.allow_gaps and later.ordinal != earlier.ordinal + 1:
            return moves, i
        if not moved(before, after, p.direction):
            return moves, None
        moves += 1
    return moves, None


class StreakKind(RuleKind):
    """``streak``: has the indicator fallen (or risen) ``periods`` times in a row?

    - Observations of one grain are compared in order, each with the one before: a fall is a
      value strictly lower than the one before, a rise strictly higher. An equal value ends a
      streak. The count runs back from the newest observation.
    - Only periods that have ended at ``as_of`` count, unless ``include_open = true``.
    - A missing period stops the count (2023-Q3 is not compared with 2023-Q1) unless
      ``allow_gaps = true``. When the count stops at a missing period short of ``periods``,
      the streak may be longer than can be seen: UNKNOWN, naming the missing period.
    - ``periods`` moves in a row or more is BREACH (exactly ``periods`` is already a breach);
      ``warn_periods`` or more is WARN; fewer is OK. Fewer than ``periods + 1`` observations
      is UNKNOWN: no streak that long can be told from them.
    - ``value`` is the number of moves in a row and ``target`` is ``periods`` (both bare
      numbers); ``margin`` is ``periods - 1 - value``: how many more moves it can take before
      it is a breach. Values are only compared, never computed with, so the same data in 万元
      or in 元 gives the same verdict.
    - Details: ``latest`` (the newest value), ``period``, ``streak``, ``periods``,
      ``warn_periods``, ``direction``, ``grain``, ``since`` (the period the streak starts
      from), ``change`` (newest minus that first value), ``run`` (the observations of the
      streak as ``[period, value]`` pairs) and, for a gap, ``missing``.
    """

    name = "streak"
    summary = "BREACH when the value has fallen (or risen) N periods in a row"
    Params = StreakParams

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        with decimal.localcontext(exact_context()):
            return self.judge(rule.params, series, ctx)

    def judge(self, p: StreakParams, series: Series, ctx: EvalContext) -> Judgement:
        obs = comparable(series, p, ctx)
        if len(obs) < p.periods + 1:
            return unknown(too_short(series.indicator, obs, p, ctx))
        moves, gap = count_back(obs, p)
        period, value = obs[-1]
        run = obs[len(obs) - 1 - moves :]
        details: dict[str, object] = {
            "latest": value, "period": period.label, "streak": moves, "periods": p.periods,
            "warn_periods": p.warn_periods, "direction": p.direction, "grain": period.grain,
            "since": run[0][0].label, "change": value - run[0][1],
            "run": [[when.label, v] for when, v in run],
        }
        if moves < p.periods and gap is not None:
            missing = slide(ctx.calendar, obs[gap][0], -1)
            details["missing"] = missing.label
            text = f"{moved_text(series.indicator, moves, p)} back to {obs[gap][0]}, but {missing} is missing, so the streak may be longer"
            return unknown(f"{text} ({limit_text(p)}; allow_gaps = true compares across missing periods)", period=period, details=details)
        if moves >= p.periods:
            status = Status.BREACH
        elif p.warn_periods is not None and moves >= p.warn_periods:
            status = Status.WARN
        else:
            status = Status.OK
        return Judgement(
            status, describe(series.indicator, obs, moves, p, ctx), value=Decimal(moves),
            target=Decimal(p.periods), margin=Decimal(p.periods - 1 - moves), period=period,
            unit="", details=details,
        )


def too_short(indicator: str, obs: Sequence[Observation], p: StreakParams, ctx: EvalContext) -> str:
    """Why there is too little history: ``x has 3 closed quarterly observations up to
    2024-01-01; a streak of 3 falls needs 4``."""
    which = ("" if p.include_open else "closed ") + (ADJECTIVES.get(obs[0][0].grain, obs[0][0].grain) + " " if obs else "")
    moves = f"{p.periods} {p.direction}{'' if p.periods == 1 else 's'}"
    return f"{indicator} has {len(obs) or 'no'} {which}observation{'' if len(obs) == 1 else 's'} up to {ctx.today}; a streak of {moves} needs {p.periods + 1}"


def moved_text(indicator: str, moves: int, p: StreakParams) -> str:
    """``x has fallen 3 times in a row``."""
    verb = "fallen" if p.direction == "fall" else "risen"
    return f"{indicator} has {verb} {moves} time{'' if moves == 1 else 's'} in a row"


def limit_text(p: StreakParams) -> str:
    """``3 in a row is a breach, 2 a warning``."""
    return f"{p.periods} in a row is a breach" + ("" if p.warn_periods is None else f", {p.warn_periods} a warning")


def describe(indicator: str, obs: Sequence[Observation], moves: int, p: StreakParams, ctx: EvalContext) -> str:
    """The verdict's message: the streak from its first value to the newest (at most six
    shown), or since when the value has not moved."""
    unit = ctx.unit(indicator)
    if not moves:
        (before, earlier), (period, value) = obs[-2], obs[-1]
        verb = "fallen" if p.direction == "fall" else "risen"
        return f"{indicator} {ctx.fmt(value, unit)} for {period} has not {verb} since {before} ({ctx.fmt(earlier, unit)}); {limit_text(p)}"
    shown = [f"{ctx.fmt(v, unit)} ({when})" for when, v in obs[len(obs) - 1 - moves :]]
    chain = " → ".join(shown if len(shown) <= 6 else [*shown[:2], "…", *shown[-3:]])
    return f"{moved_text(indicator, moves, p)}: {chain}; {limit_text(p)}"


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(StreakKind())
