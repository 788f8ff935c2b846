"""The ``sql`` source reading real SQLite, DuckDB and PostgreSQL databases: mapping, labels,
values, bad rows, and the round trip of random rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlkit import LONG, Backend, error, open_source, read
from targetwatch_sql import SqlParams

from targetwatch.errors import Problem, SourceError
from targetwatch.model import Record
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar

ROWS = [
    ("edu.a", "2023-07", "0.0489", "田家庵区"),
    ("edu.a", "2023-08", "17,192", "八公山区"),
    ("edu.b", "2023", "12", None),
    ("edu.c", "2023", "4.89%", "X"),
    ("edu.c", "2023-H1", None, "X"),  # not reported: no record
]


def test_table_labels_and_values(backend: Backend) -> None:
    backend.create("obs", LONG, ROWS)
    got = read(backend.url, table="obs")
    assert {(r.indicator, r.period, r.value, r.labels) for r in got} == {
        ("edu.a", "2023-07", Decimal("0.0489"), (("district", "田家庵区"),)),
        ("edu.a", "2023-08", Decimal("17192"), (("district", "八公山区"),)),
        ("edu.b", "2023", Decimal("12"), ()),
        ("edu.c", "2023", Decimal("0.0489"), (("district", "X"),)),
    }
    assert all(r.origin and r.origin.endswith(tuple(f": obs row {n}" for n in range(1, 6))) for r in got)


def test_indicators_filter_and_query(backend: Backend) -> None:
    backend.create("obs", LONG, ROWS)
    assert {r.indicator for r in read(backend.url, ["edu.a", "nope"], table="obs")} == {"edu.a"}
    query = "SELECT indicator AS ind, period, value, 'x:y' AS tag FROM obs WHERE district IS NOT NULL;"
    got = read(backend.url, ["edu.c"], query=query, columns={"indicator": "ind"})
    assert [(r.indicator, r.period, r.labels) for r in got] == [("edu.c", "2023", (("tag", "x:y"),))]


def test_native_numbers_and_dates(backend: Backend) -> None:
    backend.create(
        "obs",
        {"indicator": sa.Text(), "period": sa.Text(), "value": sa.Numeric(12, 4), "ratio": sa.Double(), "start": sa.Date()},
        [("a", "2023-07", Decimal("17192.5000"), 0.0489, dt.date(2023, 7, 1))],
    )
    [rec] = read(backend.url, table="obs", ignore=["ratio"], start_column="start")
    assert (rec.value, rec.labels) == (Decimal("17192.5"), ())
    [rec] = read(backend.url, table="obs", columns={"value": "ratio"}, ignore=["value"], start_column="start")
    assert rec.value == Decimal("0.0489")


def test_fixed_indicator_constant_labels_and_renamed_columns(backend: Backend) -> None:
    backend.create("Öffnung Daten", {"期间": sa.Text(), "数值": sa.Text(), "note": sa.Text()}, [("2023-07", "5万", "n")])
    got = read(
        backend.url,
        ["sport.events"],
        table="Öffnung Daten",
        indicator="sport.events",
        columns={"period": "期间", "value": "数值"},
        ignore=["note"],
        constant_labels={"district": "A"},
    )
    assert [(r.indicator, r.period, r.value, r.labels) for r in got] == [("sport.events", "2023-07", Decimal(50000), (("district", "A"),))]
    assert read(backend.url, ["other"], table="Öffnung Daten", indicator="sport.events", columns={"period": "期间", "value": "数值"}) == []


def test_bad_row_names_database_table_row_column_found(backend: Backend) -> None:
    backend.create("obs", LONG, [("a", "2023-07", "1", "A"), ("a", "2023-08", "n/a", "A")])
    message = error(backend.url, table="obs")
    assert "obs row 2" in message and "column 'value'" in message and "'n/a'" in message
    assert backend.url.split("@")[-1].split("?")[0] in message  # the database is named
    skipped: list[Problem] = []
    source = open_source(backend.url, table="obs", on_bad_row="skip", skipped=skipped)
    assert [r.period for r in source.read(None)] == ["2023-07"]
    assert len(skipped) == 1 and skipped[0].key == "obs row 2"


def test_bad_period_with_calendar(tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'db.sqlite'}")
    backend.create("obs", LONG, [("a", "2023-13", "1", "A")])
    source = open_source(backend.url, table="obs", calendar=Calendar("UTC"))
    with pytest.raises(SourceError, match=r"obs row 1: column 'period'"):
        list(source.read(None))


def test_relative_sqlite_path_is_found_from_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    Backend("sqlite", f"sqlite:///{tmp_path / 'data' / 'db.sqlite'}").create("obs", LONG, ROWS[:1])
    source = open_source("sqlite:///data/db.sqlite", base_dir=tmp_path, table="obs")
    assert [r.indicator for r in source.read(None)] == ["edu.a"]


def test_params_problems() -> None:
    def problems(**raw: Any) -> list[str]:
        _, found = parse(SqlParams, raw, ParseContext())
        return [str(p) for p in found]

    assert problems(url="sqlite:///x", table="t") == []
    assert any("exactly one of url or url_file, found neither" in p for p in problems(table="t"))
    assert any("exactly one of url or url_file, found both" in p for p in problems(url="sqlite://", url_file="f", table="t"))
    assert any("exactly one of table or query, found both" in p for p in problems(url="sqlite://", table="t", query="select 1"))
    assert any("expected a SELECT statement" in p for p in problems(url="sqlite://", query="DELETE FROM obs"))
    assert any("schema is only used with table" in p for p in problems(url="sqlite://", query="select 1", schema="s"))
    assert any("start_column" in p for p in problems(url="sqlite://", table="t", start_column="period"))
    assert any("unknown key 'path'" in p for p in problems(url="sqlite://", table="t", path="x"))
    bad = problems(url="postgresql://u:hunter2@", table="t")  # parses: no problem
    assert bad == []
    bad = problems(url="no url at all ://u:hunter2@h", table="t")
    assert bad and "hunter2" not in " ".join(bad) and "expected a SQLAlchemy URL" in bad[0]
    assert "hunter2" not in repr(parse(SqlParams, {"url": "postgresql://u:hunter2@h/db", "table": "t"}, ParseContext())[0])


ident = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=8)
row = st.tuples(
    ident.map(lambda s: "i." + s),
    st.sampled_from(["2023", "2023-H2", "2023-Q3", "2023-07", "2023-W27", "2023-07-15"]),
    st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
    st.one_of(st.none(), ident),
)


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(row, max_size=12))
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, kind: str, data: list[tuple[str, str, Decimal, str | None]]) -> None:
    folder = tmp_path_factory.mktemp("rt")
    backend = Backend(kind, f"{kind}:///{folder / 'db'}")
    backend.create("obs", {"indicator": sa.Text(), "period": sa.Text(), "value": sa.Numeric(22, 4), "district": sa.Text()}, data)
    got = read(backend.url, table="obs")
    expected = [Record(i, p, v, (("district", d.strip()),) if d and d.strip() else (), None) for i, p, v, d in data]
    assert sorted((r.indicator, r.period, r.value, r.labels) for r in got) == sorted((r.indicator, r.period, r.value, r.labels) for r in expected)
