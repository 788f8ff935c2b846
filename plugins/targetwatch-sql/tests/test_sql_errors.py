"""Every way reaching the database can fail is one clear message naming the database (password
hidden) and the table or query — and the password never appears."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest
from sqlkit import LONG, PG_PASSWORD, Backend, PgServer, error
from targetwatch_sql import SqlParams, SqlSource

from targetwatch.errors import ConfigError, SourceError
from targetwatch.params import ParseContext, parse
from targetwatch.source import SourceContext


def test_unknown_driver() -> None:
    message = error("nosuchdb://u:hunter2@localhost/x", table="obs")
    assert "unknown database driver 'nosuchdb'" in message and "hunter2" not in message
    assert message.startswith("source 'db': nosuchdb://u:***@localhost/x")


@pytest.mark.skipif(importlib.util.find_spec("pymysql") is not None, reason="pymysql is installed here")
def test_driver_not_installed() -> None:
    message = error("mysql+pymysql://u:hunter2@127.0.0.1/x", table="obs")
    assert "database driver for 'mysql+pymysql' is not installed" in message and "pymysql" in message
    assert "hunter2" not in message


def test_missing_table_lists_what_is_there(backend: Backend) -> None:
    backend.create("obs", LONG, [])
    message = error(backend.url, table="nope")
    assert "no table or view 'nope' in the database; tables and views found: 'obs'" in message


def test_wrong_columns(backend: Backend) -> None:
    backend.create("obs", LONG, [("a", "2023", "1", "A")])
    message = error(backend.url, table="obs", columns={"value": "amount"})
    assert "missing column 'amount' (the value column, set by columns.value)" in message
    assert "'indicator', 'period', 'value', 'district'" in message
    message = error(backend.url, table="obs", end_column="ends")
    assert "missing column 'ends' (set by end_column)" in message
    message = error(backend.url, table="obs", start_column="district")
    assert "column 'district' (set by start_column): expected dates or ISO date text such as '2023-07-01', found 'A'" in message


def test_query_error_names_the_query(backend: Backend) -> None:
    backend.create("obs", LONG, [])
    message = error(backend.url, query="SELECT nosuchcolumn FROM obs")
    assert "cannot read the query:" in message and "nosuchcolumn" in message
    assert "Background on this error" not in message and "[SQL:" not in message


def test_missing_file_is_not_created(tmp_path: Path) -> None:
    for kind in ("sqlite", "duckdb"):
        message = error(f"{kind}:///{tmp_path / 'missing.db'}", table="obs")
        assert "no such database file" in message and "never created" in message
    assert not (tmp_path / "missing.db").exists()


def test_file_database_is_read_only(tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'db.sqlite'}")
    backend.create("obs", LONG, [])
    message = error(backend.url, query="SELECT * FROM obs; DROP TABLE obs")
    assert "cannot read the query" in message
    backend.execute("SELECT * FROM obs")  # still there


def test_wrong_password(postgres_server: PgServer) -> None:
    url = postgres_server.url(password="not-the-Pa55word")
    message = error(url, table="obs")
    assert "cannot connect to the database" in message and "password authentication failed" in message
    assert "not-the-Pa55word" not in message and "***" in message


def test_connection_refused_hides_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        message = error(f"postgresql+psycopg://tw:{PG_PASSWORD.replace('@', '%40').replace(':', '%3A')}@127.0.0.1:{port}/x?connect_timeout=5", table="obs")
    assert "cannot connect to the database" in message and "refused" in message.lower()
    assert "Pa55" not in message and f"tw:***@127.0.0.1:{port}/x" in message


def test_url_file_is_a_secret(tmp_path: Path, postgres_server: PgServer) -> None:
    (tmp_path / "url").write_text(postgres_server.url(password="wrong-Pa55") + "\n", encoding="utf-8")
    params, problems = parse(SqlParams, {"url_file": "url", "table": "obs"}, ParseContext())
    assert params is not None and not problems
    reader = SqlSource().open(params, SourceContext("db", tmp_path))
    with pytest.raises(SourceError) as info:
        list(reader.read(None))
    assert "wrong-Pa55" not in str(info.value) and "password authentication failed" in str(info.value)
    params, _ = parse(SqlParams, {"url_file": "missing", "table": "obs"}, ParseContext())
    with pytest.raises(ConfigError, match="cannot read the secret file"):
        SqlSource().open(params, SourceContext("db", tmp_path))
