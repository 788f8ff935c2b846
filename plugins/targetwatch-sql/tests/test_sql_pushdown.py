"""The database does the filtering: only the indicators and periods the rules can use are
fetched (shown by the SQL sent and by the rows fetched), and the verdicts are those the csv
source gives on the same data."""

from __future__ import annotations

import datetime as dt
import logging
import re
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlkit import Backend, capture_sql, read

from targetwatch.engine import CheckResult, Engine
from targetwatch.plugins import Registry
from targetwatch.source import SourceRequest

COLUMNS = {"indicator": sa.Text(), "period": sa.Text(), "value": sa.Text(), "district": sa.Text(), "starts": sa.Date(), "ends": sa.Date()}


def month(year: int, m: int) -> tuple[str, dt.date, dt.date]:
    start = dt.date(year, m, 1)
    end = dt.date(year + m // 12, m % 12 + 1, 1)
    return f"{year}-{m:02d}", start, end


def history(bad: Sequence[tuple[str, str]] = ()) -> list[tuple[Any, ...]]:
    """Monthly rows 2021-01 .. 2023-12: sport.events for districts A and B, other.metric for A.
    ``bad`` lists (indicator, period) pairs whose value is made unreadable."""
    rows: list[tuple[Any, ...]] = []
    for year in (2021, 2022, 2023):
        for m in range(1, 13):
            period, start, end = month(year, m)
            values = [("sport.events", "A", 10000 + m), ("sport.events", "B", 3000 + year - 2021), ("other.metric", "A", year * 10 + m)]
            for indicator, district, value in values:
                text = "n/a" if (indicator, period) in bad and district == "A" else str(value)
                rows.append((indicator, period, text, district, start, end))
    return rows


RULES = """\
[[rule]]
id = "events.h2"
kind = "minimum"
indicator = "sport.events"
min = 50000
period = "2023-H2"

[[rule]]
id = "metric.floor"
kind = "threshold"
indicator = "other.metric"
min = 20235

[[rule]]
id = "metric.yoy"
kind = "growth"
indicator = "other.metric"
compare = "year_on_year"
min = "0%"
"""

INDICATORS = """\
[indicators."sport.events"]
unit = "人次"

[indicators."other.metric"]
"""

SQL_SOURCE = """\
[[sources]]
name = "db"
type = "sql"
url = "${TW_SQL_URL}"
table = "obs"
"""

CSV_SOURCE = """\
[[sources]]
name = "csv"
type = "csv"
path = "obs.csv"
ignore = ["starts", "ends"]
"""


def project(root: Path, source: str, rules: str = RULES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "rules.toml").write_text(rules, encoding="utf-8")
    config = root / "targetwatch.toml"
    config.write_text(f'rules = ["rules.toml"]\ntimezone = "Asia/Shanghai"\n\n{INDICATORS}\n{textwrap.dedent(source)}', encoding="utf-8")
    return config


def write_csv(path: Path, rows: Sequence[tuple[Any, ...]]) -> None:
    lines = ["indicator,period,value,district,starts,ends"] + [",".join(str(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def key(result: CheckResult) -> list[tuple[Any, ...]]:
    return sorted((v.rule, v.labels, v.status.value, v.value, v.target, str(v.period), v.message) for v in result.verdicts)


Check = Callable[..., CheckResult]


@pytest.fixture
def check(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Check:
    """``check(as_of, extra_params, rows=..., rules=...)``: the rows in ``backend``'s table
    ``obs``, judged through a config whose sql source has ``extra_params``."""
    monkeypatch.setenv("TW_SQL_URL", backend.url)
    made: list[bool] = []

    def run(as_of: str, extra: str = "", *, rows: Sequence[tuple[Any, ...]] | None = None, rules: str = RULES) -> CheckResult:
        if not made:
            backend.create("obs", COLUMNS, history() if rows is None else rows)
            made.append(True)
        config = project(tmp_path / f"p{len(made)}", SQL_SOURCE + extra, rules)
        made.append(True)
        return Engine.from_config(config, registry=Registry()).check(as_of=as_of)

    return run


@pytest.mark.parametrize("as_of", ["2023-10-16", "2024-01-05", "2022-03-01"])
@pytest.mark.parametrize(
    "extra",
    [
        'ignore = ["starts", "ends"]\n',
        'start_column = "starts"\nignore = ["ends"]\n',
        'start_column = "starts"\nend_column = "ends"\n',  # neither is a label: no ignore needed
        'end_column = "ends"\nignore = ["starts"]\n',
    ],
    ids=["no-dates", "start", "start-end", "end"],
)
def test_same_verdicts_as_csv(check: Check, tmp_path: Path, as_of: str, extra: str) -> None:
    got = check(as_of, extra)
    (tmp_path / "csv").mkdir()
    write_csv(tmp_path / "csv" / "obs.csv", history())
    expected = Engine.from_config(project(tmp_path / "csv", CSV_SOURCE), registry=Registry()).check(as_of=as_of)
    assert not got.problems and not expected.problems
    assert key(got) == key(expected)
    assert {v.status.value for v in got.verdicts} >= {"OK"}


def test_only_needed_rows_are_fetched(check: Check, backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="targetwatch.sources.sql")
    # Unreadable rows the check must never fetch: 2021 (before 2023-H2), other.metric (not
    # asked for), 2023-11 (after the check's day). Fetching any would be a problem.
    rows = history(bad=[("sport.events", "2021-03"), ("other.metric", "2023-08"), ("sport.events", "2023-11")])
    with capture_sql() as sql:
        result = check("2023-10-16", 'start_column = "starts"\nend_column = "ends"\n', rows=rows, rules=RULES.split("\n\n")[0])
    assert not result.problems, result.problems
    assert [(v.labels, v.status.value, v.value) for v in result.verdicts] == [
        ((("district", "A"),), "OK", sum(10000 + m for m in (7, 8, 9, 10))),
        ((("district", "B"),), "WARN", 4 * 3002),
    ]
    (main, main_params), (older, older_params) = [(s, p) for s, p in sql.selects() if "FROM obs" in s]
    compact = re.sub(r"\s+", " ", main)
    assert re.search(r"WHERE .*indicator IN \(", compact) and "ends >" in compact and "starts <" in compact, compact
    assert "row_number() OVER (PARTITION BY" in older and "ORDER BY obs.ends DESC" in older
    for parameters in (main_params, older_params):
        values = list(parameters.values()) if isinstance(parameters, dict) else list(parameters)
        assert "sport.events" in values and "other.metric" not in values
        assert {str(v)[:10] for v in values} >= {"2023-07-01", "2023-10-17"}
    assert "fetched 8 rows of obs from" in caplog.text  # 2023-07 .. 2023-10 for A and B
    assert "fetched 2 rows of obs (the newest older row of each series)" in caplog.text  # 2023-06
    # The same read without the date columns fetches the bad 2021 row: the test can fail.
    failing = check("2023-10-16", 'ignore = ["starts", "ends"]\n', rows=rows, rules=RULES.split("\n\n")[0])
    assert failing.problems and "2021" not in str(failing.problems) and "'n/a'" in str(failing.problems[0])


def test_start_column_alone_is_conservative(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="targetwatch.sources.sql")
    backend.create("obs", COLUMNS, history())
    request = SourceRequest(frozenset({"sport.events"}), dt.date(2023, 10, 16), {"sport.events": dt.date(2023, 7, 1)})
    got = read(backend.url, request, table="obs", start_column="starts", ignore=["ends"])
    periods = sorted({r.period for r in got})
    # A period that started up to 366 days before what is needed may still overlap it.
    assert periods[0] == "2022-07" or periods[:2] == ["2022-06", "2022-07"]  # 2022-06: the newest older row
    assert periods[-1] == "2023-10"
    assert "fetched 32 rows of obs" in caplog.text  # 2022-07 .. 2023-10, for A and B


def test_series_without_recent_rows_is_still_judged(check: Check, tmp_path: Path) -> None:
    # District C stopped reporting in 2021: the 2023-H2 rule must judge it UNKNOWN, as with
    # the csv source, not pass over it because its rows are older than the rule reads.
    rows = history() + [("sport.events", month(2021, m)[0], "5", "C", *month(2021, m)[1:]) for m in (1, 2)]
    got = check("2023-10-16", 'start_column = "starts"\nend_column = "ends"\n', rows=rows)
    (tmp_path / "csv").mkdir()
    write_csv(tmp_path / "csv" / "obs.csv", rows)
    expected = Engine.from_config(project(tmp_path / "csv", CSV_SOURCE), registry=Registry()).check(as_of="2023-10-16")
    assert key(got) == key(expected)
    assert [v.status.value for v in got.verdicts if v.labels == (("district", "C"),)] == ["UNKNOWN"]
