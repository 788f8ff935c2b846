"""``targetwatch backtest`` replays the rules as ``check --dry-run --as-of`` would have judged
them at each step (the same availability rule: ``reported_at``, else the period's start, or
its end with ``available = "period_end"``), through the same alert lifecycle, writing nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import MakeProject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ptykit import on_a_terminal

from targetwatch.backtest import StepsError, replay, steps
from targetwatch.cli import cli
from targetwatch.data import Dataset
from targetwatch.default_plugins.csv_source import CsvParams
from targetwatch.default_plugins.json_source import JsonParams
from targetwatch.default_plugins.sqlite_source import SqliteParams
from targetwatch.engine import Engine, evaluate
from targetwatch.errors import SourceError
from targetwatch.model import Record, Series, make_labels
from targetwatch.periods import Calendar
from targetwatch.plugins import Registry
from targetwatch.rules import load_rules
from targetwatch.source import SourceContext

CAL = Calendar("Asia/Shanghai")
TZ = CAL.tzinfo


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj=Registry(entry_points=False))
    return result.exit_code, result.stdout, result.stderr


def backtest_json(config: Path, *args: str) -> dict[str, Any]:
    code, out, err = run("backtest", "-c", str(config), "-f", "json", *args)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    assert doc["version"] == 1
    return doc


def statuses_per_step(doc: dict[str, Any]) -> dict[str, dict[tuple[str, str], str]]:
    """Each step's status of every rule and series, rebuilt from the printed changes (the first
    step gives every series its starting status)."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for c in doc["changes"]:
        changes.setdefault(c["at"], []).append(c)
    now: dict[tuple[str, str], str] = {}
    out = {}
    for at in doc["steps"]:
        for c in changes.get(at, []):
            assert now.get((c["rule"], c["series"])) == c["from"]
            now[(c["rule"], c["series"])] = c["to"]
        out[at] = dict(now)
    return out


def check_statuses(config: Path, as_of: str) -> dict[tuple[str, str], dict[str, Any]]:
    code, out, err = run("check", "--dry-run", "--as-of", as_of, "--format", "json", "-c", str(config))
    assert code in (0, 1, 2, 3), err
    return {(v["rule"], ",".join(f"{k}={x}" for k, x in v["labels"].items())): v for v in json.loads(out)["verdicts"]}


# -- equivalence with check --dry-run --as-of -------------------------------------------------


@pytest.mark.parametrize(("start", "end", "every"), [("2023-01-01", "2023-12-31", "month"), ("2023-06-20", "2023-10-10", "week")])
def test_every_step_equals_a_separate_check(seed_copy: Path, start: str, end: str, every: str) -> None:
    doc = backtest_json(seed_copy, "--from", start, "--to", end, "--every", every)
    assert len(doc["steps"]) == {"month": 12, "week": 16}[every]
    per_step = statuses_per_step(doc)
    messages = {(c["at"], c["rule"], c["series"]): c["message"] for c in doc["changes"]}
    for at, statuses in per_step.items():
        checked = check_statuses(seed_copy, at[:10])
        assert {k: v["status"] for k, v in checked.items()} == statuses, at
        for (rule, series), verdict in checked.items():
            if (at, rule, series) in messages:
                assert messages[(at, rule, series)] == verdict["message"]
    assert not (seed_copy.parent / ".targetwatch").exists()  # no state, no notification log


def test_seed_2023_says_when_each_h2_target_first_warned(seed_copy: Path) -> None:
    # sport.events-h2: at least 50,000 person-times in 2023-H2 (184 days), on pace; the CSV has
    # July 6,200, August 7,900, September 8,400, October 2,100, each seen from its month's start.
    # Monthly: Aug 1 14,100 >= 50,000 * 31/184 = 8,423.9; Sep 1 22,500 >= 16,847.8; Oct 1
    # 24,600 < 50,000 * 92/184 = 25,000: the first WARN is 2023-10-01.
    # Weekly (Mondays): Jul 17 6,200 >= 50,000 * 16/184 = 4,347.8; Jul 24 6,200 < 50,000 *
    # 23/184 = 6,250: the first WARN is 2023-07-24.
    monthly = backtest_json(seed_copy, "--from", "2023-01-01", "--to", "2023-12-31", "--every", "month")
    weekly = backtest_json(seed_copy, "--from", "2023-01-01", "--to", "2023-12-31", "--every", "week", "--rule", "sport.events-h2")
    first = {f["rule"]: f for f in monthly["first_off"]}
    assert first["sport.events-h2"]["first_warn"] == "2023-10-01"
    assert first["sport.events-h2"]["first_breach"] is None
    # The autumn-term private-school share (4.95% > 4.89%) is seen from the term's start.
    assert first["schools.private-share-cap"]["first_breach"] == "2023-09-01"
    assert [f["first_warn"] for f in weekly["first_off"]] == ["2023-07-24"]
    code, out, _ = run("backtest", "-c", str(seed_copy), "--from", "2023-01-01", "--to", "2023-12-31", "--every", "month")
    assert code == 0
    assert "sport.events-h2               district=田家庵区  2023-10-01    never" in out
    assert "OK → WARN" in out and "console, log" in out


# -- availability: reported_at and available = "period_end" -----------------------------------

LATEST_MIN = """\
[[rule]]
id = "score.min"
kind = "threshold"
indicator = "score"
min = 50
"""


def source_keys(config: Path, keys: str) -> Path:
    """Add ``keys`` to the project's one ``[[sources]]`` table."""
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('path = "data.csv"', f'path = "data.csv"\n{keys}'), encoding="utf-8")
    return config


def test_a_late_report_is_invisible_before_its_reported_at(make_project: MakeProject) -> None:
    config = make_project(LATEST_MIN, csv="indicator,period,district,value,填报日期\nscore,2023-Q1,A,80,2023-05-10T09:30\n")
    source_keys(config, 'columns = { reported_at = "填报日期" }')
    before = check_statuses(config, "2023-05-10")
    assert [v["status"] for v in before.values()] == ["UNKNOWN"]
    after = check_statuses(config, "2023-05-10T09:30")
    assert {k: v["status"] for k, v in after.items()} == {("score.min", "district=A"): "OK"}  # not a label
    doc = backtest_json(config, "--from", "2023-05-09", "--to", "2023-05-12")
    assert [(c["at"][:10], c["to"]) for c in doc["changes"]] == [("2023-05-09", "UNKNOWN"), ("2023-05-11", "OK")]


def test_period_end_hides_a_month_until_it_is_over(make_project: MakeProject) -> None:
    config = make_project(LATEST_MIN, csv="indicator,period,district,value\nscore,2023-07,A,80\n")
    assert [v["status"] for v in check_statuses(config, "2023-07-01").values()] == ["OK"]  # default: from its start
    source_keys(config, 'available = "period_end"')
    assert [v["status"] for v in check_statuses(config, "2023-07-31T23:59").values()] == ["UNKNOWN"]
    assert [v["status"] for v in check_statuses(config, "2023-08-01").values()] == ["OK"]
    doc = backtest_json(config, "--from", "2023-07-30", "--to", "2023-08-02")
    assert [(c["at"][:10], c["to"]) for c in doc["changes"]] == [("2023-07-30", "UNKNOWN"), ("2023-08-01", "OK")]


def test_a_bad_reported_at_is_a_bad_row_with_its_file_and_line(make_project: MakeProject) -> None:
    config = make_project(LATEST_MIN, csv="indicator,period,district,value,reported_at\nscore,2023-Q1,A,80,2023-04-02\nscore,2023-Q2,A,90,soon\n")
    code, out, err = run("check", "--dry-run", "-c", str(config))
    assert code == 3
    assert "data.csv:3: column 'reported_at': expected the date or moment the figure was reported" in out + err and "found 'soon'" in out + err
    code, _, err = run("backtest", "-c", str(config), "--from", "2023-07-01", "--to", "2023-07-02")
    assert code == 3 and "data.csv:3: column 'reported_at'" in err


def test_a_named_reported_at_column_is_required(make_project: MakeProject) -> None:
    config = source_keys(make_project(LATEST_MIN), 'columns = { reported_at = "填报日期" }')
    code, out, err = run("check", "--dry-run", "-c", str(config))
    assert code == 3 and "missing column '填报日期' (the reported_at column, set by columns.reported_at)" in out + err


@pytest.mark.parametrize("kind", ["csv", "json", "sqlite"])
def test_every_tabular_source_reads_reported_at_and_not_as_a_label(tmp_path: Path, kind: str) -> None:
    rows = [("score", "2023-Q1", "A", "80", "2023-04-03 08:00"), ("score", "2023-Q2", "A", "90", "")]
    if kind == "csv":
        (tmp_path / "d").write_text("indicator,period,district,value,reported_at\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
        params: Any = CsvParams(path="d", labels=("district",), available="period_end")
    elif kind == "json":
        keys = ("indicator", "period", "district", "value", "reported_at")
        (tmp_path / "d").write_text(json.dumps([dict(zip(keys, r)) for r in rows]), encoding="utf-8")
        params = JsonParams(path="d", labels=("district",), available="period_end")
    else:
        import sqlite3

        with sqlite3.connect(tmp_path / "d") as db:
            db.execute("CREATE TABLE obs (indicator, period, district, value, reported_at)")
            db.executemany("INSERT INTO obs VALUES (?, ?, ?, ?, ?)", [(*r[:4], r[4] or None) for r in rows])
        db.close()
        params = SqliteParams(path="d", table="obs", labels=("district",), available="period_end")
    source = Registry(entry_points=False).sources[kind].open(params, SourceContext("s", tmp_path, calendar=CAL))
    records = list(source.read(None))
    assert [(r.labels, r.reported_at) for r in records] == [
        ((("district", "A"),), dt.datetime(2023, 4, 3, 8, tzinfo=TZ)),
        ((("district", "A"),), dt.datetime(2023, 7, 1, tzinfo=TZ)),  # blank: the end of 2023-Q2
    ]


# -- the model: visibility ---------------------------------------------------------------------

MONTHS = [CAL.parse(f"2023-{m:02d}") for m in range(1, 7)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.datetimes(dt.datetime(2022, 12, 1), dt.datetime(2023, 8, 1))), min_size=6, max_size=6),
       st.datetimes(dt.datetime(2022, 12, 1), dt.datetime(2023, 8, 1)))
def test_visible_is_exactly_what_was_available(reported: list[dt.datetime | None], as_of: dt.datetime) -> None:
    moments = tuple(None if r is None else CAL.localize(r) for r in reported)
    series = Series("x", (), tuple(MONTHS), tuple(Decimal(i) for i in range(6)), None, moments)
    moment = CAL.localize(as_of)
    seen = series.visible(moment)
    assert list(seen) == [(p, v) for p, v, r in zip(MONTHS, series.values, moments) if (p.start <= moment.date() if r is None else r <= moment)]
    assert seen.reported == tuple(r for p, r in zip(MONTHS, moments) if (p.start <= moment.date() if r is None else r <= moment))
    plain = Series("x", (), tuple(MONTHS), series.values)  # no reported moments: by period start
    assert list(plain.visible(moment)) == list(plain.visible(moment.date())) == [(p, v) for p, v in plain if p.start <= moment.date()]


def test_a_duplicate_is_still_an_error_whatever_its_reported_at() -> None:
    one = Record("x", "2023-07", Decimal(1), (), "d:2", dt.datetime(2023, 8, 2, tzinfo=TZ))
    two = Record("x", "2023-07", Decimal(2), (), "d:3", dt.datetime(2023, 9, 2, tzinfo=TZ))
    with pytest.raises(SourceError, match="duplicate observation"):
        Dataset.from_records([one, two], CAL)


# -- a property: the replay equals evaluate on what was available at each step ------------------

PROPERTY_RULES = """\
[[rule]]
id = "latest"
kind = "threshold"
indicator = "x"
min = 50
warn_min = 70

[[rule]]
id = "half"
kind = "minimum"
indicator = "x"
min = 300
period = "2023-H1"

[[rule]]
id = "fresh"
kind = "freshness"
indicator = "x"
max_age = "20d"
"""

PERIODS = [f"2023-{m:02d}" for m in range(1, 7)] + ["2023-Q1", "2023-Q2"]


@pytest.fixture(scope="module")
def property_rules(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("rules")
    (folder / "r.toml").write_text(PROPERTY_RULES, encoding="utf-8")
    return load_rules([folder], Registry(entry_points=False).kinds, calendar=CAL)


observation = st.tuples(
    st.sampled_from(PERIODS), st.sampled_from(["A", "B"]), st.integers(0, 150),
    st.one_of(st.none(), st.integers(0, 120 * 24)),  # hours after the period's start, or no reported_at
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(observation, max_size=10, unique_by=lambda o: (o[0], o[1])), st.sampled_from(["period_start", "period_end"]), st.sampled_from(["day", "week"]))
def test_replay_equals_evaluate_on_the_available_data(property_rules: Any, rows: list[tuple[str, str, int, int | None]], available: str, every: str) -> None:
    registry = Registry(entry_points=False)
    lines = ["indicator,period,district,value,reported_at"]
    oracle = []  # (available from, record without reported_at), computed here, not by the source
    for period, district, value, hours in rows:
        p = CAL.parse(period)
        reported = None if hours is None else CAL.start_moment(p) + dt.timedelta(hours=hours)
        lines.append(f"x,{period},{district},{value},{'' if reported is None else reported.strftime('%Y-%m-%dT%H:%M')}")
        since = reported if reported is not None else CAL.end_moment(p) if available == "period_end" else CAL.start_moment(p)
        oracle.append((since, Record("x", period, Decimal(value), make_labels({"district": district}))))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "d.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        source = registry.sources["csv"].open(CsvParams(path="d.csv", available=available), SourceContext("s", Path(folder), calendar=CAL))
        engine = Engine(property_rules, {"s": source}, calendar=CAL, registry=registry)
        data, problems = engine.load()
    assert not problems
    moments = steps(dt.date(2023, 1, 1), dt.date(2023, 3, 31) if every == "day" else dt.date(2023, 8, 31), every, CAL)
    timeline = replay(property_rules, data, moments, CAL, registry.kinds)
    for at, statuses in zip(timeline.steps, timeline.statuses):
        seen = Dataset.from_records([r for since, r in oracle if since <= at], CAL)
        # Series that exist but show nothing yet are still judged (UNKNOWN), as in the replay.
        known = Dataset([*seen, *(Series(s.indicator, s.labels, (), ()) for s in data if seen.get(s.indicator, s.labels) is None)])
        expected = {(v.rule, v.labels): v.status for v in evaluate(property_rules, known, at, CAL, registry.kinds)}
        assert dict(statuses) == expected, at


# -- the lifecycle, as cron would have run it ---------------------------------------------------

LIFECYCLE_CSV = "indicator,period,district,value\nscore,2023-01,A,80\nscore,2023-02,A,40\nscore,2023-03,A,30\nscore,2023-04,A,90\n"
CHANNEL = '[channels.log]\ntype = "file"\npath = "sent.jsonl"\n'


def lifecycle(make_project: MakeProject, alerting: str, *args: str) -> tuple[Path, dict[str, Any]]:
    config = make_project(LATEST_MIN, csv=LIFECYCLE_CSV, extra=f'[alerting]\nnotify = ["log"]\n{alerting}\n{CHANNEL}')
    doc = backtest_json(config, *args)
    assert not (config.parent / ".targetwatch").exists() and not (config.parent / "sent.jsonl").exists()
    return config, doc


def test_for_2_fires_one_step_after_the_first_non_ok(make_project: MakeProject) -> None:
    # Monthly: Jan 80 OK, Feb 40 BREACH (pending), Mar 30 BREACH (fires), Apr 90 OK (resolved).
    _, doc = lifecycle(make_project, "for = 2", "--from", "2023-01-01", "--to", "2023-05-01", "--every", "month")
    assert [(c["at"][:10], c["to"]) for c in doc["changes"]] == [("2023-01-01", "OK"), ("2023-02-01", "BREACH"), ("2023-04-01", "OK")]
    assert [(n["at"][:10], n["event"], n["status"], n["channel"]) for n in doc["notifications"]] == [
        ("2023-03-01", "firing", "BREACH", "log"), ("2023-04-01", "resolved", "OK", "log"),
    ]
    assert doc["first_off"] == [{"rule": "score.min", "series": "district=A", "labels": {"district": "A"},
                                 "first_warn": None, "first_breach": "2023-02-01", "final": "OK"}]


def test_a_daily_repeat_with_weekly_steps_repeats_every_step(make_project: MakeProject) -> None:
    _, doc = lifecycle(make_project, 'repeat = "1d"', "--from", "2023-01-30", "--to", "2023-04-10", "--every", "week")
    told = [(n["at"][:10], n["event"]) for n in doc["notifications"]]
    bad = ["2023-02-06", "2023-02-13", "2023-02-20", "2023-02-27", "2023-03-06", "2023-03-13", "2023-03-20", "2023-03-27"]
    assert told == [(bad[0], "firing"), *((d, "repeat") for d in bad[1:]), ("2023-04-03", "resolved")]


def test_no_resolved_notice_when_turned_off(make_project: MakeProject) -> None:
    _, doc = lifecycle(make_project, "notify_resolved = false\nrepeat = false", "--from", "2023-01-01", "--to", "2023-05-01", "--every", "month")
    assert [(n["at"][:10], n["event"]) for n in doc["notifications"]] == [("2023-02-01", "firing")]


# -- the command line ---------------------------------------------------------------------------


def test_steps_are_local_midnights_of_days_mondays_and_firsts() -> None:
    assert steps(dt.date(2023, 1, 30), dt.date(2023, 2, 1), "day", CAL) == [dt.datetime(2023, 1, d, tzinfo=TZ) for d in (30, 31)] + [dt.datetime(2023, 2, 1, tzinfo=TZ)]
    assert [s.date() for s in steps(dt.date(2023, 1, 4), dt.date(2023, 1, 23), "week", CAL)] == [dt.date(2023, 1, d) for d in (9, 16, 23)]
    assert [s.date() for s in steps(dt.date(2023, 11, 2), dt.date(2024, 2, 1), "month", CAL)] == [dt.date(2023, 12, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    with pytest.raises(StepsError, match="no first of a month"):
        steps(dt.date(2023, 1, 2), dt.date(2023, 1, 31), "month", CAL)
    first = dt.date(2010, 1, 1)
    assert len(steps(first, first + dt.timedelta(days=4999), "day", CAL)) == 5000
    with pytest.raises(StepsError, match="more than 5,000 steps"):
        steps(first, first + dt.timedelta(days=5000), "day", CAL)


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2023-02-01", "--to", "2023-01-01"), "--to 2023-01-01 is before --from 2023-02-01"),
    (("--from", "2000-01-01", "--to", "2023-12-31"), "is more than 5,000 steps"),
    (("--from", "soon", "--to", "2023-12-31"), "expected a date such as 2023-01-01, found 'soon'"),
    (("--from", "2023-01-01", "--to", "2023-02-01", "--every", "year"), "'year' is not one of"),
])
def test_bad_ranges_exit_3_with_a_clear_message(project: Path, args: tuple[str, ...], message: str) -> None:
    code, out, err = run("backtest", "-c", str(project), *args)
    assert code == 3 and message in err and not out


def test_table_and_markdown(project: Path) -> None:
    code, out, _ = run("backtest", "-c", str(project), "--from", "2023-03-30", "--to", "2023-04-02", "-f", "markdown")
    assert code == 0
    assert out.startswith("# backtest 2023-03-30 to 2023-04-02, every day: 4 steps, 1 rule\n")
    assert "## Status changes" in out and "| 2023-03-30 | score.ok | district=A | start → OK | 80 points |" in out
    code, out, _ = run("backtest", "-c", str(project), "--from", "2023-03-30", "--to", "2023-04-02", "--rule", "nope")
    assert code == 3


def _stderr_on_a_terminal(config: Path, *args: str) -> str:
    env = {**os.environ, "TARGETWATCH_PLUGINS": "", "PYTHONIOENCODING": "utf-8"}
    command = [str(Path(sys.executable).with_name("targetwatch")), "backtest", "-c", str(config), *args]
    code, shown = on_a_terminal(command, stream="stderr", env=env)
    assert code == 0
    return shown.decode("utf-8", "replace")


def test_a_progress_bar_only_on_a_terminal_for_long_replays(project: Path) -> None:
    long = ("--from", "2023-01-01", "--to", "2023-03-31")
    assert "replaying 90 steps" in _stderr_on_a_terminal(project, *long)
    assert _stderr_on_a_terminal(project, *long, "--quiet") == ""
    assert _stderr_on_a_terminal(project, "--from", "2023-01-01", "--to", "2023-02-01") == ""
    code, _, err = run("backtest", "-c", str(project), *long)  # not a terminal
    assert code == 0 and err == ""


def test_help_is_registered() -> None:
    code, out, _ = run("backtest", "--help")
    assert code == 0 and "--every [day|week|month]" in out
    assert textwrap.dedent(out).count("reported_at") >= 1


def test_the_reported_at_column_cannot_also_be_a_core_column(make_project: MakeProject) -> None:
    config = source_keys(make_project(LATEST_MIN), 'columns = { reported_at = "period" }')
    code, _, err = run("validate", "-c", str(config))
    assert code == 3 and "column 'period' is the reported_at column (set by columns.reported_at); it cannot also be in columns" in err
