"""The ``sql`` source: long-format observations from a table, view or query of any database
SQLAlchemy reaches, with the filtering done by the database."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, cast

import attrs
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from targetwatch.default_plugins.tabular import Layout, RowConverter
from targetwatch.model import Record
from targetwatch.source import SourceContext, SourceRequest

from .database import Database
from .params import SqlParams
from .pushdown import DateColumn, filters

log = logging.getLogger("targetwatch.sources.sql")


@attrs.frozen
class SqlReader:
    """An opened ``sql`` source; connects on each read and closes the connection after it."""

    params: SqlParams
    context: SourceContext
    database: Database

    @property
    def what(self) -> str:
        """The table (``schema.table``) or ``query``, as messages name it."""
        p = self.params
        if p.table is None:
            return "query"
        return f"{p.schema}.{p.table}" if p.schema else p.table

    def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
        return self.read_request(SourceRequest(None if indicators is None else frozenset(indicators)))

    def read_request(self, request: SourceRequest) -> Iterator[Record]:
        """The records the request may need, filtered by the database (see :func:`~targetwatch_sql.pushdown.filters`)."""
        params = self.params
        wanted = request.indicators
        if params.indicator is not None and wanted is not None and params.indicator not in wanted:
            return
        if wanted is not None and not wanted:
            return
        conv = RowConverter(self._converter_params(), self.context, self.database.display)
        engine = self.database.engine(conv.fail)
        try:
            try:
                conn = engine.connect()
            except SQLAlchemyError as exc:
                raise conv.fail(f"cannot connect to the database: {self.database.explain(exc)}") from None
            with conn:
                try:
                    yield from self._read(conn, conv, request)
                except SQLAlchemyError as exc:
                    raise conv.fail(f"cannot read {self._described()}: {self.database.explain(exc)}", key=self.what) from None
        finally:
            engine.dispose()

    def _converter_params(self) -> SqlParams:
        # The date columns describe the row; they are not labels unless asked for.
        p = self.params
        extra = [c for c in (p.start_column, p.end_column) if c is not None and c not in (p.labels or ()) and c not in p.ignore]
        return attrs.evolve(p, ignore=(*p.ignore, *extra)) if extra else p

    def _described(self) -> str:
        return f"table {self.what!r}" if self.params.table is not None else "the query"

    def _relation(self, names: Sequence[str] = ()) -> sa.FromClause:
        """The table, or the query as a subquery ``q``, with ``names`` as its columns."""
        p = self.params
        columns: list[sa.ColumnClause[Any]] = [sa.column(n) for n in dict.fromkeys(names)]
        if p.table is not None:
            return sa.table(p.table, *columns, schema=p.schema)
        assert p.query is not None
        # The query is the user's SQL, run as written: colons are escaped so SQLAlchemy does
        # not take ':name' inside it for a parameter of ours, and a final ';' cannot end the
        # wrapping statement early.
        sql = p.query.strip().rstrip(";").replace(":", "\\:")
        return sa.text(sql).columns(*columns).subquery("q")

    def _header(self, conn: sa.Connection, conv: RowConverter) -> list[str]:
        try:
            result: sa.CursorResult[Any] = conn.execute(sa.select(sa.literal_column("*")).select_from(self._relation()).limit(0))
            header = list(result.keys())
            result.close()
            return header
        except SQLAlchemyError as exc:
            conn.rollback()  # PostgreSQL refuses anything else in a failed transaction
            p = self.params
            if p.table is not None:
                try:
                    known = sa.inspect(conn).has_table(p.table, schema=p.schema)
                except SQLAlchemyError:
                    known = True  # cannot tell: show the database's own words
                if not known:
                    raise conv.fail(f"no table or view {self.what!r} in the database{self._tables(conn)}", key=self.what) from None
            raise conv.fail(f"cannot read {self._described()}: {self.database.explain(exc)}", key=self.what) from None

    def _tables(self, conn: sa.Connection) -> str:
        try:
            conn.rollback()
            inspector = sa.inspect(conn)
            names = sorted({*inspector.get_table_names(schema=self.params.schema), *inspector.get_view_names(schema=self.params.schema)})
        except SQLAlchemyError:
            return ""
        shown = ", ".join(repr(n) for n in names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        return f"; tables and views found: {shown or 'none'}"

    def _read(self, conn: sa.Connection, conv: RowConverter, request: SourceRequest) -> Iterator[Record]:
        params = self.params
        header = self._header(conn, conv)
        layout = conv.layout(header, line=None, key=self.what)
        found = ", ".join(repr(h) for h in header)
        for key in ("start_column", "end_column"):
            name = getattr(params, key)
            if name is not None and name not in header:
                raise conv.fail(f"missing column {name!r} (set by {key}); columns found: {found}", key=self.what)
        used = self._used(header, layout)
        relation = self._relation([*used, *(c for c in (params.start_column, params.end_column) if c)])
        indicator = None if layout.indicator is None else relation.c[header[layout.indicator]]
        found_filters = filters(
            request,
            indicator=indicator,
            fixed=params.indicator,
            start=self._date_column(conn, conv, relation, "start_column"),
            end=self._date_column(conn, conv, relation, "end_column"),
        )
        columns = [relation.c[n] for n in used]
        streamed = conn.execution_options(stream_results=True, yield_per=params.batch_size)
        counter = itertools.count(1)
        yield from self._records(streamed.execute(sa.select(*columns).where(*found_filters.where)), layout, conv, request, counter)
        if found_filters.older is not None and found_filters.newest_first is not None:
            # The newest of the rows left out, per series: a series with no recent row still
            # exists for the engine, which judges it UNKNOWN instead of passing over it.
            series = columns[:1] + columns[3:] if layout.indicator is not None else columns[2:]
            rank = sa.func.row_number().over(partition_by=series or None, order_by=found_filters.newest_first)
            ranked = sa.select(*columns, rank.label("targetwatch_rank")).where(*found_filters.older).subquery("older")
            newest = sa.select(*(ranked.c[n] for n in used)).where(ranked.c.targetwatch_rank == 1)
            yield from self._records(streamed.execute(newest), layout, conv, request, counter, " (the newest older row of each series)")

    @staticmethod
    def _used(header: Sequence[str], layout: Layout) -> list[str]:
        """The columns read, in the order :meth:`_records` takes them: indicator (if any),
        period, value, then the labels."""
        core = [layout.period, layout.value] if layout.indicator is None else [layout.indicator, layout.period, layout.value]
        return [header[i] for i in core] + [name for name, _ in layout.labels]

    def _date_column(self, conn: sa.Connection, conv: RowConverter, relation: sa.FromClause, key: str) -> DateColumn | None:
        name = getattr(self.params, key)
        if name is None:
            return None
        column = relation.c[name]
        # One value tells how the column compares with a date (DATE, TIMESTAMP or ISO text),
        # whatever the database and whether it comes from a table or a query.
        sample = conn.execute(sa.select(column).where(column.is_not(None)).limit(1)).scalar()
        try:
            return DateColumn.of_sample(column, sample)
        except ValueError as exc:
            raise conv.fail(f"column {name!r} (set by {key}): {exc}", key=self.what) from None

    def _records(
        self, result: sa.CursorResult[Any], layout: Layout, conv: RowConverter, request: SourceRequest, counter: Iterator[int], note: str = ""
    ) -> Iterator[Record]:
        wanted = request.indicators
        has_indicator = layout.indicator is not None
        first_label = 3 if has_indicator else 2
        label_names = [name for name, _ in layout.labels]
        display, what = self.database.display, self.what
        record = conv.record
        fetched = 0
        with result:
            rows = cast(Iterable[Sequence[Any]], result)
            for row, count in zip(rows, counter):
                fetched += 1
                if has_indicator:
                    raw_indicator, raw_period, raw_value = row[0], row[1], row[2]
                    # The database filtered already, unless too many indicators were asked for.
                    if wanted is not None and not conv.wanted(raw_indicator, wanted):
                        continue
                else:
                    raw_indicator, raw_period, raw_value = None, row[0], row[1]
                key = f"{what} row {count}"
                rec = record(
                    raw_indicator,
                    raw_period,
                    raw_value,
                    zip(label_names, row[first_label:]),
                    origin=f"{display}: {key}",
                    key=key,
                )
                if rec is not None:
                    yield rec
        log.debug("source %r: fetched %d rows of %s%s from %s", self.context.name, fetched, what, note, display)
