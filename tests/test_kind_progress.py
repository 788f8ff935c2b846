"""The ``progress`` kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge

from targetwatch.default_plugins.progress import ProgressKind
from targetwatch.model import Status
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
D = Decimal
KIND = ProgressKind()
RANK = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}
#: The seed: 3,240 new school places by 2023-09-01. Counting from 2023-01-01, the window is
#: 2023-01-01 .. 2023-09-01 inclusive = 244 days.
SEED = {"indicator": "places", "target": 3240, "start": "2023-01-01", "deadline": "2023-09-01"}
DAYS = 244

amounts = st.decimals(
    min_value=D("0"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)
positive = st.decimals(
    min_value=D("0.01"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)


def pr(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str) -> Any:
    """Judge ``rows`` as they are: these tests are about the arithmetic on a few increments, so
    gaps are ignored here (test_gaps.py tests them, with the default)."""
    return judge(KIND, {**SEED, "gaps": "ignore", **params}, rows, as_of, cal=CAL, units={"places": "个"})


def _as_of(day: int) -> str:
    return (dt.date(2023, 1, 1) + dt.timedelta(days=day)).isoformat()


def test_reached_is_ok_any_time() -> None:
    rows = [("2023-03", 1200), ("2023-05", 1500), ("2023-07", 540)]
    j = pr({}, rows, "2023-07-20")
    assert (j.status, j.value, j.target, j.margin) == (Status.OK, D(3240), D(3240), D(0))
    assert j.message.startswith("places: reached: 3,240 个 of 3,240 个")
    assert pr({}, rows, "2024-06-01").status is Status.OK


def test_missed_after_the_deadline_is_breach() -> None:
    rows = [("2023-03", 1200), ("2023-05", 1500)]
    assert (
        pr({}, rows, "2023-09-01T23:59").status is not Status.BREACH
    )  # the deadline day is included
    j = pr({}, rows, "2023-09-02")
    assert j.status is Status.BREACH
    assert (j.value, j.margin) == (D(2700), D(-540))
    assert j.message == "places: missed: 2,700 个 of 3,240 个 by 2023-09-01"


def test_on_pace_and_behind() -> None:
    # 2023-05-02 is 121 of 244 days in: expected 3240 * 121 / 244 = 1606.72...
    ok = pr({}, [("2023-03", 1700)], "2023-05-02")
    assert ok.status is Status.OK and ok.target == D("1606.721311")
    behind = pr({}, [("2023-03", 1200)], "2023-05-02")
    assert behind.status is Status.WARN
    d = behind.details
    assert d["elapsed"] == D("0.495902") and d["expected"] == D("1606.721311")
    assert d["forecast"] == D("2419.834711")
    assert d["remaining_days"] == 123 and d["rate_needed_per_day"] == D("16.585366")
    assert d["done"] == D(1200) and d["target"] == D(3240) and d["deadline"] == "2023-09-01"
    assert behind.message.startswith("places: behind: 1,200 个 done, 1,606.72 个 expected by now")
    assert "forecast 2,419.83 个 by 2023-09-01" in behind.message
    # The rest needs about 1.67 times the pace so far.
    assert pr({"hopeless_at": "1.5"}, [("2023-03", 1200)], "2023-05-02").status is Status.BREACH
    assert pr({"hopeless_at": 2}, [("2023-03", 1200)], "2023-05-02").status is Status.WARN


def test_not_started_is_unknown() -> None:
    j = pr({}, [("2022-12", 500)], "2022-12-31T23:00")
    assert j.status is Status.UNKNOWN and j.message.startswith("not started")


def test_no_observations_at_all_is_unknown() -> None:
    j = pr({}, [], "2023-10-01")
    assert j.status is Status.UNKNOWN
    assert j.message == "no observations of places since 2023-01-01"


def test_older_observations_mean_zero_progress() -> None:
    j = pr({}, [("2022-11", 900)], "2023-10-01")
    assert (j.status, j.value) == (Status.BREACH, D(0))


def test_observations_after_the_deadline_do_not_count() -> None:
    j = pr({}, [("2023-08", 3000), ("2023-10", 500)], "2023-11-01")
    assert (j.status, j.value) == (Status.BREACH, D(3000))


def test_cumulative_uses_the_newest_running_total() -> None:
    rows = [("2023-03", 1000), ("2023-06", 2500), ("2023-09-01", 3300)]
    j = pr({"cumulative": True}, rows, "2023-09-05")
    assert (j.status, j.value) == (Status.OK, D(3300))
    assert pr({"cumulative": True}, rows[:2], "2023-09-05").status is Status.BREACH
    j = pr({"cumulative": True}, [("2022-12", 800)], "2023-03-01")
    assert j.status is Status.UNKNOWN and "running total" in j.message


def test_problems() -> None:
    _, found = parse(
        ProgressKind.Params, {**SEED, "deadline": "2023-01-01"}, ParseContext(calendar=CAL)
    )
    assert [p.key for p in found] == ["deadline"]


@given(st.integers(0, DAYS), st.integers(1, 10_000))
def test_exactly_on_pace_passes(day: int, per_day: int) -> None:
    target = per_day * DAYS
    j = pr({"target": target}, [("2023-01", per_day * day)], _as_of(day))
    assert j.status is Status.OK
    if 0 < day < DAYS:
        assert (
            pr({"target": target}, [("2023-01", D(per_day * day) - D("0.01"))], _as_of(day)).status
            is Status.WARN
        )


@given(positive, st.integers(0, 400))
def test_exactly_on_target_passes(target: Decimal, day: int) -> None:
    part = (target / 7).quantize(D("0.001"))
    assert (
        pr(
            {"target": target}, [("2023-01", part), ("2023-02", target - part)], _as_of(day + 31)
        ).status
        is Status.OK
    )


@given(amounts, amounts, positive, st.integers(0, 400), st.booleans())
def test_monotone_in_done(
    a: Decimal, b: Decimal, target: Decimal, day: int, forecast: bool
) -> None:
    lo, hi = sorted((a, b))
    params: dict[str, Any] = {"target": target, **({"hopeless_at": 2} if forecast else {})}
    low = pr(params, [("2023-01", lo)], _as_of(day))
    high = pr(params, [("2023-01", hi)], _as_of(day))
    assert RANK[high.status] <= RANK[low.status]


@given(amounts, positive, st.integers(0, 400))
def test_scale_invariance(done: Decimal, target: Decimal, day: int) -> None:
    scale = D(10_000)
    small = pr({"target": target}, [("2023-01", done)], _as_of(day))
    big = pr({"target": target * scale}, [("2023-01", done * scale)], _as_of(day))
    assert small.status is big.status


@given(positive, st.integers(-10, 400))
def test_no_data_is_never_ok(target: Decimal, day: int) -> None:
    assert pr({"target": target}, [], _as_of(day)).status is Status.UNKNOWN
