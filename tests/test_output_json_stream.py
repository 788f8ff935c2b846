"""The ``json`` format written fast and piece by piece: the same bytes as one ``json.dumps`` of
the whole document (kept below as the reference), numbers included; ``write`` of any format."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from targetwatch.default_plugins.json_encoding import VerdictEncoder, json_number, number_text
from targetwatch.default_plugins.outputs import CHUNK, JsonFormat
from targetwatch.engine import CheckResult
from targetwatch.errors import Problem
from targetwatch.model import Status, Verdict
from targetwatch.output import OutputFormat, OutputOptions
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
AS_OF = CAL.moment("2023-10-16")

# -- the reference: the document as one json.dumps, as it was first written -----------------


def reference_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    return float(value)


def reference_default(value: Any) -> Any:
    return reference_number(value) if isinstance(value, Decimal) else str(value)


def reference_render(result: CheckResult, options: OutputOptions) -> str:
    verdicts = [
        {
            "rule": v.rule, "title": v.title, "kind": v.kind, "indicator": v.indicator,
            "labels": dict(v.labels), "status": v.status.value, "value": reference_number(v.value),
            "target": reference_number(v.target), "margin": reference_number(v.margin),
            "period": str(v.period) if v.period else None, "unit": v.unit, "message": v.message,
            "severity": v.severity, "tags": list(v.tags), "details": v.details, "silenced": v.silenced,
        }
        for v in result.verdicts
        if not (options.quiet and v.status is Status.OK)
    ]
    doc = {
        "version": 1, "as_of": result.as_of.isoformat(), "summary": result.summary,
        "exit_code": result.exit_code, "verdicts": verdicts, "problems": [str(p) for p in result.problems],
    }
    if options.pretty:
        return json.dumps(doc, ensure_ascii=False, indent=2, default=reference_default) + "\n"
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=reference_default) + "\n"


# -- numbers ----------------------------------------------------------------------------------

# Every magnitude, exponent and sign, and the digits of floats (long fractions).
decimals = st.one_of(
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in str(digits)), exponent)),
        st.integers(0, 1), st.integers(0, 10**40), st.integers(-60, 60),
    ),
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(int(d) for d in str(digits)), exponent)),
        st.integers(0, 1), st.integers(0, 10**20), st.integers(-400, 400),
    ),
    st.decimals(allow_nan=False),
    st.floats(allow_nan=False).map(Decimal),
    st.integers(-(2**60), 2**60).map(Decimal),
    st.sampled_from([2**53 - 1, 2**53, -(2**53) + 1, -(2**53), 10**15, 10**16 - 1]).map(Decimal),
)


@given(decimals)
@example(Decimal("-0"))
@example(Decimal("0E+16"))
@example(Decimal("-0E+400"))
@example(Decimal("-0.000"))
@example(Decimal("0E-7"))
@example(Decimal("0.0001"))
@example(Decimal("0.00001"))
@example(Decimal("-0.000100"))
@example(Decimal("5.000000000000"))
@example(Decimal("0.048900000000"))
@example(Decimal("123456789012345.5"))
@example(Decimal("1E+3"))
@example(Decimal("1.0E+3"))
@example(Decimal("9007199254740992.0"))
@example(Decimal("Infinity"))
@example(Decimal("-Infinity"))
@example(Decimal("1E+999999"))
@settings(max_examples=2000)
def test_numbers_are_what_they_were(value: Decimal) -> None:
    expected = reference_number(value)
    got = json_number(value)
    assert type(got) is type(expected)
    assert repr(got) == repr(expected)
    assert number_text(value) == json.dumps(expected)


def test_nan_is_written_as_json_writes_it() -> None:
    assert number_text(Decimal("NaN")) == json.dumps(float("nan")) == "NaN"


# -- whole documents --------------------------------------------------------------------------

text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12) | st.sampled_from(["田家庵区", 'a"b\\c', "line\nbreak\t", "%s %d", "\x1b[31m"])
detail_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(decimals, text, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False), st.dates(), st.just(CAL.parse("2023-H2"))),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
details = st.dictionaries(st.one_of(text, st.integers(), st.booleans()), detail_values, max_size=5)
periods = st.sampled_from([None, CAL.parse("2023-H2"), CAL.parse("2023-10"), CAL.parse("2023")])
optional_decimals = st.none() | decimals


@st.composite
def verdicts(draw: st.DrawFn) -> Verdict:
    return Verdict(
        rule=draw(st.sampled_from(["r.one", "r.two", "规则"])),
        title=draw(text),
        kind=draw(st.sampled_from(["threshold", "growth"])),
        indicator=draw(st.sampled_from(["ind", "指标"])),
        labels=draw(st.lists(st.tuples(text, text), max_size=3).map(tuple)),
        status=draw(st.sampled_from(list(Status))),
        message=draw(text),
        value=draw(optional_decimals),
        target=draw(optional_decimals),
        margin=draw(optional_decimals),
        period=draw(periods),
        unit=draw(st.none() | st.sampled_from(["%", "万元", "人次"])),
        severity=draw(st.sampled_from(["critical", "warning"])),
        tags=draw(st.lists(text, max_size=2).map(tuple)),
        details=draw(details),
        silenced=draw(st.none() | text),
    )


def with_shared_parts(vs: list[Verdict]) -> list[Verdict]:
    """The verdicts, then the same again with their value, target and margin also in their
    details and the previous verdict's target: what the encoder's shortcuts rely on."""
    out = list(vs)
    for i, v in enumerate(vs):
        target = vs[i - 1].target if i else v.target
        out.append(Verdict(
            v.rule, v.title, v.kind, v.indicator, v.labels, v.status, v.message, v.value, target, v.margin,
            v.period, v.unit, v.severity, v.tags, {"value": v.value, "target": target, "margin": v.margin, "period": "x"}, v.silenced,
        ))
    return out


options = st.builds(OutputOptions, quiet=st.booleans(), pretty=st.booleans())
problems = st.lists(text.map(Problem), max_size=2).map(tuple)


@given(st.lists(verdicts(), max_size=6).map(with_shared_parts), problems, options)
@settings(max_examples=300)
def test_json_is_byte_for_byte_one_json_dumps(vs: list[Verdict], probs: tuple[Problem, ...], opts: OutputOptions) -> None:
    result = CheckResult(AS_OF, tuple(vs), probs)
    expected = reference_render(result, opts)
    assert JsonFormat().render(result, opts) == expected
    stream = io.StringIO()
    JsonFormat().write(result, opts, stream)
    assert stream.getvalue() == expected


def test_verdicts_not_of_the_declared_types_are_written_as_json_would() -> None:
    v = Verdict("r", "t", "k", "i", [["district", "田家庵区"]], Status.OK, "m", Decimal(1), tags=["a"], details={"n": Decimal("0.5")})  # type: ignore[arg-type]
    odd = Verdict("r", "t", "k", "i", (), Status.WARN, "m", details={"when": dt.date(2023, 1, 2), 3: [Decimal("1.50")], "f": 0.1})
    result = CheckResult(AS_OF, (v, odd, v))
    for opts in (OutputOptions(), OutputOptions(pretty=True)):
        assert JsonFormat().render(result, opts) == reference_render(result, opts)


def many(n: int) -> CheckResult:
    return CheckResult(AS_OF, tuple(
        Verdict(f"rule.{i % 7}", "title", "threshold", "ind", (("region", f"R{i:05}"),), Status.BREACH if i % 3 else Status.OK,
                f"message {i}", Decimal(i) / 8, Decimal(100), Decimal(i) / 8 - 100, CAL.parse("2023-10"), details={"value": Decimal(i) / 8, "n": i})
        for i in range(n)
    ))


@pytest.mark.parametrize("pretty", [False, True])
def test_json_is_written_in_pieces_of_a_chunk_of_verdicts(pretty: bool) -> None:
    result = many(3 * CHUNK + 5)
    opts = OutputOptions(pretty=pretty)
    pieces: list[str] = []

    class Recorder(io.StringIO):
        def write(self, s: str) -> int:
            pieces.append(s)
            return super().write(s)

    stream = Recorder()
    JsonFormat().write(result, opts, stream)
    assert stream.getvalue() == reference_render(result, opts)
    assert len(pieces) == 6  # the head, four chunks, the tail
    assert max(map(len, pieces)) < len(stream.getvalue()) / 2
    assert json.loads(stream.getvalue())["summary"]["BREACH"] == sum(1 for i in range(3 * CHUNK + 5) if i % 3)


def test_empty_and_quiet_documents() -> None:
    result = CheckResult(AS_OF, many(3).verdicts[:1], (Problem("boom", file="data.csv", line=3),))
    for opts in (OutputOptions(), OutputOptions(quiet=True), OutputOptions(pretty=True), OutputOptions(quiet=True, pretty=True)):
        assert JsonFormat().render(result, opts) == reference_render(result, opts)
        assert JsonFormat().render(CheckResult(AS_OF, ()), opts) == reference_render(CheckResult(AS_OF, ()), opts)


def test_an_encoder_remembers_text_across_chunks() -> None:
    vs = many(10).verdicts
    encoder = VerdictEncoder()
    assert ",".join([encoder.encode(vs[:4]), encoder.encode(vs[4:])]) == VerdictEncoder().encode(vs)


# -- write() of any format --------------------------------------------------------------------


class Render(OutputFormat):
    name = "render-only"
    summary = "A format that knows only render."

    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, result: CheckResult, options: OutputOptions) -> str:
        return self.text


def test_a_format_that_only_renders_writes_its_text() -> None:
    stream = io.StringIO()
    Render("BREACH 1\n").write(CheckResult(AS_OF, ()), OutputOptions(), stream)
    assert stream.getvalue() == "BREACH 1\n"


def test_a_format_with_nothing_to_say_writes_nothing() -> None:
    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise AssertionError("nothing should be written")

    Render("").write(CheckResult(AS_OF, ()), OutputOptions(), Closed())
