"""The ``coverage`` rule kind: numerator / denominator ≥ min, exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge, series

from targetwatch.default_plugins.coverage import CoverageKind, ratio
from targetwatch.model import Judgement, Status
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
KIND = CoverageKind()
A = {"district": "田家庵区"}
BAD = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}


def cover(
    num_rows: list[tuple[str, Any]],
    den_rows: list[tuple[str, Any]] | None,
    as_of: str = "2023-07-15",
    **params: Any,
) -> Judgement:
    raw: dict[str, Any] = {"numerator": "kg.inclusive", "min": "90%", **params}
    others = []
    if den_rows is not None:
        raw.setdefault("denominator", "kg.all")
        others.append(series(CAL, "kg.all", den_rows, A))
    return judge(
        KIND,
        raw,
        num_rows,
        as_of,
        cal=CAL,
        labels=A,
        others=others,
        units={"kg.inclusive": "所", "kg.all": "所"},
    )


def decimals(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


# -- the seed's figures -------------------------------------------------------------------


def test_inclusive_kindergartens_share_given_as_a_percentage_passes() -> None:
    j = judge(
        KIND,
        {"numerator": "kg.coverage", "min": "90%"},
        [("2023-H1", "94.1%")],
        "2023-07-15",
        cal=CAL,
    )
    assert j.status is Status.OK
    assert j.value == Decimal("0.941")
    assert j.target == Decimal("0.90")
    assert j.margin == Decimal("0.041")
    assert j.unit == "%"
    assert j.details["coverage"] == Decimal("0.941")
    assert "94.1%" in j.message and "at least 90%" in j.message


def test_share_given_as_a_fraction_means_the_same() -> None:
    j = judge(
        KIND, {"numerator": "kg.coverage", "min": 0.9}, [("2023-H1", 0.941)], "2023-07-15", cal=CAL
    )
    assert (j.status, j.value) == (Status.OK, Decimal("0.941"))


def test_extended_hours_full_coverage_is_exactly_on_target() -> None:
    j = cover([("2023-H1", 64)], [("2023-H1", 64)], min="100%")
    assert j.status is Status.OK
    assert j.value == 1 and j.margin == 0
    assert j.details["numerator"] == 64 and j.details["denominator"] == 64
    assert "64 所 of 64 所" in j.message


def test_one_kindergarten_short_of_full_coverage_is_a_breach() -> None:
    j = cover([("2023-H1", 63)], [("2023-H1", 64)], min="100%")
    assert j.status is Status.BREACH
    assert j.margin is not None and j.margin < 0
    assert "short of the minimum" in j.message


def test_preschool_enrolment_above_95_percent() -> None:
    j = judge(
        KIND,
        {"numerator": "preschool.gross", "min": "95%"},
        [("2023-H1", "97.2%")],
        "2023-07-15",
        cal=CAL,
    )
    assert j.status is Status.OK
    assert j.margin == Decimal("0.022")


# -- statuses ----------------------------------------------------------------------------


def test_below_min_is_breach_with_negative_margin() -> None:
    j = cover([("2023-H1", 80)], [("2023-H1", 100)])
    assert j.status is Status.BREACH
    assert j.value == Decimal("0.8")
    assert j.margin == Decimal("-0.10")


def test_warning_band_just_above_min() -> None:
    j = cover([("2023-H1", 92)], [("2023-H1", 100)], warn_min="95%")
    assert j.status is Status.WARN
    assert j.details["warn_min"] == Decimal("0.95")
    assert cover([("2023-H1", 95)], [("2023-H1", 100)], warn_min="95%").status is Status.OK
    assert cover([("2023-H1", 89)], [("2023-H1", 100)], warn_min="95%").status is Status.BREACH


def test_above_max_is_breach_against_max() -> None:
    j = cover([("2023-H1", 101)], [("2023-H1", 100)], max="100%")
    assert j.status is Status.BREACH
    assert j.target == Decimal("1.00")
    assert j.margin == Decimal("-0.01")
    assert "above the maximum" in j.message


def test_within_min_and_max_margin_is_to_the_nearer_bound() -> None:
    j = cover([("2023-H1", 99)], [("2023-H1", 100)], max="100%")
    assert j.status is Status.OK
    assert (j.target, j.margin) == (Decimal("1.00"), Decimal("0.01"))


def test_repeating_ratio_is_shown_rounded_but_decided_exactly() -> None:
    j = cover([("2023-H1", 2)], [("2023-H1", 3)], min="66.6666666666666%")
    assert j.status is Status.OK
    assert j.value == Decimal("0.666666666667")
    j = cover([("2023-H1", 2)], [("2023-H1", 3)], min="66.66666666666667%")
    assert j.status is Status.BREACH


def test_default_period_is_newest_with_both_observations() -> None:
    j = cover(
        [("2023-H1", 95), ("2023-H2", 10)], [("2022-H2", 100), ("2023-H1", 100)], as_of="2024-01-10"
    )
    assert j.status is Status.OK
    assert j.period is not None and j.period.label == "2023-H1"
    assert j.details["period"] == "2023-H1"


def test_explicit_period() -> None:
    j = cover(
        [("2022-H2", 80), ("2023-H1", 95)], [("2022-H2", 100), ("2023-H1", 100)], period="2022-H2"
    )
    assert j.status is Status.BREACH
    assert j.period is not None and j.period.label == "2022-H2"


def test_relative_period() -> None:
    j = cover(
        [("2022-H2", 80), ("2023-H1", 95)],
        [("2022-H2", 100), ("2023-H1", 100)],
        period="previous half",
    )
    assert (j.status, j.details["period"]) == (Status.OK, "2023-H1")


# -- cannot be judged -------------------------------------------------------------------


def test_missing_denominator_series_is_unknown() -> None:
    j = judge(
        KIND,
        {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%"},
        [("2023-H1", 95)],
        "2023-07-15",
        cal=CAL,
        labels=A,
    )
    assert j.status is Status.UNKNOWN
    assert "kg.all" in j.message and "田家庵区" in j.message


def test_denominator_with_other_labels_is_not_used() -> None:
    other = series(CAL, "kg.all", [("2023-H1", 100)], {"district": "谢家集区"})
    j = judge(
        KIND,
        {"numerator": "kg.inclusive", "denominator": "kg.all", "min": "90%"},
        [("2023-H1", 95)],
        "2023-07-15",
        cal=CAL,
        labels=A,
        others=[other],
    )
    assert j.status is Status.UNKNOWN


def test_no_common_period_is_unknown() -> None:
    j = cover([("2023-H1", 95)], [("2022-H2", 100)])
    assert j.status is Status.UNKNOWN
    assert "both" in j.message


def test_explicit_period_missing_denominator_is_unknown() -> None:
    j = cover([("2023-H1", 95)], [("2022-H2", 100)], period="2023-H1")
    assert j.status is Status.UNKNOWN
    assert "kg.all" in j.message and "2023-H1" in j.message


def test_explicit_period_missing_numerator_is_unknown() -> None:
    j = cover([("2022-H2", 95)], [("2023-H1", 100)], period="2023-H1")
    assert j.status is Status.UNKNOWN
    assert "kg.inclusive" in j.message


def test_zero_denominator_is_unknown() -> None:
    j = cover([("2023-H1", 0)], [("2023-H1", 0)])
    assert j.status is Status.UNKNOWN
    assert "undefined" in j.message


def test_no_observation_at_all_is_unknown() -> None:
    j = judge(
        KIND,
        {"numerator": "kg.coverage", "min": "90%"},
        [("2023-H2", "94%")],
        "2023-06-30",
        cal=CAL,
    )
    assert j.status is Status.UNKNOWN


# -- declaration -------------------------------------------------------------------------


def test_indicators_are_numerator_then_denominator() -> None:
    def params(raw: dict[str, Any]) -> Any:
        parsed, problems = parse(CoverageKind.Params, raw, ParseContext(calendar=CAL))
        assert not problems
        return parsed

    assert KIND.indicators(params({"numerator": "n", "denominator": "d", "min": 0.9})) == ("n", "d")
    assert KIND.indicators(params({"numerator": "n", "min": 0.9})) == ("n",)


def test_warn_min_below_min_and_max_below_min_are_rejected() -> None:
    _, problems = parse(
        CoverageKind.Params,
        {"numerator": "n", "min": "90%", "warn_min": "80%", "max": "50%"},
        ParseContext(calendar=CAL),
    )
    keys = {p.key for p in problems}
    assert keys == {"warn_min", "max"}


def test_ratio_is_tidy() -> None:
    assert ratio(Decimal(64), Decimal(64)) == 1 and str(ratio(Decimal(64), Decimal(64))) == "1"
    assert str(ratio(Decimal(1), Decimal(8))) == "0.125"


# -- properties ---------------------------------------------------------------------------


@given(minimum=decimals(4, 1, 10_000), den=st.integers(1, 10**6))
def test_exactly_on_target_passes_and_just_below_fails(minimum: Decimal, den: int) -> None:
    num = minimum * den
    on = cover([("2023-H1", num)], [("2023-H1", den)], min=minimum)
    assert on.status is Status.OK
    assert on.margin == 0
    below = cover([("2023-H1", num - Decimal("0.0001"))], [("2023-H1", den)], min=minimum)
    assert below.status is Status.BREACH


@given(minimum=decimals(2, 1, 100), value=decimals(2, 0, 100))
def test_share_indicator_exactly_on_target_passes(minimum: Decimal, value: Decimal) -> None:
    j = judge(
        KIND,
        {"numerator": "s", "min": f"{minimum}%"},
        [("2023-H1", f"{value}%")],
        "2023-07-15",
        cal=CAL,
    )
    assert j.status is (Status.OK if value >= minimum else Status.BREACH)


@given(
    a=decimals(2, 0, 10**6),
    b=decimals(2, 0, 10**6),
    den=decimals(2, 1, 10**6),
    minimum=decimals(3, 0, 1000),
    band=decimals(3, 0, 100),
)
def test_more_numerator_is_never_worse(
    a: Decimal, b: Decimal, den: Decimal, minimum: Decimal, band: Decimal
) -> None:
    low, high = sorted((a, b))
    params = {"min": minimum, "warn_min": minimum + band}
    worse = cover([("2023-H1", low)], [("2023-H1", den)], **params)
    better = cover([("2023-H1", high)], [("2023-H1", den)], **params)
    assert BAD[better.status] <= BAD[worse.status]


@given(
    num=decimals(2, 0, 10**6),
    den=decimals(2, 1, 10**6),
    minimum=decimals(3, 0, 1000),
    band=decimals(3, 0, 100),
)
def test_scale_does_not_change_the_verdict(
    num: Decimal, den: Decimal, minimum: Decimal, band: Decimal
) -> None:
    params = {"min": minimum, "warn_min": minimum + band}
    plain = cover([("2023-H1", num)], [("2023-H1", den)], **params)
    scaled = cover([("2023-H1", num * 10_000)], [("2023-H1", den * 10_000)], **params)
    assert scaled.status is plain.status
    assert scaled.value == plain.value


@given(num=decimals(2, 0, 10**6), den=decimals(2, -(10**6), 0))
def test_zero_or_negative_denominator_is_never_ok(num: Decimal, den: Decimal) -> None:
    assert cover([("2023-H1", num)], [("2023-H1", den)], min=0).status is Status.UNKNOWN
