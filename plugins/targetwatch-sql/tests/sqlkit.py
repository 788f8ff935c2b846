"""Helpers for the ``sql`` source's tests: real databases to write rows into, reading them
back through the source, and watching the SQL the source sends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from targetwatch_sql import SqlParams, SqlSource

from targetwatch.errors import Problem, SourceError
from targetwatch.model import Record
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext, SourceRequest

PG_USER = "tw"
PG_PASSWORD = "s3cret-Pa55:word@x"  # characters a URL must escape, to prove redaction copes


@attrs.frozen
class PgServer:
    host: str
    port: int
    user: str
    password: str

    def url(self, *, password: str | None = None, database: str = "postgres") -> str:
        url = sa.URL.create("postgresql+psycopg", self.user, password or self.password, self.host, self.port, database)
        return url.render_as_string(hide_password=False)


@attrs.frozen
class Backend:
    """One real database: ``url`` reaches it (for PostgreSQL, with this test's ``schema`` as
    the search path, so table names need no schema)."""

    name: str
    base_url: str
    schema: str | None = None

    @property
    def url(self) -> str:
        if self.schema is None:
            return self.base_url
        return f"{self.base_url}?options={quote('-csearch_path=' + self.schema)}"

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        engine = sa.create_engine(self.url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()  # DuckDB allows no read-only reader while a writer is open

    def execute(self, *statements: str) -> None:
        with self.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    def create(self, table: str, columns: Mapping[str, sa.types.TypeEngine[Any]], rows: Sequence[Sequence[Any]]) -> None:
        """Create ``table`` with ``columns`` and insert ``rows`` (tuples in column order)."""
        meta = sa.MetaData()
        tbl = sa.Table(table, meta, *(sa.Column(name, type_) for name, type_ in columns.items()))
        with self.connect() as conn:
            meta.create_all(conn)
            if rows:
                conn.execute(tbl.insert(), [dict(zip(columns, row)) for row in rows])


LONG = {"indicator": sa.Text(), "period": sa.Text(), "value": sa.Text(), "district": sa.Text()}


def open_source(url: str, *, base_dir: Path = Path("."), calendar: Calendar | None = None,
                skipped: list[Problem] | None = None, **raw: Any) -> Any:
    """The ``sql`` source opened with ``raw`` params (checked as a config file would be)."""
    params, problems = parse(SqlParams, {"url": url, **raw}, ParseContext())
    assert params is not None and not problems, [str(p) for p in problems]
    skip = skipped.append if skipped is not None else (lambda p: None)
    return SqlSource().open(params, SourceContext("db", base_dir, skip, calendar))


def read(url: str, request: SourceRequest | Sequence[str] | None = None, **raw: Any) -> list[Record]:
    source = open_source(url, **raw)
    if isinstance(request, SourceRequest):
        return list(source.read_request(request))
    return list(source.read(None if request is None else list(request)))


def error(url: str, request: SourceRequest | Sequence[str] | None = None, **raw: Any) -> str:
    with pytest.raises(SourceError) as info:
        read(url, request, **raw)
    return str(info.value)


@attrs.define
class Statements:
    """The statements and parameters sent to any database while it was listening."""

    sent: list[tuple[str, Any]] = attrs.field(factory=list)

    def selects(self) -> list[tuple[str, Any]]:
        """The statements that read rows (not the probes of the columns, with LIMIT)."""
        return [(s, p) for s, p in self.sent if s.lstrip().upper().startswith("SELECT") and "LIMIT" not in s.upper()]


@contextlib.contextmanager
def capture_sql() -> Iterator[Statements]:
    seen = Statements()

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.sent.append((statement, parameters))

    sa.event.listen(sa.Engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", before)
