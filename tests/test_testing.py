"""``targetwatch.testing``: the helpers plugin authors test with."""

from __future__ import annotations

import decimal
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from targetwatch import hookimpl
from targetwatch.errors import ConfigError, PluginError
from targetwatch.kind import EvalContext, RuleKind
from targetwatch.model import Indicator, Judgement, Rule, Series, Status
from targetwatch.numbers import PRECISION
from targetwatch.params import IndicatorRef, Integer, param
from targetwatch.periods import Calendar, Term
from targetwatch.plugins import Registry
from targetwatch.testing import (  # noqa: F401
    check,
    judge,
    make_registry,
    make_rule,
    rules_from,
    series,
    targetwatch_registry,
)

D = Decimal


@attrs.frozen
class LastParams:
    indicator: str = param(IndicatorRef(), doc="The indicator.")
    below: int = param(Integer(), doc="BREACH below this.", default=10)


class LastKind(RuleKind):
    """BREACH when the newest value is below ``below``; counts its calls to each method."""

    name = "last"
    summary = "the newest value is not below a bound"
    Params = LastParams

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.precision: list[int] = []

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        latest = series.latest()
        if latest is None:
            return Judgement(Status.UNKNOWN, "no data")
        self.precision.append(decimal.getcontext().prec)
        status = Status.BREACH if latest[1] < rule.params.below else Status.OK
        return Judgement(status, f"{latest[1]} at {latest[0]} ({len(series)} seen)", value=latest[1], period=latest[0])

    def evaluate_batch(self, rule: Rule, series: Sequence[Series], ctx: EvalContext) -> list[Judgement]:
        self.batches.append(len(series))
        return super().evaluate_batch(rule, series, ctx)


class LastPlugin:
    def __init__(self) -> None:
        self.kind = LastKind()

    @hookimpl
    def register_rule_kinds(self, register: Callable[[RuleKind], None]) -> None:
        register(self.kind)


class BadBatch(LastKind):
    name = "bad-batch"

    def evaluate_batch(self, rule: Rule, series: Sequence[Series], ctx: EvalContext) -> list[Judgement]:
        return []


# -- make_registry -------------------------------------------------------------------------------


def test_make_registry_has_the_builtins_and_the_given_plugin() -> None:
    plugin = LastPlugin()
    registry = make_registry(plugin)
    assert registry.kinds["last"] is plugin.kind
    assert {"threshold", "minimum", "growth"} <= set(registry.kinds)
    assert "csv" in registry.sources and "webhook" in registry.notifiers


def test_make_registry_without_defaults_has_only_the_plugin() -> None:
    registry = make_registry(LastPlugin(), defaults=False)
    assert set(registry.kinds) == {"last"}
    assert registry.sources == {} and registry.notifiers == {}


def test_make_registry_accepts_modules() -> None:
    from targetwatch.default_plugins import threshold

    registry = make_registry(threshold, defaults=False)
    assert set(registry.kinds) == {"threshold", "cap"}


def test_make_registry_ignores_installed_plugins(fake_dist: dict[str, str]) -> None:
    assert "fake-count" in Registry().outputs  # it is installed ...
    registry = make_registry()
    assert "fake-count" not in registry.outputs  # ... and a test registry does not see it
    assert registry.failures == []


def test_make_registry_names_both_plugins_of_a_duplicate_at_once() -> None:
    class Again:
        @hookimpl
        def register_rule_kinds(self, register: Callable[[RuleKind], None]) -> None:
            register(LastKind())

    with pytest.raises(PluginError) as raised:
        make_registry(LastPlugin(), Again())
    assert "kind 'last' is provided by both" in str(raised.value)


# -- series ----------------------------------------------------------------------------------


def test_series_sorts_parses_and_labels() -> None:
    s = series("x", [("2023-Q2", "17,192"), ("2023-Q1", "4.2%"), ("2023-Q3", "1.5万")], {"district": "田家庵区"})
    assert [p.label for p in s.periods] == ["2023-Q1", "2023-Q2", "2023-Q3"]
    assert s.values == (D("0.042"), D("17192"), D("15000"))
    assert s.labels == (("district", "田家庵区"),) and s.indicator == "x"


def test_series_uses_the_given_calendar_for_terms() -> None:
    import datetime as dt

    cal = Calendar("Asia/Shanghai", terms=[Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 1, 20))])
    s = series("x", [("2023-autumn", 3)], calendar=cal)
    assert s.periods[0].grain == "term"
    with pytest.raises(ValueError):
        series("x", [("2023-autumn", 3)])  # no such term in the default calendar


def test_series_rejects_a_bad_value() -> None:
    with pytest.raises(ValueError, match="lots"):
        series("x", [("2023", "lots")])


# -- rules_from ------------------------------------------------------------------------------


RULE = """\
[[rule]]
id = "x.min"
kind = "threshold"
indicator = "x"
min = 50
"""


def test_rules_from_toml_yaml_and_mappings_agree(registry: Registry) -> None:
    toml = rules_from(RULE, registry)
    yaml = rules_from("rules:\n  - id: x.min\n    kind: threshold\n    indicator: x\n    min: 50\n", registry, "yaml")
    mapping = rules_from({"rule": [{"id": "x.min", "kind": "threshold", "indicator": "x", "min": 50}]}, registry)
    listed = rules_from([{"id": "x.min", "kind": "threshold", "indicator": "x", "min": 50}], registry)
    for rules in (toml, yaml, mapping, listed):
        assert [(r.id, r.kind, r.params.min) for r in rules] == [("x.min", "threshold", D(50))]


def test_rules_from_reports_every_problem_with_line_and_key(registry: Registry) -> None:
    text = RULE + '\n[[rule]]\nid = "y"\nkind = "minimun"\nindicator = "x"\n\n[[rule]]\nid = "z"\nkind = "threshold"\nindicator = "x"\nmin = "lots"\n'
    with pytest.raises(ConfigError) as raised:
        rules_from(text, registry)
    found = [str(p) for p in raised.value.problems]
    assert len(found) == 2
    assert "<rules.toml>:9: rule[1].kind" in found[0] and "did you mean 'minimum'?" in found[0]
    assert "<rules.toml>:16: rule[2].min" in found[1] and "'lots'" in found[1]


def test_rules_from_refuses_a_duplicate_id(registry: Registry) -> None:
    with pytest.raises(ConfigError, match="duplicate rule id 'x.min'"):
        rules_from(RULE + "\n" + RULE, registry)


def test_rules_from_substitutes_the_environment(registry: Registry) -> None:
    text = RULE.replace('indicator = "x"', 'indicator = "${IND}"')
    assert rules_from(text, registry, env={"IND": "score"})[0].indicator == "score"
    with pytest.raises(ConfigError, match="'IND' is not set"):
        rules_from(text, registry, env={})


def test_rules_from_checks_declared_indicators(registry: Registry) -> None:
    with pytest.raises(ConfigError, match="unknown indicator 'x'"):
        rules_from(RULE, registry, indicators=["score"])


def test_rules_from_rejects_an_unknown_format(registry: Registry) -> None:
    with pytest.raises(ValueError, match="'json'"):
        rules_from(RULE, registry, "json")


# -- check -----------------------------------------------------------------------------------


ROWS = [
    {"indicator": "x", "period": "2023-Q1", "value": 80, "district": "A"},
    {"indicator": "x", "period": "2023-Q2", "value": 40, "district": "A"},
    {"indicator": "x", "period": "2023-Q1", "value": 60, "district": "B"},
]


def test_check_judges_every_series_as_of_a_moment() -> None:
    result = check(RULE, ROWS, "2023-03-31")
    assert {v.label_map["district"]: v.status for v in result.verdicts} == {"A": Status.OK, "B": Status.OK}
    later = check(RULE, ROWS, "2023-04-01")  # 2023-Q2 has started: A's 40 is seen
    assert {v.label_map["district"]: v.status for v in later.verdicts} == {"A": Status.BREACH, "B": Status.OK}
    assert later.exit_code == 2 and later.summary["BREACH"] == 1


def test_check_uses_the_time_zone_for_as_of() -> None:
    rows = [{"indicator": "x", "period": "2023-07-01", "value": 1}]
    # 2023-06-30T20:00Z is already July 1st in Shanghai, not yet in UTC.
    assert check(RULE, rows, "2023-06-30T20:00:00+00:00").verdicts[0].status is Status.UNKNOWN
    shanghai = check(RULE, rows, "2023-06-30T20:00:00+00:00", timezone="Asia/Shanghai")
    assert shanghai.verdicts[0].status is Status.BREACH
    assert shanghai.as_of.utcoffset() is not None and shanghai.as_of.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]


def test_check_declared_indicators_give_units_and_are_enforced() -> None:
    rule = RULE.replace("min = 50", 'min = "50%"')
    rows = [{"indicator": "x", "period": "2023", "value": "40%"}]
    for unit in ("%", {"unit": "%"}, Indicator("x", unit="%")):
        result = check(rule, rows, "2024-01-01", indicators={"x": unit})
        assert result.verdicts[0].unit == "%" and "40%" in result.verdicts[0].message
    with pytest.raises(ConfigError, match="unknown indicator 'x'"):
        check(rule, rows, "2024-01-01", indicators={"score": None})


def test_check_skips_disabled_rules_and_reports_bad_rows() -> None:
    text = RULE + '\n[[rule]]\nid = "off"\nkind = "threshold"\nindicator = "x"\nmin = 1\nenabled = false\n'
    assert [v.rule for v in check(text, ROWS, "2023-05-01").verdicts] == ["x.min", "x.min"]
    bad = check(RULE, [{"indicator": "x", "period": "2023-Q9", "value": 1}], "2024-01-01")
    assert bad.exit_code == 3 and bad.problems and "2023-Q9" in str(bad.problems[0])


def test_check_runs_a_plugin_kind_through_the_engine() -> None:
    plugin = LastPlugin()
    text = '[[rule]]\nid = "l"\nkind = "last"\nindicator = "x"\nbelow = 50\nmessage = "{title}: {value}"\n'
    result = check(text, ROWS, "2023-07-01", registry=make_registry(plugin))
    assert [v.message for v in result.verdicts] == ["l: 40", "l: 60"]
    assert plugin.kind.batches == [2]  # one batch of both series, as the engine calls it


# -- judge -----------------------------------------------------------------------------------


def test_judge_by_instance_and_by_name() -> None:
    plugin = LastPlugin()
    rows = [("2023", 5), ("2024", 20)]
    by_instance = judge(plugin.kind, {"indicator": "x"}, rows, "2025-01-01")
    by_name = judge("last", {"indicator": "x"}, rows, "2025-01-01", registry=make_registry(plugin))
    assert by_instance == by_name and by_instance.status is Status.OK and by_instance.value == 20
    assert judge("threshold", {"indicator": "x", "min": 10}, rows, "2025-01-01").status is Status.OK


def test_judge_cuts_observations_not_yet_visible() -> None:
    kind = LastKind()
    early = judge(kind, {"indicator": "x"}, [("2023", 50), ("2024", 5)], "2023-12-31")
    assert (early.status, early.value, early.message) == (Status.OK, 50, "50 at 2023 (1 seen)")


def test_judge_goes_through_evaluate_batch_in_the_exact_context() -> None:
    kind = LastKind()
    with decimal.localcontext(decimal.Context(prec=3)):
        judge(kind, {"indicator": "x"}, [("2023", 1)], "2024-01-01")
    assert kind.batches == [1] and kind.precision == [PRECISION]


def test_judge_validates_params_as_a_rule_file_would() -> None:
    with pytest.raises(ConfigError) as raised:
        judge(LastKind(), {"indicator": "x", "below": "ten", "abov": 1}, [], "2024-01-01")
    text = str(raised.value)
    assert "unknown key 'abov'" in text and "below: expected a whole number, found 'ten'" in text
    assert make_rule(LastKind(), {"indicator": "x"}).params.below == 10


def test_judge_rejects_a_kind_that_returns_the_wrong_count() -> None:
    with pytest.raises(TypeError, match="'bad-batch' returned"):
        judge(BadBatch(), {"indicator": "x"}, [("2023", 1)], "2024-01-01")


def test_judge_names_an_unknown_kind() -> None:
    with pytest.raises(KeyError, match="no rule kind 'nope'"):
        judge("nope", {"indicator": "x"}, [], "2024-01-01")


def test_judge_passes_other_series_and_units() -> None:
    others = [series("kg.all", [("2023", 200)])]
    j = judge("coverage", {"numerator": "kg.ok", "denominator": "kg.all", "min": "40%"}, [("2023", 100)], "2024-01-01", others=others)
    assert j.status is Status.OK and j.value == D("0.5")
    shown = judge("threshold", {"indicator": "x", "min": "50%"}, [("2023", "40%")], "2024-01-01", units={"x": "%"})
    assert "40%" in shown.message


# -- the pytest fixture ------------------------------------------------------------------------


def test_the_fixture_is_a_fresh_registry(targetwatch_registry: Registry) -> None:  # noqa: F811 - the fixture
    assert "threshold" in targetwatch_registry.kinds
    targetwatch_registry.register(LastPlugin())
    assert "last" in targetwatch_registry.kinds
    assert "last" not in make_registry().kinds


def test_pytest_plugins_enables_the_fixture(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["targetwatch.testing"]\n', encoding="utf-8")
    (tmp_path / "test_uses_it.py").write_text(
        textwrap.dedent(
            """\
            def test_it(targetwatch_registry):
                assert "threshold" in targetwatch_registry.kinds
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "TARGETWATCH_PLUGINS": ""}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_importing_testing_does_not_need_pytest() -> None:
    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "from targetwatch import testing\n"
        "assert not hasattr(testing, 'targetwatch_registry')\n"
        "print(testing.check('[[rule]]\\nid = \"a\"\\nkind = \"threshold\"\\nindicator = \"x\"\\nmin = 1\\n',"
        " [{'indicator': 'x', 'period': '2023', 'value': 2}], '2024-01-01').exit_code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "0"), done.stderr

