"""``targetwatch init``: a new project that checks at once, a plugin package that really
installs and works, and ``targetwatch plugins`` showing origins and versions."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result

from targetwatch import __version__
from targetwatch.cli import cli
from targetwatch.cli_init import check_plugin_name, plugin_files, project_files
from targetwatch.model import Status
from targetwatch.plugins import DEFAULT_PLUGINS, Registry
from targetwatch.testing import check, judge, make_registry

#: What the example project says as of its pinned moment: (rule, site) -> status.
EXPECTED = {
    ("visitors.h1", "north"): "OK",
    ("visitors.h1", "south"): "WARN",
    ("satisfaction.level", "north"): "OK",
    ("satisfaction.level", "south"): "BREACH",
    ("satisfaction.fresh", "north"): "OK",
}
PROJECT_FILES = ["targetwatch.toml", "rules/targets.toml", "data/observations.csv"]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """Run the CLI in-process in ``tmp_path`` with the built-in plugins only."""
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*args: str, obj: Registry | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), obj=obj or Registry(entry_points=False))

    return run


def verdicts(result: Result) -> dict[tuple[str, str], str]:
    doc = json.loads(result.stdout)
    return {(v["rule"], v["labels"]["site"]): v["status"] for v in doc["verdicts"]}


# -- a project ----------------------------------------------------------------------------------


def test_init_in_an_empty_folder_gives_a_project_that_checks(invoke: Callable[..., Result], tmp_path: Path) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.output
    for rel in PROJECT_FILES:
        assert (tmp_path / rel).is_file()
        assert f"created      {rel}" in result.stdout
    assert "created      .gitignore" in result.stdout
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == ".targetwatch/"
    assert "targetwatch check --dry-run" in result.stdout and "cd " not in result.stdout

    assert invoke("validate").stdout == "OK: 3 rules in 1 file\n"
    checked = invoke("check", "--dry-run", "--format", "json")
    assert checked.exit_code == 2, checked.output
    assert verdicts(checked) == EXPECTED
    assert json.loads(checked.stdout)["problems"] == []


def test_the_example_config_is_commented_and_covers_what_it_should() -> None:
    config = project_files()["targetwatch.toml"]
    data = tomllib.loads(config)
    assert data["timezone"] == "Asia/Shanghai" and data["sources"][0]["type"] == "csv"
    assert set(data["indicators"]) == {"visitors", "satisfaction"}
    assert data["alerting"]["notify"] == ["console", "log"]
    assert {name: c["type"] for name, c in data["channels"].items()} == {"console": "console", "log": "file"}
    assert data["channels"]["log"]["path"].endswith(".jsonl")
    assert sum(line.lstrip().startswith("#") for line in config.splitlines()) >= 10
    kinds = {r["kind"] for r in tomllib.loads(project_files()["rules/targets.toml"])["rule"]}
    assert kinds == {"minimum", "threshold", "freshness"}


def test_init_a_new_folder_says_to_cd_there(invoke: Callable[..., Result], tmp_path: Path) -> None:
    result = invoke("init", "projects/targets")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "projects" / "targets" / "targetwatch.toml").is_file()
    assert "  cd projects/targets\n" in result.stdout
    checked = invoke("check", "--dry-run", "--format", "json", "-c", "projects/targets/targetwatch.toml")
    assert verdicts(checked) == EXPECTED


def test_existing_files_are_listed_and_nothing_is_written(invoke: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "targetwatch.toml").write_text("# mine\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "observations.csv").write_text("mine\n", encoding="utf-8")
    result = invoke("init")
    assert result.exit_code == 3
    assert result.stderr == (
        "targetwatch: error: not writing anything: 2 files already exist:\n"
        "  targetwatch.toml\n  data/observations.csv\n"
        "run again with --force to overwrite them\n"
    )
    assert (tmp_path / "targetwatch.toml").read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / "rules").exists() and not (tmp_path / ".gitignore").exists()

    forced = invoke("init", "--force")
    assert forced.exit_code == 0
    assert "overwritten  targetwatch.toml" in forced.stdout and "created      rules/targets.toml" in forced.stdout
    assert (tmp_path / "targetwatch.toml").read_text(encoding="utf-8") == project_files()["targetwatch.toml"]


@pytest.mark.parametrize(
    ("before", "after", "reported"),
    [
        ("node_modules/", "node_modules/\n.targetwatch/\n", "updated      .gitignore  (ignores .targetwatch/)"),
        ("*.pyc\n", "*.pyc\n.targetwatch/\n", "updated      .gitignore"),
        ("*.pyc\n.targetwatch/\n", "*.pyc\n.targetwatch/\n", None),
        ("/.targetwatch\n", "/.targetwatch\n", None),
    ],
)
def test_an_existing_gitignore_gains_one_line_at_most(invoke: Callable[..., Result], tmp_path: Path, before: str, after: str, reported: str | None) -> None:
    (tmp_path / ".gitignore").write_text(before, encoding="utf-8")
    result = invoke("init")
    assert result.exit_code == 0
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == after
    assert (reported in result.stdout) if reported else (".gitignore" not in result.stdout)


def test_a_file_where_the_folder_should_be(invoke: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "rules").write_text("", encoding="utf-8")
    result = invoke("init")
    assert result.exit_code == 3 and "rules is a file, expected a folder" in result.stderr
    assert not (tmp_path / "targetwatch.toml").exists()


def test_init_then_check_as_real_processes(tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    init = run_cli("init", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    result = run_cli("check", "--format", "json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert verdicts_of(result.stdout) == EXPECTED
    log = (tmp_path / ".targetwatch" / "notifications.jsonl").read_text(encoding="utf-8")
    told = [json.loads(line) for line in log.splitlines()]
    assert told and {e["status"] for m in told for e in m["events"]} == {"WARN", "BREACH"}
    assert "BREACH" in result.stderr  # the console channel


def verdicts_of(stdout: str) -> dict[tuple[str, str], str]:
    return {(v["rule"], v["labels"]["site"]): v["status"] for v in json.loads(stdout)["verdicts"]}


# -- a plugin package ---------------------------------------------------------------------------


def test_plugin_package_layout(invoke: Callable[..., Result], tmp_path: Path) -> None:
    result = invoke("init", "--plugin", "no-slide")
    assert result.exit_code == 0, result.output
    root = tmp_path / "targetwatch-no-slide"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/targetwatch_no_slide/__init__.py",
        "src/targetwatch_no_slide/py.typed",
        "tests/test_no_slide.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "targetwatch-no-slide"
    assert project["project"]["entry-points"]["targetwatch"] == {"no-slide": "targetwatch_no_slide"}
    assert project["project"]["optional-dependencies"]["test"] == ["pytest"]
    assert project["project"]["dependencies"] == [f"targetwatch>={__version__}"]
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/targetwatch_no_slide"]
    tests = (root / "tests" / "test_no_slide.py").read_text(encoding="utf-8")
    assert "def test_plugin_is_installed" in tests and "from targetwatch.testing import" in tests
    assert "{{" not in "".join(plugin_files("no-slide").values())
    assert "  cd targetwatch-no-slide\n" in result.stdout and "pip install -e '.[test]'" in result.stdout


@pytest.mark.parametrize("name", ["Streak", "1streak", "no_slide", "a--b", "-a", "a-", "", "streak!", "ünicode"])
def test_invalid_plugin_names_are_refused(invoke: Callable[..., Result], tmp_path: Path, name: str) -> None:
    result = invoke("init", "--plugin", name)
    assert result.exit_code == 3
    assert f"invalid plugin name {name!r}: expected lower-case letters, digits and single dashes" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_built_in_kind_name_is_refused_and_the_prefix_is_optional() -> None:
    from targetwatch.cli_init import ScaffoldError

    with pytest.raises(ScaffoldError, match="'threshold': it is the name of a built-in rule kind"):
        check_plugin_name("threshold")
    assert check_plugin_name("targetwatch-streak2") == "streak2"


def test_an_existing_plugin_package_is_not_overwritten(invoke: Callable[..., Result], tmp_path: Path) -> None:
    assert invoke("init", "--plugin", "streak").exit_code == 0
    again = invoke("init", "--plugin", "streak")
    assert again.exit_code == 3 and "5 files already exist" in again.stderr


def _load_generated(root: Path, module: str) -> ModuleType:
    """Import a generated plugin module under a private name (nothing left in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"_generated_{module}", root / "src" / module / "__init__.py")
    assert spec is not None and spec.loader is not None
    found = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(found)
    return found


def test_the_generated_kind_judges_in_process(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    for rel, text in plugin_files("no-slide").items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    plugin = _load_generated(root, "targetwatch_no_slide")
    registry = make_registry(plugin)
    falling = [("2024-01", 10), ("2024-02", 9), ("2024-03", 8), ("2024-04", 7)]
    assert judge("no-slide", {"indicator": "x"}, falling, "2024-05-01", registry=registry).status is Status.BREACH
    assert judge("no-slide", {"indicator": "x"}, falling[:2], "2024-05-01", registry=registry).status is Status.OK
    assert judge("no-slide", {"indicator": "x"}, falling[:1], "2024-05-01", registry=registry).status is Status.UNKNOWN
    rules = '[[rule]]\nid = "r"\nkind = "no-slide"\nindicator = "x"\nperiods = 2\n'
    rows = [{"indicator": "x", "period": p, "value": v, "site": "A"} for p, v in falling]
    assert [v.status for v in check(rules, rows, "2024-05-01", registry=registry).verdicts] == [Status.BREACH]


def test_the_generated_package_installs_passes_its_tests_and_is_listed(tmp_path: Path) -> None:
    """The real thing: a throwaway virtual environment that sees the shared one's packages
    (targetwatch, pytest, hatchling) through a .pth file, the package installed editable with
    pip, its own tests run there, and ``targetwatch plugins`` listing it from there."""
    assert CliRunner().invoke(cli, ["init", "--plugin", "no-slide", str(tmp_path)], obj=Registry(entry_points=False)).exit_code == 0
    package = tmp_path / "targetwatch-no-slide"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("TARGETWATCH_PLUGINS", "TARGETWATCH_CONFIG", "PYTHONPATH")}
    # Only this plugin's entry point: what other packages happen to be installed in the shared
    # environment (and whether they load) is not this test's business.
    env.update(PYTHONIOENCODING="utf-8", TARGETWATCH_PLUGINS="no-slide")

    def run(*command: str | Path, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
        return done

    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    shared = sysconfig.get_paths()["purelib"]
    Path(purelib, "_shared_venv.pth").write_text(f"import site; site.addsitedir({shared!r})\n", encoding="utf-8")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-input", "-e", package)

    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package)
    assert "8 passed" in tests.stdout
    listed = json.loads(run(python, "-m", "targetwatch", "plugins", "--format", "json").stdout)
    info = next(p for p in listed["plugins"] if p["name"] == "no-slide")
    assert (info["origin"], info["version"]) == ("package targetwatch-no-slide", "0.1.0")
    assert info["provides"] == [{"type": "kind", "name": "no-slide", "summary": "the value has not fallen N periods in a row"}]
    docs = run(python, "-m", "targetwatch", "docs", "--kind", "no-slide").stdout
    assert "`periods`" in docs and "How many falls in a row are a breach." in docs


# -- targetwatch plugins ------------------------------------------------------------------------


class _Quiet:
    """A plugin that registers nothing (it might only add hooks of a later version)."""


def test_plugins_table_shows_origin_version_and_plugins_providing_nothing(invoke: Callable[..., Result], tmp_path: Path) -> None:
    registry = Registry(entry_points=False)
    registry.register(_Quiet(), name="quiet-plugin")
    result = invoke("plugins", obj=registry)
    assert result.exit_code == 0
    header, _, *lines = result.stdout.splitlines()
    assert header.split() == ["TYPE", "NAME", "PLUGIN", "ORIGIN", "VERSION", "SUMMARY"]
    rows = {tuple(line.split()[:3]): line for line in lines}
    http = rows[("source", "http", "targetwatch.default_plugins.http_source")]
    assert " built-in " in http and f" {__version__} " in http
    quiet = rows[("—", "—", "quiet-plugin")]
    assert "registered at run time" in quiet and "provides nothing" in quiet
    plugins_listed = {line.split()[2] for line in lines}
    assert set(DEFAULT_PLUGINS) | {"quiet-plugin"} == plugins_listed

    doc = json.loads(invoke("plugins", "--format", "json", obj=registry).stdout)
    by_name: dict[str, Any] = {p["name"]: p for p in doc["plugins"]}
    assert by_name["quiet-plugin"] == {"name": "quiet-plugin", "origin": "registered at run time", "version": None, "provides": []}
    assert {by_name[name]["version"] for name in DEFAULT_PLUGINS} == {__version__}


def test_the_wheel_carries_the_templates(tmp_path: Path) -> None:
    """The templates are package data: a wheel built from the tree holds every one of them."""
    import zipfile

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=root, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("targetwatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = root / "src" / "targetwatch" / "scaffold"
    expected = {f"targetwatch/scaffold/{p.relative_to(templates).as_posix()}" for p in templates.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert len(expected) == 8 and expected <= names
