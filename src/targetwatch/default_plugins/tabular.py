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
"""

from __future__ import annotations

import codecs
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ..errors import PeriodError, Problem, SourceError
from ..model import Record
from ..numbers import parse_number
from ..params import Choice, Flag, ListOf, StrMapping, Text, param
from ..source import SourceContext

CORE = ("indicator", "period", "value")


@attrs.frozen
class TabularParams:
    """Parameters shared by every built-in tabular source (``csv``, ``json``, ``sqlite``)."""

    path: str = param(Text(), doc="The data file, relative to the config file's folder.")
    columns: dict[str, str] | None = param(
        StrMapping(CORE),
        default=None,
        doc='Rename the core columns, e.g. { indicator = "指标", period = "期间", value = "数值" }; '
        "keys not given keep their default names indicator, period and value.",
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
        return out

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
    """Where the core and label columns are in a header (by index)."""

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
            return list(self.params.labels)
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
        labels: dict[str, str] = {}
        for name, raw in raw_labels:
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
        return Record(indicator, period, value, tuple(sorted(labels.items())), origin)

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
