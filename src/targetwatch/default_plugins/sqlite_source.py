"""The ``sqlite`` source: long-format observations from a table, view or query of an SQLite
database, opened read-only."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..hookspecs import hookimpl
from ..model import Record
from ..params import Text, param
from ..source import Source, SourceContext, SourceType
from .tabular import Layout, RowConverter, TabularParams

#: Above this many indicators the filter is applied in Python instead of as SQL parameters
#: (older SQLite builds allow only 999 parameters per statement).
MAX_PUSHDOWN = 500


@attrs.frozen
class SqliteParams(TabularParams):
    """Parameters of the ``sqlite`` source (``path`` is the database file)."""

    table: str | None = param(
        Text(),
        default=None,
        doc="The table or view holding the rows. Rows of other indicators are filtered out in SQL. Give table or query, not both.",
    )
    query: str | None = param(
        Text(),
        default=None,
        doc="A SELECT statement whose result columns are the rows (e.g. to join or rename in SQL). Give table or query, not both.",
    )

    def problems(self) -> list[tuple[str, str]]:
        out = super().problems()
        if (self.table is None) == (self.query is None):
            found = "both" if self.table is not None else "neither"
            out.append(("table", f"expected exactly one of table or query, found {found}"))
        if self.query is not None and not self.query.lstrip().lower().startswith(("select", "with", "values")):
            out.append(("query", f"expected a SELECT statement, found {self.query.strip()[:40]!r}"))
        return out


class SqliteSource(SourceType):
    """Reads long-format rows from an SQLite database: a table (or view), or a query.

    What you can rely on:

    - The database is opened read-only and never created or changed: a missing file is an
      error naming the path.
    - Columns are matched by name as for csv: ``indicator``, ``period``, ``value`` unless
      renamed with ``columns``; every other column is a label unless listed in ``ignore`` (or
      only the columns in ``labels``); a NULL label means the row lacks that label.
    - Indicator, period and label text is stripped of surrounding spaces; a blank (or NULL)
      label cell means the row does not have that label. ``constant_labels`` are added to
      every row (a row carrying a different value for one of them is a bad row).
    - With ``table``, only the indicators asked for are read: the filter runs in SQL as
      ``WHERE <indicator column> IN (...)`` with parameters (an index on that column makes it
      fast; indicator text is matched exactly there). With ``query``, every row of the query
      is read and filtered in Python: filter in your SQL if the query is large.
    - Values may be INTEGER, REAL or TEXT (``"17,192"``, ``"94.1%"``). A REAL is read by its
      shortest round-trip text, so 0.0489 stays 0.0489. A NULL or blank value means "not
      reported": no record, no error.
    - A bad row is located as ``db.sqlite: obs#17`` (table and rowid; for a view or a table
      without rowid, ``obs row 17``) or ``db.sqlite: query row 17`` (1-based). It raises an
      error, or with ``on_bad_row = "skip"`` is skipped and counted.
    - An SQL error (no such table or column, a syntax error, a file that is not a database)
      is an error naming the database and the table or query.
    """

    name = "sqlite"
    summary = "long-format rows from a table, view or SELECT query of an SQLite database, read-only"
    Params = SqliteParams

    def open(self, params: SqliteParams, context: SourceContext) -> Source:
        return _SqliteReader(params, context, context.path(params.path))


def quote(identifier: str) -> str:
    """An SQL identifier, quoted (``"a""b"`` for ``a"b``)."""
    return '"' + identifier.replace('"', '""') + '"'


@attrs.frozen
class _SqliteReader:
    params: SqliteParams
    context: SourceContext
    path: Path

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        params = self.params
        if params.none_wanted(indicators):
            return
        if indicators is not None and not indicators:
            return
        conv = RowConverter(params, self.context, params.path)
        if not self.path.is_file():
            what = "no such database file" if not self.path.exists() else "not a file"
            raise conv.fail(f"{what} (looked for {self.path}); the database is opened read-only and never created")
        what = f"table {params.table!r}" if params.table is not None else "query"
        try:
            conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise conv.fail(f"cannot open the database: {exc}") from None
        try:
            yield from self._read(conn, conv, indicators, what)
        except sqlite3.Error as exc:
            hint = " (is it an SQLite database?)" if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc) else ""
            raise conv.fail(f"cannot read {what}: {exc}{hint}", key=what) from None
        finally:
            conn.close()

    def _read(
        self, conn: sqlite3.Connection, conv: RowConverter, indicators: Collection[str] | None, what: str
    ) -> Iterator[Record]:
        params = self.params
        wanted = None if indicators is None else frozenset(indicators)
        if params.query is not None:
            cursor = conn.execute(params.query)
            layout = conv.layout(_columns(cursor), line=None, key=what)
            rows: Iterator[tuple[Any, ...]] = ((f"query row {n}", *row) for n, row in enumerate(cursor, start=1))
            yield from self._records(rows, layout, conv, wanted)
            return
        assert params.table is not None
        table = quote(params.table)
        layout = conv.layout(_columns(conn.execute(f"SELECT * FROM {table} LIMIT 0")), line=None, key=what)
        where, args = "", list(wanted or ())
        if wanted is not None and layout.indicator is not None and len(args) <= MAX_PUSHDOWN:
            where = f" WHERE {quote(conv.names['indicator'])} IN ({', '.join('?' * len(args))})"
        else:
            args = []
        name = params.table
        try:
            cursor = conn.execute(f"SELECT _rowid_, * FROM {table}{where}", args)
        except sqlite3.OperationalError:  # a table WITHOUT ROWID (or an old SQLite's view)
            cursor = conn.execute(f"SELECT NULL, * FROM {table}{where}", args)
        # A view has no rowid (NULL): count its rows instead.
        rows = ((f"{name} row {n}" if row[0] is None else f"{name}#{row[0]}", *row[1:]) for n, row in enumerate(cursor, start=1))
        yield from self._records(rows, layout, conv, wanted)

    def _records(
        self, rows: Iterator[tuple[Any, ...]], layout: Layout, conv: RowConverter, wanted: frozenset[str] | None
    ) -> Iterator[Record]:
        # Each row carries its location first, so column i of the result is at i + 1.
        located = layout.remapped(lambda i: i + 1)
        file = self.params.path
        for row in rows:
            where = row[0]
            rec = conv.positional(row, located, wanted, origin=f"{file}:{where}", key=where)
            if rec is not None:
                yield rec


def _columns(cursor: sqlite3.Cursor) -> Sequence[str]:
    return [d[0] for d in cursor.description or ()]


@hookimpl
def register_sources(register: Callable[[SourceType], None]) -> None:
    register(SqliteSource())
