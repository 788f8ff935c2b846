"""The ``parquet`` source: long-format observations in a Parquet file, read with pyarrow (the
``fast`` extra), column by column."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, Self

import attrs

from ..data import Dataset
from ..hookspecs import hookimpl
from ..model import Record
from ..source import Source, SourceContext, SourceRequest, SourceType
from .tabular import Layout, RowConverter, TabularParams

NEEDS_PYARROW = "the parquet source needs pyarrow: pip install 'targetwatch[fast]'"
#: Rows decoded at a time, column by column (``read_dataset``) and row by row (``read``).
BATCH_ROWS = 1 << 20
RECORD_BATCH_ROWS = 1 << 16
#: How often the row-by-row path reports the rows it has read.
_EVERY = 50_000


@attrs.frozen
class ParquetParams(TabularParams):
    """Parameters of the ``parquet`` source (``path`` is the Parquet file)."""


class ParquetSource(SourceType):
    """Reads long-format rows from a Parquet file: one observation per row.

    What you can rely on:

    - It needs pyarrow (``pip install 'targetwatch[fast]'``); without it the source stops with
      an error saying so.
    - Columns are matched by name as for csv: ``indicator``, ``period``, ``value`` unless
      renamed with ``columns`` (no indicator column with a fixed ``indicator``); every other
      column is a label unless listed in ``ignore`` (or only the columns in ``labels``). Only
      the columns used are read. A missing column is one error naming the columns found.
    - Indicator, period and label text is stripped of surrounding spaces; a blank (or null)
      label cell means the row does not have that label; whole-number labels are their digits.
      ``constant_labels`` are added to every row (a row carrying a different value for one of
      them is a bad row). Indicator and period may also be whole numbers (``2023``).
    - Values are exact. Integer columns are read as they are, decimal columns with their
      scale (``1.50`` stays ``1.50``), floating-point columns by the shortest text that reads
      back as the same float (``0.0489`` stays ``0.0489``), and text like csv cells
      (``"17,192"``, ``"94.1%"``, ``"1.2万"``). A null or blank value means "not reported":
      no record, no error.
    - A ``reported_at`` column may hold dates, timestamps (a timestamp without a time zone is
      local time in the configured zone) or text such as ``2023-08-05T09:30``.
    - Each distinct cell is converted once and the rows are grouped into series column by
      column, so large files read fast. Rows of indicators not asked for are passed over
      before their periods and values are looked at.
    - A bad row is located by its 1-based row number in the file, e.g.
      ``data.parquet: row 17: column 'value': expected a number ..., found 'n/a'``; it stops
      the source, or with ``on_bad_row = "skip"`` is skipped and counted.
    - A file that does not exist or is not a Parquet file stops the source with an error
      naming it.
    """

    name = "parquet"
    summary = "long-format rows (indicator, period, value, labels) from a Parquet file, read column by column (needs pyarrow)"
    Params = ParquetParams

    def open(self, params: ParquetParams, context: SourceContext) -> Source:
        reader = _ParquetReader(params, context, context.path(params.path))
        _parquet(RowConverter(params, context, params.path))  # without pyarrow, say so now
        return reader


def _parquet(conv: RowConverter) -> Any:
    """The ``pyarrow.parquet`` module, or the error saying how to install it."""
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise conv.fail(NEEDS_PYARROW) from None
    return pq


@attrs.frozen
class _ParquetReader:
    params: ParquetParams
    context: SourceContext
    path: Path

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        params = self.params
        if params.none_wanted(indicators):
            return
        conv = RowConverter(params, self.context, params.path)
        wanted = None if indicators is None else frozenset(indicators)
        with _Opened(self.path, conv) as opened:
            located = opened.layout.remapped(opened.positions.__getitem__)
            file = params.path
            number = 0
            for batch in opened.batches(RECORD_BATCH_ROWS):
                columns = [column.to_pylist() for column in batch.columns]
                for row in zip(*columns):
                    number += 1
                    key = f"row {number}"
                    rec = conv.positional(row, located, wanted, origin=f"{file}: {key}", key=key)
                    if rec is not None:
                        yield rec

    @property
    def read_dataset(self) -> Callable[[SourceRequest, Callable[[int], None]], Dataset] | None:
        """``read_dataset(request, rows)``: the dataset :meth:`Dataset.from_records
        <targetwatch.data.Dataset.from_records>` builds from :meth:`read`'s records, built
        column by column. Offered only when the source was opened with a calendar (from a
        config); otherwise the engine builds the dataset from records with its own calendar."""
        return None if self.context.calendar is None else self._read_dataset

    def _read_dataset(self, request: SourceRequest, rows: Callable[[int], None]) -> Dataset:
        """Column by column; when a row is bad (or two rows give one observation), the rows
        are read one by one to report it (or skip it) exactly."""
        from .columnar import Columnar, GiveUp

        params = self.params
        if params.none_wanted(request.indicators):
            rows(0)
            return Dataset()
        conv = RowConverter(params, self.context, params.path)
        with _Opened(self.path, conv) as opened:
            builder = Columnar(conv, opened.layout, request.indicators, positions=opened.positions)
            try:
                for batch in opened.batches(BATCH_ROWS):
                    builder.add(batch)
                    rows(builder.rows)
                return builder.dataset(self.context.name)
            except GiveUp:
                pass
        return Dataset.from_records(self._counted(request.indicators, rows), conv.moments, source=self.context.name)

    def _counted(self, indicators: Collection[str] | None, rows: Callable[[int], None]) -> Iterator[Record]:
        done = 0
        for done, record in enumerate(self.read(indicators), start=1):
            if done % _EVERY == 0:
                rows(done)
            yield record
        rows(done)


class _Opened:
    """An open Parquet file: its layout, and the batches of the columns used (a file that
    cannot be read is one error naming it)."""

    def __init__(self, path: Path, conv: RowConverter) -> None:
        self.conv = conv
        self.pq = _parquet(conv)
        if not path.is_file():
            what = "no such file" if not path.exists() else "not a file"
            raise conv.fail(f"{what} (looked for {path})")
        self.file = self._guard(lambda: self.pq.ParquetFile(path))
        try:
            names = list(self.file.schema_arrow.names)
            self.layout: Layout = conv.layout(names, line=None)
        except BaseException:
            self.file.close()
            raise
        used = sorted({i for i in (self.layout.indicator, self.layout.period, self.layout.value) if i is not None}
                      | {i for _, i in self.layout.labels})
        self.columns = [names[i] for i in used]
        #: Where each column of the layout is in a batch.
        self.positions = {i: n for n, i in enumerate(used)}

    def _guard(self, action: Callable[[], Any]) -> Any:
        import pyarrow as pa

        try:
            return action()
        except (pa.ArrowException, OSError) as exc:
            raise self.conv.fail(f"cannot read the file as Parquet: {exc}") from None

    def batches(self, size: int) -> Iterator[Any]:
        batches = self._guard(lambda: self.file.iter_batches(batch_size=size, columns=self.columns, use_threads=True))
        while True:
            batch = self._guard(lambda: next(batches, None))
            if batch is None:
                return
            yield batch

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(ParquetSource())
