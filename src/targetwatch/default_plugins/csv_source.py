"""The ``csv`` source: long-format observations in a CSV file."""

from __future__ import annotations

import contextlib
import csv
import importlib
import importlib.util
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..data import Dataset
from ..errors import SourceError
from ..hookspecs import hookimpl
from ..model import Labels, Record
from ..params import Choice, Text, param
from ..source import Source, SourceContext, SourceRequest, SourceType
from .csv_dataset import build_dataset
from .tabular import Layout, RowConverter, TabularParams, check_encoding, undecodable_line

if TYPE_CHECKING:
    from ..periods import Period


@attrs.frozen
class CsvParams(TabularParams):
    """Parameters of the ``csv`` source."""

    encoding: str = param(
        Text(),
        default="utf-8-sig",
        doc='The text encoding; the default reads UTF-8 with or without the BOM Excel writes. Use "gbk" for files saved as ANSI by Chinese Windows.',
    )
    delimiter: str = param(
        Text(nonempty=False), default=",", doc='The single character between cells, e.g. ";" or "\\t" (tab).'
    )
    reader: str = param(
        Choice("auto", "python", "arrow"),
        default="auto",
        doc='How the file is read; the result is the same either way. "auto": a file of 4 MiB or more, '
        "with pyarrow installed (pip install 'targetwatch[fast]'), by its columnar CSV reader, falling back to the built-in "
        'reader for any file it cannot take exactly; otherwise by the built-in reader. "python": '
        'always the built-in reader. "arrow": pyarrow is required (an error without it), still '
        "falling back to the built-in reader for a file it cannot take exactly.",
    )

    def problems(self) -> list[tuple[str, str]]:
        out = super().problems()
        if len(self.delimiter) != 1:
            out.append(("delimiter", f"expected a single character, found {self.delimiter!r}"))
        out.extend(check_encoding(self.encoding))
        return out


class CsvSource(SourceType):
    """Reads long-format rows from a CSV file: one observation per row.

    What you can rely on:

    - The first row is the header. Columns are matched by name (surrounding spaces ignored):
      ``indicator``, ``period`` and ``value`` unless renamed with ``columns``; with a fixed
      ``indicator`` no indicator column is needed. Every other column is a label unless listed
      in ``ignore`` (or only the columns in ``labels``). Columns with an empty header are ignored.
    - Indicator, period and label text is stripped of surrounding spaces; a blank (or NULL)
      label cell means the row does not have that label. ``constant_labels`` are added to
      every row (a row carrying a different value for one of them is a bad row).
    - The file is streamed row by row, never loaded whole; rows of indicators not asked for are
      passed over before their values are parsed. Blank lines are ignored.
    - Line numbers are physical lines, the header being line 1 (a row with a quoted line break
      is reported at the line it starts on).
    - A blank value cell means "not reported": no record, no error. A blank indicator or period
      cell, a value that is not a number, a period the calendar does not know, or a row with
      more or fewer cells than the header is a bad row: an error such as
      ``data.csv:17: column 'value': expected a number ..., found 'n/a'``, or skipped and counted
      with ``on_bad_row = "skip"``.
    - A missing column, a file that cannot be opened, or text that does not decode in
      ``encoding`` stops the source with an error naming the file (and the line).
    - ``reader`` chooses how the file is read, never what is read: with pyarrow installed
      (``pip install 'targetwatch[fast]'``) the default ``"auto"`` reads a file of 4 MiB or more
      with its columnar CSV reader (a smaller one is read sooner than pyarrow imports), and
      falls back to the built-in reader for a file it cannot take exactly (the same data,
      errors and skipped rows either way). The built-in reader converts each distinct cell
      text once and reads a file sorted by series and period fastest.
    """

    name = "csv"
    summary = "long-format rows (indicator, period, value, labels) from a CSV file, streamed"
    Params = CsvParams

    def open(self, params: CsvParams, context: SourceContext) -> Source:
        if params.reader == "arrow" and not have_pyarrow():
            raise SourceError(_NEEDS_PYARROW, source=context.name)
        return _CsvReader(params, context, context.path(params.path))


@attrs.frozen
class _CsvReader:
    params: CsvParams
    context: SourceContext
    path: Path

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        params = self.params
        if params.none_wanted(indicators):
            return
        conv = RowConverter(params, self.context, params.path)
        wanted = None if indicators is None else frozenset(indicators)
        with self._reader(conv) as reader:
            yield from self._rows(reader, conv, self._layout(reader, conv), wanted)

    @property
    def read_dataset(self) -> Callable[[SourceRequest, Callable[[int], None]], Dataset] | None:
        """``read_dataset(request, rows)``: the dataset of the indicators asked for, the one
        :meth:`Dataset.from_records <targetwatch.data.Dataset.from_records>` builds from
        :meth:`read`'s records (same series, errors and skipped rows), built without a record
        per row. Offered only when the source was opened with a calendar (from a config);
        otherwise the engine builds the dataset from records with its own calendar."""
        return None if self.context.calendar is None else self._read_dataset

    def _read_dataset(self, request: SourceRequest, rows: Callable[[int], None]) -> Dataset:
        if self.params.reader == "arrow" or (self.params.reader == "auto" and _big(self.path)):
            fast = _arrow_reader(self.params.reader, self.context.name)
            if fast is not None:
                found = fast(self.params, self.context, self.path, request, rows)
                if found is not None:
                    return found
        return self._python_dataset(request, rows)

    def _python_dataset(self, request: SourceRequest, rows: Callable[[int], None]) -> Dataset:
        params, calendar = self.params, self.context.calendar
        assert calendar is not None  # read_dataset is offered only with a calendar
        if params.none_wanted(request.indicators):
            return Dataset()
        conv = RowConverter(params, self.context, params.path)
        wanted = None if request.indicators is None else frozenset(request.indicators)
        with self._reader(conv) as reader:
            layout = self._layout(reader, conv)
            return build_dataset(
                reader, layout, conv, calendar, wanted, source=self.context.name, rows=rows,
                first_origin=lambda indicator, labels, period: self._first_origin(request, indicator, labels, period),
            )

    def _first_origin(self, request: SourceRequest, indicator: str, labels: Labels, period: Period) -> str | None:
        """Where the first record of ``indicator`` with ``labels`` for ``period`` is: read again,
        bad rows passed over silently (the rows before a duplicate were all read already)."""
        calendar = self.context.calendar
        assert calendar is not None
        quiet = attrs.evolve(
            self, params=attrs.evolve(self.params, on_bad_row="skip"), context=attrs.evolve(self.context, skip=lambda problem: None)
        )
        for rec in quiet.read(request.indicators):
            if rec.indicator == indicator and rec.labels == labels and calendar.parse(rec.period) == period:
                return rec.origin
        return None

    @contextlib.contextmanager
    def _reader(self, conv: RowConverter) -> Iterator[Any]:
        """A ``csv.reader`` over the file; a file that cannot be opened or decoded, or malformed
        CSV, is one error for the source."""
        params = self.params
        try:
            handle = self.path.open("r", encoding=params.encoding, newline="")
        except FileNotFoundError:
            raise conv.fail(f"no such file (looked for {self.path})") from None
        except OSError as exc:
            raise conv.fail(f"cannot open {self.path}: {exc.strerror or exc}") from None
        with handle:
            reader = csv.reader(handle, delimiter=params.delimiter)
            try:
                yield reader
            except UnicodeDecodeError as exc:
                raise conv.fail(
                    f"cannot decode the text as {params.encoding} ({exc.reason}); set encoding to the file's "
                    'encoding (e.g. encoding = "gbk" for a file saved by Chinese Windows)',
                    line=undecodable_line(self.path, params.encoding),
                ) from None
            except csv.Error as exc:
                raise conv.fail(f"malformed CSV: {exc}", line=reader.line_num) from None

    @staticmethod
    def _layout(reader: Any, conv: RowConverter) -> Layout:
        """The layout of the first row that is not blank (the header)."""
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                return conv.layout([cell.strip() for cell in row], line=reader.line_num)
        raise conv.fail("the file is empty: expected a header row")

    @staticmethod
    def _rows(reader: Any, conv: RowConverter, layout: Layout, wanted: frozenset[str] | None) -> Iterator[Record]:
        width = layout.width
        file = conv.params.path
        positional = conv.positional
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            n = len(row)
            if n != width:
                if n == 0 or (n == 1 and not row[0].strip()):
                    continue  # a blank line
                if n < width or any(cell.strip() for cell in row[width:]):
                    conv.bad(f"expected {width} cells as in the header, found {n}", line=line)
                    continue
            rec = positional(row, layout, wanted, origin=f"{file}:{line}", line=line)
            if rec is not None:
                yield rec


_NEEDS_PYARROW = "reader = \"arrow\" needs pyarrow: pip install 'targetwatch[fast]'"
ArrowRead = Callable[[CsvParams, SourceContext, Path, SourceRequest, Callable[[int], None]], "Dataset | None"]


#: With ``reader = "auto"``, files smaller than this are read by the built-in reader: importing
#: pyarrow takes longer than reading them (a cron check of a small file starts fast).
AUTO_ARROW_BYTES = 4 * 2**20


def _big(path: Path) -> bool:
    try:
        return path.stat().st_size >= AUTO_ARROW_BYTES
    except OSError:
        return False  # the built-in reader reports the missing file


def have_pyarrow() -> bool:
    """Whether pyarrow is installed (without importing it)."""
    return importlib.util.find_spec("pyarrow") is not None


def _arrow_reader(reader: str, source: str) -> ArrowRead | None:
    """The pyarrow reader of CSV files, or ``None`` when it is not installed (an error for
    ``reader = "arrow"``)."""
    if reader == "auto" and not have_pyarrow():
        return None
    try:
        module = importlib.import_module(f"{__package__}.arrow_reader")
        read: ArrowRead = module.read_csv_dataset
    except ImportError:
        if reader == "arrow":
            raise SourceError(_NEEDS_PYARROW, source=source) from None
        return None
    return read


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(CsvSource())
