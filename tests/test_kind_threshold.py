"""The ``threshold`` and ``cap`` kinds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge

from targetwatch.default_plugins.threshold import CapKind, ThresholdKind
from targetwatch.model import Status
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar, Term

CAL = Calendar("Asia/Shanghai")
D = Decimal
TH = ThresholdKind()
CAP = CapKind()
RANK = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}

values = st.decimals(
    min_value=D("-1000000"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)
shares = st.decimals(
    min_value=D("0"), max_value=D("1"), places=4, allow_nan=False, allow_infinity=False
)


def th(
    params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str = "2024-03-01", **kw: Any
) -> Any:
    kw.setdefault("cal", CAL)
    return judge(TH, {"indicator": "x", **params}, rows, as_of, **kw)


def cap(
    params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str = "2024-03-01", **kw: Any
) -> Any:
    """Gaps in an aggregated period are ignored here: these tests are about the arithmetic on
    a few observations (test_gaps.py tests gaps, with the default)."""
    return judge(CAP, {"indicator": "x", "gaps": "ignore", **params}, rows, as_of, cal=CAL, **kw)


def problems(kind: Any, params: dict[str, Any]) -> list[str]:
    _, found = parse(kind.Params, {"indicator": "x", **params}, ParseContext(calendar=CAL))
    return [str(p) for p in found]


# -- threshold ---------------------------------------------------------------------------------


def test_preschool_enrolment_rate_seed() -> None:
    j = th({"min": "95%"}, [("2022", "94.2%"), ("2023", "96.5%")], units={"x": "%"})
    assert j.status is Status.OK
    assert (j.value, j.target, j.margin) == (D("0.965"), D("0.95"), D("0.015"))
    assert j.period == CAL.parse("2023")
    assert "96.5%" in j.message and "95%" in j.message


def test_below_min_is_breach_with_negative_margin() -> None:
    j = th({"min": "95%"}, [("2023", "94.2%")], units={"x": "%"})
    assert j.status is Status.BREACH
    assert j.margin == D("-0.008")
    assert j.details["min"] == D("0.95")


def test_above_max_is_breach() -> None:
    j = th({"min": 10, "max": 20}, [("2023", 21)])
    assert (j.status, j.target, j.margin) == (Status.BREACH, D(20), D(-1))


def test_margin_is_to_the_nearest_bound() -> None:
    j = th({"min": 10, "max": 20}, [("2023", 18)])
    assert (j.status, j.target, j.margin) == (Status.OK, D(20), D(2))


def test_warning_band() -> None:
    assert th({"min": 90, "warn_min": 95}, [("2023", 92)]).status is Status.WARN
    assert th({"min": 90, "warn_min": 95}, [("2023", 95)]).status is Status.OK
    assert th({"min": 90, "warn_min": 95}, [("2023", 89)]).status is Status.BREACH
    assert th({"max": 100, "warn_max": 80}, [("2023", 81)]).status is Status.WARN
    j = th({"range": "90:", "warn_range": "95:"}, [("2023", 92)])
    assert (j.status, j.target, j.margin) == (Status.WARN, D(90), D(2))


@pytest.mark.parametrize(
    ("spec", "value", "status"),
    [("50000:", 50000, Status.OK), ("50000:", 49999, Status.BREACH), ("~:4.89%", "4.89%", Status.OK), ("~:4.89%", "4.9%", Status.BREACH),
     ("10:20", 10, Status.OK), ("10:20", 20.01, Status.BREACH), ("@10:20", 15, Status.BREACH), ("@10:20", 9, Status.OK), ("10", -1, Status.BREACH)],
)  # fmt: skip
def test_range_syntax(spec: str, value: Any, status: Status) -> None:
    assert th({"range": spec}, [("2023", value)]).status is status


def test_alert_inside_range_margins() -> None:
    assert th({"range": "@10:20"}, [("2023", 8)]).margin == D(2)
    assert th({"range": "@10:20"}, [("2023", 12)]).margin == D(-2)


def test_period_picks_that_observation() -> None:
    rows = [("2022", 80), ("2023", 99)]
    j = th({"min": 90, "period": "2022"}, rows)
    assert (j.status, j.value, j.period) == (Status.BREACH, D(80), CAL.parse("2022"))
    assert th({"min": 90, "period": "previous year"}, rows, as_of="2024-05-01").value == D(99)


def test_missing_data_is_unknown() -> None:
    assert th({"min": 1}, []).status is Status.UNKNOWN
    j = th({"min": 1, "period": "2021"}, [("2023", 5)])
    assert j.status is Status.UNKNOWN and "2021" in j.message


def test_unresolvable_period_is_unknown() -> None:
    terms = Calendar(
        "Asia/Shanghai", terms=[Term("2023-spring", dt.date(2023, 2, 20), dt.date(2023, 7, 1))]
    )
    j = th({"min": 1, "period": "current term"}, [("2023", 5)], as_of="2023-08-01", cal=terms)
    assert j.status is Status.UNKNOWN and "no current term" in j.message


def test_threshold_problems() -> None:
    assert problems(TH, {}) != []
    assert problems(TH, {"range": "1:", "min": 1}) != []
    assert problems(TH, {"min": 5, "max": 1}) != []
    assert problems(TH, {"min": 5, "warn_min": 4}) != []
    assert problems(TH, {"max": 5, "warn_max": 6}) != []
    assert problems(TH, {"min": 1, "warn_range": "2:", "warn_min": 2}) != []
    assert problems(TH, {"min": 1, "warn_min": 2}) == []


@given(values)
def test_threshold_exactly_on_bound_passes(bound: Decimal) -> None:
    assert th({"min": bound}, [("2023", bound)]).status is Status.OK
    assert th({"max": bound}, [("2023", bound)]).status is Status.OK
    assert th({"range": f"{bound}:{bound}"}, [("2023", bound)]).status is Status.OK


@given(values, values, values)
def test_threshold_min_is_monotone(bound: Decimal, a: Decimal, b: Decimal) -> None:
    lo, hi = sorted((a, b))
    params = {"min": bound, "warn_min": bound + 5}
    assert RANK[th(params, [("2023", hi)]).status] <= RANK[th(params, [("2023", lo)]).status]


@given(values, values, st.sampled_from(["min", "max"]))
def test_threshold_scale_invariance(bound: Decimal, value: Decimal, key: str) -> None:
    scale = D(10_000)
    small = th({key: bound}, [("2023", value)])
    big = th({key: bound * scale}, [("2023", value * scale)])
    assert small.status is big.status
    assert small.margin is not None and big.margin == small.margin * scale


# -- cap ---------------------------------------------------------------------------------------


def test_private_school_share_seed() -> None:
    ok = cap({"max": "4.89%"}, [("2023", "4.89%")], units={"x": "%"})
    assert (ok.status, ok.target, ok.margin) == (Status.OK, D("0.0489"), D(0))
    bad = cap({"max": 0.0489}, [("2023", "5.1%")], units={"x": "%"})
    assert bad.status is Status.BREACH and bad.margin == D("-0.0021")
    assert "above the cap of 4.89%" in bad.message


def test_cap_warn_at() -> None:
    params = {"max": 100, "warn_at": 90}
    assert cap(params, [("2023", 90)]).status is Status.OK
    assert cap(params, [("2023", 95)]).status is Status.WARN
    assert cap(params, [("2023", 100)]).status is Status.WARN
    assert cap(params, [("2023", "100.01")]).status is Status.BREACH


def test_cap_missing_data_is_unknown() -> None:
    assert cap({"max": 1}, []).status is Status.UNKNOWN
    assert cap({"max": 1, "period": "2020"}, [("2023", 0)]).status is Status.UNKNOWN


def test_cap_sum_closed() -> None:
    rows = [("2023-Q1", 30), ("2023-Q2", 30), ("2023-Q3", 30), ("2023-Q4", 10)]
    j = cap({"max": 100, "aggregate": "sum", "period": "2023"}, rows, as_of="2024-01-01")
    assert (j.status, j.value, j.margin) == (Status.OK, D(100), D(0))
    j = cap({"max": 99, "aggregate": "sum", "period": "2023"}, rows, as_of="2024-01-01")
    assert j.status is Status.BREACH and j.details["total"] == D(100)


def test_cap_sum_open_already_above_is_breach() -> None:
    j = cap(
        {"max": 50, "aggregate": "sum", "period": "2023"},
        [("2023-01", 30), ("2023-02", 30)],
        as_of="2023-02-15",
    )
    assert j.status is Status.BREACH
    assert j.target == D(50)


def test_cap_sum_open_on_course_to_exceed_is_warn() -> None:
    # 2023-H2 has 184 days; on 2023-08-01 (31 days in) the allowance is 184 * 31 / 184 = 31.
    params = {"max": 184, "aggregate": "sum", "period": "2023-H2"}
    j = cap(params, [("2023-07", 40)], as_of="2023-08-01")
    assert j.status is Status.WARN
    assert "on course to exceed" in j.message
    assert (j.target, j.margin) == (D(31), D(-9))
    assert j.details["forecast"] == D("237.419355")
    assert j.details["expected"] == D(31)
    # Exactly at the allowance is fine: the forecast lands exactly on the cap.
    ok = cap(params, [("2023-07", 31)], as_of="2023-08-01")
    assert (ok.status, ok.margin) == (Status.OK, D(0))


def test_cap_sum_open_at_the_start_has_no_forecast() -> None:
    j = cap(
        {"max": 10, "aggregate": "sum", "period": "2023-H2"}, [("2023-07", 5)], as_of="2023-07-01"
    )
    assert j.status is Status.OK
    assert j.details["forecast"] is None


def test_cap_mean_open_above_is_warn_then_breach() -> None:
    params = {"max": 10, "aggregate": "mean", "period": "2023"}
    rows = [("2023-01", 12), ("2023-02", 10)]
    assert cap(params, rows, as_of="2023-02-10").status is Status.WARN
    assert cap(params, rows, as_of="2024-01-01").status is Status.BREACH
    assert cap({**params, "aggregate": "max"}, rows, as_of="2023-02-10").status is Status.BREACH


def test_cap_aggregate_unknowns() -> None:
    params = {"max": 10, "aggregate": "sum", "period": "2024"}
    assert cap(params, [("2023-12", 1)], as_of="2023-12-20").status is Status.UNKNOWN
    j = cap(params, [("2023-12", 1)], as_of="2024-02-01")
    assert j.status is Status.UNKNOWN and "no observations" in j.message


def test_cap_problems() -> None:
    assert problems(CAP, {"max": 1, "warn_at": 2}) != []
    assert problems(CAP, {"max": 1, "aggregate": "sum"}) != []
    assert problems(CAP, {"max": 1, "aggregate": "sum", "period": "2023"}) == []
    assert problems(CAP, {}) != []


@given(values)
def test_cap_exactly_on_target_passes(bound: Decimal) -> None:
    assert cap({"max": bound}, [("2023", bound)]).status is Status.OK
    assert (
        cap(
            {"max": bound, "aggregate": "sum", "period": "2023"},
            [("2023-01", bound)],
            as_of="2024-01-01",
        ).status
        is Status.OK
    )


@given(shares, shares)
def test_cap_share_float_trap(a: Decimal, b: Decimal) -> None:
    # 0.1 + 0.2 == 0.3 must hold exactly for a summed cap.
    total = a + b
    rows = [("2023-01", a), ("2023-02", b)]
    assert (
        cap({"max": total, "aggregate": "sum", "period": "2023"}, rows, as_of="2024-01-01").status
        is Status.OK
    )
    assert (
        cap(
            {"max": "0.3", "aggregate": "sum", "period": "2023"},
            [("2023-01", "0.1"), ("2023-02", "0.2")],
            as_of="2024-01-01",
        ).status
        is Status.OK
    )


@given(values, values, values, st.sampled_from(["2023-03-15", "2023-09-01", "2024-01-01"]))
def test_cap_is_antitone(bound: Decimal, a: Decimal, b: Decimal, as_of: str) -> None:
    lo, hi = sorted((abs(a), abs(b)))
    params = {"max": abs(bound), "aggregate": "sum", "period": "2023"}
    low = cap(params, [("2023-01", lo)], as_of=as_of)
    high = cap(params, [("2023-01", hi)], as_of=as_of)
    assert RANK[low.status] <= RANK[high.status]


@given(
    values,
    values,
    st.sampled_from(["latest", "sum"]),
    st.sampled_from(["2023-03-15", "2024-01-01"]),
)
def test_cap_scale_invariance(bound: Decimal, value: Decimal, how: str, as_of: str) -> None:
    scale = D(10_000)
    params: dict[str, Any] = {"aggregate": how, "period": "2023"} if how == "sum" else {}
    rows = "2023-01" if how == "sum" else "2023"
    small = cap({"max": bound, "warn_at": bound - 1, **params}, [(rows, value)], as_of=as_of)
    big = cap(
        {"max": bound * scale, "warn_at": (bound - 1) * scale, **params},
        [(rows, value * scale)],
        as_of=as_of,
    )
    assert small.status is big.status
