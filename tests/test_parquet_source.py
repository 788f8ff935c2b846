"""The ``parquet`` source, on files written by pyarrow: records one by one (``read``) and the
columnar dataset (``read_dataset``) agree, values are exact, bad rows are located."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targetwatch.data import Dataset
from targetwatch.default_plugins import columnar, columnar_cells, parquet_source
from targetwatch.default_plugins.parquet_source import (
    NEEDS_PYARROW,
    ParquetParams,
    ParquetSource,
    _ParquetReader,
    register_sources,
)
from targetwatch.errors import Problem, SourceError
from targetwatch.model import Record
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext, SourceRequest, SourceType

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SHANGHAI = Calendar("Asia/Shanghai")


@pytest.fixture(autouse=True)
def few_rows_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Series are built a few rows' values at a time, so that small files take several rounds."""
    monkeypatch.setattr(columnar, "_ROWS", 16)


def write(folder: Path, columns: dict[str, Any], name: str = "data.parquet") -> None:
    pq.write_table(pa.table(columns), folder / name)


def source(folder: Path, *, skipped: list[Problem] | None = None, calendar: Calendar | None = SHANGHAI, **raw: Any) -> Any:
    params, problems = parse(ParquetParams, {"path": "data.parquet", **raw}, ParseContext())
    assert params is not None and not problems, [str(p) for p in problems]
    skip = skipped.append if skipped is not None else (lambda p: None)
    return ParquetSource().open(params, SourceContext("obs", folder, skip, calendar))


def records(folder: Path, indicators: Sequence[str] | None = None, **raw: Any) -> list[Record]:
    return list(source(folder, **raw).read(indicators))


def dataset(folder: Path, indicators: Sequence[str] | None = None, *, counts: list[int] | None = None, **raw: Any) -> Dataset:
    request = SourceRequest(None if indicators is None else frozenset(indicators))
    read = source(folder, **raw).read_dataset
    assert read is not None
    got: Dataset = read(request, (counts if counts is not None else []).append)
    return got


def by_records(folder: Path, indicators: Sequence[str] | None = None, *, calendar: Calendar | None = SHANGHAI, **raw: Any) -> Dataset:
    found = source(folder, calendar=calendar, **raw).read(None if indicators is None else frozenset(indicators))
    return Dataset.from_records(found, calendar or Calendar("UTC"), source="obs")


def assert_same(got: Dataset, want: Dataset) -> None:
    assert got.indicators == want.indicators and len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert (a.indicator, a.labels, a.periods, a.source, a.reported) == (b.indicator, b.labels, b.periods, b.source, b.reported)
        assert a.values == b.values and [str(v) for v in a.values] == [str(v) for v in b.values]


def outcome(action: Callable[[], Dataset]) -> Dataset | str:
    try:
        return action()
    except SourceError as exc:
        return str(exc)


def agree(folder: Path, indicators: Sequence[str] | None = None, **raw: Any) -> Dataset | str:
    """``read_dataset``'s outcome, checked against the records' (the same dataset, or the same
    error); the rows are read one by one only when one of them is bad or a duplicate."""
    fallbacks: list[bool] = []
    counted = _ParquetReader._counted

    def spy(self: _ParquetReader, *args: Any) -> Any:
        fallbacks.append(True)
        return counted(self, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_ParquetReader, "_counted", spy)
        fast = outcome(lambda: dataset(folder, indicators, **raw))
    skipped: list[Problem] = []
    slow = outcome(lambda: by_records(folder, indicators, skipped=skipped, **raw))
    if isinstance(slow, str):
        assert fast == slow
    else:
        assert not isinstance(fast, str), fast
        assert_same(fast, slow)
    assert bool(fallbacks) == (isinstance(slow, str) or bool(skipped))
    return fast


def test_registers() -> None:
    got: list[SourceType] = []
    register_sources(got.append)
    assert [t.name for t in got] == ["parquet"] and got[0].Params is ParquetParams


def test_value_types_are_exact(tmp_path: Path) -> None:
    base = {"indicator": ["a", "a", "a"], "period": ["2023-01", "2023-02", "2023-03"]}
    cases = {
        "int": (pa.array([17192, -3, None], pa.int64()), ["17192", "-3"]),
        "decimal": (pa.array([Decimal("1.50"), Decimal("-0.25"), Decimal("3.00")], pa.decimal128(6, 2)), ["1.50", "-0.25", "3.00"]),
        "float": (pa.array([0.0489, -0.0, 1e-7], pa.float64()), ["0.0489", "-0.0", "1E-7"]),
        "zeros": (pa.array([0.0, -0.0, 0.0], pa.float64()), ["0.0", "-0.0", "0.0"]),  # equal, but not the same
        "string": (pa.array(["17,192", "94.1%", " "]), ["17192", "0.941"]),
    }
    for name, (values, texts) in cases.items():
        write(tmp_path, {**base, "value": values})
        got = agree(tmp_path)
        assert isinstance(got, Dataset), name
        assert [str(v) for v in got.series("a")[0].values] == texts, name
        assert [str(r.value) for r in records(tmp_path)] == texts, name


def test_labels_fixed_indicator_and_renamed_columns(tmp_path: Path) -> None:
    write(tmp_path, {
        "期间": ["2023-07", "2023-08", "2023-07"],
        "数值": pa.array([1, 2, 3], pa.int32()),
        "区县": ["田家庵区", " 田家庵区 ", None],
        "level": pa.array([1, 1, 2], pa.int16()),
        "note": ["x", "y", "z"],
    })
    raw = {"indicator": "edu.a", "columns": {"period": "期间", "value": "数值"}, "ignore": ["note"]}
    got = agree(tmp_path, **raw)
    assert isinstance(got, Dataset)
    assert [(s.indicator, s.labels, len(s)) for s in got] == [
        ("edu.a", (("level", "1"), ("区县", "田家庵区")), 2),
        ("edu.a", (("level", "2"),), 1),
    ]
    assert len(dataset(tmp_path, ["edu.b"], **raw)) == 0 and records(tmp_path, ["edu.b"], **raw) == []
    got = agree(tmp_path, labels=["区县"], constant_labels={"city": "淮南"}, **{k: v for k, v in raw.items() if k != "ignore"})
    assert isinstance(got, Dataset) and {s.labels for s in got} == {(("city", "淮南"), ("区县", "田家庵区")), (("city", "淮南"),)}


def test_indicator_filter_and_row_counts(tmp_path: Path) -> None:
    write(tmp_path, {"indicator": ["a", "b", "b", "c"], "period": ["2023", "2023", "2024", "2023"],
                     "value": pa.array(["1", "2", "3", "n/a"])})
    counts: list[int] = []
    got = dataset(tmp_path, ["b"], counts=counts)
    assert [(s.indicator, len(s)) for s in got] == [("b", 2)] and counts[-1] == 4
    assert [r.origin for r in records(tmp_path, ["b"])] == ["data.parquet: row 2", "data.parquet: row 3"]
    agree(tmp_path, ["a", "b"])


def test_bad_rows(tmp_path: Path) -> None:
    write(tmp_path, {"indicator": ["a", "a", "a", None], "period": ["2023-01", "2023-02", "2023-13", "2023-04"],
                     "value": ["1", "n/a", "3", "4"]})
    message = agree(tmp_path)
    assert message == ("source 'obs': data.parquet: row 2: column 'value': expected a number such as 17192, "
                       '"17,192", "94.1%" or "1.2万", found \'n/a\'')
    skipped: list[Problem] = []
    got = dataset(tmp_path, skipped=skipped, on_bad_row="skip")
    assert [(s.indicator, [str(p) for p in s.periods]) for s in got] == [("a", ["2023-01"])]
    assert [(p.file, p.key) for p in skipped] == [("data.parquet", "row 2"), ("data.parquet", "row 3"), ("data.parquet", "row 4")]
    assert "column 'period'" in skipped[1].message and "column 'indicator'" in skipped[2].message
    skipped.clear()
    assert len(records(tmp_path, skipped=skipped, on_bad_row="skip")) == 1 and len(skipped) == 3


def test_duplicates(tmp_path: Path) -> None:
    write(tmp_path, {"indicator": ["a", "a"], "period": ["2023-07", "2023-7"], "value": [1, 2]})
    message = agree(tmp_path)
    assert isinstance(message, str) and "duplicate observation of a" in message and "data.parquet: row 1" in message


def test_reported_at(tmp_path: Path) -> None:
    base = {"indicator": ["a", "a", "a"], "period": ["2023-01", "2023-02", "2023-03"], "value": [1, 2, 3]}
    utc = dt.UTC
    for column in (
        pa.array([dt.datetime(2023, 2, 3, 1, 30, tzinfo=utc), None, dt.datetime(2023, 4, 1, tzinfo=utc)], pa.timestamp("us", tz="UTC")),
        pa.array([dt.datetime(2023, 2, 3, 9, 30), None, dt.datetime(2023, 4, 1)], pa.timestamp("ms")),
        pa.array([dt.date(2023, 2, 3), None, dt.date(2023, 4, 1)], pa.date32()),
        pa.array(["2023-02-03", "", "2023-04-01T09:30"]),
    ):
        write(tmp_path, {**base, "reported_at": column})
        for available in ("period_start", "period_end"):
            got = agree(tmp_path, available=available)
            assert isinstance(got, Dataset)
            (series,) = got
            assert series.reported is not None and series.reported[0] is not None
            assert (series.reported[1] is None) == (available == "period_start")
            assert series.reported[0].tzinfo is not None and series.reported[0].date() == dt.date(2023, 2, 3)


def test_read_dataset_needs_the_calendar_of_a_config(tmp_path: Path) -> None:
    write(tmp_path, {"indicator": ["a"], "period": ["2023"], "value": [1]})
    assert source(tmp_path, calendar=None).read_dataset is None  # the engine reads records instead
    assert source(tmp_path).read_dataset is not None


def test_missing_columns_file_and_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"indicator": ["a"], "periode": ["2023"], "value": [1]})
    for action in (lambda: dataset(tmp_path), lambda: records(tmp_path)):
        with pytest.raises(SourceError) as info:
            action()
        assert "data.parquet: missing column 'period'; columns found: 'indicator', 'periode', 'value'" in str(info.value)
    with pytest.raises(SourceError, match="no such file"):
        dataset(tmp_path, path="missing.parquet")
    (tmp_path / "text.parquet").write_text("indicator,period,value\n", encoding="utf-8")
    with pytest.raises(SourceError, match="text.parquet: cannot read the file as Parquet"):
        records(tmp_path, path="text.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(SourceError) as info:
        source(tmp_path)
    assert NEEDS_PYARROW in str(info.value) and "pip install 'targetwatch[fast]'" in str(info.value)


def test_many_batches_and_few_cells_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet_source, "BATCH_ROWS", 4)
    monkeypatch.setattr(parquet_source, "RECORD_BATCH_ROWS", 3)
    monkeypatch.setattr(columnar_cells, "REMEMBERED", 2)
    n = 50
    write(tmp_path, {"indicator": [("a", "b", "c")[i % 3] for i in range(n)], "period": [str(2000 + i // 2) for i in range(n)],
                     "value": pa.array([Decimal(i) / 4 for i in range(n)], pa.decimal128(10, 2)),
                     "region": [("X", "Y", None, " X")[i % 4] for i in range(n)]})
    counts: list[int] = []
    got = agree(tmp_path)
    assert isinstance(got, Dataset) and len(dataset(tmp_path, counts=counts)) == len(got)
    assert counts == [4 * k for k in range(1, 13)] + [n]
    write(tmp_path, {"indicator": ["a"] * n, "period": [str(2000 + i) for i in range(n)], "value": [*["1"] * 46, "n/a", *["2"] * 3]})
    message = agree(tmp_path)
    assert isinstance(message, str) and "data.parquet: row 47: column 'value'" in message


def test_dictionary_columns(tmp_path: Path) -> None:
    write(tmp_path, {"indicator": pa.array(["a", "a", "b"]).dictionary_encode(), "period": ["2023", "2024", "2023"],
                     "value": [1.5, 2.25, None], "region": pa.array(["X", None, "X"]).dictionary_encode()})
    got = agree(tmp_path)
    assert isinstance(got, Dataset) and len(got) == 2


# -- both paths agree on generated files ------------------------------------------------------

VALUE_TYPES = {
    "int": (st.integers(-10**12, 10**12), pa.int64()),
    "decimal": (st.decimals(-10**6, 10**6, places=3, allow_nan=False), pa.decimal128(12, 3)),
    "float": (st.floats(-1e9, 1e9, allow_nan=False), pa.float64()),
    "string": (st.sampled_from(("1", "-0", "1.50", " 7 ", "17,192", "94.1%", "1.2万", "", "n/a")), pa.string()),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    kind = draw(st.sampled_from(sorted(VALUE_TYPES)))
    values, value_type = VALUE_TYPES[kind]
    n = draw(st.integers(0, 30))
    column = st.lists
    table: dict[str, Any] = {
        "indicator": draw(column(st.sampled_from(("a", " a", "b", "学前")), min_size=n, max_size=n)),
        "period": draw(column(st.sampled_from(("2023", "2023-07", "2023-7", "2023-Q3", "2023-08", "2024-W01", "2023-13")), min_size=n, max_size=n)),
        "value": pa.array(draw(column(st.none() | values, min_size=n, max_size=n)), value_type),
    }
    if draw(st.booleans()):
        table["region"] = pa.array(draw(column(st.sampled_from((None, "", "X", " X", "田家庵区")), min_size=n, max_size=n)), pa.string())
    if draw(st.booleans()):
        table["level"] = pa.array(draw(column(st.none() | st.integers(0, 3), min_size=n, max_size=n)), pa.int32())
    raw: dict[str, Any] = {}
    if draw(st.booleans()):
        raw["on_bad_row"] = "skip"
    if draw(st.booleans()):
        raw["constant_labels"] = {"region": "X"}
    return table, raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tables(), st.none() | st.lists(st.sampled_from(("a", "b", "c")), max_size=2))
def test_columnar_and_row_by_row_agree(tmp_path: Path, case: tuple[dict[str, Any], dict[str, Any]], wanted: list[str] | None) -> None:
    table, raw = case
    write(tmp_path, table)
    agree(tmp_path, wanted, **raw)


# -- through the command line ---------------------------------------------------------------------

RULES = """\
[[rule]]
id = "score.min"
kind = "threshold"
indicator = "score"
min = 85

[[rule]]
id = "share.min"
kind = "threshold"
indicator = "share"
min = 0.9
"""


def test_check_gives_the_same_verdicts_as_csv(tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    rows = [("score", "2023-Q1", "A", "80"), ("score", "2023-Q2", "A", "90"), ("score", "2023-Q2", "B", "84.5"),
            ("share", "2023-Q2", "A", "94.1%"), ("share", "2023-Q2", "B", "0.85")]
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "main.toml").write_text(RULES, encoding="utf-8")
    (tmp_path / "data.csv").write_text("indicator,period,district,value\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    write(tmp_path, {"indicator": [r[0] for r in rows], "period": [r[1] for r in rows], "district": [r[2] for r in rows],
                     "value": [r[3] for r in rows]})
    outputs = []
    for kind, path in (("csv", "data.csv"), ("parquet", "data.parquet")):
        config = tmp_path / f"{kind}.toml"
        config.write_text(f'rules = ["rules"]\ntimezone = "Asia/Shanghai"\nas_of = "2023-07-15"\n\n'
                          f'[[sources]]\nname = "main"\ntype = "{kind}"\npath = "{path}"\n\n'
                          '[indicators.score]\n\n[indicators.share]\nunit = "%"\n', encoding="utf-8")
        done = run_cli("check", "--dry-run", "--format", "json", "-c", str(config), cwd=tmp_path)
        assert done.returncode == 2, done.stderr  # a breach
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    statuses = sorted((v["rule"], v["labels"].get("district"), v["status"]) for v in outputs[1]["verdicts"])
    assert statuses == [("score.min", "A", "OK"), ("score.min", "B", "BREACH"), ("share.min", "A", "OK"), ("share.min", "B", "BREACH")]
