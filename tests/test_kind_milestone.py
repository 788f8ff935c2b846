"""The ``milestone`` rule kind: a dated commitment, done by an inclusive deadline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge

from targetwatch.default_plugins.milestone import MilestoneKind
from targetwatch.model import Judgement, Status
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
KIND = MilestoneKind()
BAD = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}
# 龙湖中学公园校区: in use by the autumn term, which starts 2023-09-01.
CAMPUS = {"indicator": "campus.in_use", "deadline": "2023-09-01"}


def mile(rows: list[tuple[str, Any]], as_of: str, **params: Any) -> Judgement:
    return judge(KIND, {**CAMPUS, **params}, rows, as_of, cal=CAL)


# -- done --------------------------------------------------------------------------------


def test_campus_in_use_before_the_autumn_term_is_ok() -> None:
    j = mile([("2023-08-01", 0), ("2023-08-28", 1)], "2023-09-15")
    assert j.status is Status.OK
    assert j.message == "done on 2023-08-28, 4 days before the deadline 2023-09-01"
    assert j.details["done_on"] == "2023-08-28"
    assert j.details["deadline"] == "2023-09-01"
    assert j.details["days_left"] == -14
    assert (j.value, j.target, j.margin) == (Decimal(1), Decimal(1), Decimal(0))
    assert j.period is not None and j.period.label == "2023-08-28"


def test_done_on_the_deadline_day_is_on_time() -> None:
    j = mile([("2023-09-01", 1)], "2023-09-01T23:00")
    assert j.status is Status.OK
    assert "on the deadline day" in j.message


def test_done_late_is_a_breach_for_good() -> None:
    j = mile([("2023-09-05", 1)], "2023-12-01")
    assert j.status is Status.BREACH
    assert "4 days after the deadline 2023-09-01" in j.message
    assert "missed" in j.message
    assert j.details["done_on"] == "2023-09-05"


def test_reported_done_in_a_month_before_the_deadline() -> None:
    j = mile([("2023-07", 0), ("2023-08", 1)], "2023-09-10")
    assert j.status is Status.OK
    assert j.message.startswith("reported done in 2023-08")
    assert j.details["done_on"] == "2023-08"
    assert j.details["done_period"] == "2023-08"


def test_reported_done_in_the_month_starting_on_the_deadline_gets_the_benefit_of_the_doubt() -> (
    None
):
    assert mile([("2023-09", 1)], "2023-10-10").status is Status.OK


def test_reported_done_in_a_month_after_the_deadline_is_a_breach() -> None:
    j = mile([("2023-09", 0), ("2023-10", 1)], "2023-11-10")
    assert j.status is Status.BREACH
    assert "at least 30 days after the deadline" in j.message


def test_first_time_done_counts_even_if_it_later_drops() -> None:
    j = mile([("2023-08-20", 1), ("2023-09-20", 0)], "2023-10-01")
    assert j.status is Status.OK
    assert j.details["done_on"] == "2023-08-20"
    assert j.margin == Decimal(-1)


def test_completion_percentage_with_done_at() -> None:
    rows = [("2023-06", "40%"), ("2023-07", "85%"), ("2023-08", "100%")]
    assert mile(rows, "2023-09-05", done_at="100%").status is Status.OK
    j = mile(rows[:2], "2023-07-20", done_at="100%")
    assert j.status is Status.OK
    assert j.margin == Decimal("-0.15")


# -- not done ----------------------------------------------------------------------------


def test_not_done_far_from_the_deadline_is_ok() -> None:
    j = mile([("2023-06", 0)], "2023-06-15")
    assert j.status is Status.OK
    assert j.message == "not done yet; due in 78 days (2023-09-01)"
    assert j.details["days_left"] == 78
    assert j.details["done_on"] is None


def test_not_done_within_warn_days_is_warn() -> None:
    j = mile([("2023-08", 0)], "2023-08-15")
    assert j.status is Status.WARN
    assert j.message == "not done; due in 17 days (2023-09-01)"
    assert mile([("2023-08", 0)], "2023-08-02").status is Status.WARN  # exactly 30 days
    assert mile([("2023-08", 0)], "2023-08-01").status is Status.OK  # 31 days


def test_not_done_on_the_deadline_day_is_due_today() -> None:
    j = mile([("2023-08", 0)], "2023-09-01T23:59:59")
    assert j.status is Status.WARN
    assert "due today" in j.message
    assert j.details["days_left"] == 0


def test_not_done_after_the_deadline_day_is_overdue() -> None:
    j = mile([("2023-08", 0)], "2023-09-02")
    assert j.status is Status.BREACH
    assert j.message == "not done and overdue by 1 day (deadline 2023-09-01)"
    assert j.details["days_left"] == -1


def test_warn_days_zero_warns_only_on_the_day() -> None:
    assert mile([("2023-08", 0)], "2023-08-31", warn_days=0).status is Status.OK
    assert mile([("2023-08", 0)], "2023-09-01", warn_days=0).status is Status.WARN


def test_linchang_road_school_construction_illustrative_deadline() -> None:
    # 林场路小学: the report commits to speeding it up; the deadline here is illustrative.
    j = judge(
        KIND,
        {"indicator": "linchang.school.built", "deadline": "2024-08-31", "warn_days": 60},
        [("2023-H2", 0)],
        "2024-07-15",
        cal=CAL,
    )
    assert j.status is Status.WARN
    assert j.details["days_left"] == 47


def test_no_observation_is_unknown_not_ok() -> None:
    j = mile([("2023-10", 1)], "2023-06-01")
    assert j.status is Status.UNKNOWN
    assert "campus.in_use" in j.message


# -- properties ---------------------------------------------------------------------------

days = st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1))


@given(deadline=days, later=st.integers(0, 3000))
def test_done_exactly_on_the_deadline_day_is_ok(deadline: dt.date, later: int) -> None:
    as_of = deadline + dt.timedelta(days=later)
    j = judge(
        KIND,
        {"indicator": "m", "deadline": deadline.isoformat()},
        [(deadline.isoformat(), 1)],
        as_of.isoformat(),
        cal=CAL,
    )
    assert j.status is Status.OK


@given(deadline=days, shift=st.integers(-400, 400), later=st.integers(0, 400))
def test_done_day_decides_on_time(deadline: dt.date, shift: int, later: int) -> None:
    done = deadline + dt.timedelta(days=shift)
    as_of = max(done, deadline) + dt.timedelta(days=later)
    j = judge(
        KIND,
        {"indicator": "m", "deadline": deadline.isoformat()},
        [(done.isoformat(), 1)],
        as_of.isoformat(),
        cal=CAL,
    )
    assert j.status is (Status.OK if shift <= 0 else Status.BREACH)


@given(deadline=days, a=st.integers(-500, 500), b=st.integers(-500, 500), warn=st.integers(0, 90))
def test_time_passing_never_improves_an_unfinished_commitment(
    deadline: dt.date, a: int, b: int, warn: int
) -> None:
    early, late = sorted((a, b))
    start = deadline - dt.timedelta(days=600)
    params = {"indicator": "m", "deadline": deadline.isoformat(), "warn_days": warn}
    before = judge(
        KIND,
        params,
        [(start.isoformat(), 0)],
        (deadline + dt.timedelta(days=early)).isoformat(),
        cal=CAL,
    )
    after = judge(
        KIND,
        params,
        [(start.isoformat(), 0)],
        (deadline + dt.timedelta(days=late)).isoformat(),
        cal=CAL,
    )
    assert BAD[after.status] >= BAD[before.status]


@given(
    done_at=st.integers(1, 10**4).map(lambda n: Decimal(n).scaleb(-2)),
    values=st.lists(st.integers(0, 10**4), min_size=1, max_size=6),
    as_of=st.integers(-60, 60),
)
def test_scale_does_not_change_the_verdict(done_at: Decimal, values: list[int], as_of: int) -> None:
    deadline = dt.date(2023, 9, 1)
    start = dt.date(2023, 8, 1)
    rows = [
        ((start + dt.timedelta(days=i)).isoformat(), Decimal(v).scaleb(-2))
        for i, v in enumerate(values)
    ]
    moment = (deadline + dt.timedelta(days=as_of)).isoformat()
    moment = max(moment, rows[-1][0])
    plain = judge(
        KIND,
        {"indicator": "m", "deadline": "2023-09-01", "done_at": done_at},
        rows,
        moment,
        cal=CAL,
    )
    big = [(p, v * 10_000) for p, v in rows]
    scaled = judge(
        KIND,
        {"indicator": "m", "deadline": "2023-09-01", "done_at": done_at * 10_000},
        big,
        moment,
        cal=CAL,
    )
    assert scaled.status is plain.status
    assert scaled.details["days_left"] == plain.details["days_left"]
