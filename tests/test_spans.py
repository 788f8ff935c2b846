"""Spans of consecutive periods (``2023-04..2023-09``) and rolling windows (``last 6 months``):
labels, relative specs, calendar arithmetic, data, and rules judged over them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge
from strategies import BUILTIN_GRAINS, calendars, dates, moments

from targetwatch.data import Dataset
from targetwatch.default_plugins.csv_dataset import period_order
from targetwatch.default_plugins.growth import GrowthKind
from targetwatch.default_plugins.pace import observations_in
from targetwatch.engine import Engine
from targetwatch.errors import ConfigError
from targetwatch.model import Record, Status
from targetwatch.periods import Calendar, Period, PeriodError, Term
from targetwatch.plugins import Registry
from targetwatch.rules import load_rules
from targetwatch.spans import SPAN_GRAINS, slide, span_length
from targetwatch.testing import series

D = dt.date
CAL = Calendar()
SCHOOL = Calendar(
    "Asia/Shanghai",
    terms=[Term("2023-spring", D(2023, 2, 13), D(2023, 7, 15)), Term("2023-autumn", D(2023, 9, 1), D(2024, 2, 1))],
)
PLURAL = {"year": "years", "half": "halves", "quarter": "quarters", "month": "months",
          "week": "weeks", "day": "days", "fiscal": "fiscal years"}  # fmt: skip
grains = st.sampled_from(BUILTIN_GRAINS)
lengths = st.integers(1, 40)


def span_of(cal: Calendar, grain: str, day: dt.date, n: int) -> tuple[list[Period], Period]:
    """The ``n`` periods of ``grain`` from the one containing ``day``, and their span."""
    first = cal.containing(grain, day)
    members = [cal.shift(first, i) for i in range(n)]
    return members, cal.parse(f"{members[0]}..{members[-1]}")


# -- labels -----------------------------------------------------------------------------------


@given(calendars(), grains, dates(), lengths)
def test_span_label_round_trips(cal: Calendar, grain: str, day: dt.date, n: int) -> None:
    members, span = span_of(cal, grain, day, n)
    assert cal.parse(str(span)) == span and cal.parse(span.label.lower()) == span
    assert cal.parse(f" {members[0].label.lower()} .. {members[-1]} ") == span
    assert (span.start, span.end) == (members[0].start, members[-1].end)
    assert span_length(span) == n
    if n == 1:
        assert span == members[0]  # a span of one period is that period
    else:
        assert span.grain == f"{grain} span" and span.grain in SPAN_GRAINS
        assert span.label == f"{members[0].label}..{members[-1].label}"
        assert span.ordinal == members[0].ordinal
    assert hash(cal.parse(str(span))) == hash(span)


@given(calendars(), grains, dates(), lengths)
def test_a_span_contains_exactly_its_periods(cal: Calendar, grain: str, day: dt.date, n: int) -> None:
    members, span = span_of(cal, grain, day, n)
    assert all(span.contains_period(p) for p in members)
    assert not span.contains_period(cal.previous(members[0]))
    assert not span.contains_period(cal.next(members[-1]))
    assert span.days == sum(p.days for p in members)
    assert all(span.contains(p.start) and span.contains(p.last_day) for p in members)
    assert not span.contains(span.end) and not span.contains(span.start - dt.timedelta(days=1))


@given(dates(1990, 2100), st.integers(1, 30))
def test_within_a_span_of_months_are_exactly_its_months(day: dt.date, n: int) -> None:
    months, span = span_of(CAL, "month", day, n)
    around = [CAL.shift(months[0], i) for i in range(-14, n + 14)]
    monthly = series("x", [(str(p), i) for i, p in enumerate(around)])
    assert [p for p, _ in monthly.within(span)] == months
    assert [p for p, _ in observations_in(monthly, span)] == months


@given(dates(), st.integers(2, 12))
def test_spans_of_the_same_days_are_different_periods(day: dt.date, n: int) -> None:
    quarters = span_of(CAL, "quarter", day, n)[1]
    months = CAL.parse(f"{CAL.containing('month', quarters.start)}..{CAL.containing('month', quarters.last_day)}")
    assert (months.start, months.end) == (quarters.start, quarters.end)
    assert months != quarters and len({months, quarters}) == 2
    assert (months < quarters) != (quarters < months)  # sorting tells them apart too
    assert period_order(months) != period_order(quarters)
    assert (period_order(months) < period_order(quarters)) == (months < quarters)


@given(calendars(), grains, grains, dates(), dates(), lengths, lengths)
def test_period_order_sorts_spans_as_periods_do(
    cal: Calendar, g1: str, g2: str, d1: dt.date, d2: dt.date, n1: int, n2: int
) -> None:
    a, b = span_of(cal, g1, d1, n1)[1], span_of(cal, g2, d2, n2)[1]
    assert (period_order(a) < period_order(b)) == (a < b)
    assert (period_order(a) == period_order(b)) == (a == b)


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2023-04..2023-09", "2023-04..2023-09", D(2023, 4, 1), D(2023, 10, 1)),
        ("2022-q4..2023-Q3", "2022-Q4..2023-Q3", D(2022, 10, 1), D(2023, 10, 1)),
        ("2022-H2 .. 2023-H1", "2022-H2..2023-H1", D(2022, 7, 1), D(2023, 7, 1)),
        ("2021..2023", "2021..2023", D(2021, 1, 1), D(2024, 1, 1)),
        ("2020-W52..2021-W01", "2020-W52..2021-W01", D(2020, 12, 21), D(2021, 1, 11)),
        ("2024-02-28..2024-03-01", "2024-02-28..2024-03-01", D(2024, 2, 28), D(2024, 3, 2)),
        ("2023-04..2023-04", "2023-04", D(2023, 4, 1), D(2023, 5, 1)),
        ("2023..H2", "2023-H2", D(2023, 7, 1), D(2024, 1, 1)),  # an existing lenient label
    ],
)
def test_parse_spans(text: str, label: str, start: dt.date, end: dt.date) -> None:
    p = CAL.parse(text)
    assert (p.label, p.start, p.end) == (label, start, end)


def test_fiscal_spans() -> None:
    cal = Calendar(fiscal_year_start=4, fiscal_year_named_by="end")
    span = cal.parse("FY2023..FY2024")
    assert (span.grain, span.start, span.end) == ("fiscal span", D(2022, 4, 1), D(2024, 4, 1))
    assert cal.previous(span).label == "FY2021..FY2022" and cal.year_ago(span).label == "FY2022..FY2023"
    with pytest.raises(PeriodError, match="not made of this calendar's fiscal periods"):
        Calendar(fiscal_year_start=7).previous(span)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2023-04..2023-Q3", r"two periods of one grain.*found '2023-04..2023-Q3' \(a month and a quarter\)"),
        ("2023..2023-H2", r"found '2023..2023-H2' \(a year and a half\)"),
        ("2023-09..2023-04", "FIRST not after LAST.*found '2023-09..2023-04'"),
        ("2023-13..2024-01", r"found '2023-13..2024-01' \('2023-13' is not a period label\)"),
        ("2023-01..", r"\(''"),
        ("2021..2022..2023", r"\('2022..2023' is not a period label\)"),
        ("2023-spring..2023-autumn", "terms leave gaps between them, so they make no span"),
        ("2023-spring..2023-Q4", r"\(a term and a quarter\)"),
    ],
)
def test_bad_spans_say_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message) as info:
        SCHOOL.parse(text)
    assert str(info.value).startswith("expected a span")
    with pytest.raises(PeriodError, match=message):
        SCHOOL.check_spec(text)


def test_a_span_grain_contains_no_day() -> None:
    for grain in ("month span", "span"):
        with pytest.raises(PeriodError):
            CAL.containing(grain, D(2023, 5, 1))
    with pytest.raises(PeriodError, match="no month span contains 2023-05-01"):
        CAL.containing("month span", D(2023, 5, 1))


# -- last N ... -------------------------------------------------------------------------------


@given(calendars(), grains, moments(1950, 2150), lengths)
def test_last_n_is_the_n_periods_before_the_current_one(
    cal: Calendar, grain: str, as_of: dt.datetime, n: int
) -> None:
    current = cal.resolve(f"current {grain}", as_of)
    got = cal.resolve(f"last {n} {PLURAL[grain]}", as_of)
    assert got.end == current.start  # all closed at as_of, ending where the current one starts
    assert got == cal.parse(f"{cal.shift(current, -n)}..{cal.shift(current, -1)}")
    assert span_length(got) == n and cal.is_relative(f"last {n} {PLURAL[grain]}")
    assert cal.resolve(f"Last {n}  {grain}", as_of) == got  # case, spacing, singular
    assert cal.resolve(f"last 1 {grain}", as_of) == cal.resolve(f"previous {grain}", as_of)
    assert cal.resolve(f"last {grain}", as_of) == cal.resolve(f"previous {grain}", as_of)


@given(moments(1950, 2150), st.integers(1, 60))
def test_last_n_months_is_the_months_before_as_of_month(as_of: dt.datetime, n: int) -> None:
    day = as_of.date()
    y, m = divmod(day.year * 12 + day.month - 1 - n, 12)
    first = D(y, m + 1, 1)
    got = CAL.resolve(f"last {n} months", as_of)
    assert (got.start, got.end) == (first, D(day.year, day.month, 1))
    assert got.end == CAL.resolve("current month", as_of).start


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        ("last 6 months", "2023-04..2023-09"),
        ("last 12 months", "2022-10..2023-09"),
        ("last 1 month", "2023-09"),
        ("last month", "2023-09"),
        ("last half", "2023-H1"),
        ("last 2 halves", "2022-H2..2023-H1"),
        ("last 4 quarters", "2022-Q4..2023-Q3"),
        ("last 3 years", "2020..2022"),
        ("last 2 weeks", "2023-W40..2023-W41"),
        ("last 7 days", "2023-10-09..2023-10-15"),
        ("last 2 fiscal years", "FY2021..FY2022"),
    ],
)
def test_resolve_last_n(spec: str, label: str) -> None:
    cal = Calendar("Asia/Shanghai", fiscal_year_start=4)
    assert cal.resolve(spec, dt.datetime.fromisoformat("2023-10-16T09:00:00+08:00")).label == label


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("last 0 months", "expected a positive number of periods in 'last N'.*found 'last 0 months'"),
        ("last 3 terms", "found 'last 3 terms': terms leave gaps"),
        ("last 1 term", "found 'last 1 term': terms leave gaps"),
    ],
)
def test_bad_last_n(spec: str, message: str) -> None:
    assert SCHOOL.is_relative(spec)
    with pytest.raises(PeriodError, match=message):
        SCHOOL.check_spec(spec)
    with pytest.raises(PeriodError, match=message):
        SCHOOL.resolve(spec, dt.datetime(2023, 10, 16))


def test_not_last_n() -> None:
    for bad in ("last 6 decades", "last -1 months", "last six months", "last 6", "previous 6 months"):
        assert not CAL.is_relative(bad)
        with pytest.raises(PeriodError, match="found"):
            CAL.check_spec(bad)
    with pytest.raises(PeriodError, match="'last 10000 years' as of 2023-10-16: .*outside the supported years"):
        CAL.resolve("last 10000 years", dt.datetime(2023, 10, 16))


@pytest.mark.parametrize("name", ["last 2 months", "2023-04..2023-09", "spring..summer"])
def test_a_term_may_not_be_named_like_a_rolling_window_or_a_span(name: str) -> None:
    with pytest.raises(PeriodError, match=f"{name!r} would be read as a built-in period or a span"):
        Calendar(terms=[Term(name, D(2023, 2, 1), D(2023, 7, 1))])


# -- arithmetic -------------------------------------------------------------------------------


@given(calendars(), grains, dates(1950, 2150), lengths, st.integers(-5, 5))
def test_shift_moves_a_span_by_its_length(
    cal: Calendar, grain: str, day: dt.date, n: int, k: int
) -> None:
    members, span = span_of(cal, grain, day, n)
    moved = cal.shift(span, k)
    assert moved == cal.parse(f"{cal.shift(members[0], k * n)}..{cal.shift(members[-1], k * n)}")
    assert span_length(moved) == n and moved.grain == span.grain
    assert cal.previous(span).end == span.start and cal.next(span).start == span.end
    assert cal.next(cal.previous(span)) == span and cal.shift(moved, -k) == span


@given(calendars(), grains, dates(1950, 2150), lengths)
def test_year_ago_is_the_window_of_the_same_length_a_year_earlier(cal: Calendar, grain: str, day: dt.date, n: int) -> None:
    members, span = span_of(cal, grain, day, n)
    ago = cal.year_ago(span)
    last = cal.year_ago(members[-1])
    assert ago.end == last.end and span_length(ago) == n
    assert ago == cal.parse(f"{cal.shift(last, 1 - n)}..{last}")
    if grain not in ("week", "day"):
        assert ago.start == cal.year_ago(members[0]).start and ago.start.year == span.start.year - 1


def test_slide_moves_a_rolling_window_by_one_of_its_periods() -> None:
    window = CAL.parse("2023-04..2023-09")
    assert slide(CAL, window, -1).label == "2023-03..2023-08"
    assert slide(CAL, window, 2).label == "2023-06..2023-11"
    assert slide(CAL, CAL.parse("2023-Q2"), -1).label == "2023-Q1"


def test_arithmetic_examples() -> None:
    window = CAL.parse("2023-04..2023-09")
    assert CAL.previous(window).label == "2022-10..2023-03"
    assert CAL.next(window).label == "2023-10..2024-03"
    assert CAL.year_ago(window).label == "2022-04..2022-09"
    assert CAL.year_ago(CAL.parse("2024-02-01..2024-02-29")).label == "2023-01-31..2023-02-28"
    assert CAL.year_ago(CAL.parse("2020-W50..2020-W53")).label == "2019-W49..2019-W52"
    assert CAL.year_ago(CAL.parse("2020-W52..2020-W53")).label == "2019-W51..2019-W52"


def test_elapsed_fraction_of_a_span() -> None:
    window = CAL.parse("2023-04..2023-09")
    assert CAL.elapsed_fraction(window, dt.datetime(2023, 10, 16, tzinfo=dt.UTC)) == 1
    assert CAL.elapsed_fraction(window, dt.datetime(2023, 4, 1, tzinfo=dt.UTC)) == 0
    assert CAL.elapsed_fraction(window, dt.datetime(2023, 7, 1, tzinfo=dt.UTC)) == Fraction(91, 183)


# -- data and rules ---------------------------------------------------------------------------

MONTHLY = [(f"2023-{m:02d}", m * 100) for m in range(1, 11)]  # 2023-01 .. 2023-10


def test_span_observations_count_only_for_exactly_their_span() -> None:
    rolling = series("x", [("2023-01..2023-06", 1), ("2023-02..2023-07", 2), ("2023-07", 5), ("2023-08", 6)])
    assert [str(p) for p, _ in observations_in(rolling, CAL.parse("2023"))] == ["2023-07", "2023-08"]
    assert observations_in(rolling, CAL.parse("2023-02..2023-07")) == [(CAL.parse("2023-02..2023-07"), 2)]


def test_span_labels_in_data() -> None:
    records = [Record("x", "2022-10..2023-09", Decimal(1), (), "row 1"), Record("x", "2023-04", Decimal(2), (), "row 2")]
    got = Dataset.from_records(records, CAL).get("x", ())
    assert got is not None and [str(p) for p in got.periods] == ["2022-10..2023-09", "2023-04"]


RULE = """
[[rule]]
id = "{rule_id}"
kind = "minimum"
indicator = "x"
min = {min}
period = "{period}"
aggregate = "sum"
"""


def test_a_minimum_over_the_last_6_months(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULE.format(rule_id="x.rolling", min=3900, period="last 6 months"), encoding="utf-8")
    rules = load_rules([path], registry.kinds, calendar=SCHOOL, indicators={"x"})
    rows = [{"indicator": "x", "period": p, "value": v} for p, v in MONTHLY]
    result = Engine(rules, sources=[rows], calendar=SCHOOL, registry=registry).check(as_of="2023-10-16")
    (v,) = result.verdicts
    # April through September: 400 + 500 + ... + 900 = 3900, a closed window.
    assert (v.status, v.value, str(v.period)) == (Status.OK, Decimal(3900), "2023-04..2023-09")
    assert "2023-04..2023-09" in v.message
    assert v.details["observations"] == 6 and v.details["total"] == 3900
    assert "elapsed" not in v.details  # every month of the window has closed
    path.write_text(RULE.format(rule_id="x.rolling", min=3901, period="last 6 months"), encoding="utf-8")
    rules = load_rules([path], registry.kinds, calendar=SCHOOL, indicators={"x"})
    (v,) = Engine(rules, sources=[rows], calendar=SCHOOL, registry=registry).check(as_of="2023-10-16").verdicts
    assert (v.status, v.value) == (Status.BREACH, Decimal(3900))


def test_a_minimum_over_a_span_still_open_is_judged_on_pace() -> None:
    from targetwatch.default_plugins.minimum import MinimumKind

    params = {"indicator": "x", "min": 8000, "period": "2023-07..2023-12"}
    j = judge(MinimumKind(), params, MONTHLY, "2023-10-01", cal=CAL)
    # 92 of 184 days elapsed: 4000 expected by now; July to October (visible from its start)
    # make 700 + 800 + 900 + 1000 = 3400, behind pace.
    assert (j.status, j.value, j.target) == (Status.WARN, Decimal(3400), Decimal(4000))


def test_a_rule_file_with_last_0_months_is_refused(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULE.format(rule_id="x.none", min=1, period="last 0 months"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_rules([path], registry.kinds, calendar=CAL, indicators={"x"})
    (problem,) = info.value.problems
    assert problem.key == "rule[0].period" and problem.line == 7
    assert "'last 0 months'" in problem.message and "a positive number of periods" in problem.message


def test_growth_of_a_trailing_window_reported_as_such() -> None:
    rows = [("2021-10..2022-09", 1000), ("2022-10..2023-09", 1100)]
    params = {"indicator": "x", "compare": "year_on_year", "min": "5%", "period": "last 12 months"}
    j = judge(GrowthKind(), params, rows, "2023-10-16", cal=CAL)
    assert (j.status, j.value, j.period) == (Status.OK, Decimal("0.1"), CAL.parse("2022-10..2023-09"))
    assert j.details["base_period"] == "2021-10..2022-09"
    # The twelve months before a twelve-month window are the same months a year earlier.
    pop = judge(GrowthKind(), {**params, "compare": "period_on_period"}, rows, "2023-10-16", cal=CAL)
    assert (pop.status, pop.details["base_period"]) == (Status.OK, "2021-10..2022-09")
    half = judge(GrowthKind(), {**params, "compare": "period_on_period", "period": "last 6 months"},
                 [("2022-10..2023-03", 500), ("2023-04..2023-09", 520)], "2023-10-16", cal=CAL)
    assert (half.status, half.value, half.details["base_period"]) == (Status.BREACH, Decimal("0.04"), "2022-10..2023-03")


def test_cagr_needs_windows_of_one_length() -> None:
    rows = [("2019-04..2019-12", 1000), ("2023-04..2023-09", 1100)]
    params = {"indicator": "x", "compare": "cagr", "baseline": "2019-04..2019-12", "period": "last 6 months"}
    j = judge(GrowthKind(), params, rows, "2023-10-16", cal=CAL)
    assert j.status is Status.UNKNOWN and "different lengths" in j.message
    same = judge(GrowthKind(), {**params, "baseline": "2019-04..2019-09"}, [("2019-04..2019-09", 1000), rows[1]], "2023-10-16", cal=CAL)
    assert same.status is Status.OK and same.details["years"] == 4


def test_a_window_against_a_baseline_of_another_grain_or_length_is_unknown() -> None:
    rows = [("2019-04..2019-12", 1000), ("2019-Q2..2019-Q3", 900), ("2019-04..2019-09", 800), ("2023-04..2023-09", 1100)]
    params = {"indicator": "x", "compare": "baseline", "min": "5%", "period": "last 6 months"}
    longer = judge(GrowthKind(), {**params, "baseline": "2019-04..2019-12"}, rows, "2023-10-16", cal=CAL)
    assert longer.status is Status.UNKNOWN and "different lengths" in longer.message
    quarters = judge(GrowthKind(), {**params, "baseline": "2019-Q2..2019-Q3"}, rows, "2023-10-16", cal=CAL)
    assert quarters.status is Status.UNKNOWN and "different grains" in quarters.message
    same = judge(GrowthKind(), {**params, "baseline": "2019-04..2019-09"}, rows, "2023-10-16", cal=CAL)
    assert (same.status, same.value) == (Status.OK, Decimal("0.375"))
