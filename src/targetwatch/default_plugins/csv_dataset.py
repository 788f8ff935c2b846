"""Series built straight from CSV rows, without a record per row.

:func:`build_dataset` gives the :class:`~targetwatch.data.Dataset` that
:meth:`Dataset.from_records <targetwatch.data.Dataset.from_records>` builds from the ``csv``
source's records, with the same bad-row errors and skips in the same order, only faster:

- Each distinct text is converted once per file: indicator and label cells (together, as the
  series they name), period cells, value cells and reported_at cells. A cell seen for the first
  time goes through the :class:`~targetwatch.default_plugins.tabular.RowConverter`, and a row
  any of whose cells is not good goes through it whole, so every message is its own.
- Observations go straight into their series. A file sorted by series and period (the usual
  layout) is recognised as it is read: an observation after the newest one of its series
  needs neither a duplicate check nor a sort. A series that arrives out of order keeps a set
  of its periods for the duplicate check, and is sorted at the end.
- Periods are held as integers that sort as periods do (start, end, grain), and turned back
  into the shared :class:`~targetwatch.periods.Period` objects when the series are built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from ..data import Dataset
from ..errors import PeriodError, Problem, SourceError
from ..grains import GRAINS, UTC
from ..model import Labels, Record, Series
from ..periods import Calendar, Period
from ..spans import SPAN_GRAINS
from .tabular import PLAIN_NUMBER, BadRow, Layout, RowConverter

#: Rank of each grain in string order: the last key of a period's order.
_GRAIN_RANK = {grain: rank for rank, grain in enumerate(sorted(GRAINS + SPAN_GRAINS))}
#: ``last`` of a series that is new or out of order: every observation takes the careful way.
_CAREFUL = 1 << 62
#: At most this many distinct cells of each kind are remembered (a file of all-distinct
#: values must not hold a second copy of them).
_REMEMBERED = 200_000
#: How often ``rows`` hears how far the reading is (in lines).
_EVERY = 50_000
#: A reported_at cell not seen before (never a real moment: compared by identity).
_UNSEEN = dt.datetime(1, 1, 1, tzinfo=UTC)

#: Where the first of two observations of one period was; ``None`` when it cannot be found.
FirstOrigin = Callable[[str, Labels, Period], "str | None"]


class _Series:
    """The observations of one series as they are read: period orders, values and (when the
    file has a reported_at column) reported moments, in the order read."""

    __slots__ = ("indicator", "labels", "last", "orders", "reported", "seen", "values")

    def __init__(self, indicator: str, labels: Labels, track: bool) -> None:
        self.indicator = indicator
        self.labels = labels
        self.orders: list[int] = []
        self.values: list[Decimal] = []
        self.reported: list[dt.datetime | None] | None = [] if track else None
        #: The newest order while the series is in order; :data:`_CAREFUL` otherwise.
        self.last = _CAREFUL
        #: The orders seen, once the series is out of order (for the duplicate check).
        self.seen: set[int] | None = None


#: The series of the key of a row of an indicator not asked for, and of a bad key.
_SKIP = _Series("", (), False)
_BAD = _Series("", (), False)


def period_order(period: Period) -> int:
    """An integer that sorts as ``(start, end, grain)``, the order of periods in a series."""
    return (period.start.toordinal() << 32) | (period.end.toordinal() << 8) | _GRAIN_RANK[period.grain]


class _Builder:
    def __init__(
        self,
        conv: RowConverter,
        layout: Layout,
        calendar: Calendar,
        wanted: frozenset[str] | None,
        source: str,
        first_origin: FirstOrigin,
    ) -> None:
        self.conv = conv
        self.layout = layout
        self.calendar = calendar
        self.wanted = wanted
        self.source = source
        self.first_origin = first_origin
        reported = conv.reported
        self.rep_index = next((i for name, i in layout.labels if name == reported), None)
        self.label_columns = tuple((name, i) for name, i in layout.labels if name != reported)
        self.label_names = tuple(name for name, _ in self.label_columns)
        indices = ([] if layout.indicator is None else [layout.indicator]) + [i for _, i in self.label_columns]
        #: The cells naming a row's series: one cell as itself, several as a tuple.
        self.key_of: Callable[[list[str]], object] = itemgetter(*indices) if indices else (lambda row: ())
        self.key_width = len(indices)
        self.track = self.rep_index is not None
        self.by_key: dict[object, _Series] = {}
        self.by_name: dict[tuple[str, Labels], _Series] = {}
        self.ordered: list[_Series] = []
        self.orders: dict[str, int] = {}
        self.period_at: dict[int, Period] = {}
        self.values: dict[str, Decimal] = {}
        self.moments: dict[str, dt.datetime | None] = {}

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, reader: Any, rows: Callable[[int], None]) -> Dataset:
        layout, values = self.layout, self.values
        width, i_per, i_val, i_rep = layout.width, layout.period, layout.value, self.rep_index
        key_of, by_key_get, orders_get, values_get = self.key_of, self.by_key.get, self.orders.get, values.get
        moments_get, plain = self.moments.get, PLAIN_NUMBER.match
        careful, slow, bad_width = self._careful, self._slow, self._bad_width
        blank = _Series("", (), False)
        cur, cur_key, c_last = blank, object(), _CAREFUL
        c_orders, c_values, c_rep = cur.orders.append, cur.values.append, None
        base = reader.line_num
        nxt = base + 1
        report = nxt + _EVERY
        for row in reader:
            line = nxt
            nxt = reader.line_num + 1
            if len(row) != width and bad_width(row, line):
                continue
            key = key_of(row)
            if key != cur_key:
                g = by_key_get(key)
                if g is None:
                    g = self._resolve(key)
                if g is _SKIP:
                    continue
                if g is _BAD:
                    cur.last = c_last
                    slow(row, line)
                    cur, cur_key = blank, blank
                    continue
                cur.last = c_last
                cur, cur_key, c_last = g, key, g.last
                c_orders, c_values = g.orders.append, g.values.append
                c_rep = None if g.reported is None else g.reported.append
                if line >= report:
                    rows(line - base)
                    report = line + _EVERY
            o = orders_get(row[i_per])
            if o is None:
                o = self._period(row[i_per])
                if o is None:
                    cur.last = c_last
                    slow(row, line)
                    cur, cur_key = blank, blank
                    continue
            v = row[i_val]
            d = values_get(v)
            if d is None:
                if plain(v):
                    d = Decimal(v)
                elif not v.strip():
                    continue  # not reported
                else:
                    d = self._value(v)
                    if d is None:
                        cur.last = c_last
                        slow(row, line)
                        cur, cur_key = blank, blank
                        continue
                if len(values) < _REMEMBERED:
                    values[v] = d
            if i_rep is None:
                m = None
            else:
                m = moments_get(row[i_rep], _UNSEEN)
                if m is _UNSEEN:
                    m = self._moment(row[i_rep])
                    if m is _UNSEEN:
                        cur.last = c_last
                        slow(row, line)
                        cur, cur_key = blank, blank
                        continue
            if o > c_last:
                c_orders(o)
                c_values(d)
                c_last = o
                if c_rep is not None:
                    c_rep(m)
            else:
                c_last = careful(cur, o, d, m, line)
        rows(nxt - 1 - base)
        return self._dataset()

    # -- the careful ways -------------------------------------------------------------------------

    def _bad_width(self, row: list[str], line: int) -> bool:
        """True when a row of another width than the header is passed over (a blank line, or a
        bad row reported); False for one with blank cells past the header's, read as usual."""
        n, width = len(row), self.layout.width
        if n == 0 or (n == 1 and not row[0].strip()):
            return True
        if n < width or any(cell.strip() for cell in row[width:]):
            self.conv.bad(f"expected {width} cells as in the header, found {n}", line=line)
            return True
        return False

    def _resolve(self, key: object) -> _Series:
        """The series a key names (indicator and label cells), or :data:`_SKIP` / :data:`_BAD`."""
        cells: tuple[str, ...] = key if self.key_width > 1 else (() if self.key_width == 0 else (key,))  # type: ignore[assignment]
        conv = self.conv
        if self.layout.indicator is None:
            indicator = conv.fixed or ""
        else:
            indicator = cells[0].strip()
            cells = cells[1:]
            if self.wanted is not None and indicator and indicator not in self.wanted:
                self.by_key[key] = _SKIP
                return _SKIP
        try:
            if not indicator:
                raise BadRow("a blank indicator")
            labels, _ = conv.labels_of(zip(self.label_names, cells))
        except BadRow:
            found = _BAD
        else:
            found = self._series(indicator, labels)
        if len(self.by_key) < _REMEMBERED:
            self.by_key[key] = found
        return found

    def _series(self, indicator: str, labels: Labels) -> _Series:
        found = self.by_name.get((indicator, labels))
        if found is None:
            found = self.by_name[(indicator, labels)] = _Series(indicator, labels, self.track)
        return found

    def _period(self, raw: str) -> int | None:
        text = raw.strip()
        if not text:
            return None
        try:
            period = self.calendar.parse(text)
        except PeriodError:
            return None
        order = self._order(period)
        if len(self.orders) < _REMEMBERED:
            self.orders[raw] = order
        return order

    def _order(self, period: Period) -> int:
        order = period_order(period)
        self.period_at.setdefault(order, period)
        return order

    def _value(self, raw: str) -> Decimal | None:
        try:
            return self.conv.number(raw)
        except BadRow:
            return None

    def _moment(self, raw: str) -> dt.datetime | None:
        try:
            moment = self.conv.moment(raw)
        except BadRow:
            return _UNSEEN
        if len(self.moments) < _REMEMBERED:
            self.moments[raw] = moment
        return moment

    def _slow(self, row: list[str], line: int) -> None:
        """A row some cell of which is not good: converted (or reported) as the records are."""
        layout, conv = self.layout, self.conv
        rec = conv.record(
            None if layout.indicator is None else row[layout.indicator],
            row[layout.period],
            row[layout.value],
            [(name, row[i]) for name, i in layout.labels],
            origin=f"{conv.file}:{line}",
            line=line,
        )
        if rec is not None:
            self._add(rec, line)

    def _add(self, rec: Record, line: int) -> None:
        series = self._series(rec.indicator, rec.labels)
        order = self._order(self.calendar.parse(rec.period))
        if order > series.last:
            series.orders.append(order)
            series.values.append(rec.value)
            if series.reported is not None:
                series.reported.append(rec.reported_at)
            series.last = order
        else:
            self._careful(series, order, rec.value, rec.reported_at, line)

    def _careful(self, series: _Series, order: int, value: Decimal, moment: dt.datetime | None, line: int) -> int:
        """Add an observation to a series that is new or not (or no longer) in order; the
        series' new ``last``. Raises the duplicate error for a period it already has."""
        orders = series.orders
        if not orders:
            self.ordered.append(series)
            last = order
        else:
            seen = series.seen
            if seen is None:
                seen = series.seen = set(orders)
            if order in seen:
                raise self._duplicate(series, order, line)
            seen.add(order)
            last = _CAREFUL
        orders.append(order)
        series.values.append(value)
        if series.reported is not None:
            series.reported.append(moment)
        series.last = last
        return last

    def _duplicate(self, series: _Series, order: int, line: int) -> SourceError:
        period = self.period_at[order]
        first = self.first_origin(series.indicator, series.labels, period)
        where = f" (first at {first})" if first else ""
        message = f"duplicate observation of {series.indicator} {dict(series.labels) or ''} for {period}{where}"
        return SourceError(message, source=self.source, problem=Problem(message, f"{self.conv.file}:{line}"))

    # -- the result -------------------------------------------------------------------------------

    def _dataset(self) -> Dataset:
        period_at, source = self.period_at, self.source
        end_at: dict[int, dt.datetime] | None = None
        if self.conv.params.available == "period_end":
            moments = self.conv.moments
            end_at = {o: moments.end_moment(p) for o, p in period_at.items()}
        out = []
        for series in self.ordered:
            orders, values, reported = series.orders, series.values, series.reported
            if series.seen is not None:  # read out of order
                ranks = sorted(range(len(orders)), key=orders.__getitem__)
                orders = [orders[i] for i in ranks]
                values = [values[i] for i in ranks]
                reported = None if reported is None else [reported[i] for i in ranks]
            if end_at is not None:
                if reported is None:
                    reported = list(map(end_at.__getitem__, orders))
                else:
                    reported = [end_at[o] if m is None else m for o, m in zip(orders, reported)]
            kept = tuple(reported) if reported is not None and any(m is not None for m in reported) else None
            out.append(Series(series.indicator, series.labels, tuple(map(period_at.__getitem__, orders)),
                              tuple(values), source, kept))
            series.orders, series.values, series.reported, series.seen = [], [], None, None  # free as we go
        self.ordered.clear()
        self.by_name.clear()
        self.by_key.clear()
        return Dataset(out)


def build_dataset(
    reader: Any,
    layout: Layout,
    conv: RowConverter,
    calendar: Calendar,
    wanted: frozenset[str] | None,
    *,
    source: str,
    rows: Callable[[int], None],
    first_origin: FirstOrigin,
) -> Dataset:
    """The dataset of the rows left in a ``csv.reader`` whose header gave ``layout``.

    ``first_origin`` finds where the first of two observations of a period was (only called
    for the duplicate error); ``rows`` hears the number of lines read now and then.
    """
    return _Builder(conv, layout, calendar, wanted, source, first_origin).run(reader, rows)
