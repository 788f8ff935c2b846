"""The pace/forecast/rate arithmetic and period aggregation shared by minimum, progress and cap."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kindkit import series

from targetwatch.default_plugins.pace import (
    Pace,
    PaceLine,
    aggregate,
    aggregate_exact,
    days_left,
    exact_total,
    observations_in,
    shown,
    shown_ratio,
    window_fraction,
)
from targetwatch.numbers import exact_context
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
D = Decimal

amounts = st.decimals(
    min_value=D("0"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)
targets = st.decimals(
    min_value=D("0.01"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)
fractions01 = st.fractions(min_value=0, max_value=1, max_denominator=10_000)


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("sum", D("10.5")),
        ("latest", D("2")),
        ("max", D("5")),
        ("min", D("2")),
        ("count", D(3)),
        ("mean", D("3.5")),
    ],
)
def test_aggregate(how: str, expected: Decimal) -> None:
    assert aggregate([D("3.5"), D("5"), D("2")], how) == expected


def test_aggregate_of_nothing() -> None:
    assert aggregate([], "count") == 0
    with pytest.raises(ValueError):
        aggregate([], "sum")
    with pytest.raises(ValueError):
        aggregate([D(1)], "median")


def test_mean_is_exact_as_a_fraction() -> None:
    assert aggregate_exact([D(1), D(1), D(2)], "mean") == Fraction(4, 3)
    assert aggregate_exact([D("0.1"), D("0.2")], "sum") == Fraction(3, 10)


def test_shown_keeps_integers_and_strips_zeros() -> None:
    assert str(shown(Fraction(50000))) == "50000"
    assert str(shown(Fraction(5, 2))) == "2.5"
    assert shown(Fraction(1, 3)) == D("0.333333")
    assert str(shown(Fraction(250000, 10))) == "25000"


def test_window_fraction_endpoints_and_middle() -> None:
    start, end = dt.date(2023, 7, 1), dt.date(2024, 1, 1)  # 184 days
    assert window_fraction(CAL, start, end, CAL.moment("2023-06-30T23:00")) == 0
    assert window_fraction(CAL, start, end, CAL.moment("2023-07-01")) == 0
    assert window_fraction(CAL, start, end, CAL.moment("2023-07-02")) == Fraction(1, 184)
    assert window_fraction(CAL, start, end, CAL.moment("2023-10-01T12:00")) == Fraction(
        92 * 2 + 1, 184 * 2
    )
    assert window_fraction(CAL, start, end, CAL.moment("2024-01-01")) == 1
    assert window_fraction(CAL, start, end, CAL.moment("2025-01-01")) == 1


def test_window_fraction_agrees_with_the_calendar() -> None:
    period = CAL.parse("2023-H2")
    for text in ("2023-08-15T09:30", "2023-11-30T23:59:59"):
        moment = CAL.moment(text)
        assert window_fraction(CAL, period.start, period.end, moment) == CAL.elapsed_fraction(
            period, moment
        )


def test_window_fraction_counts_real_time_across_dst() -> None:
    ny = Calendar("America/New_York")
    # 2023-03-12 has 23 hours in New York; noon local is 11 real hours in.
    assert window_fraction(
        ny, dt.date(2023, 3, 12), dt.date(2023, 3, 13), ny.moment("2023-03-12T12:00")
    ) == Fraction(11, 23)


def test_window_fraction_rejects_an_empty_window() -> None:
    with pytest.raises(ValueError):
        window_fraction(CAL, dt.date(2023, 1, 2), dt.date(2023, 1, 2), CAL.moment("2023-01-02"))


def test_days_left_counts_today() -> None:
    assert days_left(dt.date(2023, 12, 31), dt.date(2023, 12, 31)) == 1
    assert days_left(dt.date(2023, 12, 1), dt.date(2023, 12, 31)) == 31
    assert days_left(dt.date(2024, 1, 1), dt.date(2023, 12, 31)) == 0


def test_observations_in_prefers_the_whole_period_figure() -> None:
    s = series(CAL, "x", [("2023-H2", 100), ("2023-07", 30), ("2023-08", 40)])
    assert observations_in(s, CAL.parse("2023-H2")) == [(CAL.parse("2023-H2"), D(100))]


def test_observations_in_never_double_counts_mixed_grains() -> None:
    rows = [("2023-07", 10), ("2023-08", 20), ("2023-09", 30), ("2023-10", 40), ("2023-Q3", 60)]
    s = series(CAL, "x", rows)
    picked = observations_in(s, CAL.parse("2023-H2"))
    # Months cover 123 days, the quarter 92: the months win, the quarter is not added on top.
    assert [p.label for p, _ in picked] == ["2023-07", "2023-08", "2023-09", "2023-10"]
    assert sum(v for _, v in picked) == 100


def test_pace_example() -> None:
    pace = Pace.of(D(30000), D(50000), Fraction(1, 2), 92)
    assert pace.expected == 25000
    assert pace.forecast == 60000
    assert pace.on_pace and not pace.reached
    assert pace.rate_needed_per_day == Fraction(20000, 92)
    assert pace.details()["rate_needed_per_day"] == D("217.391304")


def test_pace_without_elapsed_time_has_no_forecast() -> None:
    pace = Pace.of(D(0), D(10), Fraction(0), 10)
    assert pace.forecast is None
    assert pace.on_pace
    assert pace.details()["forecast"] is None


def test_pace_rejects_elapsed_outside_unit_interval() -> None:
    with pytest.raises(ValueError):
        Pace.of(D(0), D(10), Fraction(3, 2), 10)


@given(targets, amounts, fractions01, fractions01)
def test_expected_is_monotone_in_elapsed(
    target: Decimal, done: Decimal, a: Fraction, b: Fraction
) -> None:
    lo, hi = sorted((a, b))
    assert Pace.of(done, target, lo, 5).expected <= Pace.of(done, target, hi, 5).expected


@given(targets, amounts)
def test_expected_at_the_end_is_the_target(target: Decimal, done: Decimal) -> None:
    assert Pace.of(done, target, Fraction(1), 0).expected == Fraction(target)


@given(targets, amounts, st.integers(1, 400), fractions01)
def test_rate_needed_times_days_left_closes_the_gap(
    target: Decimal, done: Decimal, days: int, elapsed: Fraction
) -> None:
    pace = Pace.of(done, target, elapsed, days)
    rate = pace.rate_needed_per_day
    assert rate is not None
    if done < target:
        assert rate * days + Fraction(done) == Fraction(target)
    else:
        assert rate == 0


@given(targets, amounts, fractions01.filter(lambda f: f > 0))
def test_forecast_short_exactly_when_behind_pace(
    target: Decimal, done: Decimal, elapsed: Fraction
) -> None:
    pace = Pace.of(done, target, elapsed, 1)
    assert pace.forecast is not None
    assert pace.forecast * elapsed == Fraction(done)
    assert (pace.forecast < Fraction(target)) == (not pace.on_pace)


@given(targets, st.integers(1, 10_000), st.integers(0, 10_000))
def test_exactly_on_pace_is_on_pace(target: Decimal, den: int, num: int) -> None:
    elapsed = Fraction(min(num, den), den)
    done = Fraction(target) * elapsed
    assert Pace.of(done, target, elapsed, 1).on_pace
    assert not Pace.of(done - Fraction(1, 10**9), target, elapsed, 1).on_pace


@given(
    st.datetimes(dt.datetime(2022, 12, 1), dt.datetime(2024, 2, 1)),
    st.datetimes(dt.datetime(2022, 12, 1), dt.datetime(2024, 2, 1)),
)
def test_window_fraction_is_monotone_and_bounded(a: dt.datetime, b: dt.datetime) -> None:
    lo, hi = sorted((a, b))
    start, end = dt.date(2023, 1, 1), dt.date(2024, 1, 1)
    f_lo = window_fraction(CAL, start, end, lo.replace(tzinfo=CAL.tzinfo))
    f_hi = window_fraction(CAL, start, end, hi.replace(tzinfo=CAL.tzinfo))
    assert 0 <= f_lo <= f_hi <= 1


@given(
    st.fractions(min_value=0, max_value=1000),
    st.fractions(min_value=Fraction(1, 1000), max_value=1000),
    st.fractions(min_value=0, max_value=1),
    st.decimals(min_value=1, max_value=10, places=2),
    st.decimals(min_value=1, max_value=10, places=2),
)
def test_hopeless_is_behind_pace_and_monotone_in_the_ratio(
    done: Fraction, target: Fraction, elapsed: Fraction, r1: Decimal, r2: Decimal
) -> None:
    pace = Pace.of(done, target, elapsed, 10)
    low, high = sorted((r1, r2))
    if pace.hopeless(low):
        assert not pace.on_pace
    if pace.hopeless(high):
        assert pace.hopeless(low)


# -- shown and exact_total against the Fraction arithmetic they stand for ----------------------


def reference_shown(value: Fraction | Decimal | int, places: int | None = 6) -> Decimal:
    """The first implementation of shown, kept as the specification of its output."""
    fr = value if isinstance(value, Fraction) else Fraction(value)
    with decimal.localcontext(exact_context()):
        if fr.denominator == 1:
            return Decimal(fr.numerator)
        out = Decimal(fr.numerator) / Decimal(fr.denominator)
        if places is not None:
            out = out.quantize(Decimal(1).scaleb(-places))
            if "." in str(out):
                text = format(out, "f").rstrip("0").rstrip(".")
                out = Decimal(text or "0")
        return out


def numbers_to_show() -> st.SearchStrategy[Fraction | Decimal | int]:
    decimals = st.builds(lambda n, e: Decimal(f"{n}E{e}"), st.integers(-(10**70), 10**70), st.integers(-40, 10))
    fractions = st.builds(Fraction, st.integers(-(10**30), 10**30), st.integers(1, 10**12))
    return st.one_of(decimals, fractions, st.integers(-(10**20), 10**20), st.sampled_from([D("-0"), D("0E-9"), D("1E+3"), D("1E+100"), D("-2.5E-100"), D("1.5E-80"), D("0E+2000000")]))


@given(numbers_to_show(), st.sampled_from([None, 0, 1, 2, 6, 8, 12]))
def test_shown_matches_the_fraction_reference(value: Fraction | Decimal | int, places: int | None) -> None:
    assert outcome(lambda: shown(value, places)) == outcome(lambda: reference_shown(value, places))


@given(st.integers(-(10**20), 10**20), st.integers(1, 10**9), st.integers(1, 50), st.sampled_from([None, 6]))
def test_shown_ratio_needs_no_lowest_terms(n: int, d: int, k: int, places: int | None) -> None:
    assert str(shown_ratio(n * k, d * k, places)) == str(reference_shown(Fraction(n, d), places))


@given(st.lists(st.builds(lambda n, e: Decimal(f"{n}E{e}"), st.integers(-(10**40), 10**40), st.integers(-30, 30)), max_size=8),
       st.sampled_from(["sum", "latest", "mean", "max", "min", "count"]))
def test_exact_total_is_the_exact_aggregate(values: list[Decimal], how: str) -> None:
    try:
        expected = aggregate_exact(values, how)
    except ValueError:
        with pytest.raises(ValueError):
            exact_total(values, how)
        return
    got = exact_total(values, how)
    assert Fraction(got) == expected
    assert outcome(lambda: shown(got, None)) == outcome(lambda: shown(expected, None))
    assert outcome(lambda: shown(got)) == outcome(lambda: shown(expected))


def outcome(fn: Callable[[], Decimal]) -> str:
    try:
        return str(fn())
    except decimal.DecimalException as exc:  # too long for the precision: the same error both ways
        return f"raised {type(exc).__name__}"


@given(
    st.one_of(amounts, st.fractions(min_value=-1000, max_value=10**6, max_denominator=1000),
              st.decimals(min_value=-1000, max_value=10**6, places=4, allow_nan=False, allow_infinity=False)),
    st.one_of(targets, st.fractions(min_value=0, max_value=10**6, max_denominator=1000)),
    fractions01,
    st.integers(-2, 400),
    st.decimals(min_value=1, max_value=10, places=2),
)
def test_pace_line_is_pace_for_every_total(done: Decimal | Fraction, target: Decimal | Fraction, elapsed: Fraction,
                                           days: int, ratio: Decimal) -> None:
    pace, line = Pace.of(done, target, elapsed, days), PaceLine(target, elapsed, days)
    assert line.on_pace(done) == pace.on_pace
    assert line.hopeless(done, ratio) == pace.hopeless(ratio)
    assert line.has_forecast() == (pace.forecast is not None)
    assert repr(line.details(done)) == repr(pace.details())
    assert line.expected == pace.expected


def test_pace_line_rejects_elapsed_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match="outside"):
        PaceLine(D(1), Fraction(3, 2), 1)


@pytest.mark.parametrize(
    ("done", "ratio", "hopeless"),
    [(D(20), D(4), True), (D(20), D("4.01"), False), (D(50), D(1), True), (D(50), D("1.01"), False), (D(0), D(10), True), (D(100), D(1), False)],
)
def test_pace_line_hopeless_on_the_boundary(done: Decimal, ratio: Decimal, hopeless: bool) -> None:
    # target 100 half way: (100 - 20) x 1/2 = 40 is exactly 4 x 20 x 1/2.
    line = PaceLine(D(100), Fraction(1, 2), 10)
    assert line.hopeless(done, ratio) is hopeless
    assert Pace.of(done, D(100), Fraction(1, 2), 10).hopeless(ratio) is hopeless
    assert line.on_pace(D(50)) and not line.on_pace(D("49.99"))
