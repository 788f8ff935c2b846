"""Helpers for testing rule kinds directly: build a series, a context, and judge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from targetwatch.data import Dataset
from targetwatch.kind import EvalContext, RuleKind
from targetwatch.model import Indicator, Judgement, Rule, Series, make_labels
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar

Rows = Sequence[tuple[str, Any]]


def series(cal: Calendar, indicator: str, rows: Rows, labels: Mapping[str, str] | None = None) -> Series:
    """A series from ``(period label, value)`` rows (values as numbers or text like "4.2%")."""
    from targetwatch.numbers import parse_number

    obs = sorted((cal.parse(p), parse_number(v)) for p, v in rows)
    return Series(indicator, make_labels(labels or {}), tuple(p for p, _ in obs), tuple(Decimal(v) for _, v in obs))


def make_rule(kind: RuleKind, params: Mapping[str, Any], cal: Calendar, rule_id: str = "r1") -> Rule:
    """A rule of ``kind`` from raw params as a rule file would give them; fails on invalid params."""
    parsed, problems = parse(kind.Params, params, ParseContext(calendar=cal), what=kind.name)
    assert not problems, [str(p) for p in problems]
    return Rule(rule_id, rule_id, kind.name, parsed, kind.indicators(parsed))


def judge(
    kind: RuleKind,
    params: Mapping[str, Any],
    rows: Rows,
    as_of: str,
    *,
    cal: Calendar | None = None,
    labels: Mapping[str, str] | None = None,
    others: Sequence[Series] = (),
    units: Mapping[str, str] | None = None,
) -> Judgement:
    """Judge ``rows`` (a series of the rule's first indicator) as of ``as_of`` (text)."""
    cal = cal or Calendar("Asia/Shanghai")
    rule = make_rule(kind, params, cal)
    moment = cal.moment(as_of)
    own = series(cal, rule.indicator, rows, labels)
    data = Dataset([own, *others]).visible(moment.date())
    visible = data.get(own.indicator, own.labels)
    assert visible is not None
    infos = {name: Indicator(name, unit=unit) for name, unit in (units or {}).items()}
    ctx = EvalContext(moment, cal, data, infos)
    return kind.evaluate(rule, visible, ctx)
