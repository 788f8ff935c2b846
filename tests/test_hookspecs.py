"""Meta-tests of the plugin contract: every hook is documented, and every hook is exercised
by a test that registers an inline plugin implementing it on a fresh registry."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Collection, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

import targetwatch
from targetwatch import hookimpl, hookspecs
from targetwatch.kind import EvalContext, RuleKind
from targetwatch.model import Judgement, Record, Rule, Series, Status
from targetwatch.notify import NotifierType
from targetwatch.output import OutputFormat, OutputOptions
from targetwatch.params import IndicatorRef, Text, param
from targetwatch.plugins import Registry
from targetwatch.source import SourceContext, SourceType

HOOK_NAMES = sorted(
    name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "targetwatch_spec")
)


@attrs.frozen
class EchoParams:
    indicator: str = param(IndicatorRef(), doc="The indicator.")


class EchoKind(RuleKind):
    name = "echo"
    summary = "always OK, echoing the newest value"
    Params = EchoParams

    def evaluate(self, rule: Rule, series: Series, ctx: EvalContext) -> Judgement:
        latest = series.latest()
        if latest is None:
            return Judgement(Status.UNKNOWN, "no data")
        return Judgement(Status.OK, "echo", value=latest[1], period=latest[0])


@attrs.frozen
class ConstantParams:
    indicator: str = param(Text(), doc="The indicator the rows are of.")
    value: str = param(Text(), doc="The value of every row.", default="7")


class ConstantSourceType(SourceType):
    name = "constant"
    summary = "one row per year, all with the same value"
    Params = ConstantParams

    def open(self, params: ConstantParams, context: SourceContext) -> Any:
        class Reader:
            def read(self, indicators: Collection[str] | None) -> Iterator[Record]:
                for year in ("2022", "2023"):
                    yield Record(params.indicator, year, Decimal(params.value), (("source", context.name),))

        return Reader()


@attrs.frozen
class PrintParams:
    prefix: str = param(Text(), doc="Printed before each message.", default=">")


class PrintNotifier(NotifierType):
    name = "print"
    summary = "prints messages"
    Params = PrintParams

    def open(self, params: Any, context: Any) -> Any:
        class Channel:
            def deliver(self, message: Any) -> None:
                print(params.prefix, message)

        return Channel()


class CountOutput(OutputFormat):
    name = "count"
    summary = "how many verdicts"

    def render(self, result: Any, options: OutputOptions) -> str:
        return f"{len(result.verdicts)}\n"


#: For each hook, the category it fills and an item an inline plugin registers through it.
ITEMS: dict[str, tuple[str, Callable[[], Any]]] = {
    "register_rule_kinds": ("kind", EchoKind),
    "register_sources": ("source", ConstantSourceType),
    "register_notifiers": ("notifier", PrintNotifier),
    "register_output_formats": ("output", CountOutput),
}


def inline_plugin(hook_name: str, item: Any, calls: list[str]) -> object:
    """A plugin object implementing only ``hook_name``, registering ``item``."""

    def impl(register: Callable[[Any], None]) -> None:
        calls.append(hook_name)
        register(item)

    impl.__name__ = hook_name
    namespace = type("InlinePlugin", (), {hook_name: staticmethod(hookimpl(impl))})
    return namespace()


def test_there_are_hooks() -> None:
    assert "register_rule_kinds" in HOOK_NAMES and len(HOOK_NAMES) >= 4


def test_every_hook_has_a_registration_test() -> None:
    assert set(ITEMS) == set(HOOK_NAMES), "add an item for each new hook to ITEMS"


def test_every_hook_is_known_to_the_plugin_manager(registry: Registry) -> None:
    for name in HOOK_NAMES:
        assert getattr(registry.pm.hook, name).spec is not None


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_is_documented(name: str) -> None:
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn)
    assert doc, f"{name} has no docstring"
    summary = doc.splitlines()[0]
    assert summary.strip() and summary.endswith("."), name
    for parameter in inspect.signature(fn).parameters:
        assert f":param {parameter}:" in doc, f"{name}: parameter {parameter!r} is not documented"
    assert ":return:" in doc, f"{name}: no :return:"


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_every_hook_is_called_and_what_it_registers_shows(name: str) -> None:
    category, make = ITEMS[name]
    item = make()
    calls: list[str] = []
    registry = Registry(entry_points=False)
    registry.register(inline_plugin(name, item, calls), name=f"inline-{name}")
    infos = {p.name: p for p in registry.plugins()}
    provided = infos[f"inline-{name}"].provides
    assert [(x.category, x.name, x.summary) for x in provided] == [(category, item.name, item.summary)]
    assert infos[f"inline-{name}"].origin == "registered at run time"
    assert calls == [name]  # called exactly once, however often the registry is consulted
    by_category = {"kind": registry.kinds, "source": registry.sources, "notifier": registry.notifiers, "output": registry.outputs}
    assert by_category[category][item.name] is item
    assert calls == [name]


def test_hookimpl_is_exported_from_the_package() -> None:
    assert targetwatch.hookimpl is hookspecs.hookimpl


def test_a_source_plugin_is_usable_from_a_config(tmp_path: Path) -> None:
    from targetwatch.engine import Engine

    registry = Registry(entry_points=False)
    registry.register(inline_plugin("register_sources", ConstantSourceType(), []), name="constant-plugin")
    registry.register(inline_plugin("register_rule_kinds", EchoKind(), []), name="echo-plugin")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text('[[rule]]\nid = "e"\nkind = "echo"\nindicator = "k"\n', encoding="utf-8")
    config = tmp_path / "targetwatch.toml"
    config.write_text(textwrap.dedent("""
        as_of = "2024-06-01"
        [indicators.k]
        [[sources]]
        name = "fixed"
        type = "constant"
        indicator = "k"
        value = "42"
    """), encoding="utf-8")
    result = Engine.from_config(config, registry=registry).check()
    (v,) = result.verdicts
    assert (v.rule, v.status, v.value, v.labels, str(v.period)) == ("e", Status.OK, Decimal(42), (("source", "fixed"),), "2023")


def test_an_output_plugin_is_usable_from_the_cli(project: Path) -> None:
    from click.testing import CliRunner

    from targetwatch.cli import cli

    registry = Registry(entry_points=False)
    registry.register(inline_plugin("register_output_formats", CountOutput(), []), name="count-plugin")
    result = CliRunner().invoke(cli, ["check", "-c", str(project), "--format", "count"], obj=registry)
    assert (result.exit_code, result.output) == (0, "1\n")
