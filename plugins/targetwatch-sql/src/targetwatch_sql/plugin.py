"""The ``sql`` source type as the registry sees it: light to import (SQLAlchemy is imported
only when a source is opened)."""

from __future__ import annotations

from targetwatch.errors import Problem, SourceError
from targetwatch.secrets import resolve_secret
from targetwatch.source import Source, SourceContext, SourceType

from .params import SqlParams


class SqlSource(SourceType):
    """Reads long-format rows from a table, view or SELECT query of any database SQLAlchemy
    reaches (SQLite, DuckDB, PostgreSQL, MySQL, ...).

    What you can rely on:

    - Columns are matched by name as for the ``csv`` source: ``indicator``, ``period`` and
      ``value`` unless renamed with ``columns``; every other column is a label unless listed
      in ``ignore`` (or only those in ``labels``); ``start_column`` and ``end_column`` are
      never labels unless listed in ``labels``. Only the columns used are selected.
    - The database does the filtering (see :mod:`targetwatch_sql.pushdown`): only the
      indicators asked for, and with ``start_column`` / ``end_column`` only rows whose period
      can matter to the check; a row read in excess is never a problem, a row a rule needs
      is never filtered out. Rows are streamed ``batch_size`` at a time.
    - A NULL or blank value means "not reported": no record. A bad row (a blank indicator or
      period, a value that is not a number, a period the calendar does not know) is located
      as ``<url>: <table> row N`` (N counts the rows as read, after the filtering) and is an
      error, or skipped and counted with ``on_bad_row = "skip"``.
    - Every failure (a URL that does not parse, an unknown or missing driver, a missing
      SQLite / DuckDB file, a refused connection or a wrong password, an unknown table or
      column, an SQL error in ``query``) is one error naming the database by its URL with the
      password hidden, and the table or query. No password is ever shown.
    - SQLite and DuckDB files are opened read-only and never created.
    """

    name = "sql"
    summary = "long-format rows from a table or SELECT query of any SQLAlchemy database, filtered in the database"
    Params = SqlParams

    def open(self, params: SqlParams, context: SourceContext) -> Source:
        text = params.url
        if text is None:
            text = resolve_secret(None, params.url_file, base_dir=context.base_dir, key="url", where=f"sources.{context.name}")
        assert text is not None  # params.problems() requires url or url_file
        # SQLAlchemy is imported only when a sql source is opened, never at plugin discovery.
        from .database import Database
        from .source import SqlReader

        try:
            database = Database.from_text(text, context)
        except ValueError as exc:
            raise SourceError(str(exc), source=context.name, problem=Problem(str(exc), key="url_file")) from None
        return SqlReader(params, context, database)
