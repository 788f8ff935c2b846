"""Message templates: a closed grammar, and data values are never read as template text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetwatch.templates import check, render

D = Decimal


@pytest.mark.parametrize(
    "template",
    [
        "",
        "plain text",
        "{value}",
        "{value:.1f}",
        "{value:>10}",
        "{value:,.2f} {unit}",
        "{label.district}",
        "{label.school_type}",
        "{{literal braces}} and {value}",
        "{label.district} 的学前教育毛入园率为 {value}，目标 {target}，差距 {margin}。",
        "{expected} vs {rule} / {title} / {period} / {status}",
    ],
)
def test_check_accepts(template: str) -> None:
    assert check(template) == []


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{value", "invalid template"),
        ("value}", "invalid template"),
        ("{value}}", "invalid template"),
        ("{{value}", "invalid template"),
        ("{value.__class__}", "invalid placeholder {value.__class__}"),
        ("{value.__class__.__mro__}", "invalid placeholder"),
        ("{labels[0]}", "invalid placeholder {labels[0]}"),
        ("{details[key]}", "invalid placeholder"),
        ("{value!r}", "conversions are not supported"),
        ("{value!s}", "conversions are not supported"),
        ("{value!a:>5}", "conversions are not supported"),
        ("{value:{width}}", "nested placeholders are not supported"),
        ("{value:.{digits}f}", "nested placeholders are not supported"),
        ("{}", "invalid placeholder"),
        ("{0}", "invalid placeholder"),
        ("{ value }", "invalid placeholder"),
        ("{label.}", "invalid placeholder"),
        ("{__import__}x{value.real}", "invalid placeholder {value.real}"),
    ],
)
def test_check_flags(template: str, reason: str) -> None:
    problems = check(template)
    assert problems, template
    assert any(reason in p for p in problems), problems


def test_check_reports_every_bad_placeholder() -> None:
    problems = check("{a.b} {c[0]} {d!r} {e:{f}}")
    assert len(problems) == 4


def test_unbalanced_brace_explains_escaping() -> None:
    (problem,) = check("达到 {value")
    assert "{{" in problem and "}}" in problem


FIELDS = {
    "value": D("12345.678"),
    "target": D("0.95"),
    "margin": D("-0.0211"),
    "period": "2023-H2",
    "label.district": "田家庵区",
    "count": 3,
    "status": "BREACH",
}
UNITS = {"value": "万元", "target": "%", "margin": "%"}


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("{value}", "12,345.68 万元"),
        ("{target}", "95%"),
        ("{margin}", "-2.11%"),
        ("{count}", "3"),
        ("{value:.1f}", "12345.7"),
        ("{value:,.0f}", "12,346"),
        ("{target:.1%}", "95.0%"),
        ("{value:>12.1f}|", "     12345.7|"),
        ("{period}", "2023-H2"),
        ("{status:>8}", "  BREACH"),
        ("{label.district}：{value}", "田家庵区：12,345.68 万元"),
        ("{missing}", "n/a"),
        ("{label.school}", "n/a"),
        ("{{value}} = {value}", "{value} = 12,345.68 万元"),
        ("no placeholders，中文。", "no placeholders，中文。"),
    ],
)
def test_render(template: str, text: str) -> None:
    assert check(template) == []
    assert render(template, FIELDS, UNITS) == text


def test_render_without_units() -> None:
    assert render("{value} / {target}", FIELDS) == "12,345.68 / 0.95"


def test_render_none_value_is_na_even_with_a_spec() -> None:
    assert render("{value:.1f}", {"value": None}) == "n/a"


def test_render_bool_is_not_a_number() -> None:
    assert render("{flag}", {"flag": True}) == "True"


def test_a_spec_that_does_not_fit_the_value_does_not_crash() -> None:
    # a numeric spec on text, or a text spec on a number: fall back to the plain rendering
    assert render("{period:.1f}", {"period": "2023-H2"}) == "2023-H2"
    assert render("{value:xyz}", {"value": D("0.5")}, {"value": "%"}) == "50%"


dangerous = st.sampled_from(
    ["{value}", "{__import__}", "{value.__class__.__mro__}", "{0}", "{label.x}", "{{", "}}", "{", "}",
     "{value!r}", "{target:{value}}", "%s", "${HOME}"]
)
values = st.lists(dangerous | st.text(), min_size=1, max_size=4).map("".join)


@given(values, values)
def test_field_values_are_inserted_literally_never_interpreted(title: str, district: str) -> None:
    fields = {"title": title, "label.district": district, "value": D(7), "target": D(3)}
    out = render("[{title}] {label.district}: {value}/{target}", fields)
    assert out == f"[{title}] {district}: 7/3"


@given(values)
def test_detail_values_are_inserted_literally_with_a_spec(text: str) -> None:
    assert render("<{expected:<3}>", {"expected": text}) == f"<{text:<3}>"


@given(st.text())
def test_check_never_raises_and_checked_templates_render(template: str) -> None:
    problems = check(template)
    assert isinstance(problems, list)
    if not problems:
        out = render(template, FIELDS, UNITS)
        assert isinstance(out, str)
