"""Gaps in a period's observations: which sub-periods a total is missing, shared by the
``minimum`` and ``cap`` kinds.

A total over a period made of finer observations (months of a half, the six months of a
rolling window) is only as good as its coverage: with a month missing, a sum is too low and a
mean is of other months. Missing data is never OK, so such a total is UNKNOWN, naming what is
missing — unless what was observed already decides the verdict whatever the missing values
are (a sum or a maximum already at a minimum, or already above a ceiling: values are taken as
non-negative, as elsewhere for sums).

Expected sub-periods are those of the observations' own grain lying entirely within the period
(periods of one grain are numbered consecutively, terms included, so the count is a subtraction):
all of them once the period has closed; while it is open, those up to the newest observation
(later ones may simply not be reported yet).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from ..i18n import _
from ..kind import unknown
from ..model import Judgement
from ..params import Choice, param
from ..spans import SPAN_GRAINS
from .pace import aggregate_word

if TYPE_CHECKING:
    from ..periods import Calendar, Period

#: How many runs of missing periods a message names before "and N more".
SHOWN_RUNS: Final = 4


def gaps_param() -> Any:
    """The ``gaps`` parameter of the kinds that total a period."""
    return param(
        Choice("unknown", "ignore"),
        doc=(
            "A period whose observations leave a gap (a month of the half with no observation; while it is open, "
            "one before the newest): unknown (the default) is UNKNOWN naming what is missing, unless what was "
            "observed already decides; ignore judges what is there (for event logs that skip quiet days)."
        ),
        default="unknown",
    )


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


def missing(
    calendar: Calendar,
    period: Period,
    obs: Sequence[tuple[Period, Decimal]],
    *,
    closed: bool,
    aggregate: str,
) -> list[Period]:
    """The periods of the observations' grain within ``period`` that have none, oldest first
    (see the module's description); none for an observation of exactly ``period``, for a
    ``count`` (how many there are is what it measures), and for ``latest`` unless the period
    has closed without its last sub-period. ``obs``: the observations making up the total, sorted, of one grain (as
    :func:`~targetwatch.default_plugins.pace.observations_in` gives them)."""
    if not obs or aggregate == "count" or obs[0][0] == period:
        return []
    grain = obs[0][0].grain
    return gone_from(calendar, grain, ordinals_within(calendar, grain, period), [p for p, _v in obs],
                     closed=closed, latest=aggregate == "latest")


def starting_within(calendar: Calendar, grain: str, first_day: dt.date, last_day: dt.date) -> range:
    """The ordinals of the periods of ``grain`` that start from ``first_day`` through
    ``last_day`` (a window of days, as ``progress`` counts them); empty for a span grain and
    for terms (a window's ends may fall between them)."""
    if grain in SPAN_GRAINS or grain == "term":
        return range(0)
    head = calendar.containing(grain, first_day)
    first = head.ordinal if head.start >= first_day else head.ordinal + 1
    return range(first, max(first, calendar.containing(grain, last_day).ordinal + 1))


def gone_from(calendar: Calendar, grain: str, expected: range, have: Sequence[Period], *, closed: bool, latest: bool) -> list[Period]:
    """The periods numbered in ``expected`` that ``have`` (sorted, distinct, of ``grain``, each
    numbered in ``expected``) lacks: all of them once closed, while open those before the
    newest; with ``latest`` (only the newest counts) none unless closed without the last one."""
    if not expected or not have:
        return []
    newest = have[-1].ordinal
    if latest and (not closed or newest >= expected[-1]):
        return []  # the newest is the period's last: whatever is missing before it does not count
    last = expected[-1] if closed else min(newest, expected[-1])
    if len(have) == last - expected[0] + 1:  # every one there
        return []
    there = {p.ordinal for p in have}
    return [calendar.period(grain, o) for o in range(expected[0], last + 1) if o not in there]


def runs(periods: Sequence[Period]) -> list[str]:
    """Consecutive periods (of one grain, sorted) as labels, a run as ``FIRST..LAST``."""
    out: list[str] = []
    start = prev = None
    for p in periods:
        if prev is not None and p.ordinal == prev.ordinal + 1:
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


def incomplete(what: str, period: Period | None, gone: Sequence[Period], observed: int, details: dict[str, Any]) -> Judgement:
    """UNKNOWN: ``what`` (:func:`what_of`) cannot be judged with ``gone`` missing from
    ``period`` (``None``: a window of days); ``observed``: how many observations there are;
    ``details``: the total's own, to which the gap is added."""
    named = runs(gone)
    shown = ", ".join(named[:SHOWN_RUNS])
    if len(named) > SHOWN_RUNS:
        shown = _("{listed} and {more} more").format(listed=shown, more=len(named) - SHOWN_RUNS)
    message = _(
        "{what} is not judged: no observation for {missing} ({observed} of {expected} observed); "
        "set gaps = \"ignore\" to judge what is there"
    ).format(what=what, missing=shown, observed=observed, expected=observed + len(gone))
    facts = {**details, "observations": observed, "expected_observations": observed + len(gone), "missing": named}
    if period is not None:
        facts["period"] = period.label
    return unknown(message, period=period, details=facts)


__all__ = ["gaps_param", "gone_from", "incomplete", "missing", "ordinals_within", "runs", "starting_within", "what_of"]
