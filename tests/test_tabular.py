"""The shared row -> record conversion and the common parameters of tabular sources."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from targetwatch.default_plugins.csv_source import CsvParams
from targetwatch.default_plugins.json_source import JsonParams
from targetwatch.default_plugins.sqlite_source import SqliteParams
from targetwatch.default_plugins.tabular import RowConverter, TabularParams
from targetwatch.errors import Problem, SourceError
from targetwatch.params import ParseContext, doc_rows, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext


def params(cls: type[Any], **raw: Any) -> Any:
    parsed, problems = parse(cls, {"path": "data.csv", **raw}, ParseContext(file="targetwatch.toml"))
    assert not problems, [str(p) for p in problems]
    return parsed


def problems(cls: type[Any], **raw: Any) -> list[str]:
    parsed, found = parse(cls, {"path": "data.csv", **raw}, ParseContext(file="targetwatch.toml"))
    assert parsed is None
    return [str(p) for p in found]


def converter(skipped: list[Problem] | None = None, calendar: Calendar | None = None, **raw: Any) -> RowConverter:
    context = SourceContext("src", Path("."), skip=(skipped.append if skipped is not None else lambda p: None), calendar=calendar)
    return RowConverter(params(TabularParams, **raw), context, "data.csv")


def test_defaults() -> None:
    p = params(TabularParams)
    assert (p.columns, p.indicator, p.labels, p.ignore, p.constant_labels, p.percent, p.on_bad_row) == (None, None, None, (), None, True, "error")
    assert p.column_names() == {"indicator": "indicator", "period": "period", "value": "value"}


def test_every_param_is_documented() -> None:
    for cls in (TabularParams, CsvParams, JsonParams, SqliteParams):
        for key, expected, default, doc in doc_rows(cls):
            assert doc and expected, key
    assert [r[0] for r in doc_rows(TabularParams)] == ["path", "columns", "indicator", "labels", "ignore", "constant_labels", "percent", "on_bad_row", "available"]


def test_columns_accepts_only_core_keys() -> None:
    (message,) = problems(TabularParams, columns={"indicatr": "指标"})
    assert "columns" in message and "indicatr" in message


def test_fixed_indicator_and_indicator_column_conflict() -> None:
    (message,) = problems(TabularParams, indicator="edu.a", columns={"indicator": "x"})
    assert "indicator" in message and "not both" in message


def test_labels_may_not_name_core_columns() -> None:
    (message,) = problems(TabularParams, labels=["district", "value"])
    assert "labels" in message and "'value'" in message


def test_label_in_both_labels_and_ignore() -> None:
    (message,) = problems(TabularParams, labels=["district"], ignore="district")
    assert "both in labels and in ignore" in message


def test_on_bad_row_choice() -> None:
    (message,) = problems(TabularParams, on_bad_row="skipp")
    assert "on_bad_row" in message and "did you mean 'skip'" in message


def test_record_basic() -> None:
    conv = converter()
    rec = conv.record(" edu.a ", "2023-07", "17,192", [("district", " 田家庵区 "), ("level", "")], origin="data.csv:2", line=2)
    assert rec is not None
    assert rec.indicator == "edu.a" and rec.period == "2023-07" and rec.value == Decimal(17192)
    assert rec.labels == (("district", "田家庵区"),)  # blank label = no label
    assert rec.origin == "data.csv:2"


@pytest.mark.parametrize(("raw", "value"), [("94.1%", "0.941"), ("1.2万", "12000"), ("3亿", "300000000"), ("-0.5", "-0.5"), (7, "7")])
def test_values(raw: object, value: str) -> None:
    rec = converter().record("a", "2023", raw, [], origin="o")
    assert rec is not None and rec.value == Decimal(value)


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_blank_value_is_not_reported(raw: object) -> None:
    skipped: list[Problem] = []
    assert converter(skipped, on_bad_row="skip").record("a", "2023", raw, [], origin="o") is None
    assert skipped == []


def test_percent_false_rejects_percent_sign() -> None:
    with pytest.raises(SourceError) as info:
        converter(percent=False).record("a", "2023", "94.1%", [], origin="data.csv:4", line=4)
    text = str(info.value)
    assert "data.csv:4" in text and "column 'value'" in text and "percent = false" in text and "'94.1%'" in text


@pytest.mark.parametrize(("args", "column", "found"), [(("", "2023", "1"), "indicator", "empty cell"), (("a", " ", "1"), "period", "empty cell"), (("a", "2023", "n/a"), "value", "'n/a'")])
def test_bad_rows_name_the_column_and_what_was_found(args: tuple[str, str, str], column: str, found: str) -> None:
    with pytest.raises(SourceError) as info:
        converter().record(*args, [], origin="data.csv:9", line=9)
    text = str(info.value)
    assert text.startswith("source 'src': data.csv:9: ")
    assert f"column {column!r}: expected" in text and found in text
    assert info.value.problem == Problem(text.split("data.csv:9: ", 1)[1], "data.csv", 9, None)


def test_skip_mode_reports_through_context() -> None:
    skipped: list[Problem] = []
    conv = converter(skipped, on_bad_row="skip")
    assert conv.record("a", "2023", "n/a", [], origin="data.csv:3", line=3) is None
    assert conv.record("a", "2023", "1", [], origin="data.csv:4", line=4) is not None
    assert [(p.file, p.line) for p in skipped] == [("data.csv", 3)]


def test_constant_labels() -> None:
    conv = converter(constant_labels={"district": "田家庵区"})
    rec = conv.record("a", "2023", "1", [("school", "一中")], origin="o")
    assert rec is not None and rec.labels == (("district", "田家庵区"), ("school", "一中"))
    same = conv.record("a", "2023", "1", [("district", "田家庵区")], origin="o")
    assert same is not None and same.labels == (("district", "田家庵区"),)
    with pytest.raises(SourceError, match="column 'district': expected '田家庵区' \\(set by constant_labels\\), found '八公山区'"):
        conv.record("a", "2023", "1", [("district", "八公山区")], origin="o")


def test_fixed_indicator() -> None:
    rec = converter(indicator="edu.rate").record(None, "2023", "1", [], origin="o")
    assert rec is not None and rec.indicator == "edu.rate"


def test_calendar_checks_the_period() -> None:
    conv = converter(calendar=Calendar("Asia/Shanghai"))
    assert conv.record("a", "2023-H2", "1", [], origin="o") is not None
    with pytest.raises(SourceError) as info:
        conv.record("a", "2023-13", "1", [], origin="data.csv:5", line=5)
    assert "data.csv:5: column 'period': expected a period" in str(info.value) and "'2023-13'" in str(info.value)


def test_layout_missing_column_once_with_columns_found() -> None:
    conv = converter(columns={"value": "数值"})
    with pytest.raises(SourceError) as info:
        conv.layout(["indicator", "period", "value"])
    text = str(info.value)
    assert "data.csv:1: missing column '数值' (the value column, set by columns.value)" in text
    assert "columns found: 'indicator', 'period', 'value'" in text


def test_layout_labels() -> None:
    conv = converter(ignore=["note"])
    layout = conv.layout(["indicator", "period", "value", "district", "note", ""])
    assert (layout.indicator, layout.period, layout.value, layout.labels) == (0, 1, 2, (("district", 3),))
    explicit = converter(labels=["school"]).layout(["indicator", "period", "value", "district", "school"])
    assert explicit.labels == (("school", 4),)
    with pytest.raises(SourceError, match="missing label column 'school'"):
        converter(labels=["school"]).layout(["indicator", "period", "value"])


def test_layout_duplicate_used_column() -> None:
    with pytest.raises(SourceError, match="'value' appears more than once"):
        converter().layout(["indicator", "period", "value", "value"])
