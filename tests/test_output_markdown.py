"""The ``markdown`` output format: heading, GitHub table, escaping, quiet, problems; and the CLI
on the seed example."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import wcwidth
from click.testing import CliRunner

from targetwatch.cli import cli
from targetwatch.default_plugins.markdown_output import MarkdownFormat, escape_cell
from targetwatch.engine import CheckResult
from targetwatch.errors import Problem
from targetwatch.model import Status, Verdict
from targetwatch.output import OutputOptions
from targetwatch.periods import Calendar
from targetwatch.plugins import Registry

CAL = Calendar("Asia/Shanghai")
AS_OF = CAL.moment("2023-10-16")
H2 = CAL.parse("2023-H2")


def verdict(status: Status = Status.OK, **kw: Any) -> Verdict:
    fields: dict[str, Any] = {
        "rule": "sport.events", "title": "参与赛事活动 (sport events)", "kind": "threshold",
        "indicator": "sport.event_participants", "labels": (("district", "田家庵区"),),
        "status": status, "message": f"{status.value} message", "value": Decimal(24600),
        "target": Decimal(50000), "period": H2, "unit": "人次",
    }
    fields.update(kw)
    return Verdict(**fields)


def render(*verdicts: Verdict, problems: tuple[Problem, ...] = (), quiet: bool = False) -> str:
    return MarkdownFormat().render(CheckResult(AS_OF, verdicts, problems), OutputOptions(quiet=quiet))


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def cells(line: str) -> list[str]:
    """The cells of a GitHub table row, splitting only on unescaped pipes."""
    inner = line.strip()[1:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def test_registered_as_a_default_plugin() -> None:
    outputs = Registry(entry_points=False).outputs
    assert isinstance(outputs["markdown"], MarkdownFormat)
    assert outputs["markdown"].summary


def test_heading_names_the_moment_and_the_counts() -> None:
    text = render(verdict(Status.OK), verdict(Status.BREACH, rule="b"), verdict(Status.BREACH, rule="c"))
    first = text.splitlines()[0]
    assert first.startswith("## ")
    assert "2023-10-16T00:00:00+08:00" in first
    assert "1 OK" in first and "2 BREACH" in first and "WARN" not in first
    assert text.endswith("\n")


def test_table_columns_numbers_and_chinese() -> None:
    text = render(verdict(Status.WARN, value=Decimal("1234567.891"), target=Decimal(50000), unit="万元"))
    lines = table_lines(text)
    assert len(lines) == 3  # header, separator, one row
    assert cells(lines[0]) == ["Status", "Rule", "Series", "Period", "Value", "Target", "Message"]
    assert set(lines[1]) <= {"|", "-", ":"}
    row = cells(lines[2])
    assert row == ["WARN", "参与赛事活动 (sport events)", "district=田家庵区", "2023-H2", "1,234,567.89 万元", "50,000 万元", "WARN message"]
    assert "e+" not in text


def test_percent_unit_and_missing_numbers() -> None:
    row = cells(table_lines(render(verdict(value=Decimal("0.0489"), target=None, unit="%", period=None)))[2])
    assert row[3:6] == ["—", "4.89%", "—"]


def test_every_table_line_has_the_same_display_width() -> None:
    text = render(
        verdict(Status.OK, title="学前三年毛入园率 ≥ 95%", message="普惠性幼儿园覆盖率 94.1%, 目标 ≥ 90%"),
        verdict(Status.BREACH, title="short", labels=(("district", "凤台县"), ("level", "县")), message="ascii only"),
        verdict(Status.WARN, title="a | b", message="line one\nline two | 第二行"),
    )
    widths = {wcwidth.wcswidth(line) for line in table_lines(text)}
    assert len(widths) == 1, text


def test_pipes_and_newlines_never_break_the_table() -> None:
    text = render(verdict(Status.BREACH, title="A|B", labels=(("k", "x|y"),), message="first | second\r\nthird\nfourth"))
    lines = table_lines(text)
    assert len(lines) == 3
    row = cells(lines[2])
    assert len(row) == 7
    assert row[1] == "A\\|B"
    assert row[2] == "k=x\\|y"
    assert row[6] == "first \\| second<br>third<br>fourth"


def test_escape_cell() -> None:
    assert escape_cell("a|b\nc\rd") == "a\\|b<br>c<br>d"
    assert escape_cell("田家庵区") == "田家庵区"


def test_silenced_is_marked_after_the_status() -> None:
    text = render(verdict(Status.BREACH, silenced="maintenance until 2023-11-01"), verdict(Status.OK, rule="x", silenced="quiet"))
    rows = [cells(line) for line in table_lines(text)[2:]]
    assert [r[0] for r in rows] == ["BREACH (silenced)", "OK (silenced)"]


def test_problems_are_a_bullet_list_at_the_end() -> None:
    problems = (Problem("source 'bureau' failed: boom"), Problem("bad row", file="data.csv", line=7), Problem("two\nlines"))
    text = render(verdict(), problems=problems)
    head, _, tail = text.partition("**3 problems:**\n\n")
    assert table_lines(head) and not table_lines(tail)
    assert tail.splitlines() == [
        "- source 'bureau' failed: boom",
        "- data.csv:7: bad row",
        "- two",
        "  lines",
    ]


def test_quiet_lists_only_what_is_not_ok() -> None:
    text = render(verdict(Status.OK, rule="ok"), verdict(Status.UNKNOWN, rule="unknown", message="no data"), quiet=True)
    rows = [cells(line) for line in table_lines(text)[2:]]
    assert [r[0] for r in rows] == ["UNKNOWN"]
    assert "1 OK" in text.splitlines()[0]  # the heading still counts everything


def test_quiet_and_all_ok_writes_nothing() -> None:
    assert render(verdict(Status.OK), quiet=True) == ""
    assert render(verdict(Status.OK), problems=(Problem("boom"),), quiet=True).count("- boom") == 1


def test_no_verdicts() -> None:
    text = render()
    assert "no verdicts" in text
    assert not table_lines(text)


@pytest.fixture
def in_seed(monkeypatch: pytest.MonkeyPatch, seed_root: Path) -> None:
    monkeypatch.chdir(seed_root)
    monkeypatch.setenv("TARGETWATCH_PLUGINS", "")
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)


@pytest.mark.usefixtures("in_seed")
def test_cli_on_the_seed_example() -> None:
    runner = CliRunner()
    md = runner.invoke(cli, ["check", "--format", "markdown"])
    js = runner.invoke(cli, ["check", "--format", "json"])
    assert md.exit_code == js.exit_code == 2, md.output
    doc = json.loads(js.stdout)
    rows = [cells(line) for line in table_lines(md.stdout)[2:]]
    assert len(rows) == len(doc["verdicts"])
    heading = md.stdout.splitlines()[0]
    for status, count in doc["summary"].items():
        assert sum(r[0] == status for r in rows) == count
        assert (f"{count} {status}" in heading) == bool(count)
    assert "田家庵区" in md.stdout
    assert len({wcwidth.wcswidth(line) for line in table_lines(md.stdout)}) == 1


@pytest.mark.usefixtures("in_seed")
def test_cli_quiet_on_the_seed_example() -> None:
    result = CliRunner().invoke(cli, ["check", "--format", "markdown", "--quiet"])
    rows = [cells(line) for line in table_lines(result.stdout)[2:]]
    assert rows and all(r[0] != "OK" for r in rows)
