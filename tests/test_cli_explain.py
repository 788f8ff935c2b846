"""``targetwatch explain`` shows numbers a person can check by hand, equal to the verdict's;
``targetwatch history`` shows what changed and who was told."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from targetwatch.cli import cli
from targetwatch.plugins import Registry


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj=Registry(entry_points=False))
    return result.exit_code, result.stdout, result.stderr


def test_explain_growth_shows_the_report_figures(seed_copy: Path) -> None:
    code, out, _ = run("explain", "funding.expenditure-yoy", "-c", str(seed_copy))
    assert code == 0
    assert "2022-H1   13,909 万元" in out and "2023-H1   17,192 万元" in out  # the observations used
    assert "base_period  2022-H1" in out
    assert "growth       0.236034222445 (23.6%)" in out  # 17192 / 13909 - 1
    assert "verdict    OK:" in out and "plugin targetwatch.default_plugins.growth" in out


def test_explain_json_numbers_equal_the_verdicts(seed_copy: Path) -> None:
    _, checked, _ = run("check", "--dry-run", "--format", "json", "-c", str(seed_copy))
    verdicts = {v["rule"]: v for v in json.loads(checked)["verdicts"]}
    for rule in ("funding.expenditure-yoy", "sport.events-h2", "elderly.learners-rank", "teachers.rising-star-share"):
        code, out, _ = run("explain", rule, "--format", "json", "-c", str(seed_copy))
        doc = json.loads(out)
        (series,) = doc["series"]
        assert series["verdict"] == verdicts[rule]
        assert series["observations"], rule
        assert code == {"OK": 0, "WARN": 1, "BREACH": 2}[verdicts[rule]["status"]]
    pace = json.loads(run("explain", "sport.events-h2", "--format", "json", "-c", str(seed_copy))[1])["series"][0]
    details = pace["details"]
    assert Decimal(details["total"]) == sum(Decimal(o["value"]) for o in pace["observations"]) == 24600
    assert Decimal(details["expected"]) == Decimal(pace["verdict"]["target"]).quantize(Decimal("0.000001"))
    # 107 of 184 days of 2023-H2 had passed on 16 October: 50,000 x 107/184.
    assert abs(Decimal(details["expected"]) - Decimal(50000) * 107 / 184) < Decimal("0.000001")


def test_explain_peers_and_parameters(seed_copy: Path) -> None:
    code, out, _ = run("explain", "teachers.rising-star-share", "-c", str(seed_copy))
    assert code == 0
    assert "min        0.3 (30%)" in out
    assert "total" in out and "72" in out and "share" in out


def test_explain_as_of_and_labels(seed_copy: Path) -> None:
    code, out, _ = run("explain", "sport.events-h2", "--as-of", "2024-01-05", "--label", "district=田家庵区", "-c", str(seed_copy))
    # H2 closed without November and December: unknown, naming them, not a miss.
    assert code == 3 and "UNKNOWN" in out and "no observation for 2023-11..2023-12" in out
    code, _, err = run("explain", "sport.events-h2", "--label", "district=nowhere", "-c", str(seed_copy))
    assert code == 3 and "no series" in err


def test_explain_unknown_rule_suggests_one(seed_copy: Path) -> None:
    code, _, err = run("explain", "sport.events-h3", "-c", str(seed_copy))
    assert code == 3 and "did you mean 'sport.events-h2'" in err and "Traceback" not in err


def test_history_lists_changes_and_who_was_told(seed_copy: Path) -> None:
    assert run("history", "-c", str(seed_copy))[1].startswith("no history yet")
    assert run("check", "-c", str(seed_copy))[0] == 2
    code, out, _ = run("history", "schools.private-share-cap", "-c", str(seed_copy))
    assert code == 0
    assert "new → BREACH" in out and "firing (BREACH)" in out
    assert "told console: sent" in out and "told log: sent" in out
    doc = json.loads(run("history", "--format", "json", "-c", str(seed_copy))[1])
    told = [r for r in doc if r["what"] == "firing"]
    assert {r["channel"] for r in told} == {"console", "log"} and len(told) == 12  # 6 alerts x 2 channels
    assert all(r["delivery"] == "sent" for r in told)
    assert json.loads(run("history", "--since", "7d", "--limit", "3", "--format", "json", "-c", str(seed_copy))[1]).__len__() == 3
