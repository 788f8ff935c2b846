"""Gaps in a total's observations: what a period's (or a window's) total is missing, shared
by the ``minimum``, ``cap`` and ``progress`` kinds.

A total made of finer observations (the months of a half, the six months of a rolling window,
the months of a progress window) is only as good as its coverage: with a month missing, a sum
is too low and a mean is of other months. Missing data is never OK, so such a total is
UNKNOWN, naming what is missing — unless what was observed already decides the verdict
whatever the missing values are (the kinds say when; values are taken as non-negative).

Expected sub-periods are those of the observations' own grain (periods of one grain are
numbered consecutively, so counting is a subtraction): once the period has closed, all of them,
and days of the period that no sub-period covers (weeks at a month's ends) are missing too;
while it is open, those before the newest observation (later ones may simply not be reported
yet).
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
#: Grains from the finest: the grain a progress window is counted in when its observations mix grains.
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
    last = end - dt.timedelta(days=1)
    return start.isoformat() if start == last else f"{start.isoformat()}..{last.isoformat()}"


def missing(
    calendar: Calendar,
    period: Period,
    obs: Sequence[tuple[Period, Decimal]],
    *,
    closed: bool,
    aggregate: str,
) -> Gap | None:
    """What ``obs`` (the observations making up ``period``'s total, sorted, of one grain, as
    :func:`~targetwatch.default_plugins.pace.observations_in` gives them) leave out, if
    anything. Nothing for an observation of exactly ``period``, for a ``count`` (how many
    there are is what it measures), and for ``latest`` unless the period has closed without
    its last sub-period (only what follows the newest is named then)."""
    if not obs or aggregate == "count":
        return None
    first = obs[0][0]
    if first == period:
        return None
    grain = first.grain
    expected = ordinals_within(calendar, grain, period)
    if not expected:
        return None
    newest = obs[-1][0].ordinal
    latest = aggregate == "latest"
    if latest and (not closed or newest >= expected[-1]):
        head, tail = None, None
    else:
        head, tail = _edges(calendar, grain, period)
        if latest:
            head = None  # the newest is all that counts: what lies before it does not matter
        if not closed:
            tail = None
    if head is None and tail is None and closed and len(obs) == len(expected) and not latest:
        return None  # every one there (the usual case, at no further cost)
    through = expected[-1] if closed else None
    found = uncovered(calendar, grain, expected, [p.ordinal for p, _v in obs], through=through, latest=latest)
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
        observed = sum(1 for o in covered if expected[0] <= o <= last)
        return Gap(runs(gone), observed, observed + len(gone))
    count = last - expected[0] + 1
    if len(covered) == count:  # distinct, within, and none past ``last``: every one there
        return None
    there = covered if isinstance(covered, (set, frozenset)) else set(covered)
    gone = [calendar.period(grain, o) for o in range(expected[0], last + 1) if o not in there]
    return Gap(runs(gone), count - len(gone), count) if gone else None


def finest(grains: Collection[str]) -> str | None:
    """The finest calendar grain of ``grains`` (``None`` with a span or a term among them)."""
    if not set(grains).issubset(_FINE_FIRST):
        return None
    return min(grains, key=_FINE_FIRST.index)


@functools.lru_cache(maxsize=1024)
def starting_within(calendar: Calendar, grain: str, first_day: dt.date, last_day: dt.date) -> range:
    """The ordinals of the periods of ``grain`` that start from ``first_day`` through
    ``last_day`` (a window of days, as ``progress`` counts them); empty for a span grain and
    for terms (the holidays between them are no gap, and a window may start in one)."""
    if grain in SPAN_GRAINS or grain == "term":
        return range(0)
    head = calendar.containing(grain, first_day)
    first = head.ordinal if head.start >= first_day else head.ordinal + 1
    return range(first, max(first, calendar.containing(grain, last_day).ordinal + 1))


def covered_in(calendar: Calendar, grain: str, periods: Sequence[Period]) -> set[int]:
    """The ordinals of the periods of ``grain`` that ``periods`` cover (a quarter covers its
    three months)."""
    out: set[int] = set()
    for p in periods:
        if p.grain == grain:
            out.add(p.ordinal)
        else:
            out.update(ordinals_within(calendar, grain, p))
    return out


def runs(periods: Sequence[Period]) -> list[str]:
    """Consecutive periods (of one grain, sorted) as labels, a run as ``FIRST..LAST``."""
    out: list[str] = []
    start = prev = None
    for p in periods:
        if prev is not None and p.ordinal == prev.ordinal + 1 and p.grain == prev.grain:
            prev = p
            continue
        if start is not None and prev is not None:
            out.append(start.label if start == prev else f"{start.label}..{prev.label}")
        start = prev = p
    if start is not None and prev is not None:
        out.append(start.label if start == prev else f"{start.label}..{prev.label}")
    return out


def what_of(indicator: str, aggregate: str, period: Period) -> str:
    """What a total judges, in words: ``x in 2023-H1``, ``x (mean) in 2023-H1``."""
    template = _("{indicator} in {period}") if aggregate == "sum" else _("{indicator} ({aggregate}) in {period}")
    return template.format(indicator=indicator, aggregate=aggregate_word(aggregate), period=period)


def _listed(labels: Sequence[str]) -> str:
    comma = pgettext("list separator", ", ")
    shown = comma.join(labels[:SHOWN])
    if len(labels) > SHOWN:
        shown = _("{listed} and {more} more gaps").format(listed=shown, more=len(labels) - SHOWN)
    return shown


def incomplete(what: str, period: Period | None, gap: Gap, details: Mapping[str, Any], *, closed: bool) -> Judgement:
    """UNKNOWN: ``what`` (:func:`what_of`) is not judged with ``gap``; ``period``: the period
    totalled (``None``: a window of days); ``details``: the total's own (pace figures are
    dropped), to which the gap is added."""
    if gap.have is not None:
        message = _("{what} is not judged: the observations inside it ({have}) do not cover {missing}").format(
            what=what, have=_listed(gap.have), missing=_listed(gap.named))
    elif closed:
        message = _("{what} is not judged: no observation for {missing} ({observed} of {expected} observed)").format(
            what=what, missing=_listed(gap.named), observed=gap.observed, expected=gap.expected)
    else:
        message = _("{what} is not judged: no observation for {missing} ({observed} of {expected} so far)").format(
            what=what, missing=_listed(gap.named), observed=gap.observed, expected=gap.expected)
    facts = {k: v for k, v in details.items() if k not in _PACE_KEYS}
    facts.update(expected_observations=gap.expected, missing=gap.named)
    if period is not None:
        facts["period"] = period.label
    return unknown(message, period=period, details=facts)


__all__ = [
    "Gap", "covered_in", "finest", "gaps_param", "incomplete", "missing", "ordinals_within", "runs",
    "starting_within", "uncovered", "what_of",
]
