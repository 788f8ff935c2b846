"""The ``csv`` source, on real files."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targetwatch.default_plugins.csv_source import CsvParams, CsvSource, register_sources
from targetwatch.errors import Problem, SourceError
from targetwatch.model import Record
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext, SourceType


def read(
    tmp_path: Path,
    text: str | bytes | None = None,
    indicators: list[str] | None = None,
    *,
    calendar: Calendar | None = None,
    skipped: list[Problem] | None = None,
    **raw: Any,
) -> list[Record]:
    if text is not None:
        target = tmp_path / "data.csv"
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
    params, problems = parse(CsvParams, {"path": "data.csv", **raw}, ParseContext())
    assert params is not None and not problems, [str(p) for p in problems]
    skip = skipped.append if skipped is not None else (lambda p: None)
    source = CsvSource().open(params, SourceContext("obs", tmp_path, skip, calendar))
    return list(source.read(indicators))


def error(tmp_path: Path, text: str | bytes, **raw: Any) -> str:
    with pytest.raises(SourceError) as info:
        read(tmp_path, text, **raw)
    return str(info.value)


BASIC = """indicator,period,value,district
edu.a,2023-07,"17,192",田家庵区
edu.a,2023-08,4.89%,田家庵区
edu.b,2023-07,1.2万,八公山区
"""


def test_registers() -> None:
    got: list[SourceType] = []
    register_sources(got.append)
    assert [t.name for t in got] == ["csv"] and got[0].Params is CsvParams


def test_basic(tmp_path: Path) -> None:
    records = read(tmp_path, BASIC)
    assert records == [
        Record("edu.a", "2023-07", Decimal(17192), (("district", "田家庵区"),), "data.csv:2"),
        Record("edu.a", "2023-08", Decimal("0.0489"), (("district", "田家庵区"),), "data.csv:3"),
        Record("edu.b", "2023-07", Decimal(12000), (("district", "八公山区"),), "data.csv:4"),
    ]


def test_indicator_filter(tmp_path: Path) -> None:
    records = read(tmp_path, BASIC + "edu.c,2023-07,n/a,X\n", ["edu.b"])
    assert [(r.indicator, r.origin) for r in records] == [("edu.b", "data.csv:4")]  # edu.c's bad value never parsed
    assert read(tmp_path, None, []) == []


def test_chinese_headers_with_bom_and_rename(tmp_path: Path) -> None:
    text = "指标,期间,数值,区县,备注\n学前.毛入园率,2023,94.1%,田家庵区,教育局\n"
    records = read(
        tmp_path,
        b"\xef\xbb\xbf" + text.encode("utf-8"),
        columns={"indicator": "指标", "period": "期间", "value": "数值"},
        ignore=["备注"],
    )
    assert records == [Record("学前.毛入园率", "2023", Decimal("0.941"), (("区县", "田家庵区"),), "data.csv:2")]


def test_gbk_encoding(tmp_path: Path) -> None:
    data = "indicator,period,value,district\na,2023,1,田家庵区\n".encode("gbk")
    assert read(tmp_path, data, encoding="gbk")[0].labels == (("district", "田家庵区"),)
    text = error(tmp_path, data)
    assert "data.csv:2" in text and "cannot decode the text as utf-8-sig" in text and "gbk" in text


def test_undecodable_line_is_exact_past_the_read_ahead(tmp_path: Path) -> None:
    rows = "".join(f"a,2023-{1 + i % 12:02d},{i},x\n" for i in range(3000)).encode()
    text = error(tmp_path, b"indicator,period,value,d\n" + rows + "a,2023,1,田\n".encode("gbk"))
    assert "data.csv:3002:" in text


def test_fixed_indicator(tmp_path: Path) -> None:
    text = "period,value\n2023-07,5\n"
    assert read(tmp_path, text, indicator="edu.a") == [Record("edu.a", "2023-07", Decimal(5), (), "data.csv:2")]
    assert read(tmp_path, text, ["edu.b"], indicator="edu.a") == []


def test_labels_and_ignore(tmp_path: Path) -> None:
    text = "indicator,period,value,district,school,note\na,2023,1,D,S,n\n"
    assert read(tmp_path, text, labels=["school"])[0].labels == (("school", "S"),)
    assert read(tmp_path, text, ignore=["note", "school"])[0].labels == (("district", "D"),)


def test_constant_labels(tmp_path: Path) -> None:
    rec = read(tmp_path, "indicator,period,value\na,2023,1\n", constant_labels={"district": "田家庵区"})[0]
    assert rec.labels == (("district", "田家庵区"),)


def test_percent_false(tmp_path: Path) -> None:
    text = error(tmp_path, "indicator,period,value\na,2023,1\na,2023,94.1%\n", percent=False)
    assert "data.csv:3: column 'value': expected a number without a percent sign" in text and "'94.1%'" in text


def test_delimiter(tmp_path: Path) -> None:
    assert read(tmp_path, "indicator;period;value\na;2023;1,500\n", delimiter=";")[0].value == Decimal(1500)
    # A decimal comma is not read as a thousands separator (it would silently be 15).
    with pytest.raises(SourceError, match="found '1,5'"):
        read(tmp_path, "indicator;period;value\na;2023;1,5\n", delimiter=";")
    assert read(tmp_path, "indicator\tperiod\tvalue\na\t2023\t2\n", delimiter="\t")[0].value == Decimal(2)


def test_param_problems() -> None:
    _, found = parse(CsvParams, {"path": "d.csv", "delimiter": ";;", "encoding": "klingon"}, ParseContext(file="t.toml"))
    text = " | ".join(str(p) for p in found)
    assert "delimiter: expected a single character, found ';;'" in text
    assert "encoding: expected a text encoding" in text and "'klingon'" in text


def test_bad_value_message(tmp_path: Path) -> None:
    text = error(tmp_path, BASIC + "edu.a,2023-09,n/a,田家庵区\n")
    assert text.startswith("source 'obs': data.csv:5: column 'value': expected a number") and text.endswith("found 'n/a'")


def test_line_numbers_count_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    text = 'indicator,period,value,note\n\na,2023,1,"two\nlines"\n\na,2023,bad,x\n'
    assert "data.csv:6: column 'value'" in error(tmp_path, text, ignore="note")
    assert read(tmp_path, text.replace("bad", "2"), ignore="note")[1].origin == "data.csv:6"


def test_blank_value_is_not_reported_but_blank_period_is_bad(tmp_path: Path) -> None:
    assert read(tmp_path, "indicator,period,value\na,2023,\na,2024, \n") == []
    text = error(tmp_path, "indicator,period,value\na,,1\n")
    assert "data.csv:2: column 'period': expected a period such as 2023-07, found an empty cell" in text


def test_missing_column_once(tmp_path: Path) -> None:
    skipped: list[Problem] = []
    with pytest.raises(SourceError) as info:
        read(tmp_path, "indicator,periode,value\na,2023,1\n", skipped=skipped, on_bad_row="skip")
    assert "data.csv:1: missing column 'period'; columns found: 'indicator', 'periode', 'value'" in str(info.value)
    assert skipped == []


def test_wrong_cell_count(tmp_path: Path) -> None:
    assert "data.csv:2: expected 3 cells as in the header, found 2" in error(tmp_path, "indicator,period,value\na,2023\n")
    assert "found 4" in error(tmp_path, "indicator,period,value\na,2023,1,x\n")
    assert len(read(tmp_path, "indicator,period,value\na,2023,1,,\n")) == 1  # trailing empty cells are fine


def test_empty_and_missing_file(tmp_path: Path) -> None:
    assert "the file is empty" in error(tmp_path, "\n\n")
    with pytest.raises(SourceError) as info:
        read(tmp_path, None, path="missing.csv")
    assert "missing.csv: no such file" in str(info.value) and str(tmp_path) in str(info.value)


def test_skip_mode_counts_bad_rows(tmp_path: Path) -> None:
    skipped: list[Problem] = []
    text = "indicator,period,value\na,2023-01,1\na,2023-02,n/a\n,2023-03,3\na,2023-04,4\na,2023-05\n"
    records = read(tmp_path, text, skipped=skipped, on_bad_row="skip")
    assert [r.period for r in records] == ["2023-01", "2023-04"]
    assert [(p.file, p.line) for p in skipped] == [("data.csv", 3), ("data.csv", 4), ("data.csv", 6)]
    assert "column 'indicator'" in skipped[1].message


def test_bad_period_with_calendar(tmp_path: Path) -> None:
    text = "indicator,period,value\na,2023-12,1\na,2023-13,2\n"
    with pytest.raises(SourceError) as info:
        read(tmp_path, text, calendar=Calendar("Asia/Shanghai"))
    assert "data.csv:3: column 'period': expected a period" in str(info.value) and "'2023-13'" in str(info.value)
    skipped: list[Problem] = []
    records = read(tmp_path, None, calendar=Calendar("Asia/Shanghai"), skipped=skipped, on_bad_row="skip")
    assert [r.period for r in records] == ["2023-12"] and [p.line for p in skipped] == [3]


# -- round trip ---------------------------------------------------------------------------------

names = st.text(st.sampled_from("abcxyz.学前教育"), min_size=1, max_size=8).filter(lambda s: s == s.strip())
periods = st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2000, 2030), st.integers(1, 12))
values = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False)
label_values = st.text(st.sampled_from("AB ,\"田家庵区八公山\n"), min_size=1, max_size=6).map(str.strip).filter(bool)
rows = st.lists(st.tuples(names, periods, values, label_values), max_size=20)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rows)
def test_round_trip(tmp_path: Path, data: list[tuple[str, str, Decimal, str]]) -> None:
    with (tmp_path / "data.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["indicator", "period", "value", "district"])
        writer.writerows(data)
    got = read(tmp_path)
    assert [(r.indicator, r.period, r.value, r.labels) for r in got] == [(i, p, v, (("district", d),)) for i, p, v, d in data]
