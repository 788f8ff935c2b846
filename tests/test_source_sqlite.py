"""The ``sqlite`` source, on real databases."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targetwatch.default_plugins.sqlite_source import SqliteParams, SqliteSource, register_sources
from targetwatch.errors import Problem, SourceError
from targetwatch.model import Record
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext, SourceType


def make_db(
    path: Path, rows: Sequence[tuple[Any, ...]], columns: str = "indicator TEXT, period, value, district TEXT", table: str = "obs", options: str = ""
) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f'CREATE TABLE "{table}" ({columns}) {options}')
        if rows:
            conn.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(rows[0]))})', rows)
    conn.close()


def read(
    tmp_path: Path,
    indicators: list[str] | None = None,
    *,
    calendar: Calendar | None = None,
    skipped: list[Problem] | None = None,
    trace: list[str] | None = None,
    **raw: Any,
) -> list[Record]:
    params, problems = parse(SqliteParams, {"path": "db.sqlite", **raw}, ParseContext())
    assert params is not None and not problems, [str(p) for p in problems]
    skip = skipped.append if skipped is not None else (lambda p: None)
    source = SqliteSource().open(params, SourceContext("obs", tmp_path, skip, calendar))
    if trace is None:
        return list(source.read(indicators))
    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = original(*args, **kwargs)
        conn.set_trace_callback(trace.append)
        return conn

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sqlite3, "connect", connect)
        return list(source.read(indicators))


def error(tmp_path: Path, **raw: Any) -> str:
    with pytest.raises(SourceError) as info:
        read(tmp_path, **raw)
    return str(info.value)


ROWS = [
    ("edu.a", "2023-07", 0.0489, "田家庵区"),
    ("edu.a", "2023-08", "17,192", "八公山区"),
    ("edu.b", 2023, 12, None),
    ("edu.c", "2023", "4.89%", "X"),
]


def test_registers() -> None:
    got: list[SourceType] = []
    register_sources(got.append)
    assert [t.name for t in got] == ["sqlite"]


def test_table(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", ROWS)
    assert read(tmp_path, table="obs") == [
        Record("edu.a", "2023-07", Decimal("0.0489"), (("district", "田家庵区"),), "db.sqlite:obs#1"),
        Record("edu.a", "2023-08", Decimal(17192), (("district", "八公山区"),), "db.sqlite:obs#2"),
        Record("edu.b", "2023", Decimal(12), (), "db.sqlite:obs#3"),
        Record("edu.c", "2023", Decimal("0.0489"), (("district", "X"),), "db.sqlite:obs#4"),
    ]


def test_filter_is_pushed_down_to_sql(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", [*ROWS, ("edu.d", "2023", "n/a", "X")])
    trace: list[str] = []
    records = read(tmp_path, ["edu.b", "edu.c"], table="obs", trace=trace)
    assert sorted(r.indicator for r in records) == ["edu.b", "edu.c"]
    assert any('WHERE "indicator" IN (' in sql for sql in trace), trace
    assert read(tmp_path, [], table="obs") == []


def test_quoted_identifiers(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", [("a", "2023", 1, "D")], columns='"指 标" TEXT, "期间", "数""值", "区"', table="观测 表")
    records = read(tmp_path, ["a"], table="观测 表", columns={"indicator": "指 标", "period": "期间", "value": '数"值'})
    assert records == [Record("a", "2023", Decimal(1), (("区", "D"),), "db.sqlite:观测 表#1")]


def test_query(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", ROWS)
    query = "SELECT indicator, period, value FROM obs WHERE district IS NOT NULL ORDER BY rowid"
    records = read(tmp_path, ["edu.a"], query=query, constant_labels={"district": "全市"})
    assert [(r.period, r.origin, r.labels) for r in records] == [
        ("2023-07", "db.sqlite:query row 1", (("district", "全市"),)),
        ("2023-08", "db.sqlite:query row 2", (("district", "全市"),)),
    ]


def test_view_without_rowid(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", ROWS)
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        conn.execute("CREATE VIEW v AS SELECT * FROM obs WHERE indicator = 'edu.a'")
    conn.close()
    assert [r.origin for r in read(tmp_path, ["edu.a"], table="v")] == ["db.sqlite:v row 1", "db.sqlite:v row 2"]


def test_bad_row_names_table_rowid_column_found(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", [*ROWS, ("edu.a", "2023-09", "n/a", "X")])
    text = error(tmp_path, table="obs")
    assert text.startswith("source 'obs': db.sqlite: obs#5: column 'value': expected a number") and text.endswith("found 'n/a'")
    skipped: list[Problem] = []
    assert len(read(tmp_path, table="obs", skipped=skipped, on_bad_row="skip")) == 4
    assert [(p.file, p.key) for p in skipped] == [("db.sqlite", "obs#5")]


def test_null_value_is_not_reported(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", [("a", "2023", None, "D"), ("a", "2024", "", "D")])
    assert read(tmp_path, table="obs") == []


def test_fixed_indicator_and_labels(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", [("2023", 5, "D", "S", "n")], columns="period, value, district, school, note")
    assert read(tmp_path, indicator="x", table="obs", labels=["school"])[0].labels == (("school", "S"),)
    assert read(tmp_path, indicator="x", table="obs", ignore="note")[0].labels == (("district", "D"), ("school", "S"))
    assert read(tmp_path, ["y"], indicator="x", table="obs") == []


def test_percent_false(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", ROWS)
    assert "obs#4: column 'value': expected a number without a percent sign" in error(tmp_path, table="obs", percent=False)


def test_missing_database_is_not_created(tmp_path: Path) -> None:
    text = error(tmp_path, table="obs")
    assert "db.sqlite: no such database file" in text and str(tmp_path) in text
    assert not (tmp_path / "db.sqlite").exists()


def test_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "db.sqlite").write_text("hello, this is text and not a database at all" * 10)
    assert "db.sqlite: table 'obs': cannot read table 'obs': file is not a database" in error(tmp_path, table="obs")


def test_sql_errors_name_database_and_table_or_query(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", ROWS)
    assert "db.sqlite: table 'nope': cannot read table 'nope': no such table: nope" in error(tmp_path, table="nope")
    text = error(tmp_path, query="SELECT indicator, period, valu FROM obs")
    assert "db.sqlite: query: cannot read query: no such column: valu" in text


def test_missing_column_once(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", ROWS, columns="indicator, periode, value, district")
    text = error(tmp_path, table="obs")
    assert "db.sqlite: table 'obs': missing column 'period'; columns found: 'indicator', 'periode', 'value', 'district'" in text


def test_read_only(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", ROWS)
    assert "readonly" in error(tmp_path, query="WITH x AS (SELECT 1) DELETE FROM obs").replace("-", "")
    assert len(read(tmp_path, table="obs")) == 4


def test_param_problems() -> None:
    for raw, expected in (({}, "found neither"), ({"table": "t", "query": "SELECT 1"}, "found both"), ({"query": "DROP TABLE t"}, "expected a SELECT")):
        _, found = parse(SqliteParams, {"path": "db.sqlite", **raw}, ParseContext(file="t.toml"))
        assert any(expected in str(p) for p in found), [str(p) for p in found]


def test_bad_period_with_calendar(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", [("a", "2023-12", 1, "D"), ("a", "2023-13", 2, "D")])
    text = error(tmp_path, table="obs", calendar=Calendar("Asia/Shanghai"))
    assert "db.sqlite: obs#2: column 'period': expected a period" in text and "'2023-13'" in text


# -- round trip ---------------------------------------------------------------------------------

names = st.text(st.sampled_from("abcxyz.学前教育"), min_size=1, max_size=8).filter(lambda s: s == s.strip())
periods = st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2000, 2030), st.integers(1, 12))
values = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False)
label_values = st.text(st.sampled_from("AB '\"田家庵区八公山"), min_size=1, max_size=6).map(str.strip).filter(bool)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.tuples(names, periods, values, label_values), max_size=20), st.sampled_from(["REAL", "TEXT"]))
def test_round_trip(tmp_path: Path, data: list[tuple[str, str, Decimal, str]], affinity: str) -> None:
    db = tmp_path / "db.sqlite"
    db.unlink(missing_ok=True)
    stored = [(i, p, float(v) if affinity == "REAL" else str(v), d) for i, p, v, d in data]
    make_db(db, stored, columns=f"indicator TEXT, period TEXT, value {affinity}, district TEXT")
    got = read(tmp_path, table="obs")
    assert [(r.indicator, r.period, r.value, r.labels) for r in got] == [(i, p, v, (("district", d),)) for i, p, v, d in data]


def test_table_without_rowid(tmp_path: Path) -> None:
    make_db(tmp_path / "db.sqlite", [("a", "2023", 1)], columns="indicator TEXT, period TEXT PRIMARY KEY, value", options="WITHOUT ROWID")
    assert [r.origin for r in read(tmp_path, table="obs")] == ["db.sqlite:obs row 1"]
