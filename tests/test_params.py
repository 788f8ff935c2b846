"""Declaring parameters once: validation with located problems, JSON Schema and doc rows."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetwatch.errors import Problem
from targetwatch.locate import load_toml
from targetwatch.model import LabelSelector
from targetwatch.numbers import Range
from targetwatch.params import (
    Bounds,
    Choice,
    Date,
    Duration,
    Flag,
    IndicatorRef,
    Integer,
    Invalid,
    ListOf,
    Number,
    ParamType,
    ParseContext,
    PeriodSpec,
    Selector,
    StrMapping,
    Text,
    doc_rows,
    dotted,
    json_schema,
    param,
    parse,
    specs,
)
from targetwatch.periods import Calendar, Span, Term
from targetwatch.plugins import Registry

D = Decimal
AUTUMN = Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 2, 1))
SCHOOL = Calendar("Asia/Shanghai", terms=[AUTUMN])
INDICATORS = frozenset({"edu.expenditure", "edu.enrolment_rate", "edu.kindergartens"})


@attrs.frozen
class CapLike:
    indicator: str = param(IndicatorRef(), doc="Which indicator the rule reads.")
    max: Decimal = param(Number(), doc="The ceiling (inclusive).")  # noqa: RUF009
    min: Decimal | None = param(Number(), doc="The floor (inclusive).", default=None)  # noqa: RUF009
    aggregate: str = param(Choice("sum", "latest", "max"), doc="How a period's values combine.", default="latest")
    repeat: int = param(Integer(minimum=1), doc="How many times.", default=1)
    enabled: bool = param(Flag(), doc="Whether the rule runs.", default=True)
    tags: tuple[str, ...] = param(ListOf(Text()), doc="Free-form tags.", default=("a", "b"))

    def problems(self) -> Iterator[tuple[str, str]]:
        if self.min is not None and self.min > self.max:
            yield "min", f"expected min ≤ max, found min {self.min} above max {self.max}"


#: Lines of rule[2] in an imaginary file: the table starts at 10, keys below it ("max" is
#: absent from the file, so a problem about it is located at the table).
LINES: dict[tuple[Any, ...], int] = {
    ("rule", 2): 10,
    ("rule", 2, "indicator"): 11,
    ("rule", 2, "min"): 13,
    ("rule", 2, "aggregate"): 14,
    ("rule", 2, "repeat"): 15,
    ("rule", 2, "maxx"): 16,
}


def locate(path: tuple[Any, ...]) -> int | None:
    for end in range(len(path), 0, -1):
        if path[:end] in LINES:
            return LINES[path[:end]]
    return None


CTX = ParseContext(file="rules/edu.toml", locate=locate, calendar=SCHOOL, indicators=INDICATORS)
PATH = ("rule", 2)


def parse_cap(raw: dict[str, Any], ctx: ParseContext = CTX) -> tuple[CapLike | None, list[Problem]]:
    return parse(CapLike, raw, ctx, PATH)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# -- parse ----------------------------------------------------------------------------------


def test_valid_input_converts_and_fills_defaults() -> None:
    value, problems = parse_cap({"indicator": "edu.expenditure", "max": "4.89%"})
    assert problems == []
    assert value == CapLike(indicator="edu.expenditure", max=D("0.0489"))
    assert value.aggregate == "latest" and value.repeat == 1 and value.enabled is True
    assert value.tags == ("a", "b")


def test_every_field_converted() -> None:
    raw = {
        "indicator": "edu.expenditure", "max": "50,000", "min": 10, "aggregate": "sum",
        "repeat": 3, "enabled": False, "tags": "education",
    }
    value, problems = parse_cap(raw)
    assert problems == []
    assert value == CapLike(
        indicator="edu.expenditure", max=D(50000), min=D(10), aggregate="sum", repeat=3,
        enabled=False, tags=("education",),
    )


def test_missing_required_key_is_located_at_the_table() -> None:
    value, problems = parse_cap({"indicator": "edu.expenditure"})
    assert value is None
    p = only(problems)
    assert (p.file, p.line, p.key) == ("rules/edu.toml", 10, "rule[2].max")
    assert "missing required key 'max'" in p.message
    assert "expected a number" in p.message
    assert str(p).startswith("rules/edu.toml:10: rule[2].max: ")


def test_unknown_key_suggests_the_closest_name() -> None:
    value, problems = parse_cap({"indicator": "edu.expenditure", "max": 1, "maxx": 2})
    assert value is None
    p = only(problems)
    assert (p.file, p.line, p.key) == ("rules/edu.toml", 16, "rule[2].maxx")
    assert "unknown key 'maxx'" in p.message
    assert "did you mean 'max'?" in p.message
    assert "expected one of:" in p.message
    for name in attrs.fields_dict(CapLike):
        assert name in p.message


def test_unknown_key_without_close_match_has_no_suggestion() -> None:
    _, problems = parse_cap({"indicator": "edu.expenditure", "max": 1, "zzzzzz": 2})
    assert "did you mean" not in only(problems).message


def test_unknown_key_names_what_it_is_for_and_honours_ignore() -> None:
    _, problems = parse(CapLike, {"indicator": "edu.expenditure", "max": 1, "kind": "cap", "colour": 1},
                        CTX, PATH, what="kind 'cap'", ignore=("kind", "title"))
    p = only(problems)
    assert p.key == "rule[2].colour"
    assert "for kind 'cap'" in p.message
    assert "title" in p.message and "kind" in p.message  # the caller's keys are allowed too


def test_wrong_type_says_expected_and_found() -> None:
    _, problems = parse_cap({"indicator": "edu.expenditure", "max": 1, "min": "lots"})
    p = only(problems)
    assert (p.file, p.line, p.key) == ("rules/edu.toml", 13, "rule[2].min")
    assert re.search(r"expected a number.*found 'lots'", p.message), p.message


def test_all_problems_are_reported_at_once() -> None:
    raw = {"indicator": "edu.expenditur", "min": "x", "aggregate": "summ", "repeat": 0, "maxx": 1}
    value, problems = parse_cap(raw)
    assert value is None
    by_key = {p.key: p for p in problems}
    assert set(by_key) == {"rule[2].maxx", "rule[2].max", "rule[2].indicator", "rule[2].min",
                           "rule[2].aggregate", "rule[2].repeat"}
    for p in problems:
        assert p.file == "rules/edu.toml"
        assert p.line == LINES.get(("rule", 2, p.key.split(".")[-1]), 10)
        assert "expected" in p.message
    for key in ("indicator", "min", "aggregate", "repeat"):
        assert "found" in by_key[f"rule[2].{key}"].message, by_key[f"rule[2].{key}"]
    assert "did you mean 'edu.expenditure'?" in by_key["rule[2].indicator"].message
    assert "did you mean 'sum'?" in by_key["rule[2].aggregate"].message
    assert "found int 0" in by_key["rule[2].repeat"].message


def test_cross_field_problems_hook() -> None:
    value, problems = parse_cap({"indicator": "edu.expenditure", "max": 3, "min": 5})
    assert value is None
    p = only(problems)
    assert (p.file, p.line, p.key) == ("rules/edu.toml", 13, "rule[2].min")
    assert p.message == "expected min ≤ max, found min 5 above max 3"


def test_cross_field_hook_waits_for_fields_to_convert() -> None:
    # min > max, but max does not even parse: only the field problem is reported.
    _, problems = parse_cap({"indicator": "edu.expenditure", "max": "x", "min": 5})
    assert [p.key for p in problems] == ["rule[2].max"]


def test_default_context_has_no_file_or_line() -> None:
    _, problems = parse(CapLike, {"indicator": "x"}, ParseContext())
    p = only(problems)
    assert (p.file, p.line, p.key) == (None, None, "max")


def test_lines_from_a_real_toml_file() -> None:
    text = '''[[rule]]
id = "a"
indicator = "edu.expenditure"
max = 1

[[rule]]
id = "b"
indicator = "edu.expenditure"
max = "a lot"
'''
    data, loc = load_toml("rules/caps.toml", text)
    ctx = ParseContext(file="rules/caps.toml", locate=loc, indicators=INDICATORS)
    _, problems = parse(CapLike, data["rule"][1], ctx, ("rule", 1), ignore=("id",))
    p = only(problems)
    assert (p.file, p.line, p.key) == ("rules/caps.toml", 9, "rule[1].max")


@pytest.mark.parametrize(
    ("path", "text"),
    [((), None), (("rule",), "rule"), (("rule", 2, "max"), "rule[2].max"),
     (("indicators", "edu.expenditure", "unit"), "indicators.edu.expenditure.unit"),
     (("a", 0, 1, "b"), "a[0][1].b")],
)
def test_dotted(path: tuple[Any, ...], text: str | None) -> None:
    assert dotted(path) == text


# -- each ParamType -------------------------------------------------------------------------


def ok(t: ParamType, raw: object, ctx: ParseContext = CTX) -> Any:
    return t.convert(raw, ctx)


def bad(t: ParamType, raw: object, ctx: ParseContext = CTX) -> str:
    with pytest.raises(Invalid) as info:
        t.convert(raw, ctx)
    return str(info.value)


def test_number() -> None:
    n = Number()
    assert ok(n, 0.0489) == D("0.0489") == ok(n, "4.89%")
    assert ok(n, "1.2万") == D(12000)
    assert ok(n, 5) == D(5)
    assert "found a boolean" in bad(n, True)
    assert "found 'abc'" in bad(n, "abc")
    assert "percentage is not allowed" in bad(Number(percent=False), "5%")
    assert ok(Number(percent=False), "50,000") == D(50000)
    at_least = Number(minimum=0)
    assert ok(at_least, 0) == D(0)
    assert "found -1" in bad(at_least, -1)
    assert "(at least 0)" in at_least.expected


def test_integer() -> None:
    i = Integer(minimum=1)
    assert ok(i, 1) == 1 and ok(i, 10**12) == 10**12
    assert bad(i, 0) == "found int 0"
    assert bad(i, True) == "found true"
    assert bad(i, 1.0) == "found float 1.0"
    assert bad(i, "3") == "found '3'"
    assert ok(Integer(), -5) == -5
    assert "at least 1" in i.expected


def test_text() -> None:
    assert ok(Text(), "田家庵区") == "田家庵区"
    assert bad(Text(), "") == "found an empty string"
    assert bad(Text(), "   ") == "found '   '"
    assert bad(Text(), 5) == "found int 5"
    assert bad(Text(), None) == "found nothing"
    assert ok(Text(nonempty=False), "") == ""


def test_choice() -> None:
    c = Choice("sum", "latest", "max")
    assert ok(c, "latest") == "latest"
    assert bad(c, "lates") == "found 'lates' (did you mean 'latest'?)"
    assert bad(c, "zzz") == "found 'zzz'"
    assert bad(c, 1) == "found int 1"
    assert c.expected == "one of 'sum', 'latest', 'max'"


def test_flag() -> None:
    assert ok(Flag(), True) is True and ok(Flag(), False) is False
    assert bad(Flag(), "true") == "found 'true'"
    assert bad(Flag(), 1) == "found int 1"


def test_bounds() -> None:
    b = Bounds()
    assert ok(b, "95%:") == Range(D("0.95"), None)
    assert ok(b, "@10:20") == Range(D(10), D(20), True)
    assert ok(b, 10) == Range(D(0), D(10))
    assert bad(b, "abc") == "found 'abc'"
    assert bad(b, "20:10") == "found '20:10': the low end is above the high end"
    # the found text is shown whole, even with thousands separators
    assert bad(b, "20,000:10,000") == "found '20,000:10,000': the low end is above the high end"
    assert "found" in bad(b, True)


def test_indicator_ref() -> None:
    r = IndicatorRef()
    assert ok(r, "edu.expenditure") == "edu.expenditure"
    assert bad(r, "edu.expenditur") == "found unknown indicator 'edu.expenditur' (did you mean 'edu.expenditure'?)"
    assert bad(r, "health.beds") == "found unknown indicator 'health.beds' (declare it in the config as [indicators.\"health.beds\"])"
    assert bad(r, "") == "found ''"
    assert bad(r, 3) == "found int 3"
    # without a known set (validating a rule file alone), any name is accepted
    assert ok(r, "health.beds", ParseContext()) == "health.beds"


@pytest.mark.parametrize(
    "spec", ["2023-H2", "2023-Q3", "2023-07", "2023", "FY2023", "2023-autumn", "current half",
             "previous year", "2 quarters ago", "current term", "last month", "  2023-H2  "],
)
def test_period_spec_accepts(spec: str) -> None:
    assert ok(PeriodSpec(), spec) == spec.strip()


@pytest.mark.parametrize("spec", ["2023-H3", "2023-autum", "current decade", "yesterday-ish"])
def test_period_spec_rejects(spec: str) -> None:
    message = bad(PeriodSpec(), spec)
    assert message.startswith(f"found {spec!r}")
    assert "2023-autumn" in message  # lists the terms the calendar knows


def test_period_spec_relative_term_needs_terms() -> None:
    assert "no terms are configured" in bad(PeriodSpec(), "current term", ParseContext(calendar=Calendar()))


def test_period_spec_type_and_no_calendar() -> None:
    assert bad(PeriodSpec(), 2023) == "found int 2023"
    assert bad(PeriodSpec(), " ") == "found ' '"
    assert ok(PeriodSpec(), "whatever", ParseContext()) == "whatever"


def test_date() -> None:
    d = Date()
    assert ok(d, dt.date(2023, 9, 1)) == dt.date(2023, 9, 1)
    assert ok(d, dt.datetime(2023, 9, 1, 8, 30)) == dt.date(2023, 9, 1)
    assert type(ok(d, dt.datetime(2023, 9, 1, 8, 30))) is dt.date
    assert ok(d, " 2023-09-01 ") == dt.date(2023, 9, 1)
    assert bad(d, "2023-13-01") == "found '2023-13-01'"
    assert bad(d, 20230901) == "found int 20230901"


def test_duration() -> None:
    d = Duration()
    assert ok(d, "45d") == Span(0, 45 * 86400)
    assert ok(d, "P1M") == Span(1, 0)
    assert ok(d, "36h") == Span(0, 36 * 3600)
    assert bad(d, "5") == "found '5'"
    assert bad(d, 5) == "found int 5"
    assert bad(d, "0d") == "found '0d'"


def test_selector() -> None:
    s = Selector()
    sel = ok(s, {"district": "田家庵区", "level": {"not": "city"}})
    assert isinstance(sel, LabelSelector)
    assert sel.matches((("district", "田家庵区"), ("level", "county")))
    assert not sel.matches((("district", "田家庵区"), ("level", "city")))
    assert ok(s, None) == LabelSelector()
    assert "found" in bad(s, "district=x")
    assert "invalid regular expression" in bad(s, {"district": {"match": "("}})


def test_list_of() -> None:
    lst = ListOf(Text())
    assert ok(lst, "one") == ("one",)
    assert ok(lst, ["a", "b"]) == ("a", "b")
    assert ok(lst, []) == ()
    assert bad(lst, ["a", 2]) == "item 2: found int 2"
    strict = ListOf(Number(), single_ok=False)
    assert ok(strict, [1, "2%"]) == (D(1), D("0.02"))
    assert bad(strict, 1) == "found int 1"
    assert lst.expected.endswith("(or just one)") and not strict.expected.endswith("(or just one)")


def test_str_mapping() -> None:
    m = StrMapping()
    assert ok(m, {"Authorization": "Bearer x"}) == {"Authorization": "Bearer x"}
    assert bad(m, {"a": 1}) == "key 'a': found int 1"
    assert bad(m, ["a"]) == "found a list"
    keyed = StrMapping(["user", "password"])
    assert ok(keyed, {"user": "u"}) == {"user": "u"}
    assert bad(keyed, {"usr": "u"}) == "found unknown key 'usr'"
    assert keyed.schema()["additionalProperties"] is False


# -- schema and docs ------------------------------------------------------------------------


def test_json_schema_of_a_params_class() -> None:
    schema = json_schema(CapLike)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["indicator", "max"]
    assert list(schema["properties"]) == [f.name for f in attrs.fields(CapLike)]
    for name, spec in specs(CapLike).items():
        assert schema["properties"][name]["description"] == spec.doc
    assert schema["properties"]["aggregate"]["enum"] == ["sum", "latest", "max"]
    assert schema["properties"]["repeat"] == {"type": "integer", "minimum": 1, "description": "How many times."}
    assert schema["properties"]["enabled"]["type"] == "boolean"
    json.dumps(schema)


def test_json_schema_extra_properties() -> None:
    schema = json_schema(CapLike, extra={"id": {"type": "string"}}, required_extra=["id"])
    assert schema["required"][0] == "id"
    assert schema["properties"]["id"] == {"type": "string"}


@given(st.sampled_from(["50000", "50,000", "4.89%", "-3", "1.5万", " 2亿 ", "0.0489", "1_000"]))
def test_number_schema_pattern_admits_what_parse_number_accepts(text: str) -> None:
    pattern = Number().schema()["anyOf"][1]["pattern"]
    assert re.match(pattern, text)


def test_doc_rows() -> None:
    rows = {row[0]: row for row in doc_rows(CapLike)}
    assert list(rows) == [f.name for f in attrs.fields(CapLike)]
    assert rows["max"] == ("max", Number().expected, "required", "The ceiling (inclusive).")
    assert rows["min"][2] == "—"
    assert rows["aggregate"][2] == "latest"
    assert rows["enabled"][2] == "true"
    assert rows["tags"][2] == "[a, b]"
    assert rows["repeat"][1] == "a whole number of at least 1"


_JSON_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
_SCHEMA_KEYS = {"type", "properties", "required", "additionalProperties", "items", "anyOf", "oneOf",
                "allOf", "enum", "const", "pattern", "format", "minimum", "maximum", "minLength",
                "maxLength", "minItems", "description", "default", "title"}


def check_schema_shape(schema: Any, where: str) -> None:
    """A structural check of JSON Schema (draft 2020-12 keywords), without a validator library."""
    assert isinstance(schema, dict), where
    assert set(schema) <= _SCHEMA_KEYS, (where, set(schema) - _SCHEMA_KEYS)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert set(types) <= _JSON_TYPES, where
    if "properties" in schema:
        for name, sub in schema["properties"].items():
            check_schema_shape(sub, f"{where}.{name}")
    if "required" in schema:
        assert isinstance(schema["required"], list)
        assert set(schema["required"]) <= set(schema.get("properties", {})), where
    if isinstance(schema.get("additionalProperties"), dict):
        check_schema_shape(schema["additionalProperties"], where + ".*")
    else:
        assert schema.get("additionalProperties", True) in (True, False), where
    if "items" in schema:
        check_schema_shape(schema["items"], where + "[]")
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            assert isinstance(schema[key], list) and schema[key], where
            for sub in schema[key]:
                check_schema_shape(sub, f"{where}|")
    if "enum" in schema:
        assert isinstance(schema["enum"], list) and schema["enum"], where
    if "pattern" in schema:
        re.compile(schema["pattern"])
    for key in ("description", "format"):
        if key in schema:
            assert isinstance(schema[key], str), where


KINDS = Registry().kinds


def test_registry_has_the_built_in_kinds() -> None:
    assert {"threshold", "cap", "minimum", "growth", "coverage", "progress", "milestone", "rank",
            "share", "freshness"} <= set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_built_in_kind_params_are_documented_and_schema_shaped(name: str) -> None:
    cls = KINDS[name].Params
    fields = [f.name for f in attrs.fields(cls)]
    declared = specs(cls)
    # every attrs field is declared with param(); its key in files is the field's name unless
    # the declaration gives another (a Python keyword such as ``for``)
    assert [getattr(s, "field", "") or k for k, s in declared.items()] == fields
    keys = list(declared)
    for field, spec in declared.items():
        assert spec.doc.strip(), f"{name}.{field} has no doc"
        assert spec.type.expected.strip(), f"{name}.{field} has no 'expected' text"
    schema = json_schema(cls)
    check_schema_shape(schema, name)
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == keys
    assert schema["required"] == [f for f, s in declared.items() if s.required]
    for field, spec in declared.items():
        assert schema["properties"][field]["description"] == spec.doc
    json.dumps(schema, ensure_ascii=False)
    assert [row[0] for row in doc_rows(cls)] == keys


@pytest.mark.parametrize("name", sorted(KINDS))
def test_built_in_kind_rejects_an_empty_table_with_every_required_key(name: str) -> None:
    cls = KINDS[name].Params
    value, problems = parse(cls, {}, ParseContext(file="r.toml", locate=lambda p: 7), ("rule", 0))
    required = [f for f, s in specs(cls).items() if s.required]
    assert value is None
    assert sorted(p.key for p in problems) == sorted(f"rule[0].{f}" for f in required)
    assert all(p.file == "r.toml" and p.line == 7 and "expected" in p.message for p in problems)
