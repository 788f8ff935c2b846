"""Spans: N consecutive periods of one grain taken as one period, e.g. the six months
``2023-04..2023-09`` or the four quarters ``2022-Q4..2023-Q3`` (a trailing window).

(Not to be confused with :class:`~targetwatch.durations.Span`, a length of time.) A span is
a :class:`~targetwatch.grains.Period` like any other, so everything that works by
``start`` and ``end`` (containment, elapsed time, pace) works on it unchanged:

- ``grain`` is ``"<grain> span"`` (``"month span"``, ``"quarter span"`` ...; see
  :data:`SPAN_GRAINS`). The grain of its periods is part of its grain, so the six months
  ``2023-04..2023-09`` and the two quarters ``2023-Q2..2023-Q3`` cover the same days yet are
  different periods, and the order ``(start, end, grain)`` stays a total order consistent
  with equality.
- ``ordinal`` is the ordinal of its first period in that grain; its length N (how many
  periods) follows from ``start`` and ``end`` (:func:`span_length`).
- ``start`` is the first period's start, ``end`` the last period's end, ``label`` is
  ``FIRST..LAST``.

A span of one period is that period itself. Terms make no span: they leave gaps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import PeriodError
from .grains import Period

if TYPE_CHECKING:
    from .periods import Calendar

#: The grains whose consecutive periods make a span (every grain but term).
SPAN_UNITS = ("year", "half", "quarter", "month", "week", "day", "fiscal")
#: The grain of a span of each of :data:`SPAN_UNITS`.
SPAN_GRAINS = tuple(f"{unit} span" for unit in SPAN_UNITS)
_UNIT_OF = dict(zip(SPAN_GRAINS, SPAN_UNITS, strict=True))
_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12, "fiscal": 12}
_NAMES = {"year": "a year", "half": "a half", "quarter": "a quarter", "month": "a month",
          "week": "a week", "day": "a day", "fiscal": "a fiscal year", "term": "a term"}  # fmt: skip
_EXAMPLE = "such as 2023-04..2023-09 or 2022-Q4..2023-Q3"


def span_unit(grain: str) -> str | None:
    """The grain of a span's periods (``"month"`` for ``"month span"``), or None if ``grain``
    is not the grain of a span."""
    return _UNIT_OF.get(grain)


def span_length(period: Period) -> int:
    """How many periods of its grain ``period`` covers: N for a span, 1 for any other."""
    unit = _UNIT_OF.get(period.grain)
    if unit is None:
        return 1
    start, end = period.start, period.end
    if unit == "day":
        return (end - start).days
    if unit == "week":
        return (end - start).days // 7
    return ((end.year - start.year) * 12 + end.month - start.month) // _MONTHS[unit]


def make_span(first: Period, last: Period) -> Period:
    """The span from ``first`` through ``last`` (two periods of one grain), or ``first``
    itself when they are the same period."""
    text = f"{first.label}..{last.label}"
    if first.grain != last.grain:
        raise PeriodError(
            f"expected a span FIRST..LAST of two periods of one grain, {_EXAMPLE}; found "
            f"{text!r} ({_NAMES.get(first.grain, first.grain)} and "
            f"{_NAMES.get(last.grain, last.grain)})"
        )
    if first.grain not in SPAN_UNITS:
        raise PeriodError(
            f"expected a span of years, halves, quarters, months, weeks, days or fiscal years, "
            f"{_EXAMPLE}; found {text!r}: terms leave gaps between them, so they make no span"
        )
    if last.start < first.start:
        raise PeriodError(
            f"expected a span FIRST..LAST with FIRST not after LAST, {_EXAMPLE}; found {text!r}"
        )
    if first == last:
        return first
    return Period(f"{first.grain} span", first.ordinal, first.start, last.end, text)


def parse_span(calendar: Calendar, text: str) -> Period:
    """The span a ``FIRST..LAST`` label names (``text`` holds ``..``); PeriodError saying what
    was expected and what was found otherwise."""
    first_text, _, last_text = text.partition("..")
    ends = []
    for end in (first_text.strip(), last_text.strip()):
        period = None if ".." in end else calendar.parse_label(end)
        if period is None:
            raise PeriodError(
                f"expected a span FIRST..LAST of two period labels of one grain, {_EXAMPLE}; "
                f"found {text!r} ({end!r} is not a period label)"
            )
        ends.append(period)
    return make_span(ends[0], ends[1])


def span_ends(calendar: Calendar, span: Period) -> tuple[Period, Period]:
    """The first and last period of ``span`` (PeriodError if it is not one of this calendar's
    spans, e.g. fiscal years that start in another month)."""
    unit = _UNIT_OF[span.grain]
    first = calendar.period(unit, span.ordinal)
    last = calendar.period(unit, span.ordinal + span_length(span) - 1)
    if (first.start, last.end) != (span.start, span.end):
        raise PeriodError(f"span {span.label!r} is not made of this calendar's {unit} periods")
    return first, last


def shift_span(calendar: Calendar, span: Period, n: int) -> Period:
    """``span`` moved ``n`` times its own length: the span of the same length ``n`` spans later
    (earlier if negative), so ``n = -1`` is the window right before it."""
    first, last = span_ends(calendar, span)
    step = n * span_length(span)
    return make_span(calendar.shift(first, step), calendar.shift(last, step))


def span_year_ago(calendar: Calendar, span: Period) -> Period:
    """The span of the same length a year earlier, ending a year before ``span`` ends (its
    last period moved as :meth:`Calendar.year_ago` moves one): a year-on-year comparison
    of a rolling window compares windows of one length, even where the year before has no
    ISO week 53 or 29 February (``2020-W50..2020-W53`` -> ``2019-W49..2019-W52``)."""
    _first, last = span_ends(calendar, span)
    end = calendar.year_ago(last)
    return make_span(calendar.shift(end, 1 - span_length(span)), end)


def slide(calendar: Calendar, period: Period, n: int) -> Period:
    """``period`` moved ``n`` periods of its grain: a span slides by ``n`` of its periods (the
    rolling window before ``2023-04..2023-09`` is ``2023-03..2023-08``), any other period is
    shifted as :meth:`Calendar.shift` shifts it."""
    if _UNIT_OF.get(period.grain) is None:
        return calendar.shift(period, n)
    first, last = span_ends(calendar, period)
    return make_span(calendar.shift(first, n), calendar.shift(last, n))


def last_n(calendar: Calendar, current: Period, n: int) -> Period:
    """The ``n`` periods of ``current``'s grain that end where ``current`` begins."""
    return make_span(calendar.shift(current, -n), calendar.shift(current, -1))


def check_last_n(text: str, grain: str, n: int) -> None:
    """PeriodError unless ``last N <grain>s`` names a span: N ≥ 1 and a grain without gaps."""
    if n < 1:
        raise PeriodError(
            f"expected a positive number of periods in 'last N', such as 'last 6 months'; "
            f"found {text!r}"
        )
    if grain not in SPAN_UNITS:
        raise PeriodError(
            f"expected 'last N' of years, halves, quarters, months, weeks, days or fiscal years, "
            f"such as 'last 6 months'; found {text!r}: terms leave gaps between them"
        )
