"""Gaps in a total's observations: what a period's (or a window's) total is missing, shared
by the ``minimum``, ``cap`` and ``progress`` kinds.

A total made of finer observations (the months of a half, the six months of a rolling window,
the months of a progress window) is only as good as its coverage: with a month missing, a sum
is too low and a mean is of other months. Missing data is never OK, so such a total is
UNKNOWN, naming what is missing — unless what was observed already decides the verdict
whatever the missing values are (the kinds say when; values are taken as non-negative).

Expected sub-periods are those of the observations' own grain (periods of one grain are
numbered consecutively, so counting is a subtraction): once the period has closed, all of them;
while it is open, those before the newest observation (later ones may simply not be reported
yet). Days of the period that no sub-period of that grain can cover (weeks at a month's ends,
a year's first days before its first ISO week) are missing too: those at its start from the
start, those at its end once it has closed. Terms never leave days uncovered: the holidays
around them are no gap.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..i18n import _, pgettext
from ..kind import unknown
from ..model import Judgement
from ..params import Choice, param
from ..spans import SPAN_GRAINS
from .pace import aggregate_word

if TYPE_CHECKING:
    from decimal import Decimal

    from ..periods import Calendar, Period

#: How many gaps a message names before "and N more gaps".
SHOWN: Final = 4
#: Details of a judgement on pace, which mean nothing for a total that is not judged.
_PACE_KEYS: Final = frozenset({"elapsed", "expected", "forecast", "remaining_days", "rate_needed_per_day"})
#: Grains from the finest: observations of mixed grains are counted in the finest of theirs.
_FINE_FIRST: Final = ("day", "week", "month", "quarter", "half", "year", "fiscal")


def gaps_param() -> Any:
    """The ``gaps`` parameter of the kinds that total a period."""
    return param(
        Choice("unknown", "ignore"),
        doc=(
            "When the observations totalled leave a gap (a sub-period of their grain with no observation, e.g. a month "
            "of the half; while the period is open, only one before the newest counts): unknown (the default) is "
            "UNKNOWN naming what is missing, unless what was observed already decides; ignore judges what is there "
            "(for event logs that skip quiet days)."
        ),
        default="unknown",
    )


@attrs.frozen
class Gap:
    """What a total is missing: ``named``, the missing sub-periods (runs as ``FIRST..LAST``)
    and uncovered days, oldest first; ``observed`` of ``expected`` sub-periods there are, or
    ``have`` (the observed periods' runs) when the sub-periods do not cover the period."""

    named: list[str]
    observed: int
    expected: int
    have: list[str] | None = None


@functools.lru_cache(maxsize=1024)
def ordinals_within(calendar: Calendar, grain: str, period: Period) -> range:
    """The ordinals of the periods of ``grain`` lying entirely within ``period`` (empty for
    none, and for a span grain: spans overlap and never tile a period)."""
    if grain in SPAN_GRAINS:
        return range(0)
    if grain == "term":
        terms = calendar.terms
        first = bisect.bisect_left([t.start for t in terms], period.start)
        last = first
        while last < len(terms) and terms[last].end <= period.end:
            last += 1
        return range(first, last)
    head = calendar.containing(grain, period.start)
    tail = calendar.containing(grain, period.last_day)
    first = head.ordinal if head.start >= period.start else head.ordinal + 1
    last = tail.ordinal if tail.end <= period.end else tail.ordinal - 1
    return range(first, max(first, last + 1))


@functools.lru_cache(maxsize=1024)
def _edges(calendar: Calendar, grain: str, period: Period) -> tuple[str | None, str | None]:
    """The days at the start and at the end of ``period`` that no period of ``grain`` within
    it covers, as labels (``None`` for none); none for terms, which leave the holidays around
    them uncovered on purpose."""
    expected = ordinals_within(calendar, grain, period)
    if not expected or grain == "term":
        return None, None
    first, last = calendar.period(grain, expected[0]), calendar.period(grain, expected[-1])
    return _days(period.start, first.start), _days(last.end, period.end)


def _days(start: dt.date, end: dt.date) -> str | None:
    """The days ``[start, end)`` as a label (``2023-10-01``, ``2023-10-30..2023-10-31``)."""
    if start >= end:
        return None
    return _run(start.isoformat(), (end - dt.timedelta(days=1)).isoformat())


def _run(first: str, last: str) -> str:
    """A run of consecutive periods (or days) by its first and last label: ``FIRST..LAST``."""
    return first if first == last else f"{first}..{last}"


def missing(
    calendar: Calendar,
    period: Period,
    obs: Sequence[tuple[Period, Decimal]],
    *,
    closed: bool,
    aggregate: str,
) -> Gap | None:
    """What ``obs`` (the observations making up ``period``'s total, sorted and not
    overlapping, as :func:`~targetwatch.default_plugins.pace.observations_in` gives them)
    leave out, if anything, counted in their finest grain (a quarter covers its months). Nothing for an observation of exactly ``period``, for a ``count`` (how many
    there are is what it measures), and for ``latest`` unless the period has closed without
    its last sub-period (only what follows the newest is named then). Days its grain leaves
    uncovered at the period's start are missing from the start, at its end once closed."""
    if not obs or aggregate == "count":
        return None
    first = obs[0][0]
    if first == period:
        return None
    grain = first.grain
    one_grain = all(p.grain == grain for p, _v in obs)
    if not one_grain:
        found_grain = finest({p.grain for p, _v in obs})
        if found_grain is None:
            return None
        grain = found_grain
    expected = ordinals_within(calendar, grain, period)
    if not expected:
        return None
    latest = aggregate == "latest"
    if latest:
        head, tail = None, None  # the newest is all that counts, and its grain cannot reach the ends
    else:
        head, tail = _edges(calendar, grain, period)
        if not closed:
            tail = None  # days still to come
    if one_grain and head is None and tail is None and closed and len(obs) == len(expected) and not latest:
        return None  # every one there (the usual case, at no further cost)
    through = expected[-1] if closed else None
    covered: Collection[int] = (
        [p.ordinal for p, _v in obs] if one_grain else covered_in(calendar, grain, [p for p, _v in obs], expected)
    )
    found = uncovered(calendar, grain, expected, covered, through=through, latest=latest)
    if head is None and tail is None:
        return found
    named = ([head] if head else []) + (found.named if found else []) + ([tail] if tail else [])
    return Gap(named, len(obs), len(obs), runs([p for p, _v in obs]))


def uncovered(calendar: Calendar, grain: str, expected: range, covered: Collection[int], *, through: int | None,
              latest: bool = False) -> Gap | None:
    """The ordinals in ``expected`` that ``covered`` (distinct ordinals, all in ``expected``)
    lacks, up to the newest covered one, and on through ``through`` if given (what must be
    there by now: all of a closed period); with ``latest`` (only the newest counts) only those
    after the newest."""
    if not expected or not covered:
        return None
    newest = max(covered)
    last = min(newest, expected[-1])
    if through is not None:
        last = max(last, min(through, expected[-1]))
    if latest:
        if newest >= last:
            return None
        gone = [calendar.period(grain, o) for o in range(newest + 1, last + 1)]
        return Gap(runs(gone), sum(1 for o in covered if expected[0] <= o <= last), last - expected[0] + 1)
    count = last - expected[0] + 1
    if len(covered) == count:  # distinct, within, and none past ``last``: every one there
        return None
    there = covered if isinstance(covered, (set, frozenset)) else set(covered)
    gone = [calendar.period(grain, o) for o in range(expected[0], last + 1) if o not in there]
    return Gap(runs(gone), count - len(gone), count) if gone else None


def finest(grains: Collection[str]) -> str | None:
    """The finest calendar grain of ``grains`` (``None`` for none, or with a span or a term
    among them)."""
    if not grains or not set(grains).issubset(_FINE_FIRST):
        return None
    return min(grains, key=_FINE_FIRST.index)


def starting_within(calendar: Calendar, grain: str, first_day: dt.date, last_day: dt.date) -> range:
    """The ordinals of the periods of ``grain`` that start from ``first_day`` through
    ``last_day`` (a window of days, as ``progress`` counts them); empty for a span grain and
    for terms (the holidays between them are no gap, and a window may start in one)."""
    if grain in SPAN_GRAINS or grain == "term":
        return range(0)
    head = calendar.containing(grain, first_day)
    first = head.ordinal if head.start >= first_day else head.ordinal + 1
    return range(first, max(first, calendar.containing(grain, last_day).ordinal + 1))


def covered_in(calendar: Calendar, grain: str, periods: Sequence[Period], expected: range) -> set[int]:
    """The ordinals in ``expected`` of the periods of ``grain`` whose every day ``periods``
    cover, together (a quarter covers its three months; two months cover the ISO week
    between them)."""
    spans: list[list[dt.date]] = []
    for p in sorted(periods, key=lambda q: q.start):
        if spans and p.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], p.end)
        else:
            spans.append([p.start, p.end])
    starts = [s for s, _e in spans]
    out: set[int] = set()
    for o in expected:
        q = calendar.period(grain, o)
        i = bisect.bisect_right(starts, q.start) - 1
        if i >= 0 and q.end <= spans[i][1]:
            out.add(o)
    return out


def runs(periods: Sequence[Period]) -> list[str]:
    """Consecutive periods (of one grain, sorted) as labels, a run as ``FIRST..LAST``."""
    bounds: list[list[Period]] = []  # [first, last] of each run
    for p in periods:
        if bounds and p.grain == bounds[-1][1].grain and p.ordinal == bounds[-1][1].ordinal + 1:
            bounds[-1][1] = p
        else:
            bounds.append([p, p])
    return [_run(first.label, last.label) for first, last in bounds]


def what_of(indicator: str, aggregate: str, period: Period) -> str:
    """What a total judges, in words: ``x in 2023-H1``, ``x (mean) in 2023-H1``."""
    template = _("{indicator} in {period}") if aggregate == "sum" else _("{indicator} ({aggregate}) in {period}")
    return template.format(indicator=indicator, aggregate=aggregate_word(aggregate), period=period)


def _listed(labels: Sequence[str], *, gaps: bool = True) -> str:
    comma = pgettext("list separator", ", ")
    shown = comma.join(labels[:SHOWN])
    if len(labels) > SHOWN:
        more = _("{listed} and {more} more gaps") if gaps else _("{listed} and {more} more")
        shown = more.format(listed=shown, more=len(labels) - SHOWN)
    return shown


def incomplete(what: str, period: Period | None, gap: Gap, details: Mapping[str, Any], *, closed: bool) -> Judgement:
    """UNKNOWN: ``what`` (:func:`what_of`) is not judged with ``gap``; ``period``: the period
    totalled (``None``: a window of days); ``details``: the total's own (pace figures are
    dropped), to which the gap is added."""
    if gap.have is not None:
        message = _(
            "{what} is not judged: the observations inside it ({have}) do not cover {missing} "
            "(gaps = \"ignore\" judges them as they are)"
        ).format(what=what, have=_listed(gap.have, gaps=False), missing=_listed(gap.named))
    elif closed:
        message = _("{what} is not judged: no observation for {missing} ({observed} of {expected} observed)").format(
            what=what, missing=_listed(gap.named), observed=gap.observed, expected=gap.expected)
    else:
        message = _("{what} is not judged: no observation for {missing} ({observed} of {expected} so far)").format(
            what=what, missing=_listed(gap.named), observed=gap.observed, expected=gap.expected)
    facts = {k: v for k, v in details.items() if k not in _PACE_KEYS}
    if gap.have is None:
        facts["expected_observations"] = gap.expected
    facts["missing"] = gap.named
    if period is not None:
        facts["period"] = period.label
    return unknown(message, period=period, details=facts)


__all__ = [
    "Gap", "covered_in", "finest", "gaps_param", "incomplete", "missing", "ordinals_within", "runs",
    "starting_within", "uncovered", "what_of",
]
