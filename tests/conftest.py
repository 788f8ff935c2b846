"""Shared fixtures: the repository's seed example, fresh plugin registries, and small
projects (a config, rule files and a CSV) written into ``tmp_path``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from targetwatch.plugins import Registry

REPO_ROOT = Path(__file__).resolve().parents[1]

#: A project whose one indicator ``score`` (district A) reads 80 then 90.
DEFAULT_CSV = """\
indicator,period,district,value
score,2023-Q1,A,80
score,2023-Q2,A,90
"""

DEFAULT_CONFIG = """\
rules = ["rules"]
timezone = "Asia/Shanghai"
as_of = "2023-07-15"

[[sources]]
name = "main"
type = "csv"
path = "data.csv"

[indicators.score]
title = "得分 (score)"
unit = "points"
"""

#: Rule texts giving each exit status against DEFAULT_CSV (latest value 90).
RULES_OK = """\
[[rule]]
id = "score.ok"
title = "得分 ≥ 50"
kind = "threshold"
indicator = "score"
min = 50
"""
RULES_WARN = """\
[[rule]]
id = "score.warn"
kind = "threshold"
indicator = "score"
min = 50
warn_min = 95
"""
RULES_BREACH = """\
[[rule]]
id = "score.breach"
kind = "threshold"
indicator = "score"
min = 95
"""
RULES_UNKNOWN = """\
[[rule]]
id = "score.unknown"
kind = "threshold"
indicator = "score"
labels = { district = "nowhere" }
min = 50
"""

MakeProject = Callable[..., Path]


@pytest.fixture(scope="session")
def seed_root() -> Path:
    """The repository root, which holds the seed example (targetwatch.toml, rules/, examples/)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def seed_config(seed_root: Path) -> Path:
    return seed_root / "targetwatch.toml"


@pytest.fixture
def seed_copy(seed_root: Path, tmp_path: Path) -> Path:
    """A copy of the seed example (config, rules, data) in ``tmp_path``; returns its config.

    ``targetwatch check`` keeps alert state beside its config: tests that run it (without
    ``--dry-run``) use this copy, so the repository's tree is never written to."""
    import shutil

    root = tmp_path / "seed"
    root.mkdir()
    shutil.copy2(seed_root / "targetwatch.toml", root / "targetwatch.toml")
    shutil.copytree(seed_root / "rules", root / "rules")
    shutil.copytree(seed_root / "examples", root / "examples")
    return root / "targetwatch.toml"


@pytest.fixture
def registry() -> Registry:
    """A fresh registry with the built-in plugins and no installed third-party ones."""
    return Registry(entry_points=False)


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write a project into ``tmp_path`` and return its config file.

    ``rules`` maps file names under ``rules/`` to their text (a plain string is
    ``rules/main.toml``); ``csv`` is ``data.csv``; ``config`` replaces the whole config and
    ``extra`` is appended to it.
    """

    def make(
        rules: Mapping[str, str] | str = RULES_OK,
        *,
        csv: str = DEFAULT_CSV,
        config: str = DEFAULT_CONFIG,
        extra: str = "",
    ) -> Path:
        files = {"main.toml": rules} if isinstance(rules, str) else dict(rules)
        for name, text in files.items():
            path = tmp_path / "rules" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        (tmp_path / "data.csv").write_text(csv, encoding="utf-8")
        config_path = tmp_path / "targetwatch.toml"
        config_path.write_text(config + "\n" + textwrap.dedent(extra), encoding="utf-8")
        return config_path

    return make


@pytest.fixture
def project(make_project: MakeProject) -> Path:
    """The default small project (one OK threshold rule); returns its config file."""
    return make_project()


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``targetwatch`` console script (no installed third-party plugins)."""
    script = Path(sys.executable).with_name("targetwatch")

    def run(*args: str, cwd: Path, module: bool = False) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "targetwatch", *args] if module else [str(script), *args]
        env = {**os.environ, "TARGETWATCH_PLUGINS": "", "PYTHONIOENCODING": "utf-8"}
        env.pop("TARGETWATCH_CONFIG", None)
        env.pop("TARGETWATCH_LOCALE", None)
        return subprocess.run(command, check=False, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=60)

    return run


@pytest.fixture
def status_rules() -> dict[str, str]:
    """Rule-file texts that give each status against the default project's data."""
    return {"OK": RULES_OK, "WARN": RULES_WARN, "BREACH": RULES_BREACH, "UNKNOWN": RULES_UNKNOWN}


FAKE_PLUGIN = '''\
"""An installed third-party plugin, found through its entry point."""
from targetwatch import hookimpl
from targetwatch.output import OutputFormat


class CountFormat(OutputFormat):
    name = "fake-count"
    summary = "How many verdicts (from an installed test plugin)."

    def render(self, result, options):
        return f"{len(result.verdicts)} verdicts\\n"


@hookimpl
def register_output_formats(register):
    register(CountFormat())
'''


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A real installed distribution ``targetwatch-fake`` 1.2.3 in a folder on ``sys.path``
    (``*.dist-info/entry_points.txt``) with two entry points in the ``targetwatch`` group:
    ``fake`` (a module providing the output format ``fake-count``) and ``broken`` (a module
    whose import fails). ``TARGETWATCH_PLUGINS`` is unset. Returns the entry point names."""
    site = tmp_path / "site"
    info = site / "targetwatch_fake-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: targetwatch-fake\nVersion: 1.2.3\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[targetwatch]\nfake = targetwatch_fake_ok\nbroken = targetwatch_fake_broken\n", encoding="utf-8"
    )
    (site / "targetwatch_fake_ok.py").write_text(FAKE_PLUGIN, encoding="utf-8")
    (site / "targetwatch_fake_broken.py").write_text(
        'raise ImportError("No module named \'frobnicate\'")\n', encoding="utf-8"
    )
    monkeypatch.delenv("TARGETWATCH_PLUGINS", raising=False)
    monkeypatch.syspath_prepend(str(site))
    for name in ("targetwatch_fake_ok", "targetwatch_fake_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield {"ok": "fake", "broken": "broken", "site": str(site)}
    for name in ("targetwatch_fake_ok", "targetwatch_fake_broken"):
        sys.modules.pop(name, None)


@pytest.fixture
def spawn_cli() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start the real ``targetwatch`` console script without waiting for it (as ``run_cli``
    does, plus ``env`` extras such as ``TARGETWATCH_CRASH_AT``); returns the ``Popen``. Any
    process still running when the test ends is killed and reaped."""
    script = Path(sys.executable).with_name("targetwatch")
    started: list[subprocess.Popen[str]] = []

    def spawn(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        full = {**os.environ, "TARGETWATCH_PLUGINS": "", "PYTHONIOENCODING": "utf-8", **(env or {})}
        full.pop("TARGETWATCH_CONFIG", None)
        proc = subprocess.Popen(
            [str(script), *args], cwd=cwd, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8",
        )
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.communicate(timeout=10)
        except (subprocess.TimeoutExpired, ValueError):
            pass
