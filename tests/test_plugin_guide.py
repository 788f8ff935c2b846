"""The plugin author guide, ``docs/plugins.md``, is true: every Python example in it runs, the
worked example is the ``targetwatch-streak`` package's source, and every hook is documented.

Code blocks are told apart by their info string (GitHub shows only the language):

- ```` ```python file=PATH ````: an excerpt of PATH. Together, in order, the excerpts of one
  file are the whole file; they are also run as a module.
- ```` ```python module=NAME ````: a plugin module, run and importable as ``NAME`` by the
  examples after it.
- ```` ```python ````: an example, run as a test module: each ``test_*`` function it defines
  is called (with ``tmp_path`` when it asks for it).
- ```` ```toml file=PATH ````: every key in it has the same value in PATH.
- ```` ```toml rules ````: a rule file, loaded and checked with the worked example's kind.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import tomllib
import types
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from targetwatch import hookspecs
from targetwatch.errors import PluginError
from targetwatch.model import Status
from targetwatch.testing import check, make_registry, rules_from

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugins.md"
STREAK_SRC = ROOT / "plugins" / "targetwatch-streak" / "src"
STREAK_FILE = "plugins/targetwatch-streak/src/targetwatch_streak/__init__.py"
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
LANGUAGES = {"python", "toml", "text", "sh"}


class Block(NamedTuple):
    lang: str
    options: dict[str, str]
    flags: frozenset[str]
    code: str
    line: int

    @property
    def id(self) -> str:
        return f"line{self.line}"


def parse_blocks(text: str) -> list[Block]:
    out = []
    for m in FENCE.finditer(text):
        lang, *rest = m.group("info").split() or [""]
        options = dict(word.split("=", 1) for word in rest if "=" in word)
        flags = frozenset(word for word in rest if "=" not in word)
        out.append(Block(lang, options, flags, m.group("code"), text.count("\n", 0, m.start()) + 1))
    return out


TEXT = GUIDE.read_text(encoding="utf-8")
BLOCKS = parse_blocks(TEXT)
MODULE_BLOCKS = [b for b in BLOCKS if b.lang == "python" and "module" in b.options]
EXAMPLES = [b for b in BLOCKS if b.lang == "python" and not b.options]


def _streak_importable() -> None:
    """The worked example's package, installed or (in a bare checkout) from its source."""
    try:
        importlib.import_module("targetwatch_streak")
    except ImportError:
        sys.path.insert(0, str(STREAK_SRC))
        importlib.import_module("targetwatch_streak")


_streak_importable()


def run_module(name: str, code: str, filename: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module  # attrs and dataclasses look their module up while running
    exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102 - the guide's own examples
    return module


@pytest.fixture
def guide_modules(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, types.ModuleType]]:
    """Every ``module=NAME`` block, run and importable under its name for the test."""
    loaded = {}
    for block in MODULE_BLOCKS:
        name = block.options["module"]
        monkeypatch.delitem(sys.modules, name, raising=False)
        loaded[name] = run_module(name, block.code, f"{GUIDE}:{block.line}")
    yield loaded
    for name in loaded:
        sys.modules.pop(name, None)


# -- the blocks themselves --------------------------------------------------------------------


def test_the_guide_has_examples_of_each_sort() -> None:
    assert len(MODULE_BLOCKS) >= 3 and len(EXAMPLES) >= 4
    assert [b for b in BLOCKS if b.options.get("file") == STREAK_FILE]
    for block in BLOCKS:
        assert block.lang in LANGUAGES, f"line {block.line}: a block in {block.lang!r}; label it {sorted(LANGUAGES)}"
        if block.lang == "python":
            assert set(block.options) <= {"file", "module"} and not block.flags, f"line {block.line}: {block.options} {block.flags}"


def test_every_python_block_compiles() -> None:
    for block in BLOCKS:
        if block.lang == "python":
            compile(block.code, f"{GUIDE}:{block.line}", "exec")


# -- the worked example is the package ------------------------------------------------------


def test_the_streak_blocks_are_the_package_source_in_order() -> None:
    excerpts = [b for b in BLOCKS if b.options.get("file") == STREAK_FILE]
    source = (ROOT / STREAK_FILE).read_text(encoding="utf-8")
    at = 0
    for block in excerpts:
        found = source.find(block.code, at)
        assert found >= 0, f"docs/plugins.md:{block.line}: this block is not the next part of {STREAK_FILE}"
        skipped = source[at:found]
        assert not skipped.strip(), f"docs/plugins.md:{block.line}: the guide leaves out:\n{skipped}"
        at = found + len(block.code)
    assert not source[at:].strip(), f"the guide leaves out the end of {STREAK_FILE}:\n{source[at:]}"


def test_the_streak_module_shown_in_the_guide_works() -> None:
    code = "\n".join(b.code for b in BLOCKS if b.options.get("file") == STREAK_FILE)
    module = run_module("guide_streak", code, f"{GUIDE} (streak)")
    try:
        [rule_block] = [b for b in BLOCKS if b.lang == "toml" and "rules" in b.flags]
        registry = make_registry(module)
        [rule] = rules_from(rule_block.code, registry)
        assert (rule.kind, rule.params.periods, rule.params.warn_periods) == ("streak", 3, 2)
        rows = [
            {"indicator": "education.expenditure", "period": f"2023-Q{q}", "value": v, "district": "田家庵区"}
            for q, v in zip(range(1, 5), (100, 98, 97, 95))
        ]
        result = check(rule_block.code, rows, "2024-01-01", registry=registry, timezone="Asia/Shanghai", indicators={"education.expenditure": "万元"})
        [verdict] = result.verdicts
        assert verdict.status is Status.BREACH
        assert verdict.message == "教育经费不连续三个季度下降 (no three quarterly falls in a row): 3 falls in a row since 2023-Q1"
        quoted = re.sub(r"\s+", " ", TEXT[TEXT.index("### The messages") :].split("`")[1])
        assert verdict.details["run"][-1] == ["2023-Q4", 95]
        plain = check(rule_block.code.replace('message = "{title}: {streak} falls in a row since {since}"\n', ""), rows, "2024-01-01",
                      registry=registry, timezone="Asia/Shanghai", indicators={"education.expenditure": "万元"})
        assert plain.verdicts[0].message == quoted  # the message the guide quotes is the real one
    finally:
        sys.modules.pop("guide_streak", None)


def test_the_pyproject_shown_is_the_packages() -> None:
    for block in BLOCKS:
        if block.lang == "toml" and "file" in block.options:
            shown = tomllib.loads(block.code)
            real = tomllib.loads((ROOT / block.options["file"]).read_text(encoding="utf-8"))
            _assert_subset(shown, real, block.options["file"])


def _assert_subset(shown: Any, real: Any, where: str) -> None:
    if isinstance(shown, dict):
        assert isinstance(real, dict), where
        for key, value in shown.items():
            assert key in real, f"{where}: no {key!r}"
            _assert_subset(value, real[key], f"{where}.{key}")
    else:
        assert shown == real, f"{where}: the guide shows {shown!r}, the file has {real!r}"


def test_every_toml_block_parses() -> None:
    for block in BLOCKS:
        if block.lang == "toml":
            tomllib.loads(block.code)


# -- every Python example runs ----------------------------------------------------------------


def test_every_plugin_module_registers(guide_modules: dict[str, types.ModuleType]) -> None:
    for name, module in guide_modules.items():
        registry = make_registry(module, defaults=False)
        provided = [p for info in registry.plugins() for p in info.provides]
        assert provided, f"{name} registers nothing"


@pytest.mark.parametrize("block", EXAMPLES, ids=[b.id for b in EXAMPLES])
def test_example_runs(block: Block, guide_modules: dict[str, types.ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"guide_example_{block.line}"
    try:
        module = run_module(name, block.code, f"{GUIDE}:{block.line}")
    finally:
        sys.modules.pop(name, None)
    if "pytest_plugins" in module.__dict__:  # the conftest.py line: it names an importable plugin
        for plugin in module.pytest_plugins:
            assert hasattr(importlib.import_module(plugin), "targetwatch_registry")
        return
    tests = {n: f for n, f in vars(module).items() if n.startswith("test_") and callable(f)}
    assert tests, f"docs/plugins.md:{block.line}: an example that tests nothing"
    for test_name, test in tests.items():
        if test_name == "test_plugin_is_installed":
            try:
                metadata.distribution("targetwatch-streak")
            except metadata.PackageNotFoundError:
                continue  # a bare checkout; `pip install -e plugins/targetwatch-streak` runs it
            monkeypatch.setenv("TARGETWATCH_PLUGINS", "streak")
        kwargs = {}
        if "tmp_path" in inspect.signature(test).parameters:
            kwargs["tmp_path"] = tmp_path / test_name  # a fresh folder per test, as pytest gives
            kwargs["tmp_path"].mkdir()
        test(**kwargs)


# -- what the guide says is what targetwatch does -------------------------------------------------


def test_the_duplicate_error_quoted_is_the_real_one() -> None:
    streak = importlib.import_module("targetwatch_streak")

    class Again:
        register_rule_kinds = staticmethod(streak.register_rule_kinds)

    registry = make_registry(defaults=False)
    registry.register(streak, name="streak")
    registry.register(Again(), name="streak2")
    with pytest.raises(PluginError) as raised:
        _ = registry.kinds
    assert f"`{raised.value}`" in TEXT


def test_every_testing_helper_is_in_the_guide() -> None:
    from targetwatch import testing

    for name in [*testing.__all__, "targetwatch_registry"]:
        if name != "Row":
            assert f"`{name}" in TEXT, name


def test_relative_links_resolve() -> None:
    for target in re.findall(r"\]\((\.\./[^)#]+)\)", TEXT):
        assert (GUIDE.parent / target).resolve().exists(), target


# -- every hook is documented -----------------------------------------------------------------


def hooks(module: types.ModuleType) -> dict[str, Any]:
    return {name: fn for name, fn in inspect.getmembers(module, inspect.isfunction) if hasattr(fn, "targetwatch_spec")}


def signature(name: str, fn: Any) -> str:
    """``def register_x(register: Callable[[X], None]) -> None`` from the spec's annotations."""
    annotations = dict(fn.__annotations__)
    returns = annotations.pop("return")
    args = ", ".join(f"{arg}: {annotations[arg]}" for arg in inspect.signature(fn).parameters)
    return f"def {name}({args}) -> {returns}"


def undocumented(module: types.ModuleType, guide: str) -> list[str]:
    """The hooks of ``module`` the guide does not document: each needs a ``### `NAME(...)```
    section showing its signature and the first sentence of its docstring."""
    missing = []
    for name, fn in hooks(module).items():
        heading = re.search(rf"^### `{re.escape(name)}\(.*$", guide, re.MULTILINE)
        if heading is None:
            missing.append(name)
            continue
        section = guide[heading.end() :].split("\n## ")[0].split("\n### ")[0]
        first = (inspect.getdoc(fn) or "").split("\n")[0].strip().replace("``", "`")  # reST to Markdown
        if signature(name, fn) not in section or not first or first not in " ".join(section.split()):
            missing.append(name)
    return missing


def test_every_hook_is_documented() -> None:
    assert hooks(hookspecs), "no hooks found"
    assert undocumented(hookspecs, TEXT) == []


def test_a_hook_added_without_documentation_fails_the_check() -> None:
    fake = types.ModuleType("fake_hookspecs")
    source = (
        "from collections.abc import Callable\n"
        "from targetwatch.hookspecs import hookspec\n"
        "@hookspec\n"
        "def register_widgets(register: Callable[[object], None]) -> None:\n"
        '    """Provide widgets."""\n'
    )
    exec(source, fake.__dict__)  # noqa: S102
    for name, fn in hooks(hookspecs).items():
        setattr(fake, name, fn)
    assert undocumented(fake, TEXT) == ["register_widgets"]
    documented = TEXT + "\n### `register_widgets(register)`\n\n```text\ndef register_widgets(register: Callable[[object], None]) -> None\n```\n\nProvide widgets.\n"
    assert undocumented(fake, documented) == []
