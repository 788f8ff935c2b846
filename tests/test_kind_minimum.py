"""The ``minimum`` kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge

from targetwatch.default_plugins.minimum import MinimumKind
from targetwatch.model import Status
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
D = Decimal
KIND = MinimumKind()
RANK = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}
H2: dict[str, Any] = {"indicator": "events", "min": 50000, "period": "2023-H2"}
#: Person-times at sport events, monthly, 2023-H2 (the seed's target: >= 50,000 over the half).
MONTHS = [
    ("2023-07", 8200),
    ("2023-08", 9100),
    ("2023-09", 7900),
    ("2023-10", 6800),
    ("2023-11", 9400),
    ("2023-12", 9600),
]

amounts = st.decimals(
    min_value=D("0"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)
positive = st.decimals(
    min_value=D("0.01"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)


def m(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str) -> Any:
    """Judge ``rows`` as they are: these tests are about the arithmetic on a few observations,
    so gaps are ignored here (test_gaps.py tests them, with the default)."""
    return judge(KIND, {**H2, "gaps": "ignore", **params}, rows, as_of, cal=CAL, units={"events": "人次"})


def test_closed_period_reached_is_ok() -> None:
    j = m({}, MONTHS, "2024-01-01")
    assert j.status is Status.OK
    assert (j.value, j.target, j.margin) == (D(51000), D(50000), D(1000))
    assert j.details["total"] == D(51000) and j.details["observations"] == 6
    assert "51,000 人次" in j.message


def test_closed_period_short_is_breach() -> None:
    short = [(p, v - 2000 if p == "2023-12" else v) for p, v in MONTHS[:-1]] + [("2023-12", 1000)]
    assert m({"gaps": "unknown"}, short, "2024-01-05").status is Status.BREACH  # nothing missing
    j = m({}, MONTHS[:-1], "2024-01-05")
    assert j.status is Status.BREACH
    assert j.margin == D(-8600)
    assert "short of the minimum 50,000 人次" in j.message


def test_closed_period_in_warning_band() -> None:
    j = m({"warn_below": 52000}, MONTHS, "2024-01-01")
    assert j.status is Status.WARN and "warning level" in j.message


def test_not_started_is_unknown() -> None:
    j = m({"period": "2024-H1"}, MONTHS, "2023-12-15")
    assert j.status is Status.UNKNOWN
    assert j.message.startswith("2024-H1 has not started")


def test_no_observations_so_far_is_unknown_never_breach() -> None:
    j = m({}, [("2023-05", 100000)], "2023-09-15")
    assert j.status is Status.UNKNOWN
    assert j.message == "no observations of events in 2023-H2 so far"
    assert m({}, [], "2024-03-01").status is Status.UNKNOWN


def test_open_on_pace_is_ok_with_expected_target() -> None:
    # 2023-10-01 is 92 of 184 days in: expected 25,000.
    j = m({}, MONTHS[:3], "2023-10-01")
    assert j.status is Status.OK
    assert (j.value, j.target, j.margin) == (D(25200), D(25000), D(200))
    assert j.details["elapsed"] == D("0.5") and j.details["target"] == D(50000)
    assert "on pace" in j.message


def test_open_behind_pace_is_warn_with_rate_needed() -> None:
    rows = [("2023-07", 8000), ("2023-08", 9000), ("2023-09", 7000)]
    j = m({}, rows, "2023-10-01")
    assert j.status is Status.WARN
    assert (j.value, j.target, j.margin) == (D(24000), D(25000), D(-1000))
    d = j.details
    assert d["expected"] == D(25000) and d["forecast"] == D(48000)
    assert d["remaining_days"] == 92
    assert d["rate_needed_per_day"] == D("282.608696")  # 26,000 over Oct 1..Dec 31
    assert j.message == (
        "events in 2023-H2: behind pace: 24,000 人次 so far, 25,000 人次 expected by now (50% of the period elapsed); "
        "needs 282.61 人次 per day to reach 50,000 人次 by 2023-12-31"
    )


def test_hopeless_at_turns_a_hopeless_warn_into_breach_early() -> None:
    # Half the period gone, 24,000 done: the rest needs 26,000 in the other half, 1.083 times
    # the pace so far.
    rows = [("2023-07", 8000), ("2023-08", 9000), ("2023-09", 7000)]
    j = m({"hopeless_at": 1}, rows, "2023-10-01")
    assert j.status is Status.BREACH and "on course to miss" in j.message
    assert m({"hopeless_at": "1.08"}, rows, "2023-10-01").status is Status.BREACH
    assert m({"hopeless_at": "1.09"}, rows, "2023-10-01").status is Status.WARN
    assert m({"hopeless_at": 2}, rows, "2023-10-01").status is Status.WARN
    assert m({"hopeless_at": 1}, MONTHS[:3], "2023-10-01").status is Status.OK


def test_nothing_done_with_time_gone_is_hopeless() -> None:
    assert m({"hopeless_at": 5}, [("2023-07", 0)], "2023-08-01").status is Status.BREACH


def test_open_already_reached() -> None:
    j = m({"min": 20000}, MONTHS[:3], "2023-10-01")
    assert j.status is Status.OK and "already reached" in j.message
    assert j.target == D(20000)


def test_pace_off_open_below_is_warn() -> None:
    j = m({"pace": False}, MONTHS[:3], "2023-10-01")
    assert j.status is Status.WARN and j.target == D(50000)


def test_level_aggregate() -> None:
    rows = [("2023-07", "0.93"), ("2023-08", "0.96")]
    params = {"min": "95%", "aggregate": "latest"}
    assert m(params, rows, "2023-08-20").status is Status.OK
    assert m({**params, "aggregate": "mean"}, rows, "2023-08-20").status is Status.WARN
    assert m({**params, "aggregate": "mean"}, rows, "2024-01-01").status is Status.BREACH
    assert (
        m({**params, "aggregate": "max", "warn_below": "97%"}, rows, "2023-08-20").status
        is Status.WARN
    )
    assert m({**params, "aggregate": "min"}, rows, "2024-01-01").value == D("0.93")


def test_count_aggregate() -> None:
    j = m({"min": 6, "aggregate": "count"}, MONTHS, "2024-01-01")
    assert (j.status, j.value, j.unit) == (Status.OK, D(6), "")
    assert (
        m({"min": 6, "aggregate": "count"}, MONTHS[:3], "2023-10-01").status is Status.OK
    )  # 3 >= 6 * 0.5


def test_whole_period_figure_is_not_double_counted() -> None:
    j = m({}, [*MONTHS, ("2023-H2", 51000)], "2024-01-01")
    assert j.value == D(51000)


def test_relative_default_period() -> None:
    rows = [("2023-01", 10), ("2023-02", 10)]
    j = judge(KIND, {"indicator": "x", "min": 1000}, rows, "2023-02-15", cal=CAL)
    assert j.period == CAL.parse("2023")
    assert j.status is Status.WARN


def test_problems() -> None:
    _, found = parse(MinimumKind.Params, {**H2, "warn_below": 100}, ParseContext(calendar=CAL))
    assert [p.key for p in found] == ["warn_below"]


def _h2_as_of(day: int) -> str:
    return (dt.date(2023, 7, 1) + dt.timedelta(days=day)).isoformat()


@given(st.integers(0, 184), positive)
def test_exactly_on_pace_passes(day: int, per_day: Decimal) -> None:
    # min = 184 * per_day, so expected after ``day`` days is exactly day * per_day.
    target = per_day * 184
    done = per_day * day
    j = m({"min": target}, [("2023-07", done)], _h2_as_of(day))
    assert j.status is Status.OK
    if day < 184:
        less = m({"min": target}, [("2023-07", done - D("0.01"))], _h2_as_of(day))
        assert less.status is Status.WARN


@given(positive)
def test_exactly_on_target_passes_when_closed(target: Decimal) -> None:
    half = (target / 3).quantize(D("0.0001"))
    rows = [("2023-07", half), ("2023-08", target - half)]
    assert m({"min": target}, rows, "2024-01-01").status is Status.OK
    assert (
        m({"min": "0.3"}, [("2023-07", "0.1"), ("2023-08", "0.2")], "2024-01-01").status
        is Status.OK
    )


@given(amounts, amounts, positive, st.integers(0, 200), st.booleans())
def test_monotone_in_the_total(
    a: Decimal, b: Decimal, target: Decimal, day: int, forecast: bool
) -> None:
    lo, hi = sorted((a, b))
    params: dict[str, Any] = {"min": target, **({"hopeless_at": 2} if forecast else {})}
    low = m(params, [("2023-07", lo)], _h2_as_of(day))
    high = m(params, [("2023-07", hi)], _h2_as_of(day))
    assert RANK[high.status] <= RANK[low.status]


@given(amounts, positive, st.integers(0, 200), st.sampled_from(["sum", "mean", "latest"]))
def test_scale_invariance(value: Decimal, target: Decimal, day: int, how: str) -> None:
    scale = D(10_000)
    rows = [("2023-07", value), ("2023-08", value / 2)]
    small = m({"min": target, "aggregate": how}, rows, _h2_as_of(day))
    big = m(
        {"min": target * scale, "aggregate": how}, [(p, v * scale) for p, v in rows], _h2_as_of(day)
    )
    assert small.status is big.status


@given(positive, st.integers(-30, 200))
def test_absent_data_is_never_ok(target: Decimal, day: int) -> None:
    j = m({"min": target}, [("2023-05", target * 2)], _h2_as_of(day))
    assert j.status is Status.UNKNOWN
