"""The command line: output, filters, and the monitoring-plugins exit status on every path
(0 OK, 1 WARN, 2 BREACH, 3 anything else, usage errors included)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from wcwidth import wcswidth

from targetwatch import __version__, hookimpl
from targetwatch.cli import cli
from targetwatch.plugins import Registry

BUILT_IN_KINDS = {"threshold", "cap", "minimum", "growth", "coverage", "progress", "milestone", "rank", "share", "freshness"}

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def invoke(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in-process with a fresh registry (or the one given)."""
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)

    def run(*args: str, obj: Registry | None = None, **kwargs: Any) -> Result:
        return CliRunner().invoke(cli, list(args), obj=obj or registry, **kwargs)

    return run


@pytest.fixture
def seed_json(invoke: Callable[..., Result], seed_copy: Path) -> dict[str, Any]:
    result = invoke("check", "-c", str(seed_copy), "--format", "json")
    assert result.exit_code == 2, result.output
    return json.loads(result.stdout)


def no_traceback(result: Result | subprocess.CompletedProcess[str]) -> None:
    text = result.output if isinstance(result, Result) else result.stdout + result.stderr
    assert "Traceback" not in text
    if isinstance(result, Result):
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


# -- the seed example, as cron would run it ------------------------------------------------------


def test_seed_check_prints_an_aligned_table_and_exits_2(run_cli: Run, seed_copy: Path) -> None:
    proc = run_cli("check", cwd=seed_copy.parent)
    assert proc.returncode == 2, proc.stderr
    out = proc.stdout
    lines = out.splitlines()
    assert lines[0].split() == ["STATUS", "RULE", "SERIES", "PERIOD", "VALUE", "TARGET", "WHY"]
    assert "district=田家庵区" in out and "普惠性幼儿园覆盖率 94.1% (2023-spring), 目标 ≥ 90%" in out
    assert lines[-1] == "as of 2023-10-16T00:00:00+08:00: 12 OK, 4 WARN, 2 BREACH"
    # Chinese text is aligned by display width: every row's PERIOD starts under the header.
    column = lines[0].index("PERIOD")
    rows = [line for line in lines[2:-1] if re.match(r"^(OK|WARN|BREACH|UNKNOWN|ERROR)\s", line)]
    assert len(rows) == 18
    for row in rows:
        period = row.split("district=田家庵区", 1)[1].split()[0]
        assert wcswidth(row[: row.index(period, row.index("district="))]) == column, row
    no_traceback(proc)


def test_version(run_cli: Run, tmp_path: Path, invoke: Callable[..., Result]) -> None:
    proc = run_cli("--version", cwd=tmp_path, module=True)
    assert (proc.returncode, proc.stdout.strip()) == (0, f"targetwatch, version {__version__}")
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("status, code", [("OK", 0), ("WARN", 1), ("BREACH", 2), ("UNKNOWN", 3)])
def test_exit_status_of_a_real_process(run_cli: Run, make_project: Callable[..., Path], status_rules: dict[str, str], status: str, code: int) -> None:
    config = make_project(status_rules[status])
    proc = run_cli("check", cwd=config.parent)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[2].startswith(status)


def test_usage_errors_exit_3_in_a_real_process(run_cli: Run, project: Path) -> None:
    proc = run_cli("check", "--no-such-flag", cwd=project.parent)
    assert proc.returncode == 3 and "--no-such-flag" in proc.stderr
    no_traceback(proc)


def test_missing_config_exits_3_in_a_real_process(run_cli: Run, tmp_path: Path) -> None:
    proc = run_cli("check", cwd=tmp_path)
    assert proc.returncode == 3 and proc.stdout == ""
    assert "no targetwatch.toml" in proc.stderr and "--config" in proc.stderr
    no_traceback(proc)


# -- check -----------------------------------------------------------------------------------------


def test_seed_json(seed_json: dict[str, Any]) -> None:
    doc = seed_json
    assert doc["version"] == 1 and doc["as_of"] == "2023-10-16T00:00:00+08:00"
    assert doc["summary"] == {"OK": 12, "WARN": 4, "BREACH": 2, "UNKNOWN": 0, "ERROR": 0}
    verdicts = doc["verdicts"]
    assert len(verdicts) >= 9
    for v in verdicts:
        assert {"rule", "title", "kind", "labels", "status", "value", "target", "margin", "period", "message"} <= set(v)
        assert isinstance(v["labels"], dict) and v["status"] in doc["summary"]
        assert isinstance(v["message"], str) and v["message"]
    assert {v["kind"] for v in verdicts} == BUILT_IN_KINDS
    assert {"OK", "WARN", "BREACH"} <= {v["status"] for v in verdicts}
    growth = next(v for v in verdicts if v["rule"] == "funding.expenditure-yoy")
    assert growth["title"] == "教育经费投入同比增长 (education expenditure up year on year)"
    assert growth["labels"] == {"district": "田家庵区"} and growth["period"] == "2023-H1"
    assert growth["value"] == pytest.approx(17192 / 13909 - 1, abs=1e-9) and growth["target"] == 0


def test_json_is_utf8_not_escaped(invoke: Callable[..., Result], seed_copy: Path) -> None:
    result = invoke("check", "-c", str(seed_copy), "--format", "json")
    assert "田家庵区" in result.stdout and "\\u" not in result.stdout


def test_rule_and_tag_filters(invoke: Callable[..., Result], seed_copy: Path) -> None:
    def rules(*args: str) -> tuple[int, list[str]]:
        result = invoke("check", "-c", str(seed_copy), "--format", "json", *args)
        return result.exit_code, [v["rule"] for v in json.loads(result.stdout)["verdicts"]]

    assert rules("--rule", "funding.*") == (0, ["funding.expenditure-yoy", "funding.city-surcharge"])
    assert rules("--rule", "places.linchang-school") == (1, ["places.linchang-school"])
    assert rules("--rule", "preschool.enrolment-rate", "--rule", "schools.private-share-cap") == (2, ["preschool.enrolment-rate", "schools.private-share-cap"])
    assert rules("--tag", "preschool") == (0, ["preschool.enrolment-rate", "preschool.inclusive-coverage", "preschool.extended-hours"])
    assert rules("--tag", "data") == (2, ["sport.events-data-fresh", "elderly.learners-data-fresh"])
    assert rules("--tag", "teachers", "--tag", "elderly") == (2, ["elderly.learners-rank", "elderly.learners-data-fresh", "teachers.rising-star-share", "teachers.rising-star-rank"])


def test_a_filter_matching_nothing_exits_3(invoke: Callable[..., Result], seed_copy: Path) -> None:
    result = invoke("check", "-c", str(seed_copy), "--rule", "no.such.rule")
    assert result.exit_code == 3 and "no enabled rule matches --rule no.such.rule" in result.stderr
    no_traceback(result)


def test_as_of_changes_statuses(invoke: Callable[..., Result], seed_copy: Path, seed_json: dict[str, Any]) -> None:
    result = invoke("check", "-c", str(seed_copy), "--format", "json", "--as-of", "2024-01-15")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2024-01-15T00:00:00+08:00"
    before = {v["rule"]: v["status"] for v in seed_json["verdicts"]}
    after = {v["rule"]: v["status"] for v in doc["verdicts"]}
    # Once the deadlines and H2 2023 have passed, being behind becomes a miss.
    assert (before["places.linchang-school"], after["places.linchang-school"]) == ("WARN", "BREACH")
    # H2 closed without November and December reported: not a miss but unknown, naming them
    # (the freshness rule is the one that fires for the missing reports).
    events = next(v for v in doc["verdicts"] if v["rule"] == "sport.events-h2")
    assert (before["sport.events-h2"], events["status"]) == ("WARN", "UNKNOWN")
    assert "no observation for 2023-11..2023-12 (4 of 6 observed)" in events["message"]
    assert events["details"]["missing"] == ["2023-11..2023-12"]
    assert (before["sport.fitness-points"], after["sport.fitness-points"]) == ("WARN", "UNKNOWN")  # 2023-Q4 never reported
    assert (before["sport.events-data-fresh"], after["sport.events-data-fresh"]) == ("OK", "BREACH")
    assert after["funding.expenditure-yoy"] == "OK"


def test_as_of_before_the_data_is_unknown_and_exits_3(invoke: Callable[..., Result], seed_copy: Path) -> None:
    result = invoke("check", "-c", str(seed_copy), "--format", "json", "--as-of", "2000-01-01")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["summary"]["UNKNOWN"] == 18


def test_a_bad_as_of_exits_3(invoke: Callable[..., Result], seed_copy: Path) -> None:
    result = invoke("check", "-c", str(seed_copy), "--as-of", "last tuesday-ish")
    assert result.exit_code == 3 and "last tuesday-ish" in result.stderr
    no_traceback(result)


def test_quiet_is_silent_when_all_is_ok(invoke: Callable[..., Result], project: Path) -> None:
    result = invoke("check", "-c", str(project), "--quiet")
    assert (result.exit_code, result.output) == (0, "")


def test_quiet_prints_only_what_is_not_ok(invoke: Callable[..., Result], seed_copy: Path) -> None:
    result = invoke("check", "-c", str(seed_copy), "-q")
    assert result.exit_code == 2
    rows = [line for line in result.stdout.splitlines() if re.match(r"^(OK|WARN|BREACH|UNKNOWN|ERROR)\s", line)]
    assert sorted(line.split()[0] for line in rows) == ["BREACH", "BREACH", "WARN", "WARN", "WARN", "WARN"]
    assert "funding.expenditure-yoy" not in result.stdout
    doc = json.loads(invoke("check", "-c", str(seed_copy), "-q", "--format", "json").stdout)
    assert len(doc["verdicts"]) == 6 and "OK" not in {v["status"] for v in doc["verdicts"]}


def test_dry_run_gives_the_same_output(invoke: Callable[..., Result], seed_copy: Path) -> None:
    plain = invoke("check", "-c", str(seed_copy))
    dry = invoke("check", "-c", str(seed_copy), "--dry-run")
    assert (dry.exit_code, dry.stdout) == (plain.exit_code, plain.stdout) == (2, plain.stdout)


@pytest.mark.parametrize("status, code", [("OK", 0), ("WARN", 1), ("BREACH", 2), ("UNKNOWN", 3)])
def test_exit_status_follows_the_worst_verdict(invoke: Callable[..., Result], make_project: Callable[..., Path], status_rules: dict[str, str], status: str, code: int) -> None:
    result = invoke("check", "-c", str(make_project(status_rules[status])), "--format", "json")
    assert result.exit_code == code
    assert [v["status"] for v in json.loads(result.stdout)["verdicts"]] == [status]


def test_breach_wins_over_unknown(invoke: Callable[..., Result], make_project: Callable[..., Path], status_rules: dict[str, str]) -> None:
    config = make_project({"a.toml": status_rules["BREACH"], "b.toml": status_rules["UNKNOWN"], "c.toml": status_rules["WARN"]})
    assert invoke("check", "-c", str(config)).exit_code == 2


def test_config_from_the_environment(invoke: Callable[..., Result], make_project: Callable[..., Path], status_rules: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETWATCH_CONFIG", str(make_project(status_rules["WARN"])))
    assert invoke("check").exit_code == 1


@pytest.mark.parametrize(
    "args",
    [["check", "--no-such-flag"], ["check", "--format", "xml"], ["no-such-command"], ["check", "extra-argument"], ["plugins", "--format", "xml"], ["schema", "--kind", "nope"]],
)
def test_usage_errors_exit_3(invoke: Callable[..., Result], project: Path, args: list[str]) -> None:
    result = invoke(*args, "-c", str(project)) if args[0] == "check" else invoke(*args)
    assert result.exit_code == 3, result.output
    no_traceback(result)


def test_unknown_format_lists_the_formats(invoke: Callable[..., Result], project: Path) -> None:
    result = invoke("check", "-c", str(project), "--format", "xml")
    assert "unknown --format 'xml'" in result.stderr and "json" in result.stderr and "table" in result.stderr


def test_missing_config_file_exits_3_naming_it(invoke: Callable[..., Result], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = invoke("check", "-c", str(missing))
    assert result.exit_code == 3 and str(missing) in result.stderr and result.stdout == ""
    no_traceback(result)


def test_a_broken_rule_file_exits_3_listing_every_problem(invoke: Callable[..., Result], make_project: Callable[..., Path]) -> None:
    config = make_project("""
        [[rule]]
        id = "x"
        kind = "threshhold"
        indicator = "score"

        [[rule]]
        id = "y"
        kind = "threshold"
        indicator = "scroe"
        min = 1
    """)
    result = invoke("check", "-c", str(config))
    assert result.exit_code == 3 and result.stdout == ""
    assert "2 problems in the configuration or rules" in result.stderr
    assert "main.toml:4: rule[0].kind" in result.stderr and "did you mean 'threshold'" in result.stderr
    assert "main.toml:10: rule[1].indicator" in result.stderr and "did you mean 'score'" in result.stderr
    no_traceback(result)


def test_a_failing_source_is_reported_and_exits_3(invoke: Callable[..., Result], make_project: Callable[..., Path]) -> None:
    config = make_project(extra='[[sources]]\nname = "gone"\ntype = "csv"\npath = "missing.csv"\n')
    result = invoke("check", "-c", str(config))
    assert result.exit_code == 3, result.output
    assert "OK" in result.stdout and "gone" in result.stdout  # the verdicts and the problem are shown
    no_traceback(result)


def test_a_plugin_whose_hook_raises_exits_3_naming_it(invoke: Callable[..., Result], project: Path, registry: Registry) -> None:
    class Raising:
        @hookimpl
        def register_output_formats(self, register: Any) -> None:
            raise KeyError("boom")

    registry.register(Raising(), name="raising-plugin")
    result = invoke("check", "-c", str(project))
    assert result.exit_code == 3 and "raising-plugin" in result.stderr
    no_traceback(result)


def test_a_plugin_that_fails_to_import_is_named_and_exits_3(fake_dist: dict[str, str], project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["check", "-c", str(project)])  # a registry with the entry points
    assert result.exit_code == 3
    assert "warning: plugin 'broken'" in result.stderr and "frobnicate" in result.stderr
    assert result.stdout.splitlines()[2].startswith("OK")  # the other plugins still work
    counted = CliRunner().invoke(cli, ["check", "-c", str(project), "--format", "fake-count"])
    assert counted.stdout == "1 verdicts\n"


# -- validate ----------------------------------------------------------------------------------------


def test_validate_ok(invoke: Callable[..., Result], make_project: Callable[..., Path], status_rules: dict[str, str]) -> None:
    config = make_project({"a.toml": status_rules["OK"], "sub/b.toml": status_rules["WARN"]})
    result = invoke("validate", "-c", str(config))
    assert (result.exit_code, result.stdout) == (0, "OK: 2 rules in 2 files\n")


def test_validate_the_seed(invoke: Callable[..., Result], seed_copy: Path) -> None:
    result = invoke("validate", "-c", str(seed_copy))
    assert (result.exit_code, result.stdout) == (0, "OK: 18 rules in 5 files\n")


def test_validate_a_folder_with_two_broken_files(invoke: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "one.toml").write_text('[[rule]]\nid = "a"\nkind = "threshold"\nindicator = "x"\nmin = "lots"\n', encoding="utf-8")
    (folder / "two.yaml").write_text("rules:\n  - id: b\n    kind: nope\n", encoding="utf-8")
    (folder / "fine.toml").write_text('[[rule]]\nid = "c"\nkind = "threshold"\nindicator = "x"\nmin = 1\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no targetwatch.toml here
    result = invoke("validate", "--rules", str(folder))
    assert result.exit_code == 3
    assert f"{folder / 'one.toml'}:5: rule[0].min" in result.stderr
    assert f"{folder / 'two.yaml'}:3: rules[0].kind" in result.stderr
    assert "fine.toml" not in result.stderr
    no_traceback(result)


def test_validate_with_rules_overrides_the_configs(invoke: Callable[..., Result], project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[[rule]]\nid = "o"\nkind = "threshold"\nindicator = "undeclared"\nmin = 1\n', encoding="utf-8")
    result = invoke("validate", "-c", str(project), "--rules", str(other))
    assert result.exit_code == 3 and "unknown indicator 'undeclared'" in result.stderr  # the config's indicators apply


# -- plugins and schema ----------------------------------------------------------------------------


def test_plugins_lists_built_ins_and_an_inline_plugin(invoke: Callable[..., Result], registry: Registry) -> None:
    import attrs

    from targetwatch.kind import RuleKind
    from targetwatch.params import IndicatorRef, param

    @attrs.frozen
    class ParityParams:
        indicator: str = param(IndicatorRef(), doc="The indicator judged.")

    class ParityKind(RuleKind):
        name = "parity"
        summary = "the newest value is even (or odd)"
        Params = ParityParams

    class ParityPlugin:
        @hookimpl
        def register_rule_kinds(self, register: Any) -> None:
            register(ParityKind())

    registry.register(ParityPlugin(), name="parity-plugin")
    result = invoke("plugins")
    assert result.exit_code == 0
    rows = [line.split()[:3] for line in result.stdout.splitlines()[2:]]
    assert ["kind", "parity", "parity-plugin"] in rows
    assert ["kind", "growth", "targetwatch.default_plugins.growth"] in rows
    assert {r[1] for r in rows if r[0] == "kind"} == BUILT_IN_KINDS | {"parity"}

    doc = json.loads(invoke("plugins", "--format", "json").stdout)
    assert doc["failures"] == []
    by_name = {p["name"]: p for p in doc["plugins"]}
    assert by_name["parity-plugin"]["origin"] == "registered at run time"
    assert by_name["parity-plugin"]["provides"] == [{"type": "kind", "name": "parity", "summary": "the newest value is even (or odd)"}]
    assert by_name["targetwatch.default_plugins.threshold"]["origin"] == "built-in"
    kinds = {x["name"] for p in doc["plugins"] for x in p["provides"] if x["type"] == "kind"}
    assert kinds == BUILT_IN_KINDS | {"parity"}


def test_plugins_shows_an_installed_plugin_and_a_failure(fake_dist: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["plugins", "--format", "json"])
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    fake = next(p for p in doc["plugins"] if p["name"] == "fake")
    assert (fake["origin"], fake["version"]) == ("package targetwatch-fake", "1.2.3")
    (failure,) = doc["failures"]
    assert "broken" in failure and "frobnicate" in failure


def test_schema_covers_every_kind(invoke: Callable[..., Result], registry: Registry) -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    one_of = doc["properties"]["rule"]["items"]["oneOf"]
    assert {s["properties"]["kind"]["const"] for s in one_of} == set(registry.kinds) == BUILT_IN_KINDS
    single = json.loads(invoke("schema", "--kind", "growth").stdout)
    assert single["properties"]["kind"]["const"] == "growth" and "indicator" in single["required"]
