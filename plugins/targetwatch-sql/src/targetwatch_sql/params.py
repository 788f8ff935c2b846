"""The parameters of the ``sql`` source, declared once (validation, docs and schema derive
from them)."""

from __future__ import annotations

import attrs

from targetwatch.default_plugins.tabular import TabularParams
from targetwatch.params import Integer, Text, param
from targetwatch.secrets import masked_repr

from .masking import mask_url_text

#: The statements ``query`` may start with: anything else could change the database.
QUERY_STARTS = ("select", "with", "values", "(")


@attrs.frozen(repr=False)
class SqlParams(TabularParams):
    """Parameters of the ``sql`` source: where the database is, which table or query holds the
    rows, and (optionally) the columns that let the database skip rows by date. The column
    mapping, label and bad-row parameters are those of every tabular source."""

    # A database is named by ``url``, not by a file: ``path`` is no parameter of this source
    # (a plain field without a declaration is neither accepted in files nor documented).
    path: str = attrs.field(default="", kw_only=True)
    url: str | None = param(
        Text(),
        default=None,
        doc="The SQLAlchemy URL of the database, e.g. \"sqlite:///data/obs.sqlite\", "
        "\"duckdb:///data/obs.duckdb\" or \"postgresql+psycopg://reader:${PGPASSWORD}@db.example.org/stats\". "
        "A relative SQLite or DuckDB file is found from the config file's folder. "
        "The password is never shown in errors or logs. Give url or url_file, not both.",
    )
    url_file: str | None = param(
        Text(),
        default=None,
        doc="A file holding the URL (a Docker or systemd secret), read when the source opens; one "
        "trailing newline is removed. Give url or url_file, not both.",
    )
    table: str | None = param(
        Text(),
        default=None,
        doc="The table or view holding the rows. Give table or query, not both.",
    )
    schema: str | None = param(
        Text(),
        default=None,
        doc="The schema of table (e.g. \"public\"); only with table. Default: the connection's default schema.",
    )
    query: str | None = param(
        Text(),
        default=None,
        doc="A SELECT statement whose result columns are the rows (to join or rename in SQL). It is "
        "run as a subquery, SELECT ... FROM (<query>) AS q WHERE ..., so the same filters reach the "
        "database. Give table or query, not both.",
    )
    start_column: str | None = param(
        Text(),
        default=None,
        doc="A column holding each row's period start (inclusive) as a DATE, TIMESTAMP or ISO text "
        "\"2023-07-01\". Lets the database skip rows whose period starts after the check's moment "
        "(and, without end_column, rows more than a year older than any rule can use).",
    )
    end_column: str | None = param(
        Text(),
        default=None,
        doc="A column holding each row's period end (exclusive: \"2023-08-01\" for 2023-07) as a DATE, "
        "TIMESTAMP or ISO text. Lets the database skip rows whose period ended before what the "
        "rules read.",
    )
    batch_size: int = param(
        Integer(minimum=1),
        default=1000,
        doc="How many rows are fetched from the database at a time (rows are streamed, never loaded whole).",
    )

    def problems(self) -> list[tuple[str, str]]:
        out = super().problems()
        if (self.url is None) == (self.url_file is None):
            found = "both" if self.url is not None else "neither"
            out.append(("url", f"expected exactly one of url or url_file, found {found}"))
        if self.url is not None:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                make_url(self.url)
            except ArgumentError:
                out.append(("url", f"expected a SQLAlchemy URL such as 'sqlite:///obs.sqlite', found {mask_url_text(self.url)!r}"))
        if (self.table is None) == (self.query is None):
            found = "both" if self.table is not None else "neither"
            out.append(("table", f"expected exactly one of table or query, found {found}"))
        if self.schema is not None and self.table is None:
            out.append(("schema", "schema is only used with table; write the schema into the query instead"))
        if self.query is not None and not self.query.lstrip().lower().startswith(QUERY_STARTS):
            out.append(("query", f"expected a SELECT statement, found {self.query.strip()[:40]!r}"))
        core = set(self.column_names().values())
        for key in ("start_column", "end_column"):
            name = getattr(self, key)
            if name is not None and name in core:
                out.append((key, f"expected a date column other than the indicator, period and value columns, found {name!r}"))
        if self.start_column is not None and self.start_column == self.end_column:
            out.append(("end_column", f"expected a column other than start_column, found {self.end_column!r}"))
        return out

    def __repr__(self) -> str:
        return masked_repr(self, {"url"})
