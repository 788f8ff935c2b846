"""The ``csv`` output format: one row per verdict for data tools
(``targetwatch check --format csv > verdicts.csv``); and ``csv-excel``, the same rows for Excel
and other spreadsheets (``--format csv-excel``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Final, TextIO

from ..model import Verdict
from ..numbers import plain
from ..output import OutputFormat, OutputOptions
from .outputs import shown

if TYPE_CHECKING:
    from decimal import Decimal

    from ..engine import CheckResult

#: The columns before the label columns, and after them.
LEADING: Final = ("rule", "kind", "indicator")
TRAILING: Final = ("status", "value", "target", "margin", "period", "unit", "severity", "message", "silenced")

#: The prefix of a label column whose key is also the name of another column.
LABEL_PREFIX: Final = "label."

#: Rows written at a time.
CHUNK: Final = 5000

#: The columns whose cells are numbers.
NUMBERS: Final = ("value", "target", "margin")

#: The first characters that make a spreadsheet read a cell as a formula (OWASP "CSV
#: Injection"): ``=``, ``+``, ``-``, ``@``, a tab, a carriage return.
FORMULA_START: Final = "=+-@\t\r"


def label_columns(verdicts: Iterable[Verdict]) -> list[tuple[str, str]]:
    """``(key, column name)`` for every label key of the verdicts, sorted by key. A key that is
    also the name of a fixed column (or of a column named before it) is prefixed ``label.``:
    a label ``status`` is the column ``label.status``."""
    keys = sorted({key for v in verdicts for key, _ in v.labels})
    taken = {*LEADING, *TRAILING}
    columns = []
    for key in keys:
        name = key
        while name in taken:
            name = LABEL_PREFIX + name
        taken.add(name)
        columns.append((key, name))
    return columns


def decimal_text(value: Decimal) -> str:
    """``value`` as exact decimal text without an exponent or trailing zeros (``0.0489``,
    ``1000``): :func:`targetwatch.numbers.plain`, read off ``str`` when that has no exponent."""
    text = str(value)
    if "E" in text:
        return plain(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class CsvFormat(OutputFormat):
    """Comma-separated values (RFC 4180: fields with a comma, a quote or a line break in double
    quotes, lines ending in CRLF), UTF-8 without a byte-order mark, for data tools: pandas,
    DuckDB, R, a database import, a script. To open the file in Excel or another spreadsheet,
    use ``csv-excel``: Excel on Windows reads UTF-8 without a byte-order mark in the local
    code page (Chinese text turns to mojibake), and a spreadsheet runs a cell beginning with
    ``=``, ``+``, ``-`` or ``@`` as a formula, which ``csv`` writes as is.

    One header row, then one row per rule and series with the columns ``rule``, ``kind``,
    ``indicator``, one column per label key (every key any verdict's series has, sorted; the
    column is named by the key, prefixed ``label.`` when that is also the name of another
    column, so a label ``status`` is the column ``label.status``), ``status``, ``value``,
    ``target``, ``margin``, ``period``, ``unit``, ``severity``, ``message`` and ``silenced``
    (the silence's reason). Numbers are exact decimal text without an exponent (``0.0489``,
    ``1000``), never floats, and no unit or separators are added; a missing value, period,
    unit or label is an empty field. Text, Chinese included, is written as is.

    With ``--quiet`` only verdicts that are not OK are rows, and nothing at all is written
    when every verdict is OK and there are no problems. Problems met on the way (a failed
    source, skipped rows) have no row: the exit status (3) tells of them, and the ``table`` and
    ``json`` formats list them.
    """

    name = "csv"
    summary = "Comma-separated values for data tools: one row per verdict, a column per label key, text as is."

    #: Written before the header.
    start: ClassVar[str] = ""

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        return "".join(self._pieces(result, options))

    def write(self, result: CheckResult, options: OutputOptions, stream: TextIO) -> None:
        stream.writelines(self._pieces(result, options))

    def _pieces(self, result: CheckResult, options: OutputOptions) -> Iterator[str]:
        verdicts = shown(result, options)
        if not verdicts and options.quiet and not result.problems:
            return
        columns = label_columns(result.verdicts)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write(self.start)
        head: list[str | None] = [*LEADING, *(name for _, name in columns), *TRAILING]
        numbers = frozenset(len(head) - len(TRAILING) + TRAILING.index(name) for name in NUMBERS)
        writer.writerows(self._cells([head], numbers))
        keys = [key for key, _ in columns]
        cells: dict[object, list[str | None]] = {}  # the label cells of each series
        for start in range(0, len(verdicts), CHUNK):
            writer.writerows(self._cells(_rows(verdicts[start : start + CHUNK], keys, cells), numbers))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if not verdicts:
            yield buffer.getvalue()

    def _cells(self, rows: Iterable[list[str | None]], numbers: frozenset[int]) -> Iterable[list[str | None]]:
        """The rows as written; ``numbers`` are the positions of the number cells. As they are."""
        return rows


class CsvExcelFormat(CsvFormat):
    """The rows and columns of ``csv``, written for Excel, WPS and LibreOffice: open this one
    in a spreadsheet, give ``csv`` to data tools.

    - The file begins with the UTF-8 byte-order mark, so that Excel on Windows reads it as
      UTF-8 and shows Chinese text as it is, not in the local code page; lines end in CRLF.
    - A text cell (a column name, rule, kind, indicator, label, status, period, unit,
      severity, message or silence reason) beginning with ``=``, ``+``, ``-``, ``@``, a tab or
      a carriage return is written with an apostrophe before it (``'=1+1``), so that a
      spreadsheet shows it as text instead of running it as a formula: label values can come
      from someone else's data. Some spreadsheets show the apostrophe, some hide it; the rest
      of the text is unchanged. A text that already begins with an apostrophe is written as
      is. Data tools reading this file see the apostrophes: give them ``csv``.
    - Number cells (``value``, ``target``, ``margin``) are never changed: ``-25400`` stays a
      number a spreadsheet can sum.

    ``--quiet`` works as for ``csv``: nothing at all, not even the byte-order mark, is written
    when every verdict is OK and there are no problems.
    """

    name = "csv-excel"
    summary = "CSV for Excel and other spreadsheets: the csv rows with a UTF-8 byte-order mark, formula-like text marked with an apostrophe."

    start = "\ufeff"

    def _cells(self, rows: Iterable[list[str | None]], numbers: frozenset[int]) -> Iterator[list[str | None]]:
        """The rows with an apostrophe before every text cell that begins like a formula."""
        text: list[int] | None = None
        for row in rows:
            if text is None:
                text = [i for i in range(len(row)) if i not in numbers]
            for i in text:
                cell = row[i]
                if cell and cell[0] in FORMULA_START:
                    row[i] = "'" + cell
            yield row


def _rows(verdicts: Sequence[Verdict], keys: Sequence[str], cells: dict[object, list[str | None]]) -> Iterator[list[str | None]]:
    """The rows of the verdicts; ``cells`` remembers the label cells of each series."""
    for v in verdicts:
        labels = cells.get(v.labels) if type(v.labels) is tuple else None
        if labels is None:
            by_key = dict(v.labels)
            labels = [by_key.get(key) for key in keys]
            if type(v.labels) is tuple:
                cells[v.labels] = labels
        value, target, margin = v.value, v.target, v.margin
        yield [
            v.rule, v.kind, v.indicator, *labels, v.status.value,
            None if value is None else decimal_text(value),
            None if target is None else decimal_text(target),
            None if margin is None else decimal_text(margin),
            str(v.period) if v.period else None, v.unit, v.severity, v.message, v.silenced,
        ]
