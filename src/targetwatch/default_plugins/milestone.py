"""The ``milestone`` rule kind: a dated commitment, done by its deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from ..hookspecs import hookimpl
from ..i18n import _, ngettext
from ..kind import EvalContext, PreparedKind, RuleKind, unknown
from ..model import Judgement, Rule, Series, Status
from ..params import Date, IndicatorRef, Integer, Number, param


def _days(n: int) -> str:
    return ngettext("{n} day", "{n} days", n).format(n=n)


@attrs.frozen
class MilestoneParams:
    indicator: str = param(
        IndicatorRef(),
        doc="A series whose value reaches done_at once the commitment is done (e.g. 0 = not done, 1 = in use; or a percentage of completion).",
    )
    deadline: dt.date = param(
        Date(),
        doc="The day the commitment is due, inclusive: done any time on this day is on time.",
    )
    warn_days: int = param(
        Integer(minimum=0),
        default=30,
        doc="WARN while not done and the deadline is at most this many days away.",
    )
    done_at: Decimal = param(
        Number(),
        default=Decimal(1),
        doc='Done once an observation\'s value is at least this (e.g. 1, or "100%" for a completion percentage).',
    )


class MilestoneKind(PreparedKind):
    """``milestone``: is a dated commitment done by its ``deadline``?

    - The commitment counts as done from the first observation (oldest first) whose value is at
      least ``done_at``; a later drop below it does not undo it.
    - The ``deadline`` is inclusive: due by the end of that day, in the configured time zone.
    - When done in a day-grain period, the done date is that day. When reported in a coarser
      period (a month, a half ...), the day is not known: it counts as on time when the period
      starts on or before the deadline (``reported done in 2023-08``).
    - Done on time is OK. Done after the deadline is BREACH: the commitment was missed, and the
      verdict keeps saying so (retire the rule once that is acknowledged).
    - Not done: BREACH once the deadline day is over ("overdue by N days"); WARN when the
      deadline is at most ``warn_days`` days away (0 = due today); otherwise OK ("not done yet").
    - A series with no observation at all is UNKNOWN: silence is not progress.
    - Value is the latest value, target ``done_at``, margin latest − ``done_at``. Details:
      ``deadline``, ``days_left`` (days from today to the deadline, negative when past),
      ``done_on`` (the done day, or the period it was reported in), ``done_period``.
    """

    name = "milestone"
    summary = "a dated commitment is done by its deadline; warn ahead of it"
    Params = MilestoneParams

    exact = False

    def prepare(self, rule: Rule, ctx: EvalContext) -> dict[str, tuple[Status, str]]:
        return {}  # the verdict on an undone commitment: one per rule

    def judge(self, rule: Rule, series: Series, ctx: EvalContext, undone: dict[str, tuple[Status, str]]) -> Judgement:
        p: MilestoneParams = rule.params
        latest = series.latest()
        if latest is None:
            return unknown(
                _("no observation of {indicator} up to {today}: cannot tell whether it is done (due {deadline})").format(
                    indicator=series.indicator, today=ctx.today, deadline=p.deadline
                )
            )
        latest_period, value = latest
        days_left = (p.deadline - ctx.today).days
        details: dict[str, Any] = {
            "deadline": p.deadline.isoformat(),
            "days_left": days_left,
            "done_at": p.done_at,
            "latest": value,
            "done_on": None,
            "done_period": None,
        }
        margin = value - p.done_at
        done = next(((period, v) for period, v in series if v >= p.done_at), None)
        if done is not None:
            period = done[0]
            exact_day = period.days == 1
            details["done_on"] = period.start.isoformat() if exact_day else period.label
            details["done_period"] = period.label
            on_time = period.start <= p.deadline
            facts = {"deadline": p.deadline, "day": period.start, "period": period}
            if exact_day:
                gap = abs((p.deadline - period.start).days)
                if not on_time:
                    said = _("done on {day}, {days} after the deadline {deadline}")
                elif gap:
                    said = _("done on {day}, {days} before the deadline {deadline}")
                else:
                    said = _("done on {day}, on the deadline day {deadline}")
            elif on_time:
                gap, said = 0, _("reported done in {period}, by the deadline {deadline}")
            else:
                gap = (period.start - p.deadline).days
                said = _("reported done in {period}, at least {days} after the deadline {deadline}")
            said = said.format(**facts, days=_days(gap))
            if on_time:
                return Judgement(
                    Status.OK,
                    said,
                    period=period,
                    value=value,
                    target=p.done_at,
                    margin=margin,
                    details=details,
                )
            return Judgement(
                Status.BREACH,
                _("{said}: the commitment was missed").format(said=said),
                period=period,
                value=value,
                target=p.done_at,
                margin=margin,
                details=details,
            )
        if "" not in undone:  # depends on the deadline and today only
            undone[""] = _undone(p, days_left)
        status, said = undone[""]
        return Judgement(
            status,
            said,
            period=latest_period,
            value=value,
            target=p.done_at,
            margin=margin,
            details=details,
        )


def _undone(p: MilestoneParams, days_left: int) -> tuple[Status, str]:
    """The status and sentence of a commitment not done, ``days_left`` days before its deadline."""
    if days_left < 0:
        status = Status.BREACH
        said = _("not done and overdue by {days} (deadline {deadline})").format(days=_days(-days_left), deadline=p.deadline)
    elif days_left <= p.warn_days:
        status = Status.WARN
        due = _("not done; due today ({deadline})") if days_left == 0 else _("not done; due in {days} ({deadline})")
        said = due.format(days=_days(days_left), deadline=p.deadline)
    else:
        status = Status.OK
        said = _("not done yet; due in {days} ({deadline})").format(days=_days(days_left), deadline=p.deadline)
    return status, said


@hookimpl
def register_rule_kinds(register: Callable[[RuleKind], None]) -> None:
    register(MilestoneKind())
