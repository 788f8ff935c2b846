"""The contract of a data source, and the in-memory sources the library API offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from .errors import Problem, SourceError
from .model import Record, make_labels
from .numbers import parse_number

if TYPE_CHECKING:
    from .periods import Calendar


@attrs.frozen
class SourceContext:
    """What a source gets when it is opened.

    ``name`` is the source's name in the config; relative paths resolve against ``base_dir``
    (the config file's folder); ``skip`` records a bad row the user chose to skip
    (``on_bad_row = "skip"``), so it is counted and shown, never dropped silently;
    ``calendar`` lets a source check period text row by row (so a bad period is reported with
    its line, or skipped like any bad row).
    """

    name: str
    base_dir: Path = Path(".")
    skip: Callable[[Problem], None] = lambda problem: None
    calendar: Calendar | None = None

    def path(self, value: str | Path) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


@attrs.frozen
class SourceRequest:
    """What the engine needs from a source, for sources that can read less than everything
    (a database filtering in SQL). Everything in it is a hint: returning more is harmless.

    ``indicators``: the indicators the rules read (``None``: all). ``until``: observations
    whose period starts after this day cannot be seen as of the check. ``since``: per
    indicator, observations whose period ends on or before this day are not needed (an
    indicator absent from it needs its whole history) — but a source that filters on it must
    still return the newest observation of every series, so that a series that stopped
    reporting is judged (UNKNOWN, stale) rather than silently forgotten.
    """

    indicators: frozenset[str] | None = None
    until: dt.date | None = None
    since: Mapping[str, dt.date] = attrs.field(factory=dict)


class Source(Protocol):
    """An opened source: yields records, for the given indicators only when it can filter."""

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        """Yield the observations of ``indicators`` (all when ``None``).

        Raise :class:`~targetwatch.errors.SourceError` naming the file and line for a bad row
        (unless the user opted to skip bad rows: then call ``context.skip`` and go on).

        A source that can use more of what the engine knows (the period window) may also
        define ``read_request(request: SourceRequest) -> Iterator[Record]``; the engine then
        calls that instead.

        A source that builds series faster than record by record (a columnar reader) may
        define ``read_dataset(request: SourceRequest, rows: Callable[[int], None]) ->
        Dataset`` instead: it returns the same :class:`~targetwatch.data.Dataset` that
        :meth:`Dataset.from_records <targetwatch.data.Dataset.from_records>` would build from
        its records (series tagged with the source's name, the same errors for the same bad
        input) and calls ``rows(n)`` now and then with the number of rows read so far. The
        engine prefers it to ``read_request`` and ``read``.
        """
        ...


class SourceType:
    """Base class of source plugins: ``name``, ``summary``, ``Params`` and :meth:`open`."""

    name: ClassVar[str]
    summary: ClassVar[str]
    Params: ClassVar[type]

    def open(self, params: Any, context: SourceContext) -> Source:
        raise NotImplementedError


Row = Mapping[str, Any]


def record_from_row(row: Row, origin: str | None = None) -> Record:
    """A :class:`Record` from a mapping with ``indicator``, ``period``, ``value`` and any other
    keys as labels (``labels`` may also be given as a nested mapping)."""
    try:
        indicator, period, raw_value = row["indicator"], row["period"], row["value"]
    except KeyError as exc:
        raise SourceError(f"row {origin or dict(row)!r} has no {exc.args[0]!r}") from None
    try:
        value = raw_value if isinstance(raw_value, Decimal) else parse_number(raw_value)
    except ValueError as exc:
        raise SourceError(f"value: expected a number, {exc}", problem=Problem(f"value: expected a number, {exc}", origin)) from None
    labels = dict(row.get("labels") or {})
    labels.update({k: v for k, v in row.items() if k not in {"indicator", "period", "value", "labels"}})
    return Record(str(indicator), str(period), value, make_labels(labels), origin)


@attrs.frozen
class RowsSource:
    """In-memory rows (mappings with ``indicator``, ``period``, ``value`` and labels)."""

    rows: Iterable[Row]
    name: str = "rows"

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        for index, row in enumerate(self.rows, start=1):
            record = record_from_row(row, f"{self.name}[{index}]")
            if indicators is None or record.indicator in indicators:
                yield record


@attrs.frozen
class CallableSource:
    """A Python callable ``fn(indicators) -> iterable of rows or Records`` used as a source."""

    fn: Callable[[Collection[str] | None], Iterable[Row | Record]]
    name: str = "callable"

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        for index, item in enumerate(self.fn(indicators), start=1):
            record = item if isinstance(item, Record) else record_from_row(item, f"{self.name}[{index}]")
            if indicators is None or record.indicator in indicators:
                yield record
