"""The ``csv`` source's ``read_dataset``: the same dataset, errors and skipped rows as
``Dataset.from_records`` over its records, for any file and any parameters."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import BUILTIN_GRAINS, calendars, periods

from targetwatch.data import Dataset
from targetwatch.default_plugins.csv_dataset import period_order
from targetwatch.default_plugins.csv_source import CsvParams, CsvSource
from targetwatch.errors import Problem, SourceError
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar, Term
from targetwatch.source import SourceContext, SourceRequest

TERM = Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 1, 20))
CALENDAR = Calendar("Asia/Shanghai", terms=[TERM], fiscal_year_start=4)


def source(tmp_path: Path, skipped: list[Problem], calendar: Calendar | None = CALENDAR, **raw: Any) -> Any:
    params, problems = parse(CsvParams, {"path": "data.csv", "reader": "python", **raw}, ParseContext())
    assert params is not None and not problems, [str(p) for p in problems]
    return CsvSource().open(params, SourceContext("obs", tmp_path, skipped.append, calendar))


def dump(dataset: Dataset) -> list[tuple[Any, ...]]:
    """Everything a series holds, values by their exact text."""
    return [(s.indicator, s.labels, s.periods, tuple(str(v) for v in s.values), s.source, s.reported) for s in dataset]


def outcome(build: Any) -> tuple[str, Any]:
    try:
        return "ok", dump(build())
    except SourceError as exc:
        return "error", (str(exc), exc.source, exc.problem)


def both(tmp_path: Path, indicators: frozenset[str] | None = None, **raw: Any) -> tuple[Any, Any]:
    """(outcome, skipped) of read_dataset and of the records, for the file in tmp_path."""
    fast_skips: list[Problem] = []
    slow_skips: list[Problem] = []
    fast = source(tmp_path, fast_skips, **raw)
    slow = source(tmp_path, slow_skips, **raw)
    request = SourceRequest(indicators)
    got = outcome(lambda: fast.read_dataset(request, lambda n: None))
    expected = outcome(lambda: Dataset.from_records(slow.read(indicators), CALENDAR, source="obs"))
    return (got, fast_skips), (expected, slow_skips)


def write(tmp_path: Path, header: list[str], rows: list[list[str]], *, blank_lines: bool = False) -> None:
    with (tmp_path / "data.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, row in enumerate(rows):
            if blank_lines and i % 3 == 2:
                handle.write("\n")
            writer.writerow(row)


# -- generated files ------------------------------------------------------------------------------

def mostly(good: list[str], other: list[str]) -> st.SearchStrategy[str]:
    """One of ``good`` three times in four, else one of ``other`` (blanks, bad cells, odd forms)."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(good), st.sampled_from(other))


indicators = mostly(["a", "b", "c"], [" a ", "b.x", "", " "])
period_texts = mostly(
    ["2023-07", "2023-08", "2023-06", "2022-12", "2023", "2023-H2", "2023-Q3", "2023-07-15"],
    ["2023h1", "2023-7", " 2023-08 ", "2023-W27", "FY2023", "2023-autumn", "2023-13", "", "soon"],
)
value_texts = mostly(["1", "2", "-2.5", "0.10", "007", "3"], ["17,192", "94.1%", "1.2万", "", " ", "n/a", "1e3", " 5 ", "٣"])
label_texts = mostly(["A", "B"], [" A ", "", "田家庵区", "x\ny"])
reported_texts = mostly(["", "2023-08-05"], ["2023-08-05T09:30", " 2023-09-01 ", "later"])


@st.composite
def files(draw: st.DrawFn) -> dict[str, Any]:
    fixed = draw(st.booleans())
    renamed = draw(st.booleans())
    names = {"indicator": "指标", "period": "期间", "value": "数值"} if renamed else {}
    if fixed:
        names.pop("indicator", None)
    core = [names.get(k, k) for k in ("indicator", "period", "value") if not (fixed and k == "indicator")]
    extra = draw(st.lists(st.sampled_from(["district", "level", "note", "reported_at"]), unique=True))
    if renamed and "reported_at" in extra and draw(st.booleans()):
        names["reported_at"] = "填报日期"
    header = draw(st.permutations(core + [names.get(c, c) for c in extra]))
    raw: dict[str, Any] = {}
    if fixed:
        raw["indicator"] = draw(st.sampled_from(["a", "b"]))
    if names:
        raw["columns"] = names
    choice = draw(st.sampled_from(["all", "ignore", "labels"]))
    if choice == "ignore" and "note" in extra:
        raw["ignore"] = ["note"]
    elif choice == "labels":
        raw["labels"] = [c for c in extra if c in ("district", "level")]
    if draw(st.booleans()):
        raw["constant_labels"] = {draw(st.sampled_from(["district", "region"])): "A"}
    raw["available"] = draw(st.sampled_from(["period_start", "period_end"]))
    raw["on_bad_row"] = draw(st.sampled_from(["error", "skip"]))
    raw["percent"] = draw(st.booleans())
    cell = {
        names.get("indicator", "indicator"): indicators, names.get("period", "period"): period_texts,
        names.get("value", "value"): value_texts, "district": label_texts, "level": label_texts,
        "note": st.text(max_size=3), names.get("reported_at", "reported_at"): reported_texts,
    }
    row = st.fixed_dictionaries({c: cell[c] for c in header}).map(lambda r: [r[c] for c in header])
    rows: list[list[str]] = draw(st.lists(row, min_size=1, max_size=30))
    if draw(st.booleans()):  # files are usually sorted by series and period
        rows.sort(key=lambda r: (r[1:], r[:1]))
    if draw(st.booleans()):  # a row of another width
        at = draw(st.integers(0, len(rows) - 1))
        rows[at] = rows[at][: draw(st.integers(0, len(header) + 2))] + draw(st.lists(st.sampled_from(["", "z"]), max_size=2))
    wanted = draw(st.none() | st.none() | st.frozensets(st.sampled_from(["a", "b", "c"])))
    return {"header": header, "rows": rows, "raw": raw, "wanted": wanted, "blank_lines": draw(st.booleans())}


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(files())
def test_read_dataset_is_from_records_of_read(tmp_path: Path, case: dict[str, Any]) -> None:
    write(tmp_path, case["header"], case["rows"], blank_lines=case["blank_lines"])
    got, expected = both(tmp_path, case["wanted"], **case["raw"])
    assert got == expected


@st.composite
def sorted_files(draw: st.DrawFn) -> list[list[str]]:
    """Long, mostly clean files sorted by series and period, with the odd row out of place."""
    series = draw(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["A", "B", "C", ""])), min_size=1, max_size=6, unique=True))
    grain = draw(st.sampled_from(BUILTIN_GRAINS))
    chosen = sorted(set(draw(st.lists(periods(grain, CALENDAR), min_size=1, max_size=12))))
    rows = [[ind, str(p), str(draw(st.integers(-5, 5))), district] for ind, district in series for p in chosen]
    for _ in range(draw(st.integers(0, 3))):
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows) - 1))
        rows[i], rows[j] = rows[j], rows[i]
    if draw(st.booleans()):
        rows.insert(draw(st.integers(0, len(rows))), list(draw(st.sampled_from(rows))))  # a duplicate
    return rows


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(sorted_files(), st.sampled_from(["error", "skip"]))
def test_sorted_files_with_rows_out_of_place(tmp_path: Path, rows: list[list[str]], on_bad_row: str) -> None:
    write(tmp_path, ["indicator", "period", "value", "district"], rows)
    got, expected = both(tmp_path, on_bad_row=on_bad_row)
    assert got == expected


@given(calendars(), st.sampled_from(BUILTIN_GRAINS), st.data())
def test_period_order_sorts_as_periods_do(calendar: Calendar, grain: str, data: st.DataObject) -> None:
    a = data.draw(periods(grain, calendar))
    b = data.draw(periods(data.draw(st.sampled_from(BUILTIN_GRAINS)), calendar))
    assert (period_order(a) < period_order(b)) == ((a.start, a.end, a.grain) < (b.start, b.end, b.grain))
    assert (period_order(a) == period_order(b)) == (a == b)


# -- examples -------------------------------------------------------------------------------------

def test_duplicate_names_both_lines(tmp_path: Path) -> None:
    write(tmp_path, ["indicator", "period", "value", "district"], [
        ["a", "2023-01", "1", "A"], ["a", "2023-02", "2", "A"], ["b", "2023-01", "3", "A"], ["a", "2023-1", "4", "A"],
    ])
    (got, _), (expected, _) = both(tmp_path)
    assert got == expected
    assert got[0] == "error" and got[1][0] == (
        "source 'obs': data.csv:5: duplicate observation of a {'district': 'A'} for 2023-01 (first at data.csv:2)"
    )


def test_unsorted_series_are_sorted_and_keep_first_seen_order(tmp_path: Path) -> None:
    write(tmp_path, ["indicator", "period", "value", "district"], [
        ["b", "2023-03", "1", "A"], ["a", "2023-02", "", "A"], ["a", "2023-01", "2", "A"], ["b", "2023-01", "3", "A"],
        ["a", "2022", "4", "A"], ["b", "2023-02", "5.50", "A"],
    ])
    skipped: list[Problem] = []
    data = source(tmp_path, skipped).read_dataset(SourceRequest(), lambda n: None)
    assert [(s.indicator, [str(p) for p in s.periods], [str(v) for v in s.values]) for s in data] == [
        ("b", ["2023-01", "2023-02", "2023-03"], ["3", "5.50", "1"]),
        ("a", ["2022", "2023-01"], ["4", "2"]),
    ]
    (got, _), (expected, _) = both(tmp_path)
    assert got == expected


def test_bad_rows_skipped_in_order(tmp_path: Path) -> None:
    write(tmp_path, ["indicator", "period", "value"], [
        ["a", "2023-01", "1"], ["a", "2023-02", "n/a"], ["", "2023-03", "3"], ["a", "2023-13", "4"], ["a", "2023-05"],
        ["a", "2023-06", "6"],
    ])
    (got, got_skips), (expected, expected_skips) = both(tmp_path, on_bad_row="skip")
    assert got == expected and got_skips == expected_skips
    assert [p.line for p in got_skips] == [3, 4, 5, 6]


def test_reported_at_and_period_end(tmp_path: Path) -> None:
    write(tmp_path, ["indicator", "period", "value", "reported_at"], [
        ["a", "2023-07", "1", "2023-08-05"], ["a", "2023-08", "2", ""], ["b", "2023-07", "3", ""],
    ])
    for available in ("period_start", "period_end"):
        (got, _), (expected, _) = both(tmp_path, available=available)
        assert got == expected
    data = source(tmp_path, [], available="period_end").read_dataset(SourceRequest(), lambda n: None)
    a = data.get("a", ())
    assert a is not None and a.reported is not None
    assert [m.isoformat() for m in a.reported if m is not None] == ["2023-08-05T00:00:00+08:00", "2023-09-01T00:00:00+08:00"]


def test_without_a_calendar_the_engine_builds_from_records(tmp_path: Path) -> None:
    write(tmp_path, ["indicator", "period", "value"], [["a", "2023", "1"]])
    assert source(tmp_path, [], calendar=None).read_dataset is None


def test_rows_hears_progress(tmp_path: Path) -> None:
    write(tmp_path, ["indicator", "period", "value", "district"], [["a", "2023-01", "1", f"d{i}"] for i in range(120_000)])
    heard: list[int] = []
    data = source(tmp_path, []).read_dataset(SourceRequest(), heard.append)
    assert len(data) == 120_000
    assert heard[-1] == 120_000 and heard[:-1] == sorted(heard[:-1]) and len(heard) >= 3


def test_file_errors_are_the_same(tmp_path: Path) -> None:
    for content in (b"", b"\n\n", b"indicator,periode,value\na,2023,1\n", b"indicator,period,value\na,2023,1\n" + "a,2024,1,田\n".encode("gbk")):
        (tmp_path / "data.csv").write_bytes(content)
        (got, _), (expected, _) = both(tmp_path)
        assert got == expected and got[0] == "error"
    with pytest.raises(SourceError, match="no such file"):
        source(tmp_path, [], path="missing.csv").read_dataset(SourceRequest(), lambda n: None)
