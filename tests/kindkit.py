"""Helpers for testing rule kinds directly: a thin layer over :mod:`targetwatch.testing` that
keeps this suite's habits (the calendar first, Asia/Shanghai by default)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from targetwatch import testing
from targetwatch.kind import RuleKind
from targetwatch.model import Judgement, Rule, Series
from targetwatch.periods import Calendar

Rows = Sequence[tuple[str, Any]]
SHANGHAI = Calendar("Asia/Shanghai")


def series(cal: Calendar, indicator: str, rows: Rows, labels: Mapping[str, str] | None = None) -> Series:
    """A series from ``(period label, value)`` rows (values as numbers or text like "4.2%")."""
    return testing.series(indicator, rows, labels, cal)


def make_rule(kind: RuleKind, params: Mapping[str, Any], cal: Calendar, rule_id: str = "r1") -> Rule:
    """A rule of ``kind`` from raw params as a rule file would give them; fails on invalid params."""
    return testing.make_rule(kind, params, cal, rule_id)


def judge(kind: RuleKind, params: Mapping[str, Any], rows: Rows, as_of: str, *, cal: Calendar | None = None, **kw: Any) -> Judgement:
    """Judge ``rows`` (a series of the rule's first indicator) as of ``as_of`` (text)."""
    return testing.judge(kind, params, rows, as_of, calendar=cal or SHANGHAI, **kw)
