"""Series built column by column: the columnar half of the ``csv`` and ``parquet`` sources.

Cells arrive as pyarrow arrays, a batch of rows at a time. Each distinct cell of a column is
converted once, by the same :class:`~.tabular.RowConverter` rules the row-by-row readers apply
to every cell (stripping, blank labels, numbers, periods), and rows become small integer codes;
numpy then sorts and groups the codes into series. The result is exactly the
:class:`~targetwatch.data.Dataset` that :meth:`Dataset.from_records
<targetwatch.data.Dataset.from_records>` builds from the row-by-row reader's records: the same
series in the same order, the same periods and the same decimals, digit for digit.

Whatever would make the row-by-row reader report a problem (a bad row, two observations of one
period) raises :class:`GiveUp` instead: the caller then reads the rows one by one, which says
exactly what is wrong and where (or skips the bad row, with ``on_bad_row = "skip"``).

pyarrow and numpy (the ``fast`` extra) are imported inside the functions only.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..data import Dataset
from ..errors import PeriodError
from ..model import Labels, Series
from ..periods import Calendar, Period
from .columnar_cells import Cells, Interned, factorize, mask, objects
from .tabular import BadRow, Layout, RowConverter

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Codes = npt.NDArray[np.int32]

#: The code of a blank value cell (not reported) or an indicator not asked for: the row is dropped.
DROP = -1
#: The code of a blank label cell: the row does not have that label.
ABSENT = 0
#: Rows whose values are turned into Python objects at a time, when the series are built.
_ROWS = 1 << 18
#: Distinct period sequences whose tuple is shared between series.
_SHARED = 10_000
#: Keys are combined into one int64 while they stay below this (room left for a multiplication).
_LIMIT = 1 << 62


class GiveUp(Exception):
    """The columnar reader cannot be sure of giving what the row-by-row reader gives."""


def _order(period: Period) -> tuple[dt.date, dt.date, str]:
    return (period.start, period.end, period.grain)


class Columnar:
    """Collects batches of rows and builds the dataset.

    ``layout`` locates the columns of the file; ``positions`` maps a layout column index to the
    index of that column in the batches (all columns in order when ``None``). ``wanted`` are
    the indicators asked for (``None``: all).
    """

    def __init__(
        self,
        conv: RowConverter,
        layout: Layout,
        wanted: Collection[str] | None,
        *,
        positions: dict[int, int] | None = None,
    ) -> None:
        self.conv = conv
        self.calendar: Calendar = conv.moments  # the context's calendar, or UTC outside a config
        self.end_moments = conv.params.available == "period_end"
        names = conv.names
        at = (lambda i: i) if positions is None else positions.__getitem__
        self.indicator_at = None if layout.indicator is None else at(layout.indicator)
        self.period_at = at(layout.period)
        self.value_at = at(layout.value)
        self.indicators = Interned()
        self.periods = Interned()
        self.values: list[Decimal] = []
        self.moments: list[dt.datetime | None] = [None]
        self._indicator = Cells(self._indicator_code(names["indicator"], wanted))
        self._period = Cells(self._period_code(names["period"]))
        self._value = Cells(self._value_code(names["value"]))
        self.labels: list[tuple[str, int, Cells, Interned]] = []
        self.checked: list[tuple[int, Cells]] = []  # constant_labels columns: checked, not kept
        self.reported: tuple[int, Cells] | None = None
        for name, index in layout.labels:
            if name == conv.reported:
                self.reported = (at(index), Cells(self._reported_code(name)))
            elif name in conv.constant:
                self.checked.append((at(index), Cells(self._constant_code(name, conv.constant[name]))))
            else:
                values = Interned(first=ABSENT + 1)
                self.labels.append((name, at(index), Cells(self._label_code(name, values)), values))
        if self.indicator_at is None:
            assert conv.fixed is not None
            self.indicators.id(conv.fixed)
        self._chunks: list[list[Codes]] = []
        self.rows = 0

    # -- converting distinct cells ----------------------------------------------------------

    def _indicator_code(self, column: str, wanted: Collection[str] | None) -> Callable[[object], int]:
        conv = self.conv

        def convert(raw: object) -> int:
            if not conv.wanted(raw, wanted):
                return DROP
            try:
                return self.indicators.id(conv._text(column, raw, "an indicator name"))
            except BadRow:
                raise GiveUp from None

        return convert

    def _period_code(self, column: str) -> Callable[[object], int]:
        conv, calendar = self.conv, self.calendar

        def convert(raw: object) -> int:
            try:
                return self.periods.id(calendar.parse(conv._text(column, raw, "a period such as 2023-07")))
            except (BadRow, PeriodError):
                raise GiveUp from None

        return convert

    def _value_code(self, column: str) -> Callable[[object], int]:
        conv, values = self.conv, self.values

        def convert(raw: object) -> int:
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                return DROP  # not reported
            try:
                values.append(conv._value(column, raw))
            except BadRow:
                raise GiveUp from None
            return len(values) - 1

        return convert

    def _label_code(self, column: str, values: Interned) -> Callable[[object], int]:
        def convert(raw: object) -> int:
            try:
                text = RowConverter._label(column, raw)
            except BadRow:
                raise GiveUp from None
            return ABSENT if text is None else values.id(text)

        return convert

    def _constant_code(self, column: str, fixed: str) -> Callable[[object], int]:
        def convert(raw: object) -> int:
            try:
                text = RowConverter._label(column, raw)
            except BadRow:
                raise GiveUp from None
            if text is not None and text != fixed:
                raise GiveUp
            return ABSENT

        return convert

    def _reported_code(self, column: str) -> Callable[[object], int]:
        conv, moments = self.conv, self.moments

        def convert(raw: object) -> int:
            try:
                moment = conv._reported(column, raw)
            except BadRow:
                raise GiveUp from None
            if moment is None:
                return ABSENT
            moments.append(moment)
            return len(moments) - 1

        return convert

    # -- rows -------------------------------------------------------------------------------

    def add(self, batch: Any) -> None:
        """Take in a pyarrow record batch (raises :class:`GiveUp`)."""
        import numpy as np

        self.rows += batch.num_rows
        indicator = None
        if self.indicator_at is not None:
            indicator = self._indicator.codes(batch.column(self.indicator_at))
            keep = indicator != DROP
            if not keep.all():  # rows of other indicators are passed over before anything else
                batch, indicator = batch.filter(mask(keep)), indicator[keep]
        # Every row left is checked: a bad period makes a bad row even where the value is blank.
        period = self._period.codes(batch.column(self.period_at))
        value = self._value.codes(batch.column(self.value_at))
        keep = value != DROP
        if not keep.all():
            batch, period, value = batch.filter(mask(keep)), period[keep], value[keep]
            indicator = None if indicator is None else indicator[keep]
        if not batch.num_rows:
            return
        if indicator is None:  # a fixed indicator
            indicator = np.zeros(batch.num_rows, dtype=np.int32)
        chunk = [indicator, period, value]
        for _, at, cells, _ in self.labels:
            chunk.append(cells.codes(batch.column(at)))
        for at, cells in self.checked:
            cells.codes(batch.column(at))
        if self.reported is not None:
            chunk.append(self.reported[1].codes(batch.column(self.reported[0])))
        self._chunks.append(chunk)

    # -- series -----------------------------------------------------------------------------

    def dataset(self, source: str | None) -> Dataset:
        """The series of the rows taken in (raises :class:`GiveUp` on two observations of one
        indicator, labels and period)."""
        import numpy as np

        if not self._chunks:
            return Dataset()
        parts = [list(column) for column in zip(*self._chunks)]
        self._chunks = []
        columns = []
        while parts:  # each column's chunks are let go of as soon as it is joined
            columns.append(np.concatenate(parts.pop(0)))
        n = len(columns[0])
        periods: list[Period] = self.periods.items
        rank = np.empty(len(periods), dtype=np.int32)
        rank[sorted(range(len(periods)), key=lambda i: _order(periods[i]))] = np.arange(len(periods))

        # One int64 per series (indicator, then labels in column order), then per observation.
        key = columns[0].astype(np.int64)
        bound = len(self.indicators.items)
        for codes, (_, _, _, values) in zip(columns[3 : 3 + len(self.labels)], self.labels):
            width = len(values.items) + 1
            if bound * width > _LIMIT:
                key, bound = factorize(key)
            key *= width
            key += codes
            bound *= width
        if bound * len(periods) > _LIMIT:
            key, bound = factorize(key)
        key *= len(periods)
        key += rank[columns[1]]
        order = None
        if not (key[1:] > key[:-1]).all():  # not already in order (or a duplicate)
            order = np.argsort(key, kind="stable")
            key = key[order]
            if (key[1:] == key[:-1]).any():
                raise GiveUp  # two observations of the same indicator, labels and period
        key //= len(periods)
        starts = np.concatenate(([0], np.flatnonzero(key[1:] != key[:-1]) + 1))
        del key
        if order is None:
            first, appearance = starts, list(range(len(starts)))
        else:
            # Series come in the order their first row appears in, as rows would group them.
            first = order[starts]
            appearance = np.argsort(np.minimum.reduceat(order, starts), kind="stable").tolist()
        # Of each series: its indicator and label codes (from its first row), where it starts and ends.
        heads = list(zip(*(codes[first].tolist() for codes in columns[:1] + columns[3 : 3 + len(self.labels)])))
        bounds = list(zip(starts.tolist(), [*starts[1:].tolist(), n]))
        del first, starts
        # Of each observation, in series order: period, value and reported codes.
        period, value = columns[1], columns[2]
        reported = columns[-1] if self.reported is not None else None
        del columns
        if order is not None:
            period, value = period[order], value[order]
            reported = None if reported is None else reported[order]
            del order
        # Millions of references in a few big lists: a cyclic garbage collection now and then
        # would walk them all again and again, while nothing built here can form a cycle.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return Dataset(self._series(source, heads, bounds, appearance, period, value, reported))
        finally:
            if collecting:
                gc.enable()

    def _series(
        self,
        source: str | None,
        heads: list[tuple[int, ...]],
        bounds: list[tuple[int, int]],
        appearance: list[int],
        period: Codes,
        value: Codes,
        reported: Codes | None,
    ) -> list[Series]:
        """The series in ``appearance`` order; they are built in the order their rows are
        stored, a few hundred thousand rows' values at a time."""
        decimals, moments = objects(self.values), objects(self.moments)
        # Most series share their periods (and so the moments they end): one tuple for all of them.
        periods = self.periods.items
        end_of = [self.calendar.end_moment(p) for p in periods] if self.end_moments else None
        shared: dict[bytes, tuple[tuple[Period, ...], tuple[dt.datetime, ...] | None]] = {}
        indicators = self.indicators.items
        names = [name for name, _, _, _ in self.labels]
        texts = [interned.items for _, _, _, interned in self.labels]
        constant = list(self.conv.constant.items())
        labels_of: dict[tuple[int, ...], Labels] = {}
        built: list[Series] = []
        g = 0
        while g < len(bounds):
            # The next series, up to about _ROWS rows in all (at least one series).
            low = bounds[g][0]
            h = g + 1
            while h < len(bounds) and bounds[h][1] - low <= _ROWS:
                h += 1
            high = bounds[h - 1][1]
            values = decimals[value[low:high]].tolist()
            reported_at = None if reported is None else moments[reported[low:high]].tolist()
            for head, (s, e) in zip(heads[g:h], bounds[g:h]):
                labels = labels_of.get(head[1:])
                if labels is None:
                    pairs = [(name, texts[j][code - ABSENT - 1]) for j, (name, code) in enumerate(zip(names, head[1:])) if code != ABSENT]
                    labels = labels_of[head[1:]] = tuple(sorted([*pairs, *constant]))
                codes = period[s:e]
                known = shared.get(codes.tobytes())
                if known is None:
                    seq = codes.tolist()
                    known = (tuple([periods[c] for c in seq]), None if end_of is None else tuple([end_of[c] for c in seq]))
                    if len(shared) < _SHARED:
                        shared[codes.tobytes()] = known
                when: tuple[dt.datetime | None, ...] | None = known[1]
                if reported_at is not None:
                    own = reported_at[s - low : e - low]
                    if when is not None:
                        when = tuple([m if m is not None else end for m, end in zip(own, when)])
                    elif any(m is not None for m in own):
                        when = tuple(own)
                built.append(Series(indicators[head[0]], labels, known[0], tuple(values[s - low : e - low]), source, when))
            g = h
        return [built[g] for g in appearance]
