"""``targetwatch report``: the period scorecard as a data model, one self-contained HTML page
and Markdown tables; charts for every kind, a plain line for kinds the report does not know."""

from __future__ import annotations

import builtins
import datetime as dt
import itertools
import json
import math
import os
import re
import socket
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from conftest import MakeProject
from hypothesis import given
from hypothesis import strategies as st

from targetwatch import hookimpl
from targetwatch.cli import cli
from targetwatch.engine import Engine
from targetwatch.kind import EvalContext, RuleKind
from targetwatch.model import Indicator, Judgement, Rule, Series, Status
from targetwatch.params import IndicatorRef, param
from targetwatch.periods import Calendar
from targetwatch.plugins import Registry
from targetwatch.report import build_report, judging_moment
from targetwatch.report.charts import nice_ticks
from targetwatch.report.chartspec import BarChart, TimeChart
from targetwatch.report.figures import FigureInput, figure
from targetwatch.report.html import render_html
from targetwatch.report.markdown import render_markdown
from targetwatch.rules import rules_from_data


def run(*args: str, registry: Registry | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj=registry or Registry(entry_points=False))
    return result.exit_code, result.stdout, result.stderr


class Page(HTMLParser):
    """What a reader of the page sees: the cards (rule, series, status, text), the summary
    chips, the charts, and the text of every element by tag."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.cards: list[dict[str, str]] = []
        self.chips: dict[str, int] = {}
        self.charts: list[dict[str, str]] = []
        self.texts: dict[str, list[str]] = {}
        self._stack: list[str] = []
        self._chip: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "article":
            self.cards.append({"rule": a["data-rule"], "series": a["data-series"], "status": a["data-status"]})
        if tag == "div" and "chip" in a.get("class", "").split():
            self._chip = a["data-status"]
        if tag == "svg" and "chart" in a.get("class", "").split():
            self.charts.append(a)
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not self._stack or not data.strip():
            return
        self.texts.setdefault(self._stack[-1], []).append(data.strip())
        if self._chip and self._stack[-1] == "span" and data.strip().isdigit():
            self.chips[self._chip] = int(data)
            self._chip = None


# -- the seed example ------------------------------------------------------------------------


def test_seed_report_has_every_verdict_of_check_and_its_counts(seed_config: Path) -> None:
    code, checked, _ = run("check", "--dry-run", "--format", "json", "-c", str(seed_config))
    doc = json.loads(checked)
    code, out, err = run("report", "--period", "2023-H2", "-c", str(seed_config))
    assert code == 0, err
    page = Page(out)
    seen = sorted((c["rule"], c["series"], c["status"]) for c in page.cards)
    expected = sorted((v["rule"], ",".join(f"{k}={x}" for k, x in sorted(v["labels"].items())), v["status"]) for v in doc["verdicts"])
    assert seen == expected and len(seen) == 18
    assert page.chips == {s: n for s, n in doc["summary"].items() if n or s in ("OK", "WARN", "BREACH")}
    # The moment is said at the top, with where it came from.
    assert "Judged as of 2023-10-16 00:00 (UTC+08:00), the config&#39;s as_of: 2023-H2 is still open, 58.15% of it elapsed." in out
    # Every verdict with data has its chart, each saying its numbers to a screen reader.
    assert len(page.charts) == 18
    assert all(c["role"] == "img" and c["aria-label"] for c in page.charts)
    pace = next(c for c in page.charts if "参与赛事活动" in c["aria-label"])
    for number in ("6,200 人次", "24,600 人次", "target 50,000 人次", "expected by now 29,076.09 人次", "as of 2023-10-16"):
        assert number in pace["aria-label"]


def test_seed_markdown_has_the_same_summary_and_well_formed_tables(seed_config: Path) -> None:
    _, checked, _ = run("check", "--dry-run", "--format", "json", "-c", str(seed_config))
    summary = json.loads(checked)["summary"]
    code, out, _ = run("report", "--period", "2023-H2", "--format", "markdown", "-c", str(seed_config))
    assert code == 0
    assert "**Summary:** " + " · ".join(f"{n} {s}" for s, n in summary.items() if n) in out
    tables = assert_tables_well_formed(out)
    assert [len(t) - 2 for t in tables] == [2, 4, 3, 2, 2, 2, 1, 2]  # rows per tag group, in rule order
    assert "| ✗ BREACH | 秋学期民办学校在校生占比 ≤ 4.89%" in out
    assert "http" not in out and "<svg" not in out


def assert_tables_well_formed(markdown: str) -> list[list[str]]:
    """Every GitHub table: a header, a separator, then rows, all with the same number of
    unescaped pipes. Returns the tables as lists of lines."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    for table in tables:
        cells = [len(re.findall(r"(?<!\\)\|", line)) for line in table]
        assert len(set(cells)) == 1, table
        assert re.fullmatch(r"\|(-+\|)+", table[1].replace(":", "-")), table[1]
        assert len(table) >= 3
    return tables


def test_seed_html_is_one_self_contained_printable_page(seed_config: Path) -> None:
    _, out, _ = run("report", "--period", "2023-H2", "-c", str(seed_config))
    lowered = out.lower()
    assert lowered.startswith("<!doctype html>") and "<meta charset=\"utf-8\">" in lowered
    for outside in ("http://", "https://", "<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "xlink:href", "//"):
        assert outside not in lowered, outside
    assert "@media print" in out and "break-before: page" in out and "break-inside: avoid" in out
    assert '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif' in out
    assert "老年人学习教育人数全市第一" in out  # Chinese written as is, not as entities


def test_a_closed_period_is_judged_as_of_its_end(seed_config: Path) -> None:
    code, out, _ = run("report", "--period", "2023-H2", "--as-of", "2024-01-05", "-f", "markdown", "-c", str(seed_config))
    assert code == 0
    assert "2023-H2 has closed: judged as of its end, 2024-01-01 00:00 (UTC+08:00), on its final figures (asked for 2024-01-05 00:00 (UTC+08:00), --as-of)." in out
    _, checked, _ = run("check", "--dry-run", "--format", "json", "--as-of", "2024-01-01", "-c", str(seed_config))
    summary = json.loads(checked)["summary"]
    assert "**Summary:** " + " · ".join(f"{n} {s}" for s, n in summary.items() if n) in out
    # November and December were never reported: the half's total is unknown, not a miss.
    assert re.search(r"\| \? UNKNOWN \| 参与赛事活动不少于 5 万人次 .*no observation for 2023-11\.\.2023-12 \(4 of 6 observed\)", out)


def test_judging_moment() -> None:
    cal = Calendar("Asia/Shanghai")
    h2 = cal.parse("2023-H2")
    end = cal.end_moment(h2)
    assert judging_moment(h2, cal.moment("2023-10-16"), cal) == (cal.moment("2023-10-16"), False)
    assert judging_moment(h2, end - dt.timedelta(microseconds=1), cal) == (end - dt.timedelta(microseconds=1), False)
    assert judging_moment(h2, end, cal) == (end, True)
    assert judging_moment(h2, cal.moment("2030-01-01"), cal) == (end, True)


def test_output_file_and_format_from_its_name(seed_copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    code, out, err = run("report", "--period", "2023-H2", "-o", str(target), "-c", str(seed_copy))
    assert code == 0 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"targetwatch: wrote {target} (html, 2023-H2 as of 2023-10-16 00:00: 12 OK, 4 WARN, 2 BREACH)")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temporary file left
    md = tmp_path / "out" / "report.md"
    code, out, err = run("report", "--period", "2023-H2", "-o", str(md), "-c", str(seed_copy))
    assert code == 0 and out == "" and "(markdown," in err
    assert md.read_text(encoding="utf-8").startswith("# Targets scorecard 2023-H2")


def test_output_into_a_missing_folder_is_a_clear_error(seed_copy: Path, tmp_path: Path) -> None:
    code, out, err = run("report", "--period", "2023-H2", "-o", str(tmp_path / "nowhere" / "r.html"), "-c", str(seed_copy))
    assert code == 3 and out == ""
    assert "cannot write" in err and "nowhere" in err and "Traceback" not in err


@pytest.mark.parametrize("period", ["2023-H3", "last fortnight", ""])
def test_a_bad_period_exits_3_saying_what_was_expected(seed_config: Path, period: str) -> None:
    code, out, err = run("report", "--period", period, "-c", str(seed_config))
    assert code == 3 and out == ""
    assert "--period" in err and "expected a period such as 2023, 2023-H2" in err and repr(period) in err
    assert "Traceback" not in err


def test_missing_period_is_a_usage_error_exiting_3(seed_config: Path) -> None:
    code, _, err = run("report", "-c", str(seed_config))
    assert code == 3 and "--period" in err


def test_filters_and_a_relative_period(seed_config: Path) -> None:
    code, out, _ = run("report", "--period", "current half", "--tag", "sport", "--rule", "sport.*", "-c", str(seed_config))
    assert code == 0
    assert sorted(c["rule"] for c in Page(out).cards) == ["sport.events-h2", "sport.fitness-points"]
    assert "Targets scorecard 2023-H2" in out
    code, _, err = run("report", "--period", "2023-H2", "--tag", "nothing", "-c", str(seed_config))
    assert code == 3 and "no enabled rule matches --tag nothing" in err


# -- user text is shown literally ------------------------------------------------------------

HOSTILE_TITLE = '<script>alert("x")</script> & co | 田 https://example.org/a?b=1&c=2'

HOSTILE_RULES = f"""\
[[rule]]
id = "score.hostile"
title = '''{HOSTILE_TITLE}'''
kind = "threshold"
indicator = "score"
min = 85
tags = ["<b>tag</b>"]
message = "<img src=x onerror=alert(1)> {{value}} &amp;"
description = "</article><script>bad()</script>"

[[rule]]
id = "score.untagged"
kind = "threshold"
indicator = "score"
min = 50
"""
HOSTILE_CSV = "indicator,period,district,value\nscore,2023-Q1,<i>A</i>,80\nscore,2023-Q2,<i>A</i>,90\n"


def test_user_text_is_escaped_and_shown_literally(make_project: MakeProject) -> None:
    config = make_project(HOSTILE_RULES, csv=HOSTILE_CSV)
    code, out, _ = run("report", "--period", "2023-Q3", "--title", "<h1>x</h1> 报告", "-c", str(config))
    assert code == 0
    page = Page(out)
    assert HOSTILE_TITLE in page.texts["h3"]
    assert "<h1>x</h1> 报告" in page.texts["h1"]
    assert "<img src=x onerror=alert(1)> 90 points &amp;" in page.texts["p"]
    assert "</article><script>bad()</script>" in page.texts["p"]
    assert "<script" not in out.lower() and "<img" not in out.lower() and "<i>" not in out
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in out
    # A URL appears only where the user wrote one, escaped like any text.
    assert out.count("https://") == out.count("https://example.org/a?b=1&amp;c=2") > 0
    assert "http://" not in out
    # Groups: the first tag, untagged last.
    groups = [t for t in page.texts["h2"] if t not in ("Needs attention", "Problems")]
    assert groups == ["<b>tag</b>", "untagged"]


def test_user_text_in_markdown_stays_inside_its_cell(make_project: MakeProject) -> None:
    config = make_project(HOSTILE_RULES, csv=HOSTILE_CSV)
    code, out, _ = run("report", "--period", "2023-Q3", "-f", "markdown", "-c", str(config))
    assert code == 0
    assert_tables_well_formed(out)
    assert r"\<script\>alert(" in out and r"& co \| 田" in out and r"\<img src=x" in out
    assert "<script" not in out.replace("\\<script", "")


# -- the data model, without I/O -------------------------------------------------------------


class Streak(RuleKind):
    """A third-party kind the report knows nothing about, with details it has never seen."""

    name = "streak"
    summary = "the value has not fallen N periods in a row"

    @attrs.frozen
    class Params:
        indicator: str = param(IndicatorRef(), doc="The indicator judged.")

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        latest = series.latest()
        assert latest is not None
        return Judgement(Status.WARN, "falling", value=latest[1], period=latest[0], details={"period": object(), "weird": [1, 2]})


class StreakPlugin:
    @hookimpl
    def register_rule_kinds(self, register: Callable[[RuleKind], None]) -> None:
        register(Streak())


ROWS = [
    {"indicator": "visits", "period": p, "value": v, "district": "A"}
    for p, v in (("2023-07", "6200"), ("2023-08", "7900"), ("2023-09", "8400"), ("2023-10", "2100"), ("2022-H2", "40000"))
] + [{"indicator": "level", "period": p, "value": v, "district": "A"} for p, v in (("2022-H1", "100"), ("2023-H1", "90"))]

RULES = {"rule": [
    {"id": "visits.h2", "title": "参与 ≥ 50,000", "kind": "minimum", "indicator": "visits", "min": 50000, "period": "2023-H2", "tags": ["sport"],
     "gaps": "ignore"},  # judged on the months there are, once closed too
    {"id": "level.streak", "kind": "streak", "indicator": "level", "tags": ["custom"]},
    {"id": "level.growth", "kind": "growth", "indicator": "level", "min": "0%"},
    {"id": "nothing", "kind": "threshold", "indicator": "level", "labels": {"district": "B"}, "min": 1},
]}


@pytest.fixture
def engine() -> Engine:
    registry = Registry(entry_points=False)
    registry.register(StreakPlugin(), name="streak-plugin")
    cal = Calendar("Asia/Shanghai")
    rules, problems = rules_from_data(RULES, registry.kinds, calendar=cal)
    assert not problems
    units = {"visits": Indicator("visits", "参与人次", "人次"), "level": Indicator("level")}
    return Engine(rules, sources=[ROWS], calendar=cal, indicators=units, registry=registry)


@pytest.fixture
def no_io(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call to make any file or network access from now on fail the test."""

    def block() -> None:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"I/O attempted: {args!r}")

        monkeypatch.setattr(builtins, "open", refuse)
        monkeypatch.setattr(os, "open", refuse)
        monkeypatch.setattr(socket, "socket", refuse)

    return block


def test_the_model_is_built_without_io_and_draws_what_the_verdict_says(engine: Engine, no_io: Callable[[], None]) -> None:
    data, problems = engine.load()
    assert not problems
    result = engine.check("2023-10-16", data=data)
    period = engine.calendar.parse("2023-H2")
    build_report(engine, data, result, period)  # imports whatever it needs lazily, before I/O is blocked
    no_io()
    report = build_report(engine, data, result, period, requested=result.as_of, basis="option", origin="inline")
    assert [g.title for g in report.groups] == ["sport", "custom", "untagged"]
    assert report.summary == result.summary and report.summary_text == "2 WARN, 1 BREACH, 1 UNKNOWN"
    assert report.subtitle == "4 targets on 2 indicators · inline" and not report.closed
    entries = {e.rule: e for e in report.entries}
    visits = entries["visits.h2"]
    assert (visits.status, visits.value, visits.margin_sign, visits.series) == ("WARN", "24,600 人次", -1, "district=A")
    chart = visits.chart
    assert isinstance(chart, TimeChart) and (chart.start, chart.end) == (dt.date(2023, 7, 1), dt.date(2024, 1, 1))
    lines = {line.role: line for line in chart.lines}
    # The running total (October still open: drawn at the moment judged), never the 2022-H2 figure.
    assert [(p.x, p.y) for p in lines["cumulative"].points] == [
        (dt.date(2023, 7, 1), Decimal(0)), (dt.date(2023, 8, 1), Decimal(6200)), (dt.date(2023, 9, 1), Decimal(14100)),
        (dt.date(2023, 10, 1), Decimal(22500)), (dt.date(2023, 10, 16), Decimal(24600))]
    assert [p.y for p in lines["target"].points] == [50000, 50000]
    assert [(p.x, p.y) for p in lines["pace"].points] == [(dt.date(2023, 7, 1), Decimal(0)), (dt.date(2024, 1, 1), Decimal(50000))]
    expected = next(m for m in chart.markers if m.role == "expected")
    assert expected.point.y == Decimal(result.verdicts[0].details["expected"])
    assert [r.x for r in chart.rules] == [dt.date(2023, 10, 16)]
    # A kind the report does not know: a plain line of its series, whatever its details.
    streak = entries["level.streak"].chart
    assert isinstance(streak, TimeChart) and [line.role for line in streak.lines] == ["series"]
    assert [p.y for p in streak.lines[0].points] == [100, 90]
    growth = entries["level.growth"].chart
    assert isinstance(growth, TimeChart) and {b.role for b in growth.bands} == {"base", "judged"}
    assert [m.role for m in growth.markers] == ["breach"] and entries["level.growth"].status == "BREACH"
    assert entries["nothing"].chart is None and entries["nothing"].status == "UNKNOWN"
    assert "inline" in render_html(report) and "UNKNOWN" in render_markdown(report)


def test_a_closed_period_model(engine: Engine) -> None:
    data, _ = engine.load()
    period = engine.calendar.parse("2023-H2")
    moment, closed = judging_moment(period, engine.moment("2024-03-01"), engine.calendar)
    report = build_report(engine, data, engine.check(moment, data=data), period, requested=engine.moment("2024-03-01"), basis="now")
    assert closed and report.closed and report.elapsed == 1.0
    visits = next(e for e in report.entries if e.rule == "visits.h2")
    assert visits.status == "BREACH"
    assert isinstance(visits.chart, TimeChart)
    assert {line.role for line in visits.chart.lines} == {"cumulative", "target"}  # no pace line once closed
    assert [m.role for m in visits.chart.markers] == ["breach"]


def test_custom_kind_report_renders_end_to_end(make_project: MakeProject) -> None:
    registry = Registry(entry_points=False)
    registry.register(StreakPlugin(), name="streak-plugin")
    config = make_project('[[rule]]\nid = "s"\nkind = "streak"\nindicator = "score"\n')
    code, out, err = run("report", "--period", "2023", "-c", str(config), registry=registry)
    assert code == 0, err
    (chart,) = Page(out).charts
    assert "80 points" in chart["aria-label"] and "90 points" in chart["aria-label"]


def test_a_builder_meeting_unexpected_details_falls_back_to_a_plain_chart(engine: Engine) -> None:
    data, _ = engine.load()
    result = engine.check("2023-10-16", data=data)
    verdict = attrs.evolve(next(v for v in result.verdicts if v.rule == "level.growth"), details={"period": "not a period"})
    series = data.get("level", verdict.labels)
    chart = figure(FigureInput(verdict, None, series, data, engine.calendar, result.as_of, engine.indicators))
    assert isinstance(chart, TimeChart) and [line.role for line in chart.lines] == ["series"]


def test_peer_charts_for_the_seed(seed_config: Path) -> None:
    registry = Registry(entry_points=False)
    engine = Engine.from_config(seed_config, registry=registry)
    data, _ = engine.load()
    result = engine.check(data=data)
    report = build_report(engine, data, result, engine.calendar.parse("2023-H2"))
    charts = {e.rule: e.chart for e in report.entries}
    rank, share = charts["elderly.learners-rank"], charts["teachers.rising-star-share"]
    assert isinstance(rank, BarChart) and isinstance(share, BarChart)
    assert [b.value for b in rank.bars] == sorted((b.value for b in rank.bars), reverse=True) and len(rank.bars) == 7
    assert rank.bars[0].own and rank.bars[0].label == "田家庵区"
    assert "淮南市" not in [b.label for b in share.bars]  # the total is not a peer
    assert [r.value for r in share.references] == [Decimal("0.3") * 72]


@given(st.floats(-1e9, 1e9), st.floats(0, 1e9))
def test_nice_ticks_cover_the_range_in_even_steps(low: float, span: float) -> None:
    high = low + span
    ticks = nice_ticks(low, high)
    assert 2 <= len(ticks) <= 10
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    assert all(step > 0 and math.isclose(step, steps[0], rel_tol=1e-6) for step in steps)
    # Covered up to float noise, a millionth of a step.
    assert ticks[0] <= low + 1e-6 * steps[0] and ticks[-1] >= high - 1e-6 * steps[0]
