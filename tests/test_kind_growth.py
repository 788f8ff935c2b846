"""The ``growth`` kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge

from targetwatch.default_plugins.growth import GrowthKind
from targetwatch.model import Status
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar, Term

CAL = Calendar("Asia/Shanghai")
D = Decimal
KIND = GrowthKind()
RANK = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}
#: The seed: education expenditure, 万元.
SEED = [("2022-H1", 13909), ("2023-H1", 17192)]

bases = st.decimals(
    min_value=D("0.01"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)
values = st.decimals(
    min_value=D("-1000"), max_value=D("1000000"), places=2, allow_nan=False, allow_infinity=False
)
rates = st.decimals(
    min_value=D("-0.99"), max_value=D("3"), places=2, allow_nan=False, allow_infinity=False
)


def g(
    params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str = "2023-10-01", **kw: Any
) -> Any:
    kw.setdefault("cal", CAL)
    return judge(KIND, {"indicator": "spend", **params}, rows, as_of, units={"spend": "万元"}, **kw)


def test_seed_year_on_year() -> None:
    j = g({}, SEED)
    assert j.status is Status.OK
    assert j.unit == "%" and j.target == D(0)
    assert j.value == D("0.236034222445")
    assert j.margin == j.value
    assert j.period == CAL.parse("2023-H1")
    assert j.details["base"] == D(13909) and j.details["base_period"] == "2022-H1"
    assert (
        j.message
        == "spend 17,192 万元 for 2023-H1 against 13,909 万元 for 2022-H1: growth +23.6%, meets the minimum 0%"
    )


def test_below_min_is_breach_and_warn_band() -> None:
    assert g({"min": "25%"}, SEED).status is Status.BREACH
    assert g({"min": "25%"}, SEED).margin == D("-0.013965777555")
    assert g({"min": "20%", "warn_min": "25%"}, SEED).status is Status.WARN
    assert g({"min": "20%", "warn_min": "23%"}, SEED).status is Status.OK


def test_above_max_is_breach() -> None:
    j = g({"max": "20%"}, SEED)
    assert (j.status, j.target) == (Status.BREACH, D("0.20"))
    assert j.margin is not None and j.margin < 0


def test_down_is_breach_of_not_down() -> None:
    j = g({}, [("2022", 100), ("2023", 99)], as_of="2024-02-01")
    assert (j.status, j.value) == (Status.BREACH, D("-0.01"))
    assert "growth -1%" in j.message


def test_default_period_is_the_newest_closed_one() -> None:
    rows = [*SEED, ("2022-H2", 15000), ("2023-H2", 1000)]
    j = g({}, rows, as_of="2023-10-01")  # 2023-H2 is open and partial: not judged
    assert j.period == CAL.parse("2023-H1") and j.status is Status.OK
    j = g({"include_open": True}, rows, as_of="2023-10-01")
    assert j.period == CAL.parse("2023-H2") and j.status is Status.BREACH


def test_named_open_period_needs_include_open() -> None:
    rows = [("2022-H2", 15000), ("2023-H2", 16000)]
    j = g({"period": "2023-H2"}, rows, as_of="2023-10-01")
    assert j.status is Status.UNKNOWN and "still open" in j.message
    assert (
        g({"period": "2023-H2", "include_open": True}, rows, as_of="2023-10-01").status is Status.OK
    )
    assert g({"period": "2023-H2"}, rows, as_of="2024-01-01").status is Status.OK


def test_only_open_observations_is_unknown() -> None:
    j = g({}, [("2023-H2", 5)], as_of="2023-10-01")
    assert j.status is Status.UNKNOWN and "2023-H2 is still open" in j.message


def test_period_on_period() -> None:
    rows = [("2022-H2", 18000), *SEED]
    j = g({"compare": "period_on_period"}, rows)
    assert j.details["base_period"] == "2022-H2"
    assert j.status is Status.BREACH


def test_baseline() -> None:
    rows = [("2020-H1", 10000), *SEED]
    j = g({"compare": "baseline", "baseline": "2020-H1", "min": "70%"}, rows)
    assert (j.status, j.value) == (Status.OK, D("0.7192"))


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([("2023-H1", 17192)], "no observation of spend for the base period 2022-H1"),
        ([("2022-H1", 0), ("2023-H1", 17192)], "is zero; growth is undefined"),
        ([("2022-H1", -5), ("2023-H1", 17192)], "is negative"),
        ([], "no observation of spend"),
    ],
)
def test_unjudgeable_bases_are_unknown(rows: list[tuple[str, Any]], reason: str) -> None:
    j = g({}, rows)
    assert j.status is Status.UNKNOWN
    assert reason in j.message


def test_year_ago_of_the_first_term_is_unknown() -> None:
    cal = Calendar(
        "Asia/Shanghai", terms=[Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 1, 31))]
    )
    j = g({}, [("2023-autumn", 5)], as_of="2024-03-01", cal=cal)
    assert j.status is Status.UNKNOWN and "no base period" in j.message


def test_cagr() -> None:
    rows = [("2020", 1000), ("2023", 1331)]
    j = g({"compare": "cagr", "baseline": "2020", "min": "10%"}, rows, as_of="2024-01-01")
    assert (j.status, j.value, j.margin) == (Status.OK, D("0.1"), D(0))
    assert j.details["years"] == 3 and j.details["required"] == D(1331)
    short = g(
        {"compare": "cagr", "baseline": "2020", "min": "10%"},
        [("2020", 1000), ("2023", "1330.99")],
        as_of="2024-01-01",
    )
    assert short.status is Status.BREACH and short.margin is not None and short.margin < 0
    halves = g(
        {"compare": "cagr", "baseline": "2021-H1", "min": "10%"},
        [("2021-H1", 100), ("2023-H1", 121)],
    )
    assert (halves.status, halves.details["years"]) == (Status.OK, 2)


@pytest.mark.parametrize(
    ("baseline", "rows", "reason"),
    [
        ("2021-H2", [("2021-H2", 100), ("2023-H1", 121)], "not a whole number of years"),
        ("2021", [("2021", 100), ("2023-H1", 121)], "different grains"),
        ("2023-H1", [("2023-H1", 121)], "at least a year before"),
    ],
)
def test_cagr_needs_whole_years(baseline: str, rows: list[tuple[str, Any]], reason: str) -> None:
    j = g({"compare": "cagr", "baseline": baseline}, rows)
    assert j.status is Status.UNKNOWN and reason in j.message


def test_problems() -> None:
    def keys(params: dict[str, Any]) -> list[str | None]:
        _, found = parse(
            GrowthKind.Params, {"indicator": "x", **params}, ParseContext(calendar=CAL)
        )
        return [p.key for p in found]

    assert keys({"compare": "baseline"}) == ["baseline"]
    assert keys({"baseline": "2020"}) == ["baseline"]
    assert keys({"min": "5%", "max": "1%"}) == ["max"]
    assert keys({"min": "5%", "warn_min": "1%"}) == ["warn_min"]
    assert keys({"compare": "cagr", "baseline": "2020", "min": -1}) == ["min"]
    assert keys({"min": "5%"}) == []


def test_float_trap() -> None:
    assert (
        g({"min": "10%"}, [("2022", "1.1"), ("2023", "1.21")], as_of="2024-01-01").status
        is Status.OK
    )
    assert g({"min": 0.1}, [("2022", 1.1), ("2023", 1.21)], as_of="2024-01-01").status is Status.OK


@given(bases, rates)
def test_exactly_on_target_passes(base: Decimal, rate: Decimal) -> None:
    cur = base * (1 + rate)
    j = g({"min": rate}, [("2022", base), ("2023", cur)], as_of="2024-01-01")
    assert j.status is Status.OK and j.margin == 0
    assert (
        g({"min": rate, "max": rate}, [("2022", base), ("2023", cur)], as_of="2024-01-01").status
        is Status.OK
    )
    lower = g({"min": rate}, [("2022", base), ("2023", cur - D("0.0001"))], as_of="2024-01-01")
    assert lower.status is Status.BREACH and lower.margin is not None and lower.margin < 0


@given(bases, st.decimals(min_value=D("-0.5"), max_value=D("1"), places=2), st.integers(1, 6))
def test_cagr_exactly_on_target_passes(base: Decimal, rate: Decimal, years: int) -> None:
    cur = base * (1 + rate) ** years  # exact: few digits, Decimal's default precision suffices
    rows = [(str(2010), base), (str(2010 + years), cur)]
    j = g({"compare": "cagr", "baseline": "2010", "min": rate}, rows, as_of="2030-01-01")
    assert j.status is Status.OK and j.margin == 0


@given(bases, values, values, rates)
def test_monotone_in_the_value(base: Decimal, a: Decimal, b: Decimal, rate: Decimal) -> None:
    lo, hi = sorted((a, b))
    params = {"min": rate, "warn_min": rate + D("0.05")}
    low = g(params, [("2022", base), ("2023", lo)], as_of="2024-01-01")
    high = g(params, [("2022", base), ("2023", hi)], as_of="2024-01-01")
    assert RANK[high.status] <= RANK[low.status]


@given(bases, values, rates, st.sampled_from(["year_on_year", "cagr"]))
def test_scale_invariance(base: Decimal, cur: Decimal, rate: Decimal, compare: str) -> None:
    scale = D(10_000)
    params: dict[str, Any] = {"min": rate, "compare": compare}
    if compare == "cagr":
        params["baseline"] = "2022"
    small = g(params, [("2022", base), ("2023", cur)], as_of="2024-01-01")
    big = g(params, [("2022", base * scale), ("2023", cur * scale)], as_of="2024-01-01")
    assert small.status is big.status
    assert small.value == big.value


@given(values, st.sampled_from([None, D(0), D(-1)]))
def test_missing_zero_or_negative_base_is_unknown(cur: Decimal, base: Decimal | None) -> None:
    rows = [("2023", cur)] if base is None else [("2022", base), ("2023", cur)]
    assert g({}, rows, as_of="2024-01-01").status is Status.UNKNOWN
