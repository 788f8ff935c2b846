"""The ``csv`` output format: one row per verdict for spreadsheets and data tools
(``targetwatch check --format csv > verdicts.csv``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Final, TextIO

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
    quotes, lines ending in CRLF), UTF-8, for spreadsheets and data tools.

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
    summary = "Comma-separated values for spreadsheets: one row per verdict, a column per label key."

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
        writer.writerow([*LEADING, *(name for _, name in columns), *TRAILING])
        keys = [key for key, _ in columns]
        cells: dict[object, list[str | None]] = {}  # the label cells of each series
        for start in range(0, len(verdicts), CHUNK):
            writer.writerows(_rows(verdicts[start : start + CHUNK], keys, cells))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if not verdicts:
            yield buffer.getvalue()


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
