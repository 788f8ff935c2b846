"""The ``csv`` source: long-format observations in a CSV file."""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import attrs

from ..hookspecs import hookimpl
from ..model import Record
from ..params import Text, param
from ..source import Source, SourceContext, SourceType
from .tabular import RowConverter, TabularParams, check_encoding, undecodable_line


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
    """

    name = "csv"
    summary = "long-format rows (indicator, period, value, labels) from a CSV file, streamed"
    Params = CsvParams

    def open(self, params: CsvParams, context: SourceContext) -> Source:
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
        try:
            handle = self.path.open("r", encoding=params.encoding, newline="")
        except FileNotFoundError:
            raise conv.fail(f"no such file (looked for {self.path})") from None
        except OSError as exc:
            raise conv.fail(f"cannot open {self.path}: {exc.strerror or exc}") from None
        with handle:
            reader = csv.reader(handle, delimiter=params.delimiter)
            try:
                yield from self._rows(reader, conv, wanted)
            except UnicodeDecodeError as exc:
                raise conv.fail(
                    f"cannot decode the text as {params.encoding} ({exc.reason}); set encoding to the file's "
                    'encoding (e.g. encoding = "gbk" for a file saved by Chinese Windows)',
                    line=undecodable_line(self.path, params.encoding),
                ) from None
            except csv.Error as exc:
                raise conv.fail(f"malformed CSV: {exc}", line=reader.line_num) from None

    def _rows(self, reader: Any, conv: RowConverter, wanted: frozenset[str] | None) -> Iterator[Record]:
        header: list[str] | None = None
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):
                header = [cell.strip() for cell in row]
                break
        if header is None:
            raise conv.fail("the file is empty: expected a header row")
        layout = conv.layout(header, line=reader.line_num)
        width = layout.width
        i_ind, i_per, i_val, labels = layout.indicator, layout.period, layout.value, layout.labels
        file = conv.params.path
        record = conv.record
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
            if i_ind is not None and wanted is not None and not conv.wanted(row[i_ind], wanted):
                continue
            rec = record(
                None if i_ind is None else row[i_ind],
                row[i_per],
                row[i_val],
                [(name, row[i]) for name, i in labels],
                origin=f"{file}:{line}",
                line=line,
            )
            if rec is not None:
                yield rec


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(CsvSource())
