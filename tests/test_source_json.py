"""The ``json`` source (a JSON document or JSON Lines), on real files."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targetwatch.default_plugins.json_source import JsonParams, JsonSource, register_sources
from targetwatch.errors import Problem, SourceError
from targetwatch.model import Record
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar
from targetwatch.source import SourceContext, SourceType


def read(
    tmp_path: Path,
    text: str | None = None,
    indicators: list[str] | None = None,
    *,
    name: str = "data.json",
    calendar: Calendar | None = None,
    skipped: list[Problem] | None = None,
    **raw: Any,
) -> list[Record]:
    if text is not None:
        (tmp_path / name).write_text(text, encoding="utf-8")
    params, problems = parse(JsonParams, {"path": name, **raw}, ParseContext())
    assert params is not None and not problems, [str(p) for p in problems]
    skip = skipped.append if skipped is not None else (lambda p: None)
    return list(JsonSource().open(params, SourceContext("obs", tmp_path, skip, calendar)).read(indicators))


def error(tmp_path: Path, text: str, **raw: Any) -> str:
    with pytest.raises(SourceError) as info:
        read(tmp_path, text, **raw)
    return str(info.value)


ROWS = [
    {"indicator": "edu.a", "period": "2023-07", "value": 0.0489, "district": "田家庵区"},
    {"indicator": "edu.a", "period": "2023-08", "value": "17,192", "labels": {"district": "八公山区", "level": "县"}},
    {"indicator": "edu.b", "period": 2023, "value": 12, "note": "x"},
]


def test_registers() -> None:
    got: list[SourceType] = []
    register_sources(got.append)
    assert [t.name for t in got] == ["json"]


def test_array_document_exact_numbers(tmp_path: Path) -> None:
    records = read(tmp_path, json.dumps(ROWS, ensure_ascii=False), ignore=["note"])
    assert records == [
        Record("edu.a", "2023-07", Decimal("0.0489"), (("district", "田家庵区"),), "data.json:[0]"),
        Record("edu.a", "2023-08", Decimal(17192), (("district", "八公山区"), ("level", "县")), "data.json:[1]"),
        Record("edu.b", "2023", Decimal(12), (), "data.json:[2]"),
    ]
    assert str(records[0].value) == "0.0489"


def test_rows_path_and_filter(tmp_path: Path) -> None:
    doc = json.dumps({"meta": {}, "data": {"items": ROWS}}, ensure_ascii=False)
    records = read(tmp_path, doc, ["edu.b"], rows="data.items")
    assert [(r.indicator, r.origin) for r in records] == [("edu.b", "data.json:data.items[2]")]


def test_rows_path_errors(tmp_path: Path) -> None:
    doc = json.dumps({"data": {"things": []}})
    assert "rows: expected key 'items' in data, found keys: 'things'" in error(tmp_path, doc, rows="data.items")
    assert "expected an array of row objects as the document (set rows" in error(tmp_path, doc)
    assert "expected an array of row objects at 'data', found an object" in error(tmp_path, doc, rows="data")


def test_bad_row_names_index_path_column_and_found(tmp_path: Path) -> None:
    rows = [*ROWS[:2], {"indicator": "edu.a", "period": "2023-09", "value": "n/a"}]
    text = error(tmp_path, json.dumps({"data": {"items": rows}}), rows="data.items")
    assert text.startswith("source 'obs': data.json: data.items[2]: column 'value': expected a number") and text.endswith("found 'n/a'")


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    text = error(tmp_path, '[\n{"indicator": "a",\n "period": }\n]')
    assert "data.json:3: invalid JSON" in text


def test_rename_fixed_indicator_percent_constant(tmp_path: Path) -> None:
    doc = json.dumps([{"期间": "2023", "数值": "94.1%"}], ensure_ascii=False)
    records = read(tmp_path, doc, indicator="学前.毛入园率", columns={"period": "期间", "value": "数值"}, constant_labels={"district": "田家庵区"})
    assert records == [Record("学前.毛入园率", "2023", Decimal("0.941"), (("district", "田家庵区"),), "data.json:[0]")]
    assert read(tmp_path, None, ["other"], indicator="学前.毛入园率", columns={"period": "期间", "value": "数值"}) == []
    assert "percent = false" in error(tmp_path, doc, indicator="x", columns={"period": "期间", "value": "数值"}, percent=False)


def test_explicit_labels(tmp_path: Path) -> None:
    doc = json.dumps([{"indicator": "a", "period": "2023", "value": 1, "district": "D", "school": "S"}])
    assert read(tmp_path, doc, labels=["school"])[0].labels == (("school", "S"),)


def test_null_value_not_reported_null_label_absent(tmp_path: Path) -> None:
    doc = json.dumps([{"indicator": "a", "period": "2023", "value": None}, {"indicator": "a", "period": "2024", "value": 1, "d": None, "ok": True}])
    assert read(tmp_path, doc) == [Record("a", "2024", Decimal(1), (("ok", "true"),), "data.json:[1]")]


def test_missing_key_first_row_is_file_error_later_is_bad_row(tmp_path: Path) -> None:
    skipped: list[Problem] = []
    with pytest.raises(SourceError) as info:
        read(tmp_path, json.dumps([{"indicator": "a", "periode": "2023", "value": 1}]), skipped=skipped, on_bad_row="skip")
    assert "data.json: [0]: missing column 'period'; keys found: 'indicator', 'periode', 'value'" in str(info.value)
    doc = json.dumps([{"indicator": "a", "period": "2023", "value": 1}, {"indicator": "a", "value": 2}, [1], {"indicator": "a", "period": "2024", "value": True}])
    records = read(tmp_path, doc, skipped=skipped, on_bad_row="skip")
    assert len(records) == 1
    assert [p.key for p in skipped] == ["[1]", "[2]", "[3]"]
    assert "column 'period': missing (keys found: 'indicator', 'value')" == skipped[0].message
    assert "expected a row object, found a list" == skipped[1].message
    assert "found true" in skipped[2].message


def test_nested_labels_must_be_an_object(tmp_path: Path) -> None:
    text = error(tmp_path, json.dumps([{"indicator": "a", "period": "2023", "value": 1, "labels": "x"}]))
    assert "[0]: column 'labels': expected an object" in text


def test_jsonl_streamed_with_lines(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS[:2]) + "\n\n" + '{"indicator": "edu.a", "period": "2023-09", "value": "n/a"}\n'
    records = read(tmp_path, lines.replace("n/a", "1"), name="data.jsonl")
    assert [r.origin for r in records] == ["data.jsonl:1", "data.jsonl:2", "data.jsonl:4"]
    assert "data.jsonl:4: column 'value'" in error(tmp_path, lines, name="data.jsonl")


def test_jsonl_bad_json_line_is_a_bad_row(tmp_path: Path) -> None:
    skipped: list[Problem] = []
    text = '{"indicator": "a", "period": "2023", "value": 1}\n{"indicator": \n{"indicator": "a", "period": "2024", "value": 2}\n'
    records = read(tmp_path, text, name="x.txt", format="jsonl", skipped=skipped, on_bad_row="skip")
    assert [r.period for r in records] == ["2023", "2024"]
    assert [(p.file, p.line) for p in skipped] == [("x.txt", 2)] and "invalid JSON" in skipped[0].message


def test_format_params() -> None:
    params, _ = parse(JsonParams, {"path": "a.ndjson"}, ParseContext())
    assert params is not None and params.effective_format() == "jsonl"
    _, found = parse(JsonParams, {"path": "a.jsonl", "rows": "data"}, ParseContext())
    assert any("rows applies to a json document" in str(p) for p in found)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="nope.json: no such file"):
        read(tmp_path, None, name="nope.json")


def test_bad_period_with_calendar(tmp_path: Path) -> None:
    text = '{"indicator": "a", "period": "2023-12", "value": 1}\n{"indicator": "a", "period": "2023-13", "value": 1}\n'
    message = error(tmp_path, text, name="d.jsonl", calendar=Calendar("Asia/Shanghai"))
    assert "d.jsonl:2: column 'period': expected a period" in message and "'2023-13'" in message


# -- round trip ---------------------------------------------------------------------------------

names = st.text(st.sampled_from("abcxyz.学前教育"), min_size=1, max_size=8).filter(lambda s: s == s.strip())
periods = st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2000, 2030), st.integers(1, 12))
values = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False)
label_values = st.text(st.sampled_from("AB \"田家庵区八公山"), min_size=1, max_size=6).map(str.strip).filter(bool)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.tuples(names, periods, values, label_values), max_size=20), st.booleans())
def test_round_trip(tmp_path: Path, data: list[tuple[str, str, Decimal, str]], as_text: bool) -> None:
    lines = []
    for indicator, period, value, district in data:
        number = str(value) if as_text else f"{value:f}"
        lines.append(f'{{"indicator": {json.dumps(indicator)}, "period": "{period}", "value": {json.dumps(number) if as_text else number}, "district": {json.dumps(district, ensure_ascii=False)}}}')
    (tmp_path / "data.jsonl").write_text("\n".join(lines), encoding="utf-8")
    got = read(tmp_path, name="data.jsonl")
    assert [(r.indicator, r.period, r.value, r.labels) for r in got] == [(i, p, v, (("district", d),)) for i, p, v, d in data]
