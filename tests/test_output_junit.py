"""The ``junit`` output format: a well-formed JUnit document whatever the text, one test case
per rule and series, the status mapping and counts; and the CLI on the seed example."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from targetwatch.cli import cli
from targetwatch.default_plugins.junit_output import JUnitFormat, xml_text
from targetwatch.engine import CheckResult
from targetwatch.errors import Problem
from targetwatch.model import Status, Verdict
from targetwatch.output import OutputOptions
from targetwatch.periods import Calendar
from targetwatch.plugins import Registry

CAL = Calendar("Asia/Shanghai")
AS_OF = CAL.moment("2023-10-16")
H2 = CAL.parse("2023-H2")
NASTY = 'a & b < c > d "quoted" \'single\' 田家庵区 ≥ 95%'


def verdict(status: Status = Status.OK, **kw: Any) -> Verdict:
    fields: dict[str, Any] = {
        "rule": f"rule.{status.value.lower()}", "title": "参与赛事活动 (sport events)", "kind": "threshold",
        "indicator": "sport.event_participants", "labels": (("district", "田家庵区"),),
        "status": status, "message": f"{status.value} message", "value": Decimal(24600),
        "target": Decimal(50000), "period": H2, "unit": "人次",
    }
    fields.update(kw)
    return Verdict(**fields)


def render(*verdicts: Verdict, problems: tuple[Problem, ...] = (), quiet: bool = False) -> str:
    return JUnitFormat().render(CheckResult(AS_OF, verdicts, problems), OutputOptions(quiet=quiet))


def parse(text: str) -> ET.Element:
    """Parse the output back as the UTF-8 bytes a CI tool would read from the file."""
    return ET.fromstring(text.encode("utf-8"))


def counts(suite: ET.Element) -> dict[str, int]:
    return {k: int(suite.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped")}


def outcome(case: ET.Element) -> str:
    """What a CI dashboard makes of a test case."""
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


def test_registered_as_a_default_plugin() -> None:
    outputs = Registry(entry_points=False).outputs
    assert isinstance(outputs["junit"], JUnitFormat)
    assert outputs["junit"].summary


def test_declaration_suite_and_timestamp() -> None:
    text = render(verdict())
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert text.endswith("\n")
    suite = parse(text)
    assert suite.tag == "testsuite"
    assert suite.get("name") == "targetwatch"
    assert suite.get("timestamp") == AS_OF.isoformat() == "2023-10-16T00:00:00+08:00"


def test_one_case_per_rule_and_series() -> None:
    suite = parse(render(
        verdict(rule="r1", labels=(("district", "田家庵区"),)),
        verdict(rule="r1", labels=(("district", "凤台县"), ("level", "县"))),
        verdict(rule="r2", title="No labels", labels=()),
    ))
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("r1", "参与赛事活动 (sport events) [district=田家庵区]"),
        ("r1", "参与赛事活动 (sport events) [district=凤台县, level=县]"),
        ("r2", "No labels"),
    ]


def test_status_mapping_and_counts() -> None:
    suite = parse(render(*(verdict(s) for s in Status)))
    by_rule = {c.get("classname"): c for c in suite.findall("testcase")}
    assert {r: outcome(c) for r, c in by_rule.items()} == {
        "rule.ok": "passed", "rule.warn": "passed", "rule.breach": "failure",
        "rule.unknown": "error", "rule.error": "error",
    }
    assert counts(suite) == {"tests": 5, "failures": 1, "errors": 2, "skipped": 0}
    failure = by_rule["rule.breach"].find("failure")
    assert failure is not None and failure.get("message") == "BREACH message"
    assert "value: 24,600 人次" in (failure.text or "") and "target: 50,000 人次" in (failure.text or "")
    for rule in ("rule.unknown", "rule.error"):
        error = by_rule[rule].find("error")
        assert error is not None and error.get("message") == rule.split(".")[1].upper() + " message"


def test_warn_passes_with_its_message_in_system_out() -> None:
    case = parse(render(verdict(Status.WARN, message="behind pace"))).find("testcase")
    assert case is not None
    assert outcome(case) == "passed"
    out = case.find("system-out")
    assert out is not None and out.text == "WARN: behind pace"


def test_ok_has_no_child() -> None:
    case = parse(render(verdict(Status.OK))).find("testcase")
    assert case is not None and len(case) == 0


@pytest.mark.parametrize("status", list(Status))
def test_silenced_is_skipped_whatever_the_status(status: Status) -> None:
    suite = parse(render(verdict(status, silenced="maintenance until 2023-11-01")))
    case = suite.find("testcase")
    assert case is not None and outcome(case) == "skipped"
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "silenced: maintenance until 2023-11-01"
    assert counts(suite) == {"tests": 1, "failures": 0, "errors": 0, "skipped": 1}


def test_special_characters_and_chinese_round_trip() -> None:
    text = render(
        verdict(Status.BREACH, rule="r&<1>", title=NASTY, labels=(("k", NASTY),), message=NASTY + "\nsecond line"),
        verdict(Status.UNKNOWN, message=NASTY),
        verdict(Status.WARN, message=NASTY),
        verdict(Status.OK, silenced=NASTY),
    )
    assert "田家庵区" in text  # Chinese written as is, not as character references
    suite = parse(text)
    breach, unknown, warn, silenced = suite.findall("testcase")
    assert breach.get("classname") == "r&<1>"
    assert breach.get("name") == f"{NASTY} [k={NASTY}]"
    failure = breach.find("failure")
    assert failure is not None and failure.get("message") == NASTY + "\nsecond line"
    assert (failure.text or "").startswith(NASTY + "\nsecond line\n")
    error = unknown.find("error")
    assert error is not None and error.get("message") == NASTY
    assert warn.findtext("system-out") == f"WARN: {NASTY}"
    skipped = silenced.find("skipped")
    assert skipped is not None and skipped.get("message") == f"silenced: {NASTY}"


def test_characters_xml_cannot_carry_are_replaced() -> None:
    suite = parse(render(verdict(Status.BREACH, message="bell\x07 nul\x00 esc\x1b tab\t ok")))
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("message") == "bell\ufffd nul\ufffd esc\ufffd tab\t ok"
    assert xml_text("田\x01") == "田\ufffd"


def test_problems_are_one_more_error_case() -> None:
    problems = (Problem("source 'bureau' failed: <boom> & more"), Problem("bad row", file="data.csv", line=7))
    suite = parse(render(verdict(Status.OK), problems=problems))
    cases = suite.findall("testcase")
    assert counts(suite) == {"tests": 2, "failures": 0, "errors": 1, "skipped": 0}
    last = cases[-1]
    assert (last.get("classname"), last.get("name")) == ("targetwatch", "problems")
    error = last.find("error")
    assert error is not None and error.get("message") == "2 problems"
    assert (error.text or "").splitlines() == ["source 'bureau' failed: <boom> & more", "data.csv:7: bad row"]


def test_quiet_writes_only_cases_not_ok() -> None:
    suite = parse(render(verdict(Status.OK), verdict(Status.BREACH), quiet=True))
    assert [c.get("classname") for c in suite.findall("testcase")] == ["rule.breach"]
    assert counts(suite) == {"tests": 1, "failures": 1, "errors": 0, "skipped": 0}
    empty = parse(render(verdict(Status.OK), quiet=True))  # still a document, never empty output
    assert counts(empty) == {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}


def test_no_verdicts_is_an_empty_suite() -> None:
    assert counts(parse(render())) == {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}


@pytest.fixture
def in_seed(monkeypatch: pytest.MonkeyPatch, seed_root: Path) -> None:
    monkeypatch.chdir(seed_root)
    monkeypatch.setenv("TARGETWATCH_PLUGINS", "")
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)


@pytest.mark.usefixtures("in_seed")
def test_cli_on_the_seed_example() -> None:
    runner = CliRunner()
    xml = runner.invoke(cli, ["check", "--format", "junit"])
    js = runner.invoke(cli, ["check", "--format", "json"])
    assert xml.exit_code == js.exit_code == 2, xml.output
    doc = json.loads(js.stdout)
    suite = parse(xml.stdout)
    summary = doc["summary"]
    assert counts(suite) == {
        "tests": sum(summary.values()), "failures": summary["BREACH"],
        "errors": summary["UNKNOWN"] + summary["ERROR"], "skipped": 0,
    }
    assert suite.get("timestamp") == doc["as_of"]
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == [v["rule"] for v in doc["verdicts"]]
    expected = {"OK": "passed", "WARN": "passed", "BREACH": "failure", "UNKNOWN": "error", "ERROR": "error"}
    assert [outcome(c) for c in cases] == [expected[v["status"]] for v in doc["verdicts"]]


@pytest.mark.usefixtures("in_seed")
def test_cli_quiet_on_the_seed_example() -> None:
    result = CliRunner().invoke(cli, ["check", "--format", "junit", "--quiet"])
    suite = parse(result.stdout)
    assert counts(suite)["tests"] == len(suite.findall("testcase")) > 0
