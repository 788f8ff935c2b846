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
import re
import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ..errors import PeriodError, Problem, SourceError
from ..model import Record
from ..numbers import parse_number
from ..params import Choice, Flag, ListOf, StrMapping, Text, param
from ..periods import Calendar
from ..source import SourceContext

CORE = ("indicator", "period", "value")
#: A number as most cells hold it: no separators, percent sign or 万.
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")
#: The optional column saying when a figure was reported (not a label).
REPORTED = "reported_at"


@attrs.frozen
class TabularParams:
    """Parameters shared by every built-in tabular source (``csv``, ``json``, ``sqlite``)."""

    path: str = param(Text(), doc="The data file, relative to the config file's folder.")
    columns: dict[str, str] | None = param(
        StrMapping((*CORE, REPORTED)),
        default=None,
        doc='Rename the core columns, e.g. { indicator = "指标", period = "期间", value = "数值" }; '
        'keys not given keep their default names indicator, period and value. reported_at = "填报日期" '
        "names the (then required) column saying when each figure was reported, a date or moment in "
        "the configured time zone; by default a column reported_at is used when there is one.",
    )
    indicator: str | None = param(
        Text(),
        default=None,
        doc="A fixed indicator name for a file that holds one indicator; the file then needs no indicator column.",
    )
    labels: tuple[str, ...] | None = param(
        ListOf(Text()),
        default=None,
        doc="The columns that are labels (e.g. [\"district\"]). Default: every column other than "
        "the indicator, period and value columns and those in ignore.",
    )
    ignore: tuple[str, ...] = param(
        ListOf(Text()), default=(), doc='Columns to ignore, e.g. ["note", "source"].'
    )
    constant_labels: dict[str, str] | None = param(
        StrMapping(),
        default=None,
        doc='Labels added to every row, e.g. { district = "田家庵区" }. A row whose own label of '
        "that name differs is a bad row.",
    )
    percent: bool = param(
        Flag(),
        default=True,
        doc='Whether "94.1%" means 0.941. When false, a percent sign in a value makes a bad row. '
        'Thousands separators ("17,192") and 万/亿 suffixes are always understood.',
    )
    on_bad_row: str = param(
        Choice("error", "skip"),
        default="error",
        doc='What a bad row does: "error" stops with a message naming the file, line and column; '
        '"skip" reports it as skipped (counted and shown) and reads on. A blank value is '
        "never a bad row: it means not reported and yields nothing.",
    )
    available: str = param(
        Choice("period_start", "period_end"),
        default="period_start",
        doc='When a figure without a reported_at cell became available (check --as-of and backtest see '
        'it from then): "period_start" (as soon as its period starts, so partial-period and snapshot '
        'figures count) or "period_end" (once its period is over: July from 1 August, 00:00 local time).',
    )

    def problems(self) -> list[tuple[str, str]]:
        """Cross-field checks: label and ignore lists must not overlap the core columns or each other."""
        out: list[tuple[str, str]] = []
        names = self.column_names()
        core = {n for k, n in names.items() if not (k == "indicator" and self.indicator is not None)}
        if self.indicator is not None and self.columns and "indicator" in self.columns:
            out.append(("indicator", "give either a fixed indicator or columns.indicator, not both"))
        for key, listed in (("labels", self.labels or ()), ("ignore", self.ignore)):
            clash = [c for c in listed if c in core]
            if clash:
                out.append((key, f"expected columns other than the indicator, period and value columns; found {clash[0]!r}"))
        both = sorted(set(self.labels or ()) & set(self.ignore))
        if both:
            out.append(("ignore", f"column {both[0]!r} is listed both in labels and in ignore"))
        reported = (self.columns or {}).get(REPORTED)
        for key, listed in (("columns", tuple(core)), ("labels", self.labels or ()), ("ignore", self.ignore)):
            if reported is not None and reported in listed:
                out.append((key, f"column {reported!r} is the reported_at column (set by columns.reported_at); it cannot also be in {key}"))
        return out

    def reported_column(self) -> str | None:
        """The reported_at column: ``columns.reported_at``, else ``reported_at`` unless taken."""
        named = (self.columns or {}).get(REPORTED)
        if named is not None:
            return named
        taken = set(self.column_names().values()) | set(self.ignore) | set(self.labels or ())
        return None if REPORTED in taken else REPORTED

    def none_wanted(self, indicators: Collection[str] | None) -> bool:
        """True when the source holds one fixed indicator that was not asked for: nothing to read."""
        return self.indicator is not None and indicators is not None and self.indicator not in indicators

    def column_names(self) -> dict[str, str]:
        """The actual column name of each of ``indicator``, ``period`` and ``value``."""
        columns = self.columns or {}
        return {key: columns.get(key, key) for key in CORE}


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
        canonical = tuple(sorted(labels.items()))
        if cacheable and len(self._labels_seen) < 100_000:
            # Rows repeat a few label combinations millions of times: normalise each once.
            self._labels_seen[pairs] = canonical
        if reported is None:
            reported = self._end_of(period)
        return Record(indicator, period, value, canonical, origin, reported)

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
        if type(raw) is str and _PLAIN_NUMBER.match(raw):
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


def check_encoding(encoding: str) -> list[tuple[str, str]]:
    """A params problem when ``encoding`` is not a known text encoding."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        return [("encoding", f"expected a text encoding such as 'utf-8-sig' or 'gbk', found {encoding!r}")]
    return []


def mapping_labels(row: Mapping[str, Any], keys: Iterable[str]) -> list[tuple[str, object]]:
    """Label pairs from a mapping row (missing keys are absent labels)."""
    return [(k, row.get(k)) for k in keys]
