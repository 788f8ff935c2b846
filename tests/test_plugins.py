"""The plugin registry: inline plugins, validation of what they register, entry points,
TARGETWATCH_PLUGINS, failures named after the plugin, and a cheap ``import targetwatch``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from targetwatch import hookimpl
from targetwatch.engine import Engine
from targetwatch.errors import PluginError
from targetwatch.kind import EvalContext, RuleKind
from targetwatch.model import Judgement, Rule, Series, Status
from targetwatch.params import Choice, IndicatorRef, param
from targetwatch.plugins import DEFAULT_PLUGINS, Registry, provided_by
from targetwatch.rules import load_rules
from targetwatch.source import SourceType


@attrs.frozen
class ParityParams:
    indicator: str = param(IndicatorRef(), doc="The indicator judged.")
    want: str = param(Choice("even", "odd"), doc="Which parity passes.", default="even")


class ParityKind(RuleKind):
    """The newest value must be even (or odd)."""

    name = "parity"
    summary = "the newest value is even (or odd)"
    Params = ParityParams

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        p: ParityParams = rule.params
        latest = series.latest()
        if latest is None:
            return Judgement(Status.UNKNOWN, "no data")
        period, value = latest
        ok = (value % 2 == 0) == (p.want == "even")
        return Judgement(Status.OK if ok else Status.BREACH, f"{value} should be {p.want}", value=value, period=period)


class ParityPlugin:
    @hookimpl
    def register_rule_kinds(self, register: Callable[[RuleKind], None]) -> None:
        register(ParityKind())


def kind_plugin(*items: Any) -> object:
    """A plugin object whose register_rule_kinds registers ``items``."""

    class Plugin:
        @hookimpl
        def register_rule_kinds(self, register: Callable[[Any], None]) -> None:
            for item in items:
                register(item)

    return Plugin()


def test_an_inline_kind_is_used_from_a_rule_file(tmp_path: Path, registry: Registry) -> None:
    registry.register(ParityPlugin(), name="parity-plugin")
    assert "parity" in registry.kinds
    path = tmp_path / "r.toml"
    path.write_text(textwrap.dedent("""
        [[rule]]
        id = "even"
        kind = "parity"
        indicator = "n"

        [[rule]]
        id = "odd"
        kind = "parity"
        indicator = "n"
        want = "odd"
    """), encoding="utf-8")
    rules = load_rules([path], registry.kinds)
    assert isinstance(rules[1].params, ParityParams) and rules[1].params.want == "odd"
    rows = [{"indicator": "n", "period": "2023", "value": 4}]
    result = Engine(rules, sources=[rows], registry=registry).check(as_of="2024-01-01")
    assert [(v.rule, v.status, v.value) for v in result.verdicts] == [("even", Status.OK, Decimal(4)), ("odd", Status.BREACH, Decimal(4))]
    assert provided_by(registry, "kind", "parity") == "parity-plugin"


def test_an_inline_kinds_params_are_validated(tmp_path: Path, registry: Registry) -> None:
    from targetwatch.errors import ConfigError

    registry.register(ParityPlugin(), name="parity-plugin")
    path = tmp_path / "r.toml"
    path.write_text('[[rule]]\nid = "p"\nkind = "parity"\nindicator = "n"\nwant = "oddd"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'odd'") as exc:
        load_rules([path], registry.kinds)
    assert exc.value.problems[0].line == 5


def test_a_duplicate_kind_names_both_plugins(registry: Registry) -> None:
    registry.register(ParityPlugin(), name="first-plugin")
    registry.register(ParityPlugin(), name="second-plugin")
    with pytest.raises(PluginError) as exc:
        _ = registry.kinds
    assert "'parity'" in str(exc.value) and "first-plugin" in str(exc.value) and "second-plugin" in str(exc.value)


def test_a_kind_clashing_with_a_built_in_names_both(registry: Registry) -> None:
    class Threshold(ParityKind):
        name = "threshold"

    registry.register(kind_plugin(Threshold()), name="shadowing-plugin")
    with pytest.raises(PluginError) as exc:
        _ = registry.kinds
    assert "targetwatch.default_plugins.threshold" in str(exc.value) and "shadowing-plugin" in str(exc.value)


@pytest.mark.parametrize("item", [object(), "parity", ParityKind, SourceType()])
def test_registering_something_that_is_not_a_rule_kind_is_refused(registry: Registry, item: object) -> None:
    registry.register(kind_plugin(item), name="sloppy-plugin")
    with pytest.raises(PluginError) as exc:
        _ = registry.kinds
    assert exc.value.plugin == "sloppy-plugin" and "RuleKind" in str(exc.value)


def test_an_invalid_name_is_refused(registry: Registry) -> None:
    class Shouting(ParityKind):
        name = "PARITY KIND"

    registry.register(kind_plugin(Shouting()), name="loud-plugin")
    with pytest.raises(PluginError, match="invalid name") as exc:
        _ = registry.kinds
    assert exc.value.plugin == "loud-plugin"


def test_a_hook_that_raises_names_the_plugin(registry: Registry) -> None:
    class Raising:
        @hookimpl
        def register_sources(self, register: Callable[[Any], None]) -> None:
            raise RuntimeError("config server unreachable")

    registry.register(Raising(), name="raising-plugin")
    with pytest.raises(PluginError) as exc:
        _ = registry.sources
    text = str(exc.value)
    assert exc.value.plugin == "raising-plugin"
    assert "raising-plugin" in text and "register_sources" in text and "config server unreachable" in text


def test_registering_the_same_name_twice_is_refused(registry: Registry) -> None:
    registry.register(ParityPlugin(), name="p")
    with pytest.raises(PluginError, match="already registered"):
        registry.register(ParityPlugin(), name="p")


def test_registering_later_refreshes_what_is_provided(registry: Registry) -> None:
    assert "parity" not in registry.kinds
    registry.register(ParityPlugin(), name="late")
    assert "parity" in registry.kinds


def test_built_ins_are_plugins_like_any_other(registry: Registry) -> None:
    infos = {p.name: p for p in registry.plugins()}
    assert set(DEFAULT_PLUGINS) <= set(infos)
    assert all(infos[name].origin == "built-in" for name in DEFAULT_PLUGINS)
    provided = {(x.category, x.name) for p in infos.values() for x in p.provides}
    expected_kinds = {"threshold", "cap", "minimum", "growth", "coverage", "progress", "milestone", "rank", "share", "freshness"}
    assert {n for c, n in provided if c == "kind"} == expected_kinds
    assert {("source", "csv"), ("source", "json"), ("output", "table"), ("output", "json")} <= provided
    assert all(x.summary for p in infos.values() for x in p.provides)
    assert provided_by(registry, "kind", "growth") == "targetwatch.default_plugins.growth"
    assert provided_by(registry, "kind", "nope") is None


def test_a_registry_without_defaults_is_empty() -> None:
    registry = Registry(defaults=False, entry_points=False)
    assert registry.kinds == {} and registry.plugins() == []


# -- entry points ------------------------------------------------------------------------------


def test_entry_points_are_loaded_and_a_broken_one_is_recorded(fake_dist: dict[str, str]) -> None:
    registry = Registry()
    assert "fake-count" in registry.outputs
    info = {p.name: p for p in registry.plugins()}["fake"]
    assert (info.origin, info.version) == ("package targetwatch-fake", "1.2.3")
    assert [(x.category, x.name) for x in info.provides] == [("output", "fake-count")]
    (failure,) = registry.failures
    assert isinstance(failure, PluginError) and failure.plugin == "broken"
    assert "broken" in str(failure) and "targetwatch-fake" in str(failure) and "frobnicate" in str(failure)
    assert "broken" not in {p.name for p in registry.plugins()}
    assert "threshold" in registry.kinds  # the built-ins are unaffected


@pytest.mark.parametrize(
    ("wanted", "loaded", "failed"),
    [("fake", {"fake"}, set()), ("broken", set(), {"broken"}), ("", set(), set()), (" fake , broken ", {"fake"}, {"broken"}), ("other", set(), set())],
)
def test_targetwatch_plugins_restricts_entry_points(
    fake_dist: dict[str, str], monkeypatch: pytest.MonkeyPatch, wanted: str, loaded: set[str], failed: set[str]
) -> None:
    monkeypatch.setenv("TARGETWATCH_PLUGINS", wanted)
    registry = Registry()
    names = {p.name for p in registry.plugins()}
    assert names & {"fake", "broken"} == loaded
    assert {f.plugin for f in registry.failures} == failed
    assert ("fake-count" in registry.outputs) == ("fake" in loaded)
    assert "targetwatch_fake_broken" not in sys.modules or "broken" in failed


def test_entry_points_off(fake_dist: dict[str, str]) -> None:
    registry = Registry(entry_points=False)
    assert "fake-count" not in registry.outputs and registry.failures == []
    assert "targetwatch_fake_ok" not in sys.modules


def test_entry_points_via_monkeypatched_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    import targetwatch.plugins as plugins_module

    plugin = kind_plugin(ParityKind())

    class FakeEntryPoint:
        def __init__(self, name: str, target: Any) -> None:
            self.name, self.target, self.dist = name, target, None

        def load(self) -> Any:
            if isinstance(self.target, Exception):
                raise self.target
            return self.target

    def entry_points(**kwargs: Any) -> list[FakeEntryPoint]:
        assert kwargs == {"group": "targetwatch"}
        return [FakeEntryPoint("bad", SyntaxError("oops")), FakeEntryPoint("good", plugin)]

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    assert plugins_module.metadata is metadata
    monkeypatch.delenv("TARGETWATCH_PLUGINS", raising=False)
    registry = Registry()
    assert "parity" in registry.kinds and provided_by(registry, "kind", "parity") == "good"
    assert [f.plugin for f in registry.failures] == ["bad"] and "SyntaxError" in str(registry.failures[0])
    assert {p.name: p.origin for p in registry.plugins()}["good"] == "entry point"


def test_importing_targetwatch_runs_no_plugin_code() -> None:
    code = textwrap.dedent("""
        import sys
        import targetwatch
        from targetwatch import hookimpl
        heavy = ("pendulum", "tabulate", "yaml", "click", "targetwatch.plugins", "targetwatch.default_plugins")
        loaded = sorted(m for m in sys.modules if m.startswith(heavy))
        print(",".join(loaded))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
