"""Exact numbers: parse_number, monitoring-plugins ranges, format_number."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from targetwatch.numbers import Range, format_number, parse_number, plain

D = Decimal


def exact_decimals(max_digits: int = 40, max_places: int = 12) -> st.SearchStrategy[Decimal]:
    """Finite Decimals built from text (so nothing rounds on the way), up to 40 digits."""
    return st.builds(
        lambda n, places: Decimal(f"{n}E-{places}"),
        st.integers(-(10**max_digits) + 1, 10**max_digits - 1),
        st.integers(0, max_places),
    )


def exactly(op):
    with decimal.localcontext(decimal.Context(prec=200)):
        return op()


# -- parse_number ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, D(0)),
        (50000, D(50000)),
        (-3, D(-3)),
        (10**30, D(10**30)),
        (0.0489, D("0.0489")),
        (0.1, D("0.1")),
        (1.1, D("1.1")),
        (1e-7, D("1e-7")),
        (D("1.10"), D("1.10")),
        ("50000", D(50000)),
        ("50,000", D(50000)),
        ("50_000", D(50000)),
        ("1,234,567.89", D("1234567.89")),
        (" 12 ", D(12)),
        ("+5", D(5)),
        ("-2.5", D("-2.5")),
        ("4.89%", D("0.0489")),
        ("95%", D("0.95")),
        ("100%", D(1)),
        ("-3%", D("-0.03")),
        ("4.89\uff05", D("0.0489")),  # full-width percent sign
        ("50\uff0c000", D(50000)),  # full-width comma
        ("1.2万", D(12000)),
        ("5万", D(50000)),
        ("3亿", D(300_000_000)),
        ("1.5亿", D(150_000_000)),
        ("1,000万", D(10_000_000)),
    ],
)
def test_parse_number_accepts(raw: object, expected: Decimal) -> None:
    value = parse_number(raw)
    assert isinstance(value, Decimal)
    assert value == expected


def test_float_is_read_by_its_shortest_text_not_its_binary_value() -> None:
    # Decimal(0.0489) would be 0.04889999999999999958...; a cap of 4.89 % must be exactly that.
    assert parse_number(0.0489) == D("0.0489")
    assert parse_number(0.0489) == parse_number("4.89%")
    assert str(parse_number(0.1)) == "0.1"


def test_int_is_exact_beyond_float_precision() -> None:
    assert parse_number(2**70 + 1) == D(2**70 + 1)


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        (True, "true"),
        (False, "false"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (D("NaN"), "NaN"),
        (D("Infinity"), "Infinity"),
        ("NaN", "NaN"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("-Infinity", "-Infinity"),
        ("sNaN", "sNaN"),
        ("", "''"),
        ("   ", "'   '"),
        ("%", "'%'"),
        ("万", "'万'"),
        ("abc", "'abc'"),
        ("1.2.3", "'1.2.3'"),
        ("12 apples", "'12 apples'"),
        ("5%%", "'5%%'"),
        (None, "None"),
        ([1], "[1]"),
        ({"a": 1}, "{'a': 1}"),
    ],
)
def test_parse_number_rejects_with_what_was_found(raw: object, found: str) -> None:
    with pytest.raises(ValueError, match="found") as info:
        parse_number(raw)
    assert found in str(info.value)


@pytest.mark.parametrize("raw", ["4.89%", "95\uff05", " 5 % "])
def test_percent_refused_when_not_allowed(raw: str) -> None:
    with pytest.raises(ValueError, match="percentage is not allowed") as info:
        parse_number(raw, allow_percent=False)
    assert repr(raw) in str(info.value)


def test_non_percent_text_still_parses_when_percent_not_allowed() -> None:
    assert parse_number("50,000", allow_percent=False) == D(50000)
    assert parse_number("1.2万", allow_percent=False) == D(12000)


@given(exact_decimals())
def test_decimal_written_with_thousands_separators_parses_back_exactly(value: Decimal) -> None:
    text = f"{value:,f}"
    assert parse_number(text) == value
    assert parse_number(text.replace(",", "\uff0c")) == value
    assert parse_number(text.replace(",", "_")) == value


@given(exact_decimals())
def test_percent_text_is_value_over_100_exactly(value: Decimal) -> None:
    expected = exactly(lambda: value / 100)
    assert parse_number(f"{value:f}%") == expected
    assert parse_number(f"{value:f}\uff05") == expected


@given(exact_decimals(max_digits=30, max_places=6))
def test_scale_suffixes_are_exact(value: Decimal) -> None:
    assert parse_number(f"{value:f}万") == exactly(lambda: value * 10_000)
    assert parse_number(f"{value:f}亿") == exactly(lambda: value * 100_000_000)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_parses_to_its_repr(value: float) -> None:
    assert parse_number(value) == D(repr(value))


# -- Range ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "low", "high", "inside"),
    [
        ("10", D(0), D(10), False),
        ("10:", D(10), None, False),
        ("~:10", None, D(10), False),
        ("10:20", D(10), D(20), False),
        ("@10:20", D(10), D(20), True),
        ("@10", D(0), D(10), True),
        ("95%:", D("0.95"), None, False),
        ("~:4.89%", None, D("0.0489"), False),
        ("50,000:", D(50000), None, False),
        ("-10:-5", D(-10), D(-5), False),
        ("~:", None, None, False),
        ("10:10", D(10), D(10), False),
        (" 10:20 ", D(10), D(20), False),
    ],
)
def test_range_parse(text: str, low: Decimal | None, high: Decimal | None, inside: bool) -> None:
    r = Range.parse(text)
    assert (r.low, r.high, r.alert_inside) == (low, high, inside)


def test_range_from_a_bare_number_is_zero_to_it() -> None:
    assert Range.parse(10) == Range(D(0), D(10))
    assert Range.parse(0.0489) == Range(D(0), D("0.0489"))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("20:10", "low end is above the high end"),
        ("-5", "low end is above the high end"),  # 0..-5
        (":10", "low end is missing"),
        ("abc", "not a range"),
        ("10:abc", "not a range"),
        ("", "not a range"),
        (True, "found"),
        (None, "found"),
        ([1, 2], "found"),
    ],
)
def test_range_rejects(raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        Range.parse(raw)
    if isinstance(raw, str):
        assert repr(raw) in str(info.value)


@pytest.mark.parametrize(
    ("text", "alerting", "quiet"),
    [
        ("10", ["-1", "10.0001", "11"], ["0", "5", "10"]),
        ("10:", ["9.9999", "-10"], ["10", "10.0", "1000000"]),
        ("~:10", ["10.0001", "11"], ["-1000", "0", "10"]),
        ("10:20", ["9", "21"], ["10", "15", "20"]),
        ("@10:20", ["10", "15", "20"], ["9.999", "20.001"]),
        ("95%:", ["0.9499"], ["0.95", "0.96", "1"]),
        ("~:4.89%", ["0.049"], ["0.0489", "0.04889"]),
    ],
)
def test_range_alerts(text: str, alerting: list[str], quiet: list[str]) -> None:
    r = Range.parse(text)
    for v in alerting:
        assert r.alerts(D(v)), (text, v)
    for v in quiet:
        assert not r.alerts(D(v)), (text, v)


optional = st.none() | exact_decimals(max_digits=20, max_places=8)


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    low, high = draw(optional), draw(optional)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return Range(low, high, draw(st.booleans()))


@given(ranges())
def test_range_text_round_trips(r: Range) -> None:
    text = str(r)
    assert Range.parse(text) == r
    assert str(Range.parse(text)) == text
    assert "E" not in text.upper().replace("@", "")


@given(ranges(), st.data())
def test_value_on_a_bound_is_inside(r: Range, data: st.DataObject) -> None:
    bounds = [b for b in (r.low, r.high) if b is not None]
    if not bounds:
        assert r.contains(data.draw(exact_decimals()))
        assert r.alerts(D(0)) == r.alert_inside
        return
    bound = data.draw(st.sampled_from(bounds))
    # inclusive: exactly on target never alerts a normal range, always alerts an @ range
    assert r.contains(bound)
    assert r.alerts(bound) is r.alert_inside
    # written differently (trailing zeros), still the same number
    assert r.alerts(D(f"{bound:f}0" if "." in f"{bound:f}" else f"{bound:f}.00")) is r.alert_inside


@given(ranges(), exact_decimals(max_digits=22, max_places=10))
def test_alerts_is_outside_xor_inside_flag(r: Range, value: Decimal) -> None:
    outside = (r.low is not None and value < r.low) or (r.high is not None and value > r.high)
    assert r.alerts(value) == (outside != r.alert_inside)


@given(st.text(alphabet="0123456789.:~@%-", max_size=12))
def test_range_parse_never_crashes_otherwise(text: str) -> None:
    try:
        r = Range.parse(text)
    except ValueError:
        return
    assert Range.parse(str(r)) == r


# -- format_number --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, None, "—"),
        (None, "万元", "—"),
        (D(50000), None, "50,000"),
        (50000, "人次", "50,000 人次"),
        (D("1234567.891"), None, "1,234,567.89"),
        (D("12345.5"), "万元", "12,345.5 万元"),
        (D("1E+6"), None, "1,000,000"),
        (D("1.23456789E+9"), None, "1,234,567,890"),
        (D("3.10"), None, "3.1"),
        (D("3.00"), None, "3"),
        (D("0.123456"), None, "0.1235"),
        (D("0.0489"), "%", "4.89%"),
        (D("0.95"), "%", "95%"),
        (D("1"), "%", "100%"),
        (D("0.333333"), "%", "33.33%"),
        (D("12.5"), "%", "1,250%"),
        (D("-1234.567"), None, "-1,234.57"),
        (D("-0.5"), None, "-0.5"),
        (D("-0"), None, "0"),
        (D("-0.00001"), None, "0"),
        (D("-0.0000001"), "%", "0%"),
        (D("-0.000001"), "万元", "0 万元"),
        (D(0), None, "0"),
    ],
)
def test_format_number(value: Decimal | int | None, unit: str | None, text: str) -> None:
    assert format_number(value, unit) == text


@given(exact_decimals(max_digits=30, max_places=10))
def test_formatted_number_parses_back_to_the_rounded_value(value: Decimal) -> None:
    text = format_number(value)
    assert "E" not in text and "e" not in text
    assert not text.startswith("-0") or text.startswith("-0.")
    places = 2 if abs(value) >= 1 else 4
    assert abs(parse_number(text) - value) <= D(5) / 10 ** (places + 1)


@given(exact_decimals(max_digits=12, max_places=8))
def test_percent_formatting_reads_back_as_the_same_share(value: Decimal) -> None:
    text = format_number(value, "%")
    assert text.endswith("%")
    assert abs(parse_number(text) - value) <= D("0.00005")


def test_plain() -> None:
    assert plain(D("1E+3")) == "1000"
    assert plain(D("0.04890")) == "0.0489"
    assert plain(D("-2.50")) == "-2.5"
    assert plain(D("0.000")) == "0"


# -- format_number against the straightforward implementation it replaced --------------------


def reference_format_number(value: Decimal | int | None, unit: str | None = None) -> str:
    """The first implementation of format_number, kept as the specification of its output."""
    from targetwatch.i18n import current, pgettext
    from targetwatch.numbers import WAN_UNITS, exact_context

    def round_(value: Decimal, places: int) -> str:
        with decimal.localcontext(exact_context()):
            rounded = value.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
        text = f"{rounded:,f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in {"-0", ""} else text

    if value is None:
        return "—"
    value = Decimal(value)
    if unit == "%":
        return f"{round_(value * 100, 2)}%"
    if unit in WAN_UNITS and abs(value) >= 10_000 and current() == "zh-CN":
        with decimal.localcontext(exact_context()):
            return f"{round_(value / Decimal(10_000), 4)}万{unit}"
    if unit == "days":
        unit = pgettext("unit", "days")
    text = round_(value, 2 if abs(value) >= 1 else 4)
    return f"{text} {unit}" if unit else text


def any_decimals() -> st.SearchStrategy[Decimal]:
    """Finite Decimals of every sign, size and exponent, including -0, whole numbers written
    with a positive exponent (1E+3), long coefficients and values just around the rounding steps."""
    return st.one_of(
        st.builds(
            lambda sign, digits, exp: Decimal((sign, tuple(int(d) for d in str(digits)), exp)),
            st.sampled_from([0, 1]),
            st.integers(0, 10**70),
            st.integers(-80, 20),
        ),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.builds(lambda n, places: Decimal(f"{n}E-{places}"), st.integers(-(10**9), 10**9), st.integers(0, 8)),
        st.sampled_from([D("0.005"), D("-0.005"), D("0.00005"), D("0.99995"), D("-0.99995"), D("9999.995"),
                         D("0.9999999999999999999999999999999"), D("1E+3"), D("-0"), D("0E-7"), D("12.345")]),
    )


UNITS = [None, "", "%", "days", "元", "人", "人次", "万元", "kg", "points"]


def outcome(fn: Callable[[], str]) -> str:
    try:
        return fn()
    except decimal.DecimalException as exc:  # a value too long for the precision: the same error
        return f"raised {type(exc).__name__}"


@given(st.one_of(any_decimals(), st.integers(-(10**30), 10**30), st.none()), st.sampled_from(UNITS),
       st.sampled_from(["en", "zh-CN"]), st.sampled_from([None, 28, 60, 8]))
def test_format_number_matches_the_reference(value: Decimal | int | None, unit: str | None, locale: str, prec: int | None) -> None:
    from targetwatch.i18n import use_locale

    context = decimal.getcontext().copy() if prec is None else decimal.Context(prec=prec)
    with use_locale(locale), decimal.localcontext(context):
        assert outcome(lambda: format_number(value, unit)) == outcome(lambda: reference_format_number(value, unit))
