"""The engine: library use with in-memory rows and callables, purity, data visibility,
failing kinds and sources, loading each indicator once, selection, messages, exit codes."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable, Collection
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from targetwatch import hookimpl
from targetwatch.engine import CheckResult, Engine, evaluate
from targetwatch.errors import ConfigError, Problem
from targetwatch.kind import EvalContext, RuleKind
from targetwatch.model import Indicator, Judgement, Rule, Series, Status, Verdict
from targetwatch.params import IndicatorRef, param
from targetwatch.periods import Calendar
from targetwatch.plugins import Registry
from targetwatch.rules import load_rules, rules_from_data

CAL = Calendar("Asia/Shanghai")
INDICATORS = {"score": Indicator("score", "得分", "points"), "total": Indicator("total", unit="points")}

ROWS = [
    {"indicator": "score", "period": "2023-Q1", "district": "A", "value": 80},
    {"indicator": "score", "period": "2023-Q2", "district": "A", "value": "90"},
    {"indicator": "score", "period": "2023-Q3", "district": "A", "value": 20},
    {"indicator": "score", "period": "2023-Q1", "district": "B", "value": 40},
    {"indicator": "total", "period": "2023-Q1", "labels": {"district": "A"}, "value": 100},
]

RULES = """
[[rule]]
id = "score.min"
title = "得分 ≥ 50"
kind = "threshold"
indicator = "score"
min = 50
tags = ["score", "daily"]

[[rule]]
id = "score.warn"
kind = "threshold"
indicator = "score"
labels = { district = "A" }
min = 10
warn_min = 85
tags = ["score"]

[[rule]]
id = "total.cap"
kind = "cap"
indicator = "total"
max = 150
tags = ["total"]
"""


@attrs.frozen
class BoomParams:
    indicator: str = param(IndicatorRef(), doc="The indicator.")


class BoomKind(RuleKind):
    name = "boom"
    summary = "always raises"
    Params = BoomParams

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        raise ZeroDivisionError("kaboom")


class BoomPlugin:
    @hookimpl
    def register_rule_kinds(self, register: Callable[[RuleKind], None]) -> None:
        register(BoomKind())


@pytest.fixture
def rules_from(tmp_path: Path, registry: Registry) -> Callable[..., tuple[Rule, ...]]:
    """Rules from TOML text, checked against ``registry``'s kinds and INDICATORS."""
    count = 0

    def load(text: str, reg: Registry | None = None) -> tuple[Rule, ...]:
        nonlocal count
        count += 1
        path = tmp_path / f"rules{count}.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_rules([path], (reg or registry).kinds, calendar=CAL, indicators=set(INDICATORS))

    return load


def statuses(result: CheckResult) -> dict[tuple[str, str], Status]:
    return {(v.rule, ",".join(f"{k}={x}" for k, x in v.labels)): v.status for v in result.verdicts}


def test_from_config_on_the_seed(seed_config: Path, registry: Registry) -> None:
    engine = Engine.from_config(seed_config, registry=registry)
    assert len(engine.rules) == 18
    assert engine.calendar.timezone == "Asia/Shanghai"
    result = engine.check()  # the config's pinned as_of
    assert result.as_of == dt.datetime(2023, 10, 16, tzinfo=CAL.tzinfo)
    assert result.as_of.utcoffset() == dt.timedelta(hours=8)
    assert len(result.verdicts) == 18 and result.problems == ()
    assert result.exit_code == 2
    assert result.summary == {"OK": 12, "WARN": 4, "BREACH": 2, "UNKNOWN": 0, "ERROR": 0}


def test_library_use_with_rows_and_a_callable(rules_from, registry: Registry) -> None:
    rules = rules_from(RULES)

    def totals(indicators: Collection[str] | None) -> list[dict[str, Any]]:
        return [r for r in ROWS if r["indicator"] == "total"]

    score_rows = [r for r in ROWS if r["indicator"] == "score"]
    engine = Engine(rules, sources=[score_rows, totals], calendar=CAL, indicators=INDICATORS, registry=registry)
    result = engine.check(as_of="2023-06-30")
    assert statuses(result) == {
        ("score.min", "district=A"): Status.OK,  # 90 for 2023-Q2
        ("score.min", "district=B"): Status.BREACH,  # 40 for 2023-Q1
        ("score.warn", "district=A"): Status.OK,  # 90 is at least the warning level 85
        ("total.cap", "district=A"): Status.OK,
    }
    by_rule = {(v.rule, v.labels): v for v in result.verdicts}
    a = by_rule[("score.min", (("district", "A"),))]
    assert (a.status, a.value, a.target, a.margin, str(a.period), a.unit) == (Status.OK, Decimal(90), Decimal(50), Decimal(40), "2023-Q2", "points")
    assert a.title == "得分 ≥ 50" and a.kind == "threshold" and a.indicator == "score" and a.tags == ("score", "daily")
    b = by_rule[("score.min", (("district", "B"),))]
    assert (b.status, b.value) == (Status.BREACH, Decimal(40))
    assert result.exit_code == 2


def test_sources_by_name_and_opened_sources(rules_from, registry: Registry) -> None:
    from targetwatch.source import RowsSource

    rules = rules_from(RULES)
    engine = Engine(rules, sources={"scores": RowsSource(ROWS[:4]), "totals": ROWS[4:]}, calendar=CAL, registry=registry)
    assert list(engine.sources) == ["scores", "totals"]
    assert len(engine.check(as_of="2023-06-30").verdicts) == 4


def test_evaluate_is_pure(rules_from, registry: Registry) -> None:
    rules = rules_from(RULES)
    engine = Engine(rules, sources=[ROWS], calendar=CAL, indicators=INDICATORS, registry=registry)
    data, problems = engine.load()
    assert problems == []
    for as_of in (dt.datetime(1990, 1, 1), dt.datetime(2023, 6, 30, 12), dt.datetime(2300, 1, 1)):
        first = evaluate(rules, data, as_of, CAL, registry.kinds, INDICATORS)
        second = evaluate(rules, data, as_of, CAL, registry.kinds, INDICATORS)
        assert first == second
    # Far in the past nothing is visible yet; far in the future everything is.
    past = evaluate(rules, data, dt.datetime(1990, 1, 1), CAL, registry.kinds, INDICATORS)
    assert {v.status for v in past} == {Status.UNKNOWN}
    assert all("1990-01-01" in v.message for v in past)
    future = evaluate(rules, data, dt.datetime(2300, 1, 1), CAL, registry.kinds, INDICATORS)
    assert {(v.rule, v.value) for v in future if v.rule == "score.min"} == {("score.min", Decimal(20)), ("score.min", Decimal(40))}
    # check() with an explicit as_of gives the same as evaluate(): no hidden clock.
    assert list(engine.check(as_of=dt.datetime(2300, 1, 1)).verdicts) == future


def test_a_naive_as_of_is_local_time_in_the_calendar_zone(rules_from, registry: Registry) -> None:
    engine = Engine(rules_from(RULES), sources=[ROWS], calendar=CAL, registry=registry)
    assert engine.check(as_of="2023-06-30T09:00").as_of == dt.datetime(2023, 6, 30, 9, tzinfo=CAL.tzinfo)
    assert engine.check(as_of=dt.date(2023, 6, 30)).as_of == dt.datetime(2023, 6, 30, tzinfo=CAL.tzinfo)
    utc = dt.datetime(2023, 6, 30, 16, 30, tzinfo=dt.UTC)  # 00:30 on 1 July in Shanghai
    assert engine.check(as_of=utc).as_of.date() == dt.date(2023, 7, 1)


def test_observations_after_as_of_are_not_seen(rules_from, registry: Registry) -> None:
    (rule,) = rules_from('[[rule]]\nid = "a"\nkind = "threshold"\nindicator = "score"\nlabels = { district = "A" }\nmin = 50\n')
    engine = Engine([rule], sources=[ROWS], calendar=CAL, registry=registry)

    def seen(as_of: str) -> tuple[str, Decimal | None, Status]:
        (v,) = engine.check(as_of=as_of).verdicts
        return str(v.period), v.value, v.status

    assert seen("2023-03-31T23:59") == ("2023-Q1", Decimal(80), Status.OK)
    assert seen("2023-04-01") == ("2023-Q2", Decimal(90), Status.OK)
    assert seen("2023-06-30") == ("2023-Q2", Decimal(90), Status.OK)
    assert seen("2023-07-01") == ("2023-Q3", Decimal(20), Status.BREACH)


def test_a_rule_selecting_no_series_gives_one_unknown(rules_from, registry: Registry) -> None:
    (rule,) = rules_from(
        '[[rule]]\nid = "nowhere"\nkind = "threshold"\nindicator = "score"\nlabels = { district = "Z" }\nmin = 1\n'
        'message = "得分 {value}"\n'
    )
    result = Engine([rule], sources=[ROWS], calendar=CAL, registry=registry).check(as_of="2023-06-30")
    (v,) = result.verdicts
    assert v.status is Status.UNKNOWN and v.labels == (("district", "Z"),)
    # The reason survives a user template (which could only say "n/a").
    assert "no data" in v.message and "score" in v.message
    assert result.exit_code == 3


def test_a_failing_kind_gives_error_verdicts_naming_the_plugin(rules_from, registry: Registry) -> None:
    registry.register(BoomPlugin(), name="boom-plugin")
    rules = rules_from(RULES + '\n[[rule]]\nid = "explodes"\nkind = "boom"\nindicator = "score"\n')
    result = Engine(rules, sources=[ROWS], calendar=CAL, registry=registry).check(as_of="2023-06-30")
    errors = [v for v in result.verdicts if v.rule == "explodes"]
    assert len(errors) == 2  # one per series of "score"
    for v in errors:
        assert v.status is Status.ERROR
        assert "boom-plugin" in v.message and "ZeroDivisionError" in v.message and "kaboom" in v.message
    others = [v for v in result.verdicts if v.rule != "explodes"]
    assert len(others) == 4 and Status.ERROR not in {v.status for v in others}
    assert result.summary["ERROR"] == 2
    assert result.exit_code == 2  # a BREACH (district B) still wins


def test_a_failing_source_is_a_problem_and_others_still_load(rules_from, registry: Registry) -> None:
    ok_rules = rules_from('[[rule]]\nid = "a"\nkind = "threshold"\nindicator = "score"\nlabels = { district = "A" }\nmin = 50\n')

    def broken(indicators: Collection[str] | None) -> list[dict[str, Any]]:
        raise ConnectionError("database is down")

    engine = Engine(ok_rules, sources={"good": ROWS, "flaky-db": broken}, calendar=CAL, registry=registry)
    result = engine.check(as_of="2023-06-30")
    (v,) = result.verdicts
    assert v.status is Status.OK and v.value == Decimal(90)  # the good source still loaded
    (problem,) = result.problems
    assert "flaky-db" in str(problem) and "ConnectionError" in str(problem) and "database is down" in str(problem)
    assert result.exit_code == 3

    breach_rules = rules_from('[[rule]]\nid = "b"\nkind = "threshold"\nindicator = "score"\nmin = 95\n')
    result = Engine(breach_rules, sources={"good": ROWS, "flaky-db": broken}, calendar=CAL, registry=registry).check(as_of="2023-06-30")
    assert result.problems and result.exit_code == 2


def test_a_bad_row_is_a_problem_naming_the_source(rules_from, registry: Registry) -> None:
    rules = rules_from('[[rule]]\nid = "a"\nkind = "threshold"\nindicator = "score"\nmin = 1\n')
    bad = [{"indicator": "score", "period": "2023-Q9", "value": 1}]
    result = Engine(rules, sources={"good": ROWS, "bad-rows": bad}, calendar=CAL, registry=registry).check(as_of="2023-06-30")
    assert any("bad-rows" in str(p) and "2023-Q9" in str(p) for p in result.problems)
    assert result.exit_code == 3


def test_each_indicator_is_loaded_once_per_check(rules_from, registry: Registry) -> None:
    rules = rules_from(RULES + """
        [[rule]]
        id = "score.also"
        kind = "threshold"
        indicator = "score"
        max = 1000

        [[rule]]
        id = "coverage"
        kind = "coverage"
        numerator = "score"
        denominator = "total"
        min = "10%"
    """)
    calls: list[frozenset[str] | None] = []

    def counting(indicators: Collection[str] | None) -> list[dict[str, Any]]:
        calls.append(None if indicators is None else frozenset(indicators))
        return ROWS

    engine = Engine(rules, sources=[counting], calendar=CAL, registry=registry)
    engine.check(as_of="2023-06-30")
    assert calls == [frozenset({"score", "total"})]
    engine.check(as_of="2023-06-30", rules=engine.select(tags=["total"]))
    assert calls[1:] == [frozenset({"total"})]


def test_select_by_id_patterns_and_tags(rules_from, registry: Registry) -> None:
    engine = Engine(rules_from(RULES), calendar=CAL, registry=registry)

    def ids(*patterns: str, tags: tuple[str, ...] = ()) -> list[str]:
        return [r.id for r in engine.select(patterns, tags)]

    assert ids() == ["score.min", "score.warn", "total.cap"]
    assert ids("score.*") == ["score.min", "score.warn"]
    assert ids("total.cap", "*.min") == ["score.min", "total.cap"]
    assert ids("score") == []  # a pattern matches the whole id
    assert ids(tags=("daily",)) == ["score.min"]
    assert ids(tags=("daily", "total")) == ["score.min", "total.cap"]
    assert ids("score.*", tags=("total",)) == []


def test_unknown_kind_is_refused(registry: Registry) -> None:
    rule = Rule("r", "r", "nope", None, ("x",))
    with pytest.raises(ConfigError, match="nope"):
        Engine([rule], registry=registry)


def test_chinese_message_template_is_rendered_with_values(rules_from, registry: Registry) -> None:
    (rule,) = rules_from("""
        [[rule]]
        id = "zh"
        title = "得分达标"
        kind = "threshold"
        indicator = "score"
        labels = { district = "A" }
        min = 50
        message = "{label.district}区{title}：{period} 得分 {value}，目标 ≥ {target}，余量 {margin}；{{原文}} {missing}"
    """)
    (v,) = Engine([rule], sources=[ROWS], calendar=CAL, indicators=INDICATORS, registry=registry).check(as_of="2023-06-30").verdicts
    assert v.message == "A区得分达标：2023-Q2 得分 90 points，目标 ≥ 50 points，余量 40 points；{原文} n/a"


def test_data_values_are_never_read_as_templates(rules_from, registry: Registry) -> None:
    (rule,) = rules_from('[[rule]]\nid = "t"\nkind = "threshold"\nindicator = "score"\nmin = 1\nmessage = "{label.district}"\n')
    rows = [{"indicator": "score", "period": "2023-Q1", "district": "{value.__class__}", "value": 5}]
    (v,) = Engine([rule], sources=[rows], calendar=CAL, registry=registry).check(as_of="2023-06-30").verdicts
    assert v.message == "{value.__class__}"


def _verdict(status: Status) -> Verdict:
    return Verdict("r", "r", "threshold", "x", (), status, "m")


@pytest.mark.parametrize(
    ("found", "problems", "code"),
    [
        ([], False, 0),
        ([Status.OK, Status.OK], False, 0),
        ([Status.OK, Status.WARN], False, 1),
        ([Status.WARN, Status.BREACH, Status.UNKNOWN], False, 2),
        ([Status.OK, Status.UNKNOWN], False, 3),
        ([Status.WARN, Status.ERROR], False, 3),
        ([Status.OK], True, 3),
        ([Status.WARN], True, 3),
        ([Status.BREACH], True, 2),
    ],
)
def test_check_result_exit_code(found: list[Status], problems: bool, code: int) -> None:
    result = CheckResult(dt.datetime(2023, 1, 1), tuple(_verdict(s) for s in found), (Problem("p"),) if problems else ())
    assert result.exit_code == code


def test_check_result_summary_counts_every_status() -> None:
    found = [Status.OK, Status.OK, Status.BREACH, Status.ERROR]
    result = CheckResult(dt.datetime(2023, 1, 1), tuple(_verdict(s) for s in found))
    assert result.summary == {"OK": 2, "WARN": 0, "BREACH": 1, "UNKNOWN": 0, "ERROR": 1}
    assert list(result.summary) == ["OK", "WARN", "BREACH", "UNKNOWN", "ERROR"]


def test_sources_that_can_filter_get_the_window_the_rules_need() -> None:
    from targetwatch.source import SourceRequest

    cal = Calendar("Asia/Shanghai")
    registry = Registry(entry_points=False)
    raw = {"rule": [
        {"id": "h2", "kind": "minimum", "indicator": "events", "min": 10, "period": "2023-H2"},
        {"id": "places", "kind": "progress", "indicator": "places", "target": 5, "start": "2023-03-01", "deadline": "2023-12-31"},
        {"id": "fresh", "kind": "freshness", "indicator": "places", "max_age": "45d"},
    ]}
    rules, problems = rules_from_data(raw, registry.kinds, calendar=cal)
    assert not problems
    asked: list[SourceRequest] = []

    class Filtering:
        def read(self, indicators: object) -> list[object]:
            raise AssertionError("read_request is preferred")

        def read_request(self, request: SourceRequest) -> list[object]:
            asked.append(request)
            return []

    engine = Engine(rules, sources=[Filtering()], calendar=cal, registry=registry)
    engine.check(as_of="2023-10-16")
    (request,) = asked
    assert request.indicators == {"events", "places"}
    assert request.until == dt.date(2023, 10, 16)
    # events: only 2023-H2 counts; places: freshness needs the newest whatever its age.
    assert request.since == {"events": dt.date(2023, 7, 1)}
    engine.check(as_of="2023-10-16", rules=[r for r in rules if r.id != "fresh"])
    assert asked[-1].since == {"events": dt.date(2023, 7, 1), "places": dt.date(2023, 3, 1)}


class DetailedKind(RuleKind):
    """Gives every field of a judgement, from one details dict it keeps changing."""

    name = "detailed"
    summary = "every field set"
    Params = BoomParams

    def __init__(self) -> None:
        self.shared: dict[str, Any] = {}

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        period, value = series.latest() or (None, None)
        self.shared["seen"] = value
        unit = "%" if value == 40 else None
        return Judgement(Status.WARN, f"{value}", value=value, target=Decimal(1), margin=Decimal(-1),
                         period=period, unit=unit, details=self.shared)


@pytest.mark.parametrize("collecting", [True, False])
def test_evaluate_leaves_the_cyclic_collector_as_it_found_it(collecting: bool, rules_from, registry: Registry) -> None:
    import gc

    registry.register(BoomPlugin(), name="boom-plugin")
    rules = rules_from(RULES + '\n[[rule]]\nid = "explodes"\nkind = "boom"\nindicator = "score"\n')
    data, _ = Engine(rules, sources=[ROWS], calendar=CAL, registry=registry).load()
    before = gc.isenabled()
    try:
        (gc.enable if collecting else gc.disable)()
        verdicts = evaluate(rules, data, dt.datetime(2023, 6, 30), CAL, registry.kinds, INDICATORS)
        assert any(v.status is Status.ERROR for v in verdicts)
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if before else gc.disable)()


def test_each_verdict_carries_the_rule_the_series_and_the_judgement(rules_from, registry: Registry) -> None:
    kind = DetailedKind()

    class Plugin:
        @hookimpl
        def register_rule_kinds(self, register: Callable[[RuleKind], None]) -> None:
            register(kind)

    registry.register(Plugin(), name="detailed-plugin")
    (rule,) = rules_from('[[rule]]\nid = "d"\ntitle = "D"\nkind = "detailed"\nindicator = "score"\nseverity = "warning"\ntags = ["x", "y"]\n')
    data, _ = Engine([rule], sources=[ROWS], calendar=CAL, registry=registry).load()
    a, b = evaluate([rule], data, dt.datetime(2023, 6, 30), CAL, registry.kinds, INDICATORS)
    assert a == Verdict(rule="d", title="D", kind="detailed", indicator="score", labels=(("district", "A"),),
                        status=Status.WARN, message="90", value=Decimal(90), target=Decimal(1), margin=Decimal(-1),
                        period=CAL.parse("2023-Q2"), unit="points", severity="warning", tags=("x", "y"),
                        details={"seen": Decimal(40)})  # the details as they were once all series were judged
    # The judgement's own unit wins; each verdict has its own copy of the details.
    assert (b.unit, b.labels, b.message) == ("%", (("district", "B"),), "40")
    kind.shared["seen"] = Decimal(0)
    assert a.details == b.details == {"seen": Decimal(40)}
    assert a.details is not b.details and a.silenced is None
