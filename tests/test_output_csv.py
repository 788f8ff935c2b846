"""The ``csv`` output format: columns, label columns, exact numbers, quoting, quiet, pieces;
and the CLI on the seed example, against the json format."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from targetwatch.cli import cli
from targetwatch.default_plugins.csv_output import CHUNK, CsvFormat, decimal_text, label_columns
from targetwatch.default_plugins.json_encoding import json_number
from targetwatch.engine import CheckResult
from targetwatch.errors import Problem
from targetwatch.model import Status, Verdict
from targetwatch.numbers import plain
from targetwatch.output import OutputOptions
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
AS_OF = CAL.moment("2023-10-16")
FIXED = ["rule", "kind", "indicator", "status", "value", "target", "margin", "period", "unit", "severity", "message", "silenced"]


def verdict(status: Status = Status.OK, **kw: Any) -> Verdict:
    fields: dict[str, Any] = {
        "rule": "rule.x", "title": "参与赛事活动", "kind": "threshold", "indicator": "sport.participants",
        "labels": (("district", "田家庵区"),), "status": status, "message": f"{status.value} message",
        "value": Decimal(24600), "target": Decimal(50000), "margin": Decimal(-25400), "period": CAL.parse("2023-H2"), "unit": "人次",
    }
    fields.update(kw)
    return Verdict(**fields)


def rows(*verdicts: Verdict, quiet: bool = False, problems: tuple[Problem, ...] = ()) -> list[dict[str, str]]:
    text = CsvFormat().render(CheckResult(AS_OF, verdicts, problems), OutputOptions(quiet=quiet))
    return list(csv.DictReader(io.StringIO(text, newline="")))


def header(*verdicts: Verdict) -> list[str]:
    text = CsvFormat().render(CheckResult(AS_OF, verdicts), OutputOptions())
    return next(csv.reader(io.StringIO(text, newline="")))


def test_columns_and_one_row_per_verdict() -> None:
    text = CsvFormat().render(CheckResult(AS_OF, (verdict(), verdict(Status.BREACH, silenced="until 2023-11-01: works"))), OutputOptions())
    assert text.splitlines()[0] == "rule,kind,indicator,district,status,value,target,margin,period,unit,severity,message,silenced"
    assert text.endswith("\r\n")
    ok, breach = list(csv.DictReader(io.StringIO(text, newline="")))
    assert ok == {
        "rule": "rule.x", "kind": "threshold", "indicator": "sport.participants", "district": "田家庵区", "status": "OK",
        "value": "24600", "target": "50000", "margin": "-25400", "period": "2023-H2", "unit": "人次", "severity": "critical",
        "message": "OK message", "silenced": "",
    }
    assert breach["status"] == "BREACH" and breach["silenced"] == "until 2023-11-01: works"


def test_label_columns_are_the_union_of_the_keys_sorted_and_missing_labels_are_blank() -> None:
    vs = (verdict(labels=(("district", "A"),)), verdict(labels=(("level", "县"), ("district", "B"))), verdict(labels=()))
    assert header(*vs) == ["rule", "kind", "indicator", "district", "level", *FIXED[3:]]
    assert [(r["district"], r["level"]) for r in rows(*vs)] == [("A", ""), ("B", "县"), ("", "")]
    assert header(verdict(labels=())) == FIXED


def test_a_label_named_like_a_column_is_prefixed() -> None:
    v = verdict(labels=(("status", "open"), ("value", "v"), ("label.value", "w"), ("zone", "z")))
    # Sorted by key: "label.value" keeps its name, so the label "value" is one more level in.
    assert header(v) == [*FIXED[:3], "label.value", "label.status", "label.label.value", "zone", *FIXED[3:]]
    (row,) = rows(v)
    assert row["status"] == "OK" and row["label.status"] == "open"
    assert row["value"] == "24600"
    assert (row["label.value"], row["label.label.value"], row["zone"]) == ("w", "v", "z")
    assert dict(label_columns([v]))["status"] == "label.status"


def test_label_columns_cover_all_verdicts_when_quiet() -> None:
    vs = (verdict(labels=(("district", "A"),)), verdict(Status.WARN, labels=(("level", "x"),)))
    (row,) = rows(*vs, quiet=True)
    assert row["status"] == "WARN" and row["district"] == "" and row["level"] == "x"


def test_numbers_are_exact_decimal_text() -> None:
    (row,) = rows(verdict(value=Decimal("0.048900000000"), target=Decimal("1E+3"), margin=Decimal("0.1000000000000000000000000001"), unit="%"))
    assert (row["value"], row["target"], row["margin"], row["unit"]) == ("0.0489", "1000", "0.1000000000000000000000000001", "%")
    (row,) = rows(verdict(value=None, target=None, margin=None, period=None, unit=None))
    assert (row["value"], row["target"], row["margin"], row["period"], row["unit"]) == ("", "", "", "", "")


@given(
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in str(digits)), exponent)),
        st.integers(0, 1), st.integers(0, 10**30), st.integers(-40, 40),
    )
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.floats(allow_nan=False, allow_infinity=False).map(Decimal)
)
def test_decimal_text_is_plain(value: Decimal) -> None:
    assert decimal_text(value) == plain(value)
    assert Decimal(decimal_text(value)) == value


@given(st.text(st.characters(blacklist_categories=["Cs"])) | st.sampled_from(['a, "b"\nc\r\nd\re', "田家庵区，达标", "=1+1"]))
def test_any_text_reads_back_as_written(message: str) -> None:
    (row,) = rows(verdict(message=message, labels=(("district", message),), silenced=message))
    assert row["message"] == row["district"] == row["silenced"] == message


def test_quiet_lists_what_is_not_ok_and_nothing_when_all_is_well() -> None:
    assert [r["status"] for r in rows(verdict(), verdict(Status.WARN), verdict(Status.ERROR), quiet=True)] == ["WARN", "ERROR"]
    assert CsvFormat().render(CheckResult(AS_OF, (verdict(),)), OutputOptions(quiet=True)) == ""
    assert CsvFormat().render(CheckResult(AS_OF, ()), OutputOptions(quiet=True)) == ""
    text = CsvFormat().render(CheckResult(AS_OF, (verdict(),), (Problem("boom"),)), OutputOptions(quiet=True))
    assert text.splitlines() == [",".join([*FIXED[:3], "district", *FIXED[3:]])]
    assert CsvFormat().render(CheckResult(AS_OF, ()), OutputOptions()).splitlines() == [",".join(FIXED)]


def test_rows_are_written_in_pieces() -> None:
    vs = tuple(verdict(labels=(("region", f"R{i:05}"),), value=Decimal(i)) for i in range(2 * CHUNK + 1))
    result = CheckResult(AS_OF, vs)
    pieces: list[str] = []

    class Recorder(io.StringIO):
        def write(self, s: str) -> int:
            pieces.append(s)
            return super().write(s)

    stream = Recorder()
    CsvFormat().write(result, OutputOptions(), stream)
    assert stream.getvalue() == CsvFormat().render(result, OutputOptions())
    assert len(pieces) == 3
    read = list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    assert [r["value"] for r in read] == [str(i) for i in range(2 * CHUNK + 1)]
    assert read[-1]["region"] == f"R{2 * CHUNK:05}"


# -- the CLI on the seed example --------------------------------------------------------------


@pytest.fixture
def in_seed(monkeypatch: pytest.MonkeyPatch, seed_root: Path) -> None:
    monkeypatch.chdir(seed_root)
    monkeypatch.setenv("TARGETWATCH_PLUGINS", "")
    monkeypatch.delenv("TARGETWATCH_CONFIG", raising=False)


def as_json_number(text: str) -> int | float | None:
    return json_number(Decimal(text)) if text else None


@pytest.mark.usefixtures("in_seed")
@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_cli_csv_agrees_with_json_on_the_seed_example(quiet: list[str]) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["check", "--dry-run", "--format", "csv", *quiet])
    js = runner.invoke(cli, ["check", "--dry-run", "--format", "json", *quiet])
    assert out.exit_code == js.exit_code == 2, out.output
    table = list(csv.DictReader(io.StringIO(out.stdout, newline="")))
    doc = json.loads(js.stdout)
    assert len(table) == len(doc["verdicts"]) > 0
    for row, v in zip(table, doc["verdicts"], strict=True):
        for key in ("rule", "kind", "indicator", "status", "period", "unit", "severity", "message", "silenced"):
            assert row[key] == (v[key] or ""), key
        for key in ("value", "target", "margin"):
            assert as_json_number(row[key]) == v[key], key
        assert {k: row[k] for k in v["labels"]} == v["labels"]
    assert "田家庵区" in out.stdout
    if quiet:
        assert all(row["status"] != "OK" for row in table)
