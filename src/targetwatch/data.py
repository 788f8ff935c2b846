"""The in-memory data the engine reads: series grouped by indicator and labels.

Built from the records sources yield; each distinct period text is parsed once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from .errors import PeriodError, Problem, SourceError
from .model import Labels, LabelSelector, Record, Series

if TYPE_CHECKING:
    from .periods import Calendar, Period


def _order(period: Period) -> tuple[dt.date, dt.date, str]:
    # The same order as Period's comparisons, without a Python-level __lt__ per comparison.
    return (period.start, period.end, period.grain)


class Dataset:
    """Series by indicator and labels; read-only once built."""

    def __init__(self, series: Iterable[Series] = ()) -> None:
        self._by_indicator: dict[str, dict[Labels, Series]] = {}
        for s in series:
            self._by_indicator.setdefault(s.indicator, {})[s.labels] = s

    @classmethod
    def from_records(cls, records: Iterable[Record], calendar: Calendar, *, source: str | None = None) -> Dataset:
        """Group records into series, parsing each distinct period once.

        A record with an unparseable period, or two records for the same indicator, labels and
        period, is a :class:`SourceError` naming where they came from (a later report of the
        same figure is not a restatement yet: it is a duplicate). Each record's
        ``reported_at`` is kept; a series none of whose records has one has ``reported=None``.
        """
        parsed: dict[str, Period] = {}
        grouped: dict[tuple[str, Labels], dict[Period, tuple[Decimal, str | None, dt.datetime | None]]] = {}
        for record in records:
            period = parsed.get(record.period)
            if period is None:
                try:
                    period = parsed[record.period] = calendar.parse(record.period)
                except PeriodError as exc:
                    raise SourceError(str(exc), source=source, problem=Problem(f"period: {exc}", record.origin)) from None
            bucket = grouped.setdefault((record.indicator, record.labels), {})
            if period in bucket:
                first = bucket[period][1]
                where = f" (first at {first})" if first else ""
                message = f"duplicate observation of {record.indicator} {dict(record.labels) or ''} for {period}{where}"
                raise SourceError(message, source=source, problem=Problem(message, record.origin))
            bucket[period] = (record.value, record.origin, record.reported_at)
        out = []
        for (indicator, labels), bucket in grouped.items():
            periods = sorted(bucket, key=_order)
            reported = tuple(bucket[p][2] for p in periods)
            out.append(Series(indicator, labels, tuple(periods), tuple(bucket[p][0] for p in periods), source,
                              reported if any(r is not None for r in reported) else None))
        return cls(out)

    @property
    def indicators(self) -> set[str]:
        return set(self._by_indicator)

    def __iter__(self) -> Iterator[Series]:
        for by_labels in self._by_indicator.values():
            yield from by_labels.values()

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_indicator.values())

    def series(self, indicator: str) -> list[Series]:
        """Every series of ``indicator`` (empty when there is none)."""
        return list(self._by_indicator.get(indicator, {}).values())

    def get(self, indicator: str, labels: Labels) -> Series | None:
        """The series of ``indicator`` with exactly ``labels``, or ``None``."""
        return self._by_indicator.get(indicator, {}).get(labels)

    def select(self, indicator: str, selector: LabelSelector) -> list[Series]:
        """The series of ``indicator`` whose labels match ``selector``, in a stable order."""
        found = self._by_indicator.get(indicator, {})
        return [found[k] for k in sorted(found) if selector.matches(k)]

    def visible(self, as_of: dt.datetime | dt.date) -> Dataset:
        """The data as it could be known at ``as_of`` (see :meth:`Series.visible`): each
        observation from its ``reported_at`` moment when it has one, else from the start of
        its period. Pass the aware moment of the check; a plain date means the start of that day.
        When every observation is visible already, that is this dataset itself."""
        seen = []
        changed = False
        for s in self:
            shown = s.visible(as_of)
            changed = changed or shown is not s
            seen.append(shown)
        return Dataset(seen) if changed else self

    def merged(self, other: Dataset) -> Dataset:
        """This dataset plus ``other``'s series (a series in both is an error)."""
        if not self._by_indicator:
            return other  # read-only: nothing to copy
        out = Dataset(self)
        for s in other:
            if out.get(s.indicator, s.labels) is not None:
                raise SourceError(f"series {s.indicator} {dict(s.labels)} comes from more than one source")
            out._by_indicator.setdefault(s.indicator, {})[s.labels] = s
        return out
