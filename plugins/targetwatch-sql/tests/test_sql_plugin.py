"""The package as installed: its entry point, the CLI listing it, its docs, and a project whose
config reads a SQLite database through ``targetwatch check``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import targetwatch_sql
from click.testing import CliRunner
from targetwatch_sql import SqlSource

from targetwatch.cli import cli
from targetwatch.plugins import Registry


def test_plugin_is_installed() -> None:
    registry = Registry()
    assert isinstance(registry.sources["sql"], SqlSource)
    result = CliRunner().invoke(cli, ["plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    [plugin] = [p for p in doc["plugins"] if p["name"] == "sql"]
    assert plugin["origin"] == "package targetwatch-sql"
    assert [(x["type"], x["name"]) for x in plugin["provides"]] == [("source", "sql")]


def test_registered_directly_on_a_bare_registry() -> None:
    registry = Registry(entry_points=False)
    assert "sql" not in registry.sources
    registry.register(targetwatch_sql, name="sql-inline")
    assert registry.sources["sql"].name == "sql"


def test_docs_list_every_parameter() -> None:
    result = CliRunner().invoke(cli, ["docs"])
    assert result.exit_code == 0
    for key in ("url", "url_file", "table", "schema", "query", "start_column", "end_column", "batch_size", "on_bad_row"):
        assert f"`{key}`" in result.output, key


CONFIG = """\
rules = ["rules.toml"]
timezone = "Asia/Shanghai"
as_of = "2023-10-16"

[state]
path = "state/state.sqlite3"

[[sources]]
name = "warehouse"
type = "sql"
url = "sqlite:///data/obs.sqlite"
table = "obs"
start_column = "starts"
end_column = "ends"

[indicators."sport.events"]
unit = "人次"
"""

RULES = """\
[[rule]]
id = "events.h2"
kind = "minimum"
indicator = "sport.events"
min = 50000
period = "2023-H2"

[[rule]]
id = "events.latest"
kind = "threshold"
indicator = "sport.events"
labels = { district = "A" }
min = 20000
"""


def test_check_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / "obs.sqlite") as conn:
        conn.execute("CREATE TABLE obs (indicator TEXT, period TEXT, value, district TEXT, starts DATE, ends DATE)")
        rows = [("sport.events", f"2023-{m:02d}", v, d, f"2023-{m:02d}-01", f"2023-{m + 1:02d}-01") for m in range(1, 11) for d, v in (("A", 12000), ("B", 1000))]
        conn.executemany("INSERT INTO obs VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    (tmp_path / "targetwatch.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "rules.toml").write_text(RULES, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "data")  # the database is found from the config's folder, not the cwd
    result = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "targetwatch.toml"), "--format", "json", "--dry-run"])
    doc = json.loads(result.output)
    statuses = sorted((v["rule"], v["labels"].get("district"), v["status"]) for v in doc["verdicts"])
    assert statuses == [("events.h2", "A", "OK"), ("events.h2", "B", "WARN"), ("events.latest", "A", "BREACH")]
    assert doc["problems"] == [] and result.exit_code == 2


def test_check_with_a_missing_table_exits_3(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "obs.sqlite").close()
    (tmp_path / "targetwatch.toml").write_text(CONFIG.replace("data/obs.sqlite", "obs.sqlite"), encoding="utf-8")
    (tmp_path / "rules.toml").write_text(RULES, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "targetwatch.toml"), "--format", "json", "--dry-run"])
    doc = json.loads(result.output)
    assert result.exit_code == 3
    assert any("no table or view 'obs' in the database" in p for p in doc["problems"]), doc["problems"]
    assert "Traceback" not in result.output


def test_discovering_the_plugin_does_not_import_sqlalchemy() -> None:
    """Cold start: every targetwatch run discovers installed plugins; SQLAlchemy is imported
    only when a sql source is opened."""
    import subprocess
    import sys

    code = "import sys, targetwatch_sql; from targetwatch.plugins import Registry; Registry().sources; print('sqlalchemy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
