"""The built-in ``table`` and ``json`` output formats: separators, percent units, Chinese
alignment, silenced verdicts, quiet, the JSON schema; and the CLI on the seed example."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import wcwidth
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from targetwatch.cli import cli
from targetwatch.default_plugins.outputs import (
    JSON_SCHEMA_VERSION,
    JsonFormat,
    TableFormat,
    status_text,
)
from targetwatch.engine import CheckResult
from targetwatch.errors import Problem
from targetwatch.model import Status, Verdict
from targetwatch.output import OutputOptions
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
AS_OF = CAL.moment("2023-10-16")
H2 = CAL.parse("2023-H2")


def verdict(status: Status = Status.OK, **kw: Any) -> Verdict:
    fields: dict[str, Any] = {
        "rule": f"rule.{status.value.lower()}", "title": "参与赛事活动 (sport events)", "kind": "threshold",
        "indicator": "sport.event_participants", "labels": (("district", "田家庵区"),),
        "status": status, "message": f"{status.value} message", "value": Decimal(24600),
        "target": Decimal(50000), "period": H2, "unit": "人次",
    }
    fields.update(kw)
    return Verdict(**fields)


def result(*verdicts: Verdict, problems: tuple[Problem, ...] = ()) -> CheckResult:
    return CheckResult(AS_OF, verdicts, problems)


def table(*verdicts: Verdict, problems: tuple[Problem, ...] = (), quiet: bool = False, color: bool = False) -> str:
    return TableFormat().render(result(*verdicts, problems=problems), OutputOptions(quiet=quiet, color=color))


def as_json(*verdicts: Verdict, problems: tuple[Problem, ...] = (), quiet: bool = False) -> dict[str, Any]:
    text = JsonFormat().render(result(*verdicts, problems=problems), OutputOptions(quiet=quiet))
    doc: dict[str, Any] = json.loads(text)
    return doc


def cells_by_display_column(line: str) -> list[str]:
    """The line as one entry per terminal column (a wide character fills two; the second is "")."""
    out: list[str] = []
    for ch in line:
        width = wcwidth.wcwidth(ch)
        out.extend([ch] + [""] * (max(width, 1) - 1))
    return out


def table_block(text: str) -> list[str]:
    """The table's lines: everything before the "as of" summary line."""
    lines = text.splitlines()
    return lines[: next(i for i, line in enumerate(lines) if line.startswith("as of "))]


def assert_aligned(text: str) -> None:
    """Every column starts at the same terminal column on every line, Chinese included.

    The dashed rule under the headers gives each column's extent. On every line the gaps
    between columns are blank, and each column is either blank or its text starts exactly at
    the column's first terminal column (cells are left-aligned), so a wide character counted
    as one column anywhere would shift the rest and fail. Every line whose last column has text
    reaches the last column's start, i.e. all lines have the same display width up to it
    (tabulate strips trailing padding, so full line widths differ).
    """
    lines = table_block(text)
    rule = lines[1]
    assert set(rule) <= {"-", " "}
    gaps = [i for i, ch in enumerate(rule) if ch == " "]
    starts = [0] + [g + 1 for g in gaps if g + 1 not in gaps and rule[g + 1 : g + 2] == "-"]
    ends = [g for g in gaps if g - 1 >= 0 and rule[g - 1] == "-"] + [10**6]
    for line in lines:
        columns = cells_by_display_column(line)
        assert len(columns) == wcwidth.wcswidth(line)
        for gap in gaps:
            assert gap >= len(columns) or columns[gap] == " ", (gap, line)
        for start, end in zip(starts, ends):
            segment = columns[start:end]
            if any(c.strip() for c in segment):
                assert segment[0] not in (" ", ""), (start, line)
        if columns[starts[-1] :]:
            assert wcwidth.wcswidth("".join(columns[: starts[-1]])) == starts[-1]


# -- table ------------------------------------------------------------------------------------


def test_table_separators_and_no_scientific_notation() -> None:
    text = table(verdict(value=Decimal("1234567.891"), target=Decimal(50000000), unit="万元"))
    assert "1,234,567.89 万元" in text
    assert "50,000,000 万元" in text
    assert "e+" not in text and "E+" not in text


def test_table_percent_unit() -> None:
    text = table(verdict(value=Decimal("0.0489"), target=Decimal("0.05"), unit="%"))
    assert "4.89%" in text and "5%" in text


def test_table_aligns_chinese_text() -> None:
    text = table(
        verdict(Status.OK, rule="a", labels=(("district", "田家庵区"),), message="普惠性幼儿园覆盖率 94.1% (2023-spring), 目标 ≥ 90%"),
        verdict(Status.BREACH, rule="bbbbbbbbbbbb", labels=(("district", "A"),), message="ascii"),
        verdict(Status.WARN, rule="c", labels=(("district", "凤台县"), ("level", "县")), message="短"),
        verdict(Status.UNKNOWN, rule="d", labels=(), value=None, target=None, period=None, message="没有数据 " * 30),
    )
    assert_aligned(text)


def test_table_marks_silenced_verdicts() -> None:
    text = table(verdict(Status.BREACH, silenced="maintenance"), verdict(Status.OK, rule="other"))
    rows = [row for row in table_block(text)[2:] if not row.startswith(" ")]
    assert rows[0].startswith("BREACH (silenced)")
    assert rows[1].startswith("OK ")
    assert "(silenced)" not in rows[1]
    assert_aligned(text)


def test_status_text() -> None:
    assert status_text(verdict(Status.WARN)) == "WARN"
    assert status_text(verdict(Status.WARN, silenced="x")) == "WARN (silenced)"
    assert status_text(verdict(Status.BREACH, silenced="x"), color=True) == "\x1b[31;1mBREACH\x1b[0m (silenced)"


def test_table_summary_and_problems() -> None:
    text = table(verdict(Status.OK), verdict(Status.BREACH), problems=(Problem("boom", file="data.csv", line=3),))
    lines = text.splitlines()
    assert lines[-2] == "as of 2023-10-16T00:00:00+08:00: 1 OK, 1 BREACH"
    assert lines[-1] == "problem: data.csv:3: boom"


def test_table_quiet() -> None:
    assert table(verdict(Status.OK), quiet=True) == ""
    text = table(verdict(Status.OK), verdict(Status.WARN), quiet=True)
    assert "rule.warn" in text and "rule.ok" not in text


# -- json -------------------------------------------------------------------------------------


def test_json_schema_version_and_envelope() -> None:
    doc = as_json(verdict(Status.OK), verdict(Status.BREACH), problems=(Problem("boom"),))
    assert doc["version"] == JSON_SCHEMA_VERSION == 1
    assert doc["as_of"] == "2023-10-16T00:00:00+08:00"
    assert doc["summary"] == {"OK": 1, "WARN": 0, "BREACH": 1, "UNKNOWN": 0, "ERROR": 0}
    assert doc["exit_code"] == 2
    assert doc["problems"] == ["boom"]


def test_json_writes_chinese_as_is() -> None:
    text = JsonFormat().render(result(verdict()), OutputOptions())
    assert "田家庵区" in text and "参与赛事活动" in text
    assert "\\u" not in text


def test_json_numbers_are_json_numbers() -> None:
    v = as_json(verdict(value=Decimal("0.0489"), target=Decimal(50000), margin=Decimal("-1234567.5"), unit="%"))["verdicts"][0]
    assert v["value"] == 0.0489 and isinstance(v["value"], float)
    assert v["target"] == 50000 and isinstance(v["target"], int)
    assert v["margin"] == -1234567.5
    assert v["unit"] == "%"
    assert v["period"] == "2023-H2"
    missing = as_json(verdict(value=None, target=None, period=None))["verdicts"][0]
    assert missing["value"] is None and missing["target"] is None and missing["period"] is None


def test_json_silenced_field() -> None:
    verdicts = as_json(verdict(Status.BREACH, silenced="until 2023-11-01: maintenance"), verdict(Status.OK))["verdicts"]
    assert [v["silenced"] for v in verdicts] == ["until 2023-11-01: maintenance", None]
    assert verdicts[0]["status"] == "BREACH"


def test_json_quiet_keeps_the_full_summary() -> None:
    doc = as_json(verdict(Status.OK), verdict(Status.WARN), quiet=True)
    assert [v["status"] for v in doc["verdicts"]] == ["WARN"]
    assert doc["summary"]["OK"] == 1


# -- the CLI on the seed example --------------------------------------------------------------


@pytest.fixture
def in_seed(monkeypatch: pytest.MonkeyPatch, seed_root: Path) -> None:
    monkeypatch.chdir(seed_root)
    monkeypatch.setenv("TARGETWATCH_PLUGINS", "")
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)


@pytest.mark.usefixtures("in_seed")
def test_cli_table_and_json_agree_on_the_seed_example() -> None:
    runner = CliRunner()
    tab = runner.invoke(cli, ["check", "--format", "table", "--no-color"])
    js = runner.invoke(cli, ["check", "--format", "json"])
    assert tab.exit_code == js.exit_code == 2, tab.output
    doc = json.loads(js.stdout)
    assert doc["version"] == 1 and doc["exit_code"] == 2
    statuses = [v["status"] for v in doc["verdicts"]]
    assert doc["summary"] == {s: statuses.count(s) for s in doc["summary"]}
    counts = ", ".join(f"{n} {s}" for s, n in doc["summary"].items() if n)
    assert tab.stdout.splitlines()[-1] == f"as of {doc['as_of']}: {counts}"
    assert_aligned(tab.stdout)
    assert "田家庵区" in js.stdout and "\\u" not in js.stdout
    shares = [v for v in doc["verdicts"] if v["unit"] == "%"]
    assert shares and all(isinstance(v["value"], (int, float)) for v in shares)


@given(st.text(alphabet=st.sampled_from(list("ab 中文教育经费, -()")), max_size=80), st.integers(4, 40))
def test_wrap_display_fits_the_width_and_keeps_every_character(text: str, width: int) -> None:
    from wcwidth import wcswidth

    from targetwatch.default_plugins.outputs import wrap_display

    lines = wrap_display(text, width)
    assert all(wcswidth(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_wrap_display_keeps_words_whole_and_breaks_chinese_anywhere() -> None:
    from targetwatch.default_plugins.outputs import wrap_display

    assert wrap_display("教育经费投入同比增长 (education expenditure up)", 20) == ["教育经费投入同比增长", "(education", "expenditure up)"]
