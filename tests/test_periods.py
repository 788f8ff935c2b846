"""Periods, calendars, relative specs, elapsed fractions and durations."""

from __future__ import annotations

import bisect
import calendar as stdcal
import datetime as dt
import itertools
import subprocess
import sys
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import BUILTIN_GRAINS, TIMEZONES, calendars, dates, moments, periods

from targetwatch.periods import Calendar, Period, PeriodError, Span, Term, parse_duration

D = dt.date
UTC = dt.UTC
SPRING = Term("2023-spring", D(2023, 2, 13), D(2023, 7, 15))
AUTUMN = Term("2023-autumn", D(2023, 9, 1), D(2024, 2, 1))
SPRING24 = Term("2024-spring", D(2024, 2, 26), D(2024, 7, 13))
AUTUMN22 = Term("2022-autumn", D(2022, 9, 1), D(2023, 1, 15))
SCHOOL = Calendar("Asia/Shanghai", terms=[AUTUMN, SPRING, SPRING24, AUTUMN22])
CAL = Calendar()

grains = st.sampled_from(BUILTIN_GRAINS)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@st.composite
def calendar_and_period(draw: st.DrawFn) -> tuple[Calendar, Period]:
    cal = draw(calendars())
    return cal, draw(periods(draw(grains), cal))


# -- properties -------------------------------------------------------------------------------


@given(calendar_and_period())
def test_parse_of_label_round_trips(cp: tuple[Calendar, Period]) -> None:
    cal, p = cp
    assert cal.parse(str(p)) == p
    assert cal.parse(p.label.lower()) == p
    assert cal.period(p.grain, p.ordinal) == p


@given(calendar_and_period())
def test_next_and_previous_are_inverse_and_tile(cp: tuple[Calendar, Period]) -> None:
    cal, p = cp
    assert cal.next(cal.previous(p)) == p
    assert cal.previous(cal.next(p)) == p
    assert p.end == cal.next(p).start
    assert cal.previous(p).end == p.start
    assert cal.next(p).ordinal == p.ordinal + 1
    assert p < cal.next(p) and cal.previous(p) < p


@given(calendars(), grains, dates())
def test_containing_contains(cal: Calendar, grain: str, day: dt.date) -> None:
    p = cal.containing(grain, day)
    assert p.contains(day)
    assert p.start <= day <= p.last_day < p.end
    assert p.days == (p.end - p.start).days > 0
    assert not p.contains(p.end) and not p.contains(p.start - dt.timedelta(days=1))
    assert cal.shift(p, 3) == cal.shift(cal.shift(p, 1), 2)


@given(dates())
def test_finer_grains_nest_in_coarser(day: dt.date) -> None:
    chain = [CAL.containing(g, day) for g in ("day", "month", "quarter", "half", "year")]
    for inner, outer in itertools.pairwise(chain):
        assert outer.contains_period(inner)
        assert not inner.contains_period(outer) or inner == outer


@settings(max_examples=300)
@given(calendars(), grains, dates(), moments(), moments())
def test_elapsed_fraction_is_monotone_and_bounded(
    cal: Calendar, grain: str, day: dt.date, a: dt.datetime, b: dt.datetime
) -> None:
    p = cal.containing(grain, day)
    start, end = cal.start_moment(p), cal.end_moment(p)
    # Also probe moments near the period, where the interesting values are.
    span = end - start
    a = start + (a - dt.datetime(1900, 1, 1, tzinfo=UTC)) % (span * 3) - span
    b = start + (b - dt.datetime(1900, 1, 1, tzinfo=UTC)) % (span * 3) - span
    lo, hi = sorted([a, b])
    f_lo, f_hi = cal.elapsed_fraction(p, lo), cal.elapsed_fraction(p, hi)
    assert 0 <= f_lo <= f_hi <= 1
    assert cal.elapsed_fraction(p, start) == 0
    assert cal.elapsed_fraction(p, end) == 1
    assert cal.elapsed_fraction(p, start.astimezone(dt.UTC) - dt.timedelta(microseconds=1)) == 0
    assert cal.elapsed_fraction(p, end + dt.timedelta(days=400)) == 1


@given(calendar_and_period())
def test_year_ago_is_about_a_year_earlier(cp: tuple[Calendar, Period]) -> None:
    cal, p = cp
    q = cal.year_ago(p)
    assert q.grain == p.grain
    slack = 7 if p.grain == "week" else 1  # 1 day: Feb 29 clamps to Feb 28
    expected = (
        p.start.replace(year=p.start.year - 1)
        if (p.start.month, p.start.day) != (2, 29)
        else D(p.start.year - 1, 2, 28)
    )
    assert abs((q.start - expected).days) <= slack
    if p.grain not in ("week", "day"):
        assert q.start == expected and q.ordinal < p.ordinal
    if p.grain in ("half", "quarter", "month"):
        assert q.label[4:] == p.label[4:]


@given(dates(), st.integers(0, 600), st.sampled_from(TIMEZONES), st.integers(0, 86399))
def test_span_before_clamps_months(day: dt.date, months: int, tz: str, secs: int) -> None:
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo(tz))
    got = Span(months=months).before(moment)
    total = day.year * 12 + day.month - 1 - months
    y, m = divmod(total, 12)
    assert (got.year, got.month) == (y, m + 1)
    assert got.day == min(day.day, stdcal.monthrange(y, m + 1)[1])
    assert got.time() == moment.time() and got.tzinfo is moment.tzinfo
    exact = Span(seconds=secs).before(moment)
    assert exact.astimezone(UTC) == moment.astimezone(UTC) - dt.timedelta(seconds=secs)
    assert exact.tzinfo is moment.tzinfo


@given(st.integers(0, 1000), st.integers(0, 10**8))
def test_span_text_round_trips(months: int, seconds: int) -> None:
    span = Span(months, seconds)
    if months or seconds:
        assert parse_duration(str(span)) == span


@given(st.lists(calendar_and_period(), min_size=1, max_size=20))
def test_sorted_periods_bisect(cps: list[tuple[Calendar, Period]]) -> None:
    ps = sorted(p for _, p in cps)
    assert [(p.start, p.end, p.grain) for p in ps] == sorted((p.start, p.end, p.grain) for p in ps)
    for p in ps:
        i = bisect.bisect_left(ps, p)
        assert ps[i].start == p.start and ps[i] <= p


# -- built-in grains --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2023", "2023", D(2023, 1, 1), D(2024, 1, 1)),
        ("2023-H1", "2023-H1", D(2023, 1, 1), D(2023, 7, 1)),
        ("2023-H2", "2023-H2", D(2023, 7, 1), D(2024, 1, 1)),
        ("2023h2", "2023-H2", D(2023, 7, 1), D(2024, 1, 1)),
        ("2023-Q1", "2023-Q1", D(2023, 1, 1), D(2023, 4, 1)),
        ("2023 q3", "2023-Q3", D(2023, 7, 1), D(2023, 10, 1)),
        ("2023-Q4", "2023-Q4", D(2023, 10, 1), D(2024, 1, 1)),
        ("2023-07", "2023-07", D(2023, 7, 1), D(2023, 8, 1)),
        ("2023-7", "2023-07", D(2023, 7, 1), D(2023, 8, 1)),
        ("2023/12", "2023-12", D(2023, 12, 1), D(2024, 1, 1)),
        ("2024-02", "2024-02", D(2024, 2, 1), D(2024, 3, 1)),
        ("2023-W27", "2023-W27", D(2023, 7, 3), D(2023, 7, 10)),
        ("2023w1", "2023-W01", D(2023, 1, 2), D(2023, 1, 9)),
        ("2025-W01", "2025-W01", D(2024, 12, 30), D(2025, 1, 6)),
        ("2020-W53", "2020-W53", D(2020, 12, 28), D(2021, 1, 4)),
        ("2023-07-15", "2023-07-15", D(2023, 7, 15), D(2023, 7, 16)),
        ("2023/7/5", "2023-07-05", D(2023, 7, 5), D(2023, 7, 6)),
        ("20240229", "2024-02-29", D(2024, 2, 29), D(2024, 3, 1)),
        (" 2023-Q3 ", "2023-Q3", D(2023, 7, 1), D(2023, 10, 1)),
    ],
)
def test_parse_labels(text: str, label: str, start: dt.date, end: dt.date) -> None:
    p = CAL.parse(text)
    assert (str(p), p.label, p.start, p.end) == (label, label, start, end)


def test_periods_are_half_open() -> None:
    h2 = CAL.parse("2023-H2")
    assert h2.contains(D(2023, 7, 1)) and h2.contains(D(2023, 12, 31))
    assert not h2.contains(D(2024, 1, 1)) and not h2.contains(D(2023, 6, 30))
    assert h2.last_day == D(2023, 12, 31) and h2.days == 184
    assert h2.contains_period(CAL.parse("2023-Q3")) and h2.contains_period(CAL.parse("2023-12-31"))
    assert not h2.contains_period(CAL.parse("2023")) and not h2.contains_period(
        CAL.parse("2024-W01")
    )


def test_ordinals_are_consecutive() -> None:
    assert CAL.parse("2023-12").ordinal + 1 == CAL.parse("2024-01").ordinal == 2024 * 12
    assert CAL.parse("2023-Q4").ordinal + 1 == CAL.parse("2024-Q1").ordinal == 2024 * 4
    assert CAL.parse("2023-H2").ordinal + 1 == CAL.parse("2024-H1").ordinal == 2024 * 2
    assert CAL.parse("2020-W53").ordinal + 1 == CAL.parse("2021-W01").ordinal
    assert CAL.parse("2023-07-15").ordinal == D(2023, 7, 15).toordinal()
    assert CAL.parse("2023").ordinal == 2023


def test_iso_weeks_use_the_iso_year() -> None:
    assert CAL.containing("week", D(2024, 12, 30)).label == "2025-W01"
    assert CAL.containing("week", D(2021, 1, 3)).label == "2020-W53"
    assert CAL.containing("week", D(2023, 1, 1)).label == "2022-W52"
    assert CAL.next(CAL.parse("2020-W52")).label == "2020-W53"
    assert CAL.next(CAL.parse("2020-W53")).label == "2021-W01"
    with pytest.raises(PeriodError, match="2021-W53"):
        CAL.parse("2021-W53")


def test_periods_sort_by_start_then_end_then_grain_and_hash() -> None:
    ps = [CAL.parse(t) for t in ("2023-07", "2023", "2023-H2", "2023-Q3", "2023-07-01", "2023-W26")]
    assert [p.label for p in sorted(ps)] == [
        "2023",
        "2023-W26",
        "2023-07-01",
        "2023-07",
        "2023-Q3",
        "2023-H2",
    ]
    assert len({CAL.parse("2023-Q3"), CAL.parse("2023q3"), CAL.parse("2023-Q3")}) == 1
    assert CAL.parse("2023-01") != CAL.parse("2023-01-01")
    with pytest.raises(TypeError):
        _ = CAL.parse("2023") < "2024"


def test_parse_is_cached() -> None:
    cal = Calendar()
    assert cal.parse("2023-H2") is cal.parse("2023-H2")


# -- fiscal years -----------------------------------------------------------------------------


def test_fiscal_year_named_by_start() -> None:
    cal = Calendar(fiscal_year_start=4)
    fy = cal.parse("FY2023")
    assert (fy.start, fy.end, fy.last_day, fy.ordinal) == (
        D(2023, 4, 1),
        D(2024, 4, 1),
        D(2024, 3, 31),
        2023,
    )
    assert cal.containing("fiscal", D(2024, 3, 31)) == fy
    assert cal.containing("fiscal", D(2024, 4, 1)).label == "FY2024"
    assert cal.parse("fy 2023") == cal.parse("fy2023") == fy


def test_fiscal_year_named_by_end() -> None:
    cal = Calendar(fiscal_year_start=4, fiscal_year_named_by="end")
    fy = cal.parse("FY2024")
    assert (fy.start, fy.end, fy.label, fy.ordinal) == (
        D(2023, 4, 1),
        D(2024, 4, 1),
        "FY2024",
        2023,
    )
    assert cal.containing("fiscal", D(2023, 4, 1)) == fy
    assert cal.year_ago(fy).label == "FY2023"


@pytest.mark.parametrize("named_by", ["start", "end"])
def test_fiscal_year_starting_in_january_is_the_calendar_year(named_by: str) -> None:
    cal = Calendar(fiscal_year_start=1, fiscal_year_named_by=named_by)
    fy = cal.parse("FY2023")
    assert (fy.start, fy.end, fy.label) == (D(2023, 1, 1), D(2024, 1, 1), "FY2023")
    assert fy != cal.parse("2023") and fy.grain == "fiscal"


# -- terms ------------------------------------------------------------------------------------


def test_terms_parse_sort_and_leave_gaps() -> None:
    assert [t.name for t in SCHOOL.terms] == [
        "2022-autumn",
        "2023-spring",
        "2023-autumn",
        "2024-spring",
    ]
    autumn = SCHOOL.parse("2023-autumn")
    assert (autumn.grain, autumn.ordinal, autumn.start, autumn.end) == (
        "term",
        2,
        D(2023, 9, 1),
        D(2024, 2, 1),
    )
    assert SCHOOL.containing("term", D(2023, 7, 14)).label == "2023-spring"
    assert SCHOOL.next(SCHOOL.parse("2023-spring")) == autumn
    with pytest.raises(PeriodError, match="2023-08-01 falls in no term"):
        SCHOOL.containing("term", D(2023, 8, 1))
    with pytest.raises(PeriodError, match="no term 1 after '2024-spring'"):
        SCHOOL.next(SCHOOL.parse("2024-spring"))
    with pytest.raises(PeriodError, match="no term 1 before '2022-autumn'"):
        SCHOOL.previous(SCHOOL.parse("2022-autumn"))
    with pytest.raises(PeriodError, match="2023-Autumn"):
        SCHOOL.parse("2023-Autumn")  # term names are matched exactly


def test_year_ago_of_a_term() -> None:
    assert SCHOOL.year_ago(SCHOOL.parse("2023-autumn")).label == "2022-autumn"
    # No "2023-spring" counterpart: falls back to the term containing its start a year before.
    cal = Calendar(
        terms=[
            Term("winter-a", D(2022, 1, 1), D(2022, 6, 1)),
            Term("winter-b", D(2023, 2, 1), D(2023, 6, 1)),
        ]
    )
    assert cal.year_ago(cal.parse("winter-b")).label == "winter-a"
    with pytest.raises(PeriodError, match="no term a year before 'winter-a'"):
        cal.year_ago(cal.parse("winter-a"))


def test_year_ago_examples() -> None:
    assert CAL.year_ago(CAL.parse("2023-H2")).label == "2022-H2"
    assert CAL.year_ago(CAL.parse("2023-07")).label == "2022-07"
    assert CAL.year_ago(CAL.parse("2023-Q1")).label == "2022-Q1"
    assert CAL.year_ago(CAL.parse("2024-02-29")).label == "2023-02-28"
    assert CAL.year_ago(CAL.parse("2020-W53")).label == "2019-W52"
    assert CAL.year_ago(CAL.parse("2021-W10")).label == "2020-W10"
    assert (
        Calendar(fiscal_year_start=7).year_ago(Calendar(fiscal_year_start=7).parse("FY2023")).label
        == "FY2022"
    )


# -- relative specs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        ("current half", "2023-H2"),
        ("this half", "2023-H2"),
        ("Current Half-Year", "2023-H2"),
        ("previous half", "2023-H1"),
        ("previous year", "2022"),
        ("last year", "2022"),
        ("next year", "2024"),
        ("last quarter", "2023-Q2"),
        ("current quarter", "2023-Q3"),
        ("next month", "2023-09"),
        ("current  month", "2023-08"),
        ("current week", "2023-W31"),
        ("previous day", "2023-08-01"),
        ("current day", "2023-08-02"),
        ("current fiscal year", "FY2023"),
        ("previous fiscal", "FY2022"),
        ("2 quarters ago", "2023-Q1"),
        ("1 month ago", "2023-07"),
        ("3 halves ago", "2022-H1"),
        ("0 years ago", "2023"),
        ("2023-Q1", "2023-Q1"),
    ],
)
def test_resolve_relative(spec: str, label: str) -> None:
    cal = Calendar("Asia/Shanghai", fiscal_year_start=4)
    # 2023-08-01T20:00Z is already 2023-08-02 in Shanghai.
    assert cal.resolve(spec, at("2023-08-01T20:00:00+00:00")).label == label


def test_resolve_uses_calendar_time_zone() -> None:
    as_of = at("2023-06-30T16:30:00+00:00")  # 2023-07-01 00:30 in Shanghai
    assert SCHOOL.resolve("current half", as_of).label == "2023-H2"
    assert Calendar().resolve("current half", as_of).label == "2023-H1"
    # A naive as_of is local wall time in the calendar's zone.
    assert SCHOOL.resolve("current half", dt.datetime(2023, 7, 1, 0, 30)).label == "2023-H2"


def test_resolve_terms() -> None:
    in_term = at("2023-10-01T12:00:00+08:00")
    assert SCHOOL.resolve("current term", in_term).label == "2023-autumn"
    assert SCHOOL.resolve("previous term", in_term).label == "2023-spring"
    assert SCHOOL.resolve("next term", in_term).label == "2024-spring"
    assert SCHOOL.resolve("2 terms ago", in_term).label == "2022-autumn"
    gap = at("2023-08-01T12:00:00+08:00")
    assert SCHOOL.resolve("previous term", gap).label == "2023-spring"
    assert SCHOOL.resolve("next term", gap).label == "2023-autumn"
    with pytest.raises(
        PeriodError,
        match="no current term .*after '2023-spring' ended, '2023-autumn' starts 2023-09-01",
    ):
        SCHOOL.resolve("current term", gap)
    with pytest.raises(PeriodError, match="before the first term"):
        SCHOOL.resolve("current term", at("2020-01-01T00:00:00+08:00"))


def test_is_relative_and_check_spec() -> None:
    for spec in ("current half", "LAST quarter", "next fiscal year", "current term", "2 weeks ago"):
        assert SCHOOL.is_relative(spec)
        SCHOOL.check_spec(spec)
    for spec in ("2023-H2", "2023-autumn", "FY2023"):
        assert not SCHOOL.is_relative(spec)
        SCHOOL.check_spec(spec)
    for bad in ("current decade", "previous years", "2023-H3", "soon", "", "current"):
        assert not SCHOOL.is_relative(bad)
        with pytest.raises(ValueError, match="found"):
            SCHOOL.check_spec(bad)
    with pytest.raises(PeriodError, match="no terms are configured"):
        CAL.check_spec("current term")


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["2023-13", "2023-Q5", "2023-H3", "2023-W54", "2023-02-30", "23", "July", "FY23", ""]
)
def test_bad_label_names_what_was_found(bad: str) -> None:
    with pytest.raises(PeriodError) as info:
        SCHOOL.parse(bad)
    message = str(info.value)
    assert message.startswith("expected a period such as 2023, 2023-H2")
    assert f"found {bad!r}" in message and "2022-autumn" in message


def test_resolve_error_mentions_relative_forms() -> None:
    with pytest.raises(
        PeriodError, match="relative period such as 'current half'.*found 'current decade'"
    ):
        CAL.resolve("current decade", at("2023-01-01T00:00:00+00:00"))


def test_bad_calendar_configuration() -> None:
    with pytest.raises(PeriodError, match="'Mars/Olympus'"):
        Calendar("Mars/Olympus")
    with pytest.raises(PeriodError, match="'2023-spring'.*overlapping '2023-summer'"):
        Calendar(terms=[SPRING, Term("2023-summer", D(2023, 7, 1), D(2023, 8, 1))])
    with pytest.raises(PeriodError, match="'2023-spring' twice"):
        Calendar(terms=[SPRING, Term("2023-spring", D(2024, 2, 1), D(2024, 7, 1))])
    with pytest.raises(PeriodError, match="'x' must start before it ends"):
        Calendar(terms=[Term("x", D(2023, 2, 1), D(2023, 2, 1))])
    with pytest.raises(PeriodError, match="'2023-H1' would be read as a built-in period"):
        Calendar(terms=[Term("2023-H1", D(2023, 2, 1), D(2023, 7, 1))])
    with pytest.raises(PeriodError, match="month 1..12; found 13"):
        Calendar(fiscal_year_start=13)
    with pytest.raises(PeriodError, match="found 'middle'"):
        Calendar(fiscal_year_named_by="middle")
    # Touching terms (end exclusive) are fine.
    Calendar(terms=[SPRING, Term("2023-summer", D(2023, 7, 15), D(2023, 8, 1))])


def test_period_out_of_range() -> None:
    with pytest.raises(PeriodError, match="outside the supported years"):
        CAL.next(CAL.parse("9998"))


# -- moments and elapsed fraction -------------------------------------------------------------


def test_elapsed_fraction_is_exact() -> None:
    h2 = CAL.parse("2023-H2")
    assert CAL.elapsed_fraction(h2, at("2023-07-01T00:00:00+00:00")) == 0
    assert CAL.elapsed_fraction(h2, at("2023-06-01T00:00:00+00:00")) == 0
    assert CAL.elapsed_fraction(h2, at("2023-07-02T00:00:00+00:00")) == Fraction(1, 184)
    assert CAL.elapsed_fraction(h2, at("2024-01-01T00:00:00+00:00")) == 1
    assert CAL.elapsed_fraction(h2, at("2030-01-01T00:00:00+00:00")) == 1
    assert CAL.elapsed_fraction(h2, at("2023-07-01T00:00:00.000001+00:00")) == Fraction(
        1, 184 * 86400 * 10**6
    )


def test_elapsed_fraction_in_calendar_time_zone() -> None:
    h2 = SCHOOL.parse("2023-H2")
    as_of = at("2023-07-01T00:30:00+08:00")
    assert as_of.astimezone(UTC) == at("2023-06-30T16:30:00+00:00")
    assert SCHOOL.elapsed_fraction(h2, as_of) == Fraction(30 * 60, 184 * 86400)
    assert Calendar().elapsed_fraction(h2, as_of) == 0


def test_elapsed_fraction_counts_dst_in_real_time() -> None:
    ny = Calendar("America/New_York")
    march = ny.parse("2023-03")  # clocks spring forward on 2023-03-12: 31 days less one hour
    assert ny.end_moment(march).astimezone(UTC) - ny.start_moment(march).astimezone(
        UTC
    ) == dt.timedelta(days=31, hours=-1)
    noon_13th = at("2023-03-13T12:00:00-04:00")
    assert ny.elapsed_fraction(march, noon_13th) == Fraction(
        (12 * 24 + 11) * 3600, (31 * 24 - 1) * 3600
    )


def test_start_and_end_moments_are_local_midnight() -> None:
    q3 = SCHOOL.parse("2023-Q3")
    assert SCHOOL.start_moment(q3) == at("2023-07-01T00:00:00+08:00")
    assert SCHOOL.end_moment(q3) == at("2023-10-01T00:00:00+08:00")
    assert SCHOOL.start_moment(q3).tzinfo == ZoneInfo("Asia/Shanghai")


def test_moment_parsing() -> None:
    sh = SCHOOL
    assert sh.moment("2023-10-15") == at("2023-10-15T00:00:00+08:00")
    assert sh.moment("2023-10-15T09:30") == at("2023-10-15T09:30:00+08:00")
    assert sh.moment("2023-10-15 09:30:00") == at("2023-10-15T09:30:00+08:00")
    got = sh.moment("2023-10-15T01:30:00Z")
    assert got == at("2023-10-15T09:30:00+08:00") and got.tzinfo == ZoneInfo("Asia/Shanghai")
    assert sh.moment("2023-10-15T09:30:00.25+02:00") == at("2023-10-15T07:30:00.25+00:00")
    assert type(got) is dt.datetime
    for bad in ("yesterday-ish", "", "2023-13-45"):
        with pytest.raises(PeriodError, match=f"found {bad!r}"):
            sh.moment(bad)


def test_localize() -> None:
    assert SCHOOL.localize(dt.datetime(2023, 1, 1, 8)) == at("2023-01-01T00:00:00+00:00")
    aware = SCHOOL.localize(at("2023-01-01T00:00:00+00:00"))
    assert aware.hour == 8 and aware.tzinfo == ZoneInfo("Asia/Shanghai")


def test_import_does_not_load_pendulum() -> None:
    code = "import sys, targetwatch.periods; print('pendulum' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- durations --------------------------------------------------------------------------------

DAY = 86400


@pytest.mark.parametrize(
    ("text", "span", "canonical"),
    [
        ("45d", Span(0, 45 * DAY), "45d"),
        ("45 days", Span(0, 45 * DAY), "45d"),
        ("1 day", Span(0, DAY), "1d"),
        ("6w", Span(0, 42 * DAY), "42d"),
        ("36h", Span(0, 36 * 3600), "36h"),
        ("90min", Span(0, 5400), "90min"),
        ("90 minutes", Span(0, 5400), "90min"),
        ("30s", Span(0, 30), "30s"),
        ("2mo", Span(2, 0), "2mo"),
        ("2 months", Span(2, 0), "2mo"),
        ("1y", Span(12, 0), "1y"),
        ("1 year", Span(12, 0), "1y"),
        ("1mo15d", Span(1, 15 * DAY), "1mo15d"),
        ("1 month, 15 days", Span(1, 15 * DAY), "1mo15d"),
        ("P1M", Span(1, 0), "1mo"),
        ("P45D", Span(0, 45 * DAY), "45d"),
        ("PT36H", Span(0, 36 * 3600), "36h"),
        ("P1Y2M3D", Span(14, 3 * DAY), "1y2mo3d"),
        ("PT1M", Span(0, 60), "1min"),
        ("P2W", Span(0, 14 * DAY), "14d"),
        ("p1m", Span(1, 0), "1mo"),
    ],
)
def test_parse_duration(text: str, span: Span, canonical: str) -> None:
    assert parse_duration(text) == span
    assert str(span) == canonical


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ("45", "'45'"),
        (45, "45"),
        (1.5, "1.5"),
        ("10m", "'m' is ambiguous"),
        ("0d", "'0d'"),
        ("P", "'P'"),
        ("PT", "'PT'"),
        ("soon", "'soon'"),
        ("5 fortnights", "'fortnights'"),
        ("-5d", "'-5d'"),
        ("1d garbage", "'1d garbage'"),
        (None, "None"),
    ],
)
def test_bad_durations(raw: object, found: str) -> None:
    with pytest.raises(PeriodError, match="expected a duration") as info:
        parse_duration(raw)  # type: ignore[arg-type]
    assert found in str(info.value)
    assert isinstance(info.value, ValueError)


def test_span_before_examples() -> None:
    one_month = Span(months=1)
    assert one_month.before(dt.datetime(2024, 1, 31)) == dt.datetime(2023, 12, 31)
    assert one_month.before(dt.datetime(2024, 3, 31)) == dt.datetime(2024, 2, 29)
    assert one_month.before(dt.datetime(2023, 3, 31)) == dt.datetime(2023, 2, 28)
    assert Span(12).before(dt.datetime(2024, 2, 29)) == dt.datetime(2023, 2, 28)
    assert parse_duration("1mo15d").before(dt.datetime(2023, 3, 31, 9)) == dt.datetime(
        2023, 2, 13, 9
    )
    ny = ZoneInfo("America/New_York")
    # 36 hours of real time across the spring-forward gap is 37 hours of wall clock.
    got = Span(seconds=36 * 3600).before(dt.datetime(2023, 3, 13, 12, tzinfo=ny))
    assert got == dt.datetime(2023, 3, 11, 23, tzinfo=ny) and got.tzinfo is ny


def test_moment_reads_naive_text_like_localize() -> None:
    ny = Calendar("America/New_York")
    ambiguous = ny.moment("2023-11-05T01:30")  # 01:30 happens twice; both read the first
    assert ambiguous == ny.localize(dt.datetime(2023, 11, 5, 1, 30))
    assert ambiguous.utcoffset() == dt.timedelta(hours=-4)
    assert ny.moment("2023-03-12T02:30") == at("2023-03-12T03:30:00-04:00")  # in the gap


def test_day_start_when_dst_skips_midnight() -> None:
    santiago = Calendar("America/Santiago")  # clocks went 00:00 -> 01:00 on 2023-09-03
    day = santiago.parse("2023-09-03")
    start = santiago.start_moment(day)
    assert (start.hour, start.utcoffset()) == (1, dt.timedelta(hours=-3))
    assert santiago.end_moment(santiago.previous(day)) == start
    assert santiago.elapsed_fraction(day, start + dt.timedelta(hours=11, minutes=30)) == Fraction(
        1, 2
    )
