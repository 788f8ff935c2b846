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
    namespace: dict[str, object] = {"__name__": "readme_falls"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    import types

    module = types.ModuleType("readme_falls")
    module.__dict__.update(namespace)
    registry = Registry(entry_points=False)
    registry.register(module, name="readme-falls")
    assert "falls" in registry.kinds

    cal = Calendar("UTC")
    raw = {"rule": [{"id": "falls", "kind": "falls", "indicator": "x", "periods": 2}]}
    rules, problems = rules_from_data(raw, registry.kinds, calendar=cal)
    assert not problems
    rows = [{"indicator": "x", "period": f"2023-0{m}", "value": v} for m, v in [(1, 9), (2, 8), (3, 7)]]
    engine = Engine(rules, sources=[rows], calendar=cal, indicators={"x": Indicator("x")}, registry=registry)
    assert engine.check(as_of="2023-06-01").verdicts[0].status is Status.BREACH
    rows[2]["value"] = 10
    engine = Engine(rules, sources=[rows], calendar=cal, registry=registry)
    assert engine.check(as_of="2023-06-01").verdicts[0].status is Status.OK
    assert isinstance(Dataset(), Dataset)


def test_the_cron_line_works_as_written(tmp_path: Path) -> None:
    """The README's crontab command, run by a shell as cron would, in a copy of the seed."""
    import shutil
    import subprocess
    import sys

    if shutil.which("flock") is None:
        pytest.skip("flock(1) is not installed here")
    cron = next(b for b in re.findall(r"```cron\n(.*?)```", README, flags=re.S))
    line = next(line for line in cron.splitlines() if line and not line.startswith(("#", "MAILTO")))
    command = line.split(None, 5)[5]
    project = tmp_path / "targets"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv*", ".git", ".targetwatch", "__pycache__", ".hypothesis"))
    command = command.replace("/srv/targets", str(project)).replace("/tmp/targetwatch-targets.lock", str(tmp_path / "cron.lock"))
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr  # the seed breaches two targets
    assert "BREACH" in done.stdout and " OK " not in done.stdout  # --quiet: only what is not OK
    assert (project / ".targetwatch" / "notifications.jsonl").exists()
    again = subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 2 and "BREACH" not in again.stderr  # nothing new to notify
