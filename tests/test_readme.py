"""The README is what a new user runs first: its commands and code must stay true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from targetwatch.data import Dataset
from targetwatch.engine import Engine
from targetwatch.model import Indicator, Status
from targetwatch.periods import Calendar
from targetwatch.plugins import Registry
from targetwatch.rules import rules_from_data

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_exactly_the_two_fresh_machine_commands() -> None:
    first = _blocks("sh")[0].strip().splitlines()
    assert README.startswith("```sh\n")
    assert len(first) == 2
    assert first[0].endswith("pip install . && targetwatch check")
    assert first[1].endswith("pip install -e '.[test]' && pytest")


def test_ci_runs_the_readme_commands_word_for_word() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in _blocks("sh")[0].strip().splitlines():
        assert command in ci


def test_readme_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = next(b for b in _blocks("python") if "Engine.from_config" in b)
    printed: list[tuple[object, ...]] = []
    exec(compile(code, "README.md", "exec"), {"print": lambda *a: printed.append(a)})  # noqa: S102
    assert printed, "the seed has targets that are not OK"
    assert {str(line[1]) for line in printed} >= {"WARN", "BREACH"}


def test_readme_plugin_example_is_a_working_rule_kind() -> None:
    code = next(b for b in _blocks("python") if "register_rule_kinds" in b)
    namespace: dict[str, object] = {"__name__": "readme_streak"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    import types

    module = types.ModuleType("readme_streak")
    module.__dict__.update(namespace)
    registry = Registry(entry_points=False)
    registry.register(module, name="readme-streak")
    assert "streak" in registry.kinds

    cal = Calendar("UTC")
    raw = {"rule": [{"id": "falls", "kind": "streak", "indicator": "x", "periods": 2}]}
    rules, problems = rules_from_data(raw, registry.kinds, calendar=cal)
    assert not problems
    rows = [{"indicator": "x", "period": f"2023-0{m}", "value": v} for m, v in [(1, 9), (2, 8), (3, 7)]]
    engine = Engine(rules, sources=[rows], calendar=cal, indicators={"x": Indicator("x")}, registry=registry)
    assert engine.check(as_of="2023-06-01").verdicts[0].status is Status.BREACH
    rows[2]["value"] = 10
    engine = Engine(rules, sources=[rows], calendar=cal, registry=registry)
    assert engine.check(as_of="2023-06-01").verdicts[0].status is Status.OK
    assert isinstance(Dataset(), Dataset)
