"""The ``freshness`` rule kind: the newest observation is no older than max_age."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge

from targetwatch.default_plugins.freshness import FreshnessKind
from targetwatch.model import Judgement, Status
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
KIND = FreshnessKind()
BAD = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}
UTC = dt.UTC


def fresh(rows: list[tuple[str, Any]], as_of: str, cal: Calendar = CAL, **params: Any) -> Judgement:
    return judge(
        KIND, {"indicator": "edu.expenditure", "max_age": "45d", **params}, rows, as_of, cal=cal
    )


def test_monthly_data_two_and_a_half_months_old_is_stale() -> None:
    j = fresh([("2023-06", 1400), ("2023-07", 1500)], "2023-10-15")
    assert j.status is Status.BREACH
    assert (
        j.message
        == "newest data is for 2023-07 (through 2023-07-31), 75 days old; expected no older than 45d"
    )
    assert (j.value, j.target, j.margin, j.unit) == (
        Decimal("75.0"),
        Decimal(45),
        Decimal("-30.0"),
        "days",
    )
    assert j.details["newest_period"] == "2023-07"
    assert j.details["age_days"] == Decimal("75.0")
    assert j.details["max_age"] == "45d"
    assert j.period is not None and j.period.label == "2023-07"


def test_recent_data_is_ok() -> None:
    j = fresh([("2023-09", 1500)], "2023-10-04T12:00")
    assert j.status is Status.OK
    assert j.value == Decimal("3.5")
    assert j.margin == Decimal("41.5")
    assert "3.5 days old" in j.message


def test_exactly_max_age_old_passes_and_a_second_more_fails() -> None:
    assert fresh([("2023-07", 1)], "2023-09-15").status is Status.OK
    assert fresh([("2023-07", 1)], "2023-09-15T00:00:01").status is Status.BREACH


def test_a_period_still_open_is_age_zero() -> None:
    j = fresh([("2023-H2", 1)], "2023-10-15")
    assert j.status is Status.OK
    assert j.value == 0
    assert "has not ended yet" in j.message


def test_age_counts_from_local_midnight_in_the_calendar_zone() -> None:
    j = fresh([("2023-09", 1)], "2023-10-01T00:00:00+00:00")  # 08:00 in Shanghai
    assert j.value == Decimal("0.3")


def test_warn_age_band() -> None:
    j = fresh([("2023-08", 1)], "2023-10-10", warn_age="30d")
    assert j.status is Status.WARN
    assert "older than the warning age 30d" in j.message
    assert j.details["warn_age"] == "30d"
    assert fresh([("2023-08", 1)], "2023-09-20", warn_age="30d").status is Status.OK
    assert fresh([("2023-08", 1)], "2023-10-20", warn_age="30d").status is Status.BREACH


def test_month_spans_use_the_calendar_and_have_no_day_target() -> None:
    j = fresh([("2023-07", 1)], "2023-10-01", max_age="2mo")
    assert j.status is Status.OK
    assert j.target is None and j.margin is None
    assert "within 2mo" in j.message
    assert fresh([("2023-07", 1)], "2023-10-01T00:00:01", max_age="2mo").status is Status.BREACH


def test_no_observation_is_unknown_never_ok() -> None:
    j = fresh([("2023-11", 1)], "2023-10-15")
    assert j.status is Status.UNKNOWN
    assert "edu.expenditure" in j.message


def test_warn_age_must_be_shorter_than_max_age() -> None:
    _, problems = parse(
        FreshnessKind.Params,
        {"indicator": "a", "max_age": "45d", "warn_age": "7w"},
        ParseContext(calendar=CAL),
    )
    assert [p.key for p in problems] == ["warn_age"]
    _, problems = parse(
        FreshnessKind.Params,
        {"indicator": "a", "max_age": "2mo", "warn_age": "6w"},
        ParseContext(calendar=CAL),
    )
    assert problems == []
    _, problems = parse(
        FreshnessKind.Params, {"indicator": "a", "max_age": 45}, ParseContext(calendar=CAL)
    )
    assert [p.key for p in problems] == ["max_age"]


# -- properties ---------------------------------------------------------------------------

months = st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 1)).map(
    lambda d: f"{d.year}-{d.month:02d}"
)
zones = st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London", "UTC"])


def _end(cal: Calendar, label: str) -> dt.datetime:
    return cal.end_moment(cal.parse(label)).astimezone(UTC)


@given(month=months, days=st.integers(1, 400), zone=zones)
def test_exactly_max_age_old_passes(month: str, days: int, zone: str) -> None:
    cal = Calendar(zone)
    on = _end(cal, month) + dt.timedelta(days=days)
    j = fresh([(month, 1)], on.isoformat(), cal=cal, max_age=f"{days}d")
    assert j.status is Status.OK
    assert j.value == days and j.margin == 0
    late = (on + dt.timedelta(seconds=1)).isoformat()
    assert fresh([(month, 1)], late, cal=cal, max_age=f"{days}d").status is Status.BREACH


@given(month=months, months_old=st.integers(1, 24), zone=zones)
def test_exactly_max_age_in_months_passes(month: str, months_old: int, zone: str) -> None:
    cal = Calendar(zone)
    period = cal.parse(month)
    on = cal.shift(period, months_old).end  # the end of the period, months_old months later
    j = fresh([(month, 1)], on.isoformat(), cal=cal, max_age=f"{months_old}mo")
    assert j.status is Status.OK
    late = cal.end_moment(cal.shift(period, months_old)) + dt.timedelta(seconds=1)
    assert (
        fresh([(month, 1)], late.isoformat(), cal=cal, max_age=f"{months_old}mo").status
        is Status.BREACH
    )


@given(
    month=months,
    a=st.integers(0, 10**8),
    b=st.integers(0, 10**8),
    max_days=st.integers(2, 400),
    warn_days=st.integers(1, 399),
)
def test_older_data_is_never_fresher(
    month: str, a: int, b: int, max_days: int, warn_days: int
) -> None:
    early, late = sorted((a, b))
    end = _end(CAL, month)
    params = {"max_age": f"{max_days}d", "warn_age": f"{min(warn_days, max_days - 1)}d"}
    first = fresh([(month, 1)], (end + dt.timedelta(seconds=early)).isoformat(), **params)
    second = fresh([(month, 1)], (end + dt.timedelta(seconds=late)).isoformat(), **params)
    assert first.value is not None and second.value is not None and first.value <= second.value
    assert BAD[first.status] <= BAD[second.status]


@given(month=months, age=st.integers(0, 10**8), value=st.integers(0, 10**6))
def test_scale_does_not_change_the_verdict(month: str, age: int, value: int) -> None:
    as_of = (_end(CAL, month) + dt.timedelta(seconds=age)).isoformat()
    plain = fresh([(month, value)], as_of)
    scaled = fresh([(month, value * 10_000)], as_of)
    assert (scaled.status, scaled.value) == (plain.status, plain.value)
