"""What every built-in tabular source shares: the common parameters and the conversion of one
row into a :class:`~targetwatch.model.Record`.

The rules below hold for the ``csv``, ``json`` and ``sqlite`` sources alike:

- Columns are found by name: ``indicator``, ``period`` and ``value`` unless renamed with
  ``columns``. With a fixed ``indicator`` the file needs no indicator column.
- Labels are every other column, except those listed in ``ignore`` (or exactly the columns
  listed in ``labels``), plus ``constant_labels``. Label, indicator and period text is stripped
  of surrounding spaces. A blank (or null) label cell means the row does not have that label.
- A blank (or null) value cell means "not reported": the row yields no record and is not an
  error. A blank indicator or period cell is a bad row.
- Values are exact decimals: ``17192``, ``"17,192"``, ``"1.2万"``, ``"94.1%"`` (0.941 unless
  ``percent = false``, where a percent sign makes a bad row).
- A bad row raises :class:`~targetwatch.errors.SourceError` naming the file, the line (or key),
  the column, what was expected and what was found; with ``on_bad_row = "skip"`` it is
  reported through ``context.skip`` instead (counted and shown) and reading goes on.
- A missing column is one error for the whole file, naming the columns that were found.
- A ``reported_at`` column (or the one ``columns.reported_at`` names, then required) holds
  when each figure was reported: a date (local midnight) or moment in the configured zone, or
  a DATE/TIMESTAMP; anything else is a bad row; it is never a label. A blank cell falls back
  to ``available``: from the start of the period (default) or from its end. Checks and
  backtests as of a moment see only the figures available by then.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ..errors import PeriodError, Problem, SourceError
from ..model import Labels, Record
from ..numbers import parse_number
from ..periods import Calendar
from ..source import SourceContext
from .tabular_params import CORE, REPORTED, TabularParams, check_encoding

__all__ = [
    "CORE", "PLAIN_NUMBER", "REPORTED", "BadRow", "Layout", "RowConverter", "TabularParams", "check_encoding", "describe",
    "mapping_labels", "undecodable_line",
]

#: A number as most cells hold it: no separators, percent sign or 万.
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")


def describe(raw: object) -> str:
    """``found 'abc'`` text for a cell (``an empty cell`` for blanks)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "found an empty cell"
    if isinstance(raw, bool):
        return f"found {str(raw).lower()}"
    if isinstance(raw, (str, int, Decimal, float)):
        return f"found {str(raw)!r}"
    return f"found {type(raw).__name__} {raw!r}"


class BadRow(Exception):
    """Raised inside conversion; the text is the problem message (column, expected, found)."""


@attrs.frozen
class Layout:
    """Where the core and label columns are in a header (by index). ``labels`` also holds the
    reported_at column, if any: readers pass it on unchanged and the converter takes it out."""

    indicator: int | None
    period: int
    value: int
    labels: tuple[tuple[str, int], ...]
    width: int

    def remapped(self, position: Callable[[int], int]) -> Layout:
        """The same columns where a reader's rows hold them: column ``i`` at ``position(i)``
        (a query's rows carry their location first; a Parquet batch holds only the columns used)."""
        return Layout(
            None if self.indicator is None else position(self.indicator), position(self.period), position(self.value),
            tuple((name, position(i)) for name, i in self.labels), self.width,
        )


class RowConverter:
    """Turns raw rows into records by one source's parameters, and handles bad rows.

    ``file`` is the name shown in messages and origins (the path as the config wrote it).
    """

    def __init__(self, params: TabularParams, context: SourceContext, file: str) -> None:
        self.params = params
        self.context = context
        self.file = file
        self.names = params.column_names()
        self.fixed = params.indicator
        self.ignore = frozenset(params.ignore)
        self.constant = dict(params.constant_labels or {})
        self.calendar = context.calendar
        #: The reported_at column (``None``: none); required when the config names it.
        self.reported = params.reported_column()
        self.reported_required = REPORTED in (params.columns or {})
        self.moments = context.calendar or Calendar("UTC")  # UTC: opened outside a config
        self._labels_seen: dict[tuple[tuple[str, object], ...], tuple[tuple[str, str], ...]] = {}

    # -- whole-file errors --------------------------------------------------------------------

    def fail(self, message: str, *, line: int | None = None, key: str | None = None) -> SourceError:
        """A SourceError for the whole file (not a row; never skipped)."""
        problem = Problem(message, self.file, line, key)
        return SourceError(message, source=self.context.name, problem=problem)

    def check_columns(self, found: Sequence[str], *, line: int | None = None, key: str | None = None, what: str = "columns") -> None:
        """Raise one error for the file when a core column is missing from ``found``."""
        shown = ", ".join(repr(h) for h in found if h) or "none"
        for role in CORE:
            if role == "indicator" and self.fixed is not None:
                continue
            name = self.names[role]
            if name not in found:
                how = f" (the {role} column, set by columns.{role})" if name != role else ""
                raise self.fail(f"missing column {name!r}{how}; {what} found: {shown}", line=line, key=key)
        if self.reported_required and self.reported not in found:
            raise self.fail(f"missing column {self.reported!r} (the reported_at column, set by columns.reported_at); {what} found: {shown}", line=line, key=key)

    def layout(self, header: Sequence[str], *, line: int | None = 1, key: str | None = None) -> Layout:
        """Locate the columns in a header; a missing column is one error naming what was found."""
        index: dict[str, int] = {}
        duplicates: set[str] = set()
        for i, name in enumerate(header):
            if name in index:
                duplicates.add(name)
            index.setdefault(name, i)
        self.check_columns(header, line=line, key=key)
        found = ", ".join(repr(h) for h in header if h) or "none"
        needed = [k for k in CORE if not (k == "indicator" and self.fixed is not None)]
        core_names = {self.names[r] for r in needed}
        if self.params.labels is not None:
            for name in self.params.labels:
                if name not in index:
                    raise self.fail(f"missing label column {name!r} (listed in labels); columns found: {found}", line=line, key=key)
            label_names = list(self.params.labels)
        else:
            label_names = [h for h in header if h and h not in core_names and h not in self.ignore]
        label_names = [n for n in label_names if n != self.reported] + [n for n in (self.reported,) if n is not None and n in index]
        used = sorted((core_names | set(label_names)) & duplicates)
        if used:
            raise self.fail(f"column {used[0]!r} appears more than once in the header", line=line, key=key)
        return Layout(
            indicator=None if self.fixed is not None else index[self.names["indicator"]],
            period=index[self.names["period"]],
            value=index[self.names["value"]],
            labels=tuple(dict.fromkeys((n, index[n]) for n in label_names)),
            width=len(header),
        )

    def label_keys(self, keys: Iterable[str], *, exclude: Collection[str] = ()) -> list[str]:
        """The label keys of a mapping row (JSON): explicit labels, or every other key."""
        if self.params.labels is not None:
            return [*self.params.labels, *([self.reported] if self.reported is not None else [])]
        skip = {self.names[r] for r in CORE if not (r == "indicator" and self.fixed is not None)}
        return [k for k in keys if k not in skip and k not in self.ignore and k not in exclude]

    # -- rows -----------------------------------------------------------------------------------

    def wanted(self, raw_indicator: object, indicators: Collection[str] | None) -> bool:
        """Cheap early filter: False when the row is of an indicator not asked for.

        A blank or malformed indicator is "wanted" so that it is reported as a bad row.
        """
        if indicators is None:
            return True
        if isinstance(raw_indicator, str):
            text = raw_indicator.strip()
            return not text or text in indicators
        if isinstance(raw_indicator, int) and not isinstance(raw_indicator, bool):
            return str(raw_indicator) in indicators
        return True

    def bad(self, message: str, *, line: int | None = None, key: str | None = None) -> None:
        """Report a bad row: raise (``on_bad_row = "error"``) or record it as skipped."""
        problem = Problem(message, self.file, line, key)
        if self.params.on_bad_row == "skip":
            self.context.skip(problem)
            return
        raise SourceError(message, source=self.context.name, problem=problem)

    def positional(
        self, row: Sequence[Any], layout: Layout, wanted: Collection[str] | None, *,
        origin: str, line: int | None = None, key: str | None = None,
    ) -> Record | None:
        """The record of a row whose cells stand where ``layout`` says, or ``None``: its
        indicator was not asked for, its value is not reported, or it is a bad row (reported)."""
        i_ind = layout.indicator
        if i_ind is not None and wanted is not None and not self.wanted(row[i_ind], wanted):
            return None
        return self.record(
            None if i_ind is None else row[i_ind], row[layout.period], row[layout.value],
            [(name, row[i]) for name, i in layout.labels], origin=origin, line=line, key=key,
        )

    def record(
        self,
        raw_indicator: object,
        raw_period: object,
        raw_value: object,
        raw_labels: Iterable[tuple[str, object]],
        *,
        origin: str,
        line: int | None = None,
        key: str | None = None,
    ) -> Record | None:
        """The record of one row, or ``None`` (value not reported, or a skipped bad row)."""
        try:
            return self._convert(raw_indicator, raw_period, raw_value, raw_labels, origin)
        except BadRow as exc:
            self.bad(str(exc), line=line, key=key)
            return None

    def _convert(
        self,
        raw_indicator: object,
        raw_period: object,
        raw_value: object,
        raw_labels: Iterable[tuple[str, object]],
        origin: str,
    ) -> Record | None:
        names = self.names
        if self.fixed is not None:
            indicator = self.fixed
        else:
            indicator = self._text(names["indicator"], raw_indicator, "an indicator name")
        period = self._text(names["period"], raw_period, "a period such as 2023-07")
        if self.calendar is not None:
            try:
                self.calendar.parse(period)
            except PeriodError as exc:
                raise BadRow(f"column {names['period']!r}: {exc}") from None
        if raw_value is None or (isinstance(raw_value, str) and not raw_value.strip()):
            return None
        value = self._value(names["value"], raw_value)
        pairs = tuple(raw_labels)
        cacheable = self.reported is None and not self.constant
        if cacheable:
            try:
                canonical = self._labels_seen.get(pairs)
            except TypeError:  # an unhashable cell (a JSON list): checked and reported below
                canonical, cacheable = None, False
            if canonical is not None:
                return Record(indicator, period, value, canonical, origin, self._end_of(period))
        canonical, reported = self.labels_of(pairs)
        if cacheable and len(self._labels_seen) < 100_000:
            # Rows repeat a few label combinations millions of times: normalise each once.
            self._labels_seen[pairs] = canonical
        if reported is None:
            reported = self._end_of(period)
        return Record(indicator, period, value, canonical, origin, reported)

    def labels_of(self, pairs: Iterable[tuple[str, object]]) -> tuple[Labels, dt.datetime | None]:
        """The canonical labels of a row's label cells (``constant_labels`` added), and the
        moment in its reported_at cell if the pairs hold one (``None`` for none or a blank).

        Raises :class:`BadRow` for a bad label or reported_at cell, or a constant label the row
        contradicts.
        """
        labels: dict[str, str] = {}
        reported: dt.datetime | None = None
        for name, raw in pairs:
            if name == self.reported:
                reported = self._reported(name, raw)
                continue
            text = self._label(name, raw)
            if text is not None:
                other = labels.setdefault(name, text)
                if other != text:
                    raise BadRow(f"label {name!r} is given twice, as {other!r} and as {text!r}")
        for name, fixed in self.constant.items():
            own = labels.get(name)
            if own is not None and own != fixed:
                raise BadRow(f"column {name!r}: expected {fixed!r} (set by constant_labels), found {own!r}")
            labels[name] = fixed
        return tuple(sorted(labels.items())), reported

    def number(self, raw: object) -> Decimal:
        """The value in a value cell that is not blank; :class:`BadRow` when it is not a number."""
        return self._value(self.names["value"], raw)

    def moment(self, raw: object) -> dt.datetime | None:
        """The moment in a reported_at cell (``None`` for a blank); :class:`BadRow` when it is not one."""
        return self._reported(self.reported or REPORTED, raw)

    def _end_of(self, period: str) -> dt.datetime | None:
        """With ``available = "period_end"``, the moment the period ends; else ``None``."""
        if self.params.available != "period_end":
            return None
        return self.moments.end_moment(self.moments.parse(period))

    def _reported(self, column: str, raw: object) -> dt.datetime | None:
        """The moment in a reported_at cell, in the calendar's zone; ``None`` for a blank cell."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, dt.date):  # a DATE or TIMESTAMP from a database
            return self.moments.localize(raw if isinstance(raw, dt.datetime) else dt.datetime.combine(raw, dt.time()))
        if isinstance(raw, str):
            try:
                return self.moments.moment(raw)
            except PeriodError:
                pass
        raise BadRow(f"column {column!r}: expected the date or moment the figure was reported, such as 2023-08-05 or 2023-08-05T09:30, {describe(raw)}")

    @staticmethod
    def _text(column: str, raw: object, expected: str) -> str:
        if isinstance(raw, str):
            text = raw.strip()
            if text:
                return text
        elif isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        raise BadRow(f"column {column!r}: expected {expected}, {describe(raw)}")

    def _value(self, column: str, raw: object) -> Decimal:
        if type(raw) is str and PLAIN_NUMBER.match(raw):
            return Decimal(raw)  # the common case, without the separator and suffix handling
        try:
            return parse_number(raw, allow_percent=self.params.percent)
        except ValueError:
            if not self.params.percent and isinstance(raw, str) and raw.strip().endswith(("%", "\uff05")):
                raise BadRow(
                    f"column {column!r}: expected a number without a percent sign (this source has percent = false), {describe(raw)}"
                ) from None
            raise BadRow(f'column {column!r}: expected a number such as 17192, "17,192", "94.1%" or "1.2万", {describe(raw)}') from None

    @staticmethod
    def _label(column: str, raw: object) -> str | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return raw.strip() or None
        if isinstance(raw, bool):
            return str(raw).lower()
        if isinstance(raw, (int, Decimal, float)):
            return str(raw)
        raise BadRow(f"column {column!r}: expected a label (text or a number), {describe(raw)}")


def undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line of ``path`` that does not decode (a text layer reads ahead in chunks, so
    the line it fails on is not the line at fault)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as raw:
            for number, chunk in enumerate(raw, start=1):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    return number
    except OSError:
        return None
    return None


def mapping_labels(row: Mapping[str, Any], keys: Iterable[str]) -> list[tuple[str, object]]:
    """Label pairs from a mapping row (missing keys are absent labels)."""
    return [(k, row.get(k)) for k in keys]
