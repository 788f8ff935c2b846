"""Turning what the engine asks for (:class:`~targetwatch.source.SourceRequest`) into WHERE
conditions the database evaluates, so that it ships only the rows a check can use.

Every condition only ever keeps more rows than strictly needed, never fewer: a request is a
hint, and a row read in excess is harmless while a row missed would change a verdict. Values
are bound parameters; identifiers are quoted by SQLAlchemy for the database's dialect.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa

from targetwatch.source import SourceRequest

#: Above this many indicators, the indicator filter runs in Python rather than as bound
#: parameters (some databases cap the parameters of one statement).
MAX_PUSHDOWN = 500

#: The longest period the calendar has (a leap year, a fiscal year): a period that starts
#: this long before a day has ended by then.
LONGEST_PERIOD = dt.timedelta(days=366)

ONE_DAY = dt.timedelta(days=1)

Condition = sa.ColumnElement[bool]


@attrs.frozen
class DateColumn:
    """A column of period starts or ends, and how a date compares with it.

    ``literal`` makes a bound value of the column's kind (a DATE, a TIMESTAMP, ISO text);
    ``slack`` widens every comparison for timestamps, whose time zone may differ from the
    calendar's by up to a day.
    """

    column: sa.ColumnElement[Any]
    literal: Callable[[dt.date], sa.ColumnElement[Any]]
    slack: dt.timedelta = dt.timedelta(0)

    @classmethod
    def of_sample(cls, column: sa.ColumnElement[Any], sample: object) -> DateColumn | None:
        """The comparison suited to ``sample`` (a value read from the column; ``None`` when it
        holds no value: nothing to filter on). Raises :class:`ValueError` for a sample that is
        neither a date, a timestamp nor ISO date text."""
        if sample is None:
            return None
        if isinstance(sample, dt.datetime):
            return cls(column, lambda d: sa.literal(dt.datetime.combine(d, dt.time()), sa.DateTime()), ONE_DAY)
        if isinstance(sample, dt.date):
            return cls(column, lambda d: sa.literal(d, sa.Date()))
        if isinstance(sample, str):
            try:
                dt.date.fromisoformat(sample.strip()[:10])
            except ValueError:
                raise ValueError(f"expected dates or ISO date text such as '2023-07-01', found {sample!r}") from None
            # ISO text sorts as the dates it spells; a time part sorts after its day alone.
            return cls(column, lambda d: sa.literal(d.isoformat(), sa.String()))
        raise ValueError(f"expected dates or ISO date text such as '2023-07-01', found {type(sample).__name__} {sample!r}")

    def earlier_than(self, day: dt.date) -> Condition:
        """Rows whose value is before ``day`` (or unknown)."""
        return sa.or_(self.column.is_(None), self.column < self.literal(day + self.slack))

    def after(self, day: dt.date) -> Condition:
        """Rows whose value is after ``day`` (or unknown)."""
        return sa.or_(self.column.is_(None), self.column > self.literal(day - self.slack))

    def at_or_after(self, day: dt.date) -> Condition:
        """Rows whose value is ``day`` or later (or unknown)."""
        return sa.or_(self.column.is_(None), self.column >= self.literal(day - self.slack))

    def older_than(self, day: dt.date) -> Condition:
        """Rows whose value is known and before ``day``: exactly those :meth:`at_or_after`
        leaves out."""
        return self.column < self.literal(day - self.slack)

    def at_or_before(self, day: dt.date) -> Condition:
        """Rows whose value is known and at most ``day``: exactly those :meth:`after` leaves out."""
        return self.column <= self.literal(day - self.slack)


@attrs.frozen
class Filters:
    """The WHERE conditions of one read.

    ``where`` selects the rows the request needs (joined by AND). ``older`` (when not ``None``)
    is what the ``since`` days left out among the indicators asked for: of those rows the
    newest of each series is still read (see :func:`filters`), ranked by ``newest_first``.
    """

    where: list[Condition]
    older: list[Condition] | None = None
    newest_first: sa.ColumnElement[Any] | None = None


def filters(
    request: SourceRequest,
    *,
    indicator: sa.ColumnElement[Any] | None,
    fixed: str | None,
    start: DateColumn | None,
    end: DateColumn | None,
) -> Filters:
    """The conditions that honour ``request``.

    - ``indicator IN (...)`` for the indicators asked for (unless there are more than
      :data:`MAX_PUSHDOWN`, or the source has a ``fixed`` indicator and no indicator column);
    - with ``start``: ``start < until + 1 day`` (a period that starts after the check's day
      cannot be seen);
    - per group of indicators sharing a ``since`` day: ``indicator NOT IN (group) OR
      end > since`` with ``end``; with only ``start``, ``start >= since - 366 days`` (the
      longest period started then has ended by ``since``).

    The rows a ``since`` day leaves out are ``older``: a series whose every row is older
    than ``since`` must still exist for the engine (to be judged UNKNOWN rather than not at
    all), so the newest of its rows is read as well.
    """
    base: list[Condition] = []
    wanted = request.indicators
    pushed = wanted is not None and len(wanted) <= MAX_PUSHDOWN
    if indicator is not None and pushed and wanted is not None:
        base.append(indicator.in_(sorted(wanted)))
    if start is not None and request.until is not None:
        base.append(start.earlier_than(request.until + ONE_DAY))
    dated = end if end is not None else start
    if dated is None:
        return Filters(base)
    since = _since(request, fixed, pushed)
    by_day: dict[dt.date, list[str]] = defaultdict(list)
    for name, day in since.items():
        by_day[day].append(name)
    recent: list[Condition] = []
    older: list[Condition] = []
    for day, names in sorted(by_day.items()):
        # Without an end: a period that started the longest period before ``since`` is over.
        cut = day if end is not None else day - LONGEST_PERIOD
        newer, old = (dated.after(cut), dated.at_or_before(cut)) if end is not None else (dated.at_or_after(cut), dated.older_than(cut))
        if fixed is not None:
            recent.append(newer)
            older.append(old)
        elif indicator is not None:
            recent.append(sa.or_(indicator.not_in(sorted(names)), newer))
            older.append(sa.and_(indicator.in_(sorted(names)), old))
    if not older:
        return Filters(base + recent)
    return Filters(base + recent, [*base, sa.or_(*older)], dated.column.desc())


def _since(request: SourceRequest, fixed: str | None, pushed: bool) -> Mapping[str, dt.date]:
    """The ``since`` days that apply: of the fixed indicator only, or of the indicators asked
    for (all of them only when their list is short enough to bind)."""
    if fixed is not None:
        day = request.since.get(fixed)
        return {fixed: day} if day is not None else {}
    if not pushed:
        return {}
    wanted = request.indicators
    return {n: d for n, d in request.since.items() if wanted is None or n in wanted}
