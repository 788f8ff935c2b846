"""The columnar fast path of the ``csv`` source: exactly the row-by-row reader's dataset, or
``None`` (and then the row-by-row reader reports the problem)."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targetwatch.data import Dataset
from targetwatch.default_plugins import arrow_reader, columnar, columnar_cells
from targetwatch.default_plugins.arrow_reader import read_csv_dataset
from targetwatch.default_plugins.csv_source import CsvParams, _CsvReader
from targetwatch.errors import SourceError
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext, SourceRequest

pytest.importorskip("pyarrow")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def few_rows_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Series are built a few rows' values at a time, so that small files take several rounds."""
    monkeypatch.setattr(columnar, "_ROWS", 16)
SHANGHAI = Calendar("Asia/Shanghai")


def params_of(**raw: Any) -> CsvParams:
    params, problems = parse(CsvParams, {"path": "data.csv", **raw}, ParseContext())
    assert params is not None and not problems, [str(p) for p in problems]
    return params


def fast(
    folder: Path, indicators: Sequence[str] | None = None, *, calendar: Calendar | None = SHANGHAI, counts: list[int] | None = None, **raw: Any
) -> Dataset | None:
    params = params_of(**raw)
    context = SourceContext("obs", folder, lambda problem: None, calendar)
    request = SourceRequest(None if indicators is None else frozenset(indicators))
    seen = counts if counts is not None else []
    return read_csv_dataset(params, context, context.path(params.path), request, seen.append)


def slow(folder: Path, indicators: Sequence[str] | None = None, *, calendar: Calendar | None = SHANGHAI, **raw: Any) -> Dataset:
    """What the source gives without the fast path (raises its SourceError)."""
    params = params_of(**raw)
    context = SourceContext("obs", folder, lambda problem: None, calendar)
    records = _CsvReader(params, context, context.path(params.path)).read(None if indicators is None else frozenset(indicators))
    return Dataset.from_records(records, calendar or Calendar("UTC"), source="obs")


def assert_same(got: Dataset, want: Dataset) -> None:
    """Series by series, in order: indicator, labels, periods, values (digit for digit), reported, source."""
    assert got.indicators == want.indicators
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert (a.indicator, a.labels) == (b.indicator, b.labels)
        assert a.periods == b.periods
        assert [(p.grain, p.ordinal, p.label) for p in a.periods] == [(p.grain, p.ordinal, p.label) for p in b.periods]
        assert a.values == b.values and [str(v) for v in a.values] == [str(v) for v in b.values]
        assert a.reported == b.reported
        assert a.source == b.source == "obs"


def check(folder: Path, indicators: Sequence[str] | None = None, *, calendar: Calendar | None = SHANGHAI, **raw: Any) -> Dataset | None:
    """The fast result, after checking it against the slow one (``None`` whenever the slow one fails)."""
    got = fast(folder, indicators, calendar=calendar, **raw)
    try:
        want = slow(folder, indicators, calendar=calendar, **raw)
    except Exception:  # noqa: BLE001 - whatever the row-by-row reader fails with, the fast path stands aside
        assert got is None
        return None
    # Without a calendar, a bad period in a row with a blank value is no error (no period is
    # parsed for it): the fast path stands aside for it all the same.
    assert got is not None or calendar is None, "the fast path stood aside for a file the row-by-row reader takes"
    if got is not None:
        assert_same(got, want)
    return got


def write(folder: Path, text: str | bytes, name: str = "data.csv") -> None:
    target = folder / name
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")


# -- the common cases take the fast path ------------------------------------------------------

BENCH = "indicator,region,period,value\n" + "".join(
    f"ind_{i:02d},R{r:05d},2023-{m:02d},{(i * 37 + r * 11 + m * 5) % 997 - 100}\n"
    for i in range(1, 4) for r in range(1, 30) for m in range(1, 13)
)


def test_the_benchmark_shape_is_read_fast(tmp_path: Path) -> None:
    write(tmp_path, BENCH)
    counts: list[int] = []
    got = fast(tmp_path, counts=counts)
    assert got is not None
    assert_same(got, slow(tmp_path))
    assert len(got) == 3 * 29 and counts[-1] == 3 * 29 * 12
    assert check(tmp_path, ["ind_02"]) is not None
    assert check(tmp_path, calendar=None) is not None


def test_rows_in_any_order_give_series_in_order_of_first_appearance(tmp_path: Path) -> None:
    lines = BENCH.splitlines()
    body = lines[1:]
    body = body[::7] + [line for i, line in enumerate(body) if i % 7]  # shuffled, deterministically
    write(tmp_path, "\n".join([lines[0], *reversed(body)]) + "\n")
    assert check(tmp_path) is not None


def test_many_blocks_and_few_cells_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrow_reader, "BLOCK_SIZE", 512)
    monkeypatch.setattr(columnar_cells, "REMEMBERED", 3)
    lines = BENCH.splitlines()
    write(tmp_path, "\n".join([lines[0], *lines[:0:-1]]) + "\n")
    counts: list[int] = []
    got = fast(tmp_path, counts=counts)
    assert got is not None and len(counts) > 10 and counts[-1] == len(lines) - 1
    assert_same(got, slow(tmp_path))
    write(tmp_path, BENCH + lines[1].replace("2023-01", "2023-1") + "\n")  # a duplicate, blocks apart
    assert fast(tmp_path) is None


def test_the_generated_benchmark_file_if_present(tmp_path: Path) -> None:
    data = REPO / "benchmarks" / ".data" / "small-s6" / "data.csv"
    if not data.is_file():
        pytest.skip("benchmark data not generated")
    assert check(tmp_path, path=str(data)) is not None


def test_decimals_keep_their_digits(tmp_path: Path) -> None:
    write(tmp_path, "indicator,period,value\na,2023-01,1.50\na,2023-02,-0\na,2023-03,007\na,2023-04,-0.00\n"
          "a,2023-05,+5\na,2023-06, 5 \na,2023-07,-12.340\na,2023-08,1e3\na,2023-09,123456789012345678901234567890\n")
    got = check(tmp_path)
    assert got is not None
    assert [str(v) for v in got.series("a")[0].values] == [
        "1.50", "-0", "7", "-0.00", "5", "5", "-12.340", "1E+3", "123456789012345678901234567890"
    ]


def test_separators_percent_and_wan_are_exact(tmp_path: Path) -> None:
    write(tmp_path, 'indicator,period,value\na,2023-01,"17,192"\na,2023-02,94.1%\na,2023-03,1.2万\n')
    got = check(tmp_path)
    assert got is not None and [str(v) for v in got.series("a")[0].values] == ["17192", "0.941", "12000.0"]


def test_labels_stripping_blanks_and_options(tmp_path: Path) -> None:
    write(tmp_path, "indicator , period,value,district,school,note\n"
          " a ,2023,1, D ,S,n\na,2024,2,,S,n\nb,2023 ,3,D,,x\nb,2024,,D,,x\n")
    for options in ({}, {"labels": ["school"]}, {"ignore": ["note", "school"]}, {"constant_labels": {"city": "淮南"}},
                    {"constant_labels": {"school": "S"}, "ignore": ["note"]}, {"available": "period_end"}):
        assert check(tmp_path, **options) is not None, options
    assert check(tmp_path, ["b"]) is not None


def test_renamed_columns_fixed_indicator_bom_and_delimiters(tmp_path: Path) -> None:
    write(tmp_path, b"\xef\xbb\xbf" + "期间;数值;区县\n2023-07;5;田家庵区\n2023-08;6;田家庵区\n".encode())
    assert check(tmp_path, indicator="edu.a", delimiter=";", columns={"period": "期间", "value": "数值"}) is not None
    assert check(tmp_path, ["edu.b"], indicator="edu.a", delimiter=";", columns={"period": "期间", "value": "数值"}) is not None
    write(tmp_path, "indicator\tperiod\tvalue\na\t2023\t2\n")
    assert check(tmp_path, delimiter="\t") is not None


def test_quoted_cells(tmp_path: Path) -> None:
    write(tmp_path, 'indicator,period,value,note\n"a",2023,1,"two\nlines"\na,2024,"2","say ""hi"""\n\n"a,b",2023,3,\n')
    assert check(tmp_path) is not None
    write(tmp_path, 'indicator,period,value\na,2023,"1\n')  # a quote left open takes the rest of the file
    assert check(tmp_path) is not None


def test_reported_at(tmp_path: Path) -> None:
    write(tmp_path, "indicator,period,value,reported_at\na,2023-01,1,2023-02-03\na,2023-02,2,\na,2023-03,3,2023-04-01T09:30\nb,2023-01,1,\n")
    assert check(tmp_path) is not None
    assert check(tmp_path, available="period_end") is not None
    write(tmp_path, "indicator,region,period,value,reported_at\n" + "".join(
        f"i{i},r{r},2023-{m:02d},{i + r + m},{f'2023-{m + 1:02d}-{r + 1:02d}' if (i + r + m) % 3 else ''}\n"
        for i in range(3) for r in range(10) for m in range(1, 7)
    ))
    got = check(tmp_path)
    assert got is not None and sum(s.reported is not None for s in got) == 30
    assert check(tmp_path, available="period_end") is not None


def test_unwanted_rows_are_not_checked(tmp_path: Path) -> None:
    write(tmp_path, "indicator,period,value\na,2023,1\nb,2023-13,n/a\nb,,\n")
    assert check(tmp_path, ["a"]) is not None
    assert check(tmp_path, []) is not None


def test_blank_values_are_not_reported_and_not_checked_for_labels(tmp_path: Path) -> None:
    write(tmp_path, "indicator,period,value,city\na,2023,1,\na,2024, ,other\n")
    assert check(tmp_path, constant_labels={"city": "淮南"}) is not None


def test_no_rows(tmp_path: Path) -> None:
    write(tmp_path, "indicator,period,value\n")
    got = check(tmp_path)
    assert got is not None and len(got) == 0


# -- whenever the row-by-row reader would report a problem: None ------------------------------

BAD = {
    "too few cells": "indicator,period,value\na,2023,1\na,2024\n",
    "too many cells": "indicator,period,value\na,2023,1\na,2024,2,x\n",
    "blank indicator": "indicator,period,value\na,2023,1\n ,2024,2\n",
    "blank period": "indicator,period,value\na,2023,1\na, ,2\n",
    "blank period, blank value": "indicator,period,value\na,2023,1\na,,\n",
    "not a number": "indicator,period,value\na,2023,1\na,2024,n/a\n",
    "bad separators": "indicator,period,value\na,2023,1\na,2024,\"1,2,3\"\n",
    "unknown period": "indicator,period,value\na,2023,1\na,2023-13,2\n",
    "unknown period, blank value": "indicator,period,value\na,2023,1\na,2023-13,\n",
    "duplicate": "indicator,period,value\na,2023,1\na,2023,2\n",
    "duplicate by equal texts": "indicator,period,value,d\na,2023-07,1,x\n a ,2023-7,2, x\n",
    "constant label clash": "indicator,period,value,city\na,2023,1,淮南\na,2024,2,other\n",
    "missing column": "indicator,periode,value\na,2023,1\n",
    "empty": "",
    "bad reported_at": "indicator,period,value,reported_at\na,2023,1,yesterday\n",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gives_none(tmp_path: Path, case: str) -> None:
    write(tmp_path, BAD[case])
    raw = {"constant_labels": {"city": "淮南"}} if "constant" in case else {}
    assert fast(tmp_path, **raw) is None
    with pytest.raises(SourceError):
        slow(tmp_path, **raw)


def test_bad_rows_to_skip_give_none(tmp_path: Path) -> None:
    write(tmp_path, BAD["not a number"])
    assert fast(tmp_path, on_bad_row="skip") is None  # the row-by-row reader counts the skipped row


def test_bad_period_without_calendar(tmp_path: Path) -> None:
    write(tmp_path, BAD["unknown period"])
    assert fast(tmp_path, calendar=None) is None
    with pytest.raises(SourceError):
        slow(tmp_path, calendar=None)


def test_encodings(tmp_path: Path) -> None:
    data = "indicator,period,value,district\na,2023,1,田家庵区\n"
    write(tmp_path, data.encode("gbk"))
    assert fast(tmp_path, encoding="gbk") is None and len(slow(tmp_path, encoding="gbk")) == 1
    assert fast(tmp_path) is None  # not UTF-8
    with pytest.raises(SourceError):
        slow(tmp_path)
    write(tmp_path, b"indicator,period,value,d\na,2023,1,\xed\xa0\x80\n")  # an encoded surrogate
    assert fast(tmp_path) is None
    write(tmp_path, b"\xef\xbb\xbf" + data.encode())
    assert check(tmp_path, encoding="utf-8") is None  # the mark is then part of the first header cell
    write(tmp_path, b"\xef\xbb\xbf" + "district,indicator,period,value\n田家庵区,a,2023,1\n".encode())
    assert check(tmp_path, encoding="utf-8") is not None


def test_unusual_files_give_none(tmp_path: Path) -> None:
    write(tmp_path, "\nindicator,period,value\na,2023,1\n")  # the header is not on line 1
    assert fast(tmp_path) is None and len(slow(tmp_path)) == 1
    write(tmp_path, "indicator,period,value\na,2023,1\n   \n")  # a line of spaces
    assert fast(tmp_path) is None and len(slow(tmp_path)) == 1
    assert fast(tmp_path, path="missing.csv") is None


def test_cells_longer_than_the_csv_module_takes(tmp_path: Path) -> None:
    write(tmp_path, "indicator,period,value,note\na,2023,1," + "x" * 300 + "\n")
    old = csv.field_size_limit(200)
    try:
        assert fast(tmp_path) is None
        with pytest.raises(SourceError):
            slow(tmp_path)
    finally:
        csv.field_size_limit(old)
    assert check(tmp_path) is not None


def test_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, BENCH)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert fast(tmp_path) is None


# -- equivalence on generated files ---------------------------------------------------------

INDICATORS = ("a", "edu.x", "学前", " a", "b ")
PERIOD_TEXTS = ("2023", "2023-H2", "2023-Q3", "2023-07", "2023-7", "2023-08", "2023-W27", "2023-07-15", "FY2023",
                "2022-12", " 2024-01 ", "2023-13", "")
VALUE_TEXTS = ("0", "1", "-1", "17192", "1.50", "-0.25", "-0", "007", "+5", " 5", "", " ", "17,192", "94.1%", "1.2万",
               "1e3", "n/a", "3.0", "123456789012345678901234")
LABEL_TEXTS = ("", " ", "田家庵区", "A", " A ", "x,y", 'say "hi"', "1", "é")
LABEL_NAMES = ("district", "区县", "level", "note")


@st.composite
def files(draw: st.DrawFn) -> tuple[str, dict[str, Any], list[str] | None]:
    fixed = draw(st.booleans().map(lambda b: b and draw(st.sampled_from(INDICATORS[:3]))))
    label_names = draw(st.lists(st.sampled_from(LABEL_NAMES), unique=True, max_size=3))
    rename = draw(st.booleans())
    core = {"indicator": "指标" if rename else "indicator", "period": "period", "value": "数值" if rename else "value"}
    header = [core[k] for k in ("period", "value")] + ([] if fixed else [core["indicator"]]) + label_names
    header = draw(st.permutations(header))
    options: dict[str, Any] = {}
    if rename:
        options["columns"] = {"indicator": "指标", "value": "数值"} if not fixed else {"value": "数值"}
    if fixed:
        options["indicator"] = fixed
    if label_names and draw(st.booleans()):
        options[draw(st.sampled_from(("labels", "ignore")))] = label_names[:1]
    if draw(st.booleans()):
        options["constant_labels"] = {draw(st.sampled_from(LABEL_NAMES)): draw(st.sampled_from(("A", "淮南")))}
    if draw(st.booleans()):
        options["available"] = "period_end"
    delimiter = draw(st.sampled_from((",", ";", "\t")))
    if delimiter != ",":
        options["delimiter"] = delimiter
    # Mostly good cells, sometimes one of the odd ones.
    period = st.one_of(st.sampled_from(PERIOD_TEXTS[:10]), st.sampled_from(PERIOD_TEXTS)) if draw(st.booleans()) else st.sampled_from(PERIOD_TEXTS[:10])
    value = st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from(VALUE_TEXTS[:10]), st.sampled_from(VALUE_TEXTS))
    cells = {
        core["indicator"]: st.sampled_from(INDICATORS),
        core["period"]: period,
        core["value"]: value,
        **{name: st.sampled_from(LABEL_TEXTS) for name in label_names},
    }
    rows = draw(st.lists(st.fixed_dictionaries({name: cells[name] for name in header}), max_size=40))
    # Keys mostly distinct, so that most files have no duplicates.
    if draw(st.booleans()):
        seen: set[tuple[str, ...]] = set()
        unique = []
        for row in rows:
            key = tuple(row[n].strip() for n in header if n != core["value"])
            if key not in seen:
                seen.add(key)
                unique.append(row)
        rows = unique
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(("\n", "\r\n"))))
    writer.writerow(header)
    writer.writerows([[row[n] for n in header] for row in rows])
    wanted = draw(st.none() | st.lists(st.sampled_from(("a", "edu.x", "学前", "b", "zz")), max_size=3))
    return out.getvalue(), options, wanted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files(), st.sampled_from((SHANGHAI, None)), st.booleans())
def test_same_dataset_as_the_row_by_row_reader(tmp_path: Path, case: tuple[str, dict[str, Any], list[str] | None], calendar: Calendar | None, bom: bool) -> None:
    text, options, wanted = case
    write(tmp_path, (b"\xef\xbb\xbf" if bom else b"") + text.encode())
    check(tmp_path, wanted, calendar=calendar, **options)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(("a", "b", "c")), st.sampled_from(("X", "Y", "")), st.integers(2018, 2024), st.integers(1, 12),
                  st.one_of(st.integers(-10**12, 10**12).map(str), st.decimals(-10**6, 10**6, places=3, allow_nan=False).map(str))),
        unique_by=lambda r: (r[0], r[1], r[2], r[3]),
        min_size=1,
        max_size=60,
    )
)
def test_plain_files_always_take_the_fast_path(tmp_path: Path, rows: list[tuple[str, str, int, int, str]]) -> None:
    write(tmp_path, "indicator,region,period,value\n" + "".join(f"{i},{r},{y}-{m:02d},{v}\n" for i, r, y, m, v in rows))
    assert check(tmp_path) is not None



def quoted(text: str) -> st.SearchStrategy[str]:
    """A cell holding ``text`` written in one of the ways a CSV file may hold it."""
    return st.sampled_from((
        text, f'"{text}"', f' {text} ', f'"{text}" ', f'"{text[:1]}"{text[1:]}', f'"{text}\n"', f'"{text}\r\n"',
        f'"{text}""x"', f'{text}"', f'{text[:1]}"{text[1:]}',
    ))


@st.composite
def texts(draw: st.DrawFn) -> str:
    rows = []
    for n in range(draw(st.integers(0, 12))):
        cells = [draw(st.sampled_from(("a", "b", "学前")).flatmap(quoted)), draw(quoted(f"20{10 + n}")),
                 draw(st.sampled_from(("1", "-2.50", "1,000", "7")).flatmap(quoted))]
        rows.append(",".join(cells) + draw(st.sampled_from(("\n", "\r\n", "\r", "\n\n", ",\n"))))
    return "".join(rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts())
def test_any_text_is_parsed_as_the_csv_module_parses_it(tmp_path: Path, body: str) -> None:
    """Quotes, stray quotes, line breaks in and out of quotes, blank lines, trailing cells:
    whatever pyarrow makes of the text, the dataset is the row-by-row one (or the fast path
    stands aside)."""
    write(tmp_path, "indicator,period,value\n" + body)
    got = fast(tmp_path)
    try:
        want = slow(tmp_path)
    except SourceError:
        assert got is None
        return
    if got is not None:
        assert_same(got, want)
