"""The ``rank`` and ``share`` rule kinds: a series against its peers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st
from kindkit import judge, series

from targetwatch.default_plugins.peers import RankKind, ShareKind, ordinal
from targetwatch.model import Judgement, Series, Status
from targetwatch.params import ParseContext, parse
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
RANK = RankKind()
SHARE = ShareKind()
BAD = {Status.OK: 0, Status.WARN: 1, Status.BREACH: 2}
OWN = {"city": "淮南市", "district": "田家庵区"}
# Peers' figures are illustrative; the report says only that 田家庵区 ranks 1st in the city.
ELDERLY = {
    "谢家集区": 21000,
    "大通区": 18500,
    "八公山区": 9000,
    "潘集区": 15000,
    "凤台县": 30100,
    "寿县": 28800,
}


def others(
    indicator: str, values: Mapping[str, Any], period: str = "2023-H1", city: str = "淮南市"
) -> list[Series]:
    return [
        series(CAL, indicator, [(period, v)], {"city": city, "district": d})
        for d, v in values.items()
    ]


def rank(
    own: Any, peer_list: Sequence[Series], rows: list[tuple[str, Any]] | None = None, **params: Any
) -> Judgement:
    raw = {"indicator": "elderly.learners", "max_rank": 1, **params}
    return judge(
        RANK,
        raw,
        rows or [("2023-H1", own)],
        "2023-07-15",
        cal=CAL,
        labels=OWN,
        others=peer_list,
        units={"elderly.learners": "人"},
    )


def share(own: Any, peer_list: Sequence[Series], **params: Any) -> Judgement:
    raw = {"indicator": "teacher.awards", **params}
    return judge(
        SHARE, raw, [("2023-H1", own)], "2023-07-15", cal=CAL, labels=OWN, others=peer_list
    )


def decimals(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


# -- rank -------------------------------------------------------------------------------


def test_older_learners_first_in_the_city() -> None:
    j = rank(32700, others("elderly.learners", ELDERLY))
    assert j.status is Status.OK
    assert (j.value, j.target, j.margin, j.unit) == (Decimal(1), Decimal(1), Decimal(0), "")
    assert j.details["rank"] == 1
    assert j.details["peers_count"] == 7
    assert j.details["leader"] == "city=淮南市, district=田家庵区"
    assert j.details["period"] == "2023-H1"
    assert j.message == "ranks 1st of 7 in 2023-H1 with 32,700 人 (target: top 1)"


def test_second_place_misses_top_one_and_names_the_leader() -> None:
    j = rank(29000, others("elderly.learners", ELDERLY))
    assert j.status is Status.BREACH
    assert (j.value, j.margin) == (Decimal(2), Decimal(-1))
    assert j.details["leader"] == "city=淮南市, district=凤台县"
    assert j.details["leader_value"] == 30100
    assert "ranks 2nd of 7" in j.message and "凤台县" in j.message


def test_exactly_max_rank_passes() -> None:
    assert rank(29000, others("elderly.learners", ELDERLY), max_rank=2).status is Status.OK


def test_ties_share_a_rank() -> None:
    j = rank(30100, others("elderly.learners", ELDERLY))
    assert j.status is Status.OK
    assert j.details["rank"] == 1
    assert "(tied)" in j.message
    j = rank(28800, others("elderly.learners", {**ELDERLY, "毛集区": 32700}), max_rank=2)
    assert j.details["rank"] == 3 and j.status is Status.BREACH
    assert "3rd (tied) of 8" in j.message


def test_ascending_order_ranks_lower_values_first() -> None:
    j = rank(5000, others("elderly.learners", ELDERLY), order="asc")
    assert j.details["rank"] == 1 and j.status is Status.OK
    assert rank(32700, others("elderly.learners", ELDERLY), order="asc").details["rank"] == 7


def test_within_restricts_peers_to_the_same_city() -> None:
    far = others("elderly.learners", {"瑶海区": 99000}, city="合肥市")
    near = others("elderly.learners", {"谢家集区": 21000})
    assert rank(32700, far + near).status is Status.BREACH
    j = rank(32700, far + near, within=["city"])
    assert j.status is Status.OK
    assert j.details["peers_count"] == 2


def test_peers_selector_excludes_the_city_total_but_not_the_series_itself() -> None:
    total = others("elderly.learners", {"淮南市": 154100})
    peers = others("elderly.learners", ELDERLY) + total
    assert rank(32700, peers).status is Status.BREACH
    j = rank(32700, peers, peers={"district": {"not": ["淮南市", "田家庵区"]}})
    assert j.status is Status.OK
    assert j.details["peers_count"] == 7


def test_peers_without_the_period_are_left_out_and_named() -> None:
    late = others("elderly.learners", {"寿县": 50000}, period="2022-H2")
    j = rank(32700, others("elderly.learners", {"谢家集区": 21000}) + late)
    assert j.status is Status.OK
    assert j.details["peers_count"] == 2
    assert j.details["missing_peers"] == "city=淮南市, district=寿县"
    assert "1 peer without data left out" in j.message


def test_no_peer_with_data_is_unknown() -> None:
    j = rank(32700, others("elderly.learners", {"寿县": 50000}, period="2022-H2"))
    assert j.status is Status.UNKNOWN
    assert j.message == "no peers with data for 2023-H1"


def test_no_peers_at_all_is_unknown() -> None:
    assert rank(32700, []).status is Status.UNKNOWN


def test_explicit_period_compares_that_period() -> None:
    peers = [
        series(
            CAL,
            "elderly.learners",
            [("2022-H2", 40000), ("2023-H1", 20000)],
            {"city": "淮南市", "district": "寿县"},
        )
    ]
    rows = [("2022-H2", 30000), ("2023-H1", 32700)]
    assert rank(None, peers, rows=rows).status is Status.OK
    j = rank(None, peers, rows=rows, period="2022-H2")
    assert j.status is Status.BREACH and j.details["period"] == "2022-H2"


def test_explicit_period_without_own_observation_is_unknown() -> None:
    assert (
        rank(32700, others("elderly.learners", ELDERLY), period="2022-H2").status is Status.UNKNOWN
    )


def test_warn_gap_warns_when_the_runner_up_is_close() -> None:
    j = rank(32700, others("elderly.learners", ELDERLY), warn_gap=3000)
    assert j.status is Status.WARN
    assert j.details["gap"] == 2600
    assert j.details["chaser"] == "city=淮南市, district=凤台县"
    assert rank(32700, others("elderly.learners", ELDERLY), warn_gap=2600).status is Status.WARN
    assert rank(32700, others("elderly.learners", ELDERLY), warn_gap=2599).status is Status.OK


def test_warn_gap_watches_the_peer_that_would_push_it_out_of_the_top() -> None:
    # 1st of a top-3 target: falling out takes three overtakers, so the third closest counts.
    j = rank(32700, others("elderly.learners", ELDERLY), max_rank=3, warn_gap=11000)
    assert j.details["gap"] == 11700  # 32,700 - 21,000 (third behind: 30,100, 28,800, 21,000)
    assert j.status is Status.OK
    assert (
        rank(32700, others("elderly.learners", ELDERLY), max_rank=3, warn_gap=11700).status
        is Status.WARN
    )


def test_rising_teacher_awards_first_in_city() -> None:
    peers = others(
        "teacher.awards",
        {"谢家集区": 12, "大通区": 6, "八公山区": 5, "潘集区": 9, "凤台县": 10, "寿县": 6},
    )
    j = judge(
        RANK,
        {"indicator": "teacher.awards", "max_rank": 1},
        [("2023-H1", 24)],
        "2023-07-15",
        cal=CAL,
        labels=OWN,
        others=peers,
    )
    assert j.status is Status.OK and j.details["rank"] == 1


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]


@given(
    own=decimals(2, 0, 10**6),
    peer_values=st.lists(decimals(2, 0, 10**6), min_size=1, max_size=6),
    order=st.sampled_from(["desc", "asc"]),
)
def test_exactly_max_rank_passes_and_one_better_is_required_below(
    own: Decimal, peer_values: list[Decimal], order: str
) -> None:
    peers = others("elderly.learners", {f"d{i}": v for i, v in enumerate(peer_values)})
    found = rank(own, peers, order=order).details["rank"]
    assert rank(own, peers, order=order, max_rank=found).status is Status.OK
    if found > 1:
        assert rank(own, peers, order=order, max_rank=found - 1).status is Status.BREACH


@given(
    a=decimals(2, 0, 10**6),
    b=decimals(2, 0, 10**6),
    peer_values=st.lists(decimals(2, 0, 10**6), min_size=1, max_size=6),
    max_rank=st.integers(1, 4),
    gap=decimals(2, 0, 10**5),
    order=st.sampled_from(["desc", "asc"]),
)
def test_a_better_value_never_ranks_worse(
    a: Decimal, b: Decimal, peer_values: list[Decimal], max_rank: int, gap: Decimal, order: str
) -> None:
    low, high = sorted((a, b))
    better, worse = (high, low) if order == "desc" else (low, high)
    peers = others("elderly.learners", {f"d{i}": v for i, v in enumerate(peer_values)})
    good = rank(better, peers, order=order, max_rank=max_rank, warn_gap=gap)
    bad = rank(worse, peers, order=order, max_rank=max_rank, warn_gap=gap)
    assert good.details["rank"] <= bad.details["rank"]
    assert BAD[good.status] <= BAD[bad.status]


@given(
    own=decimals(2, 0, 10**6),
    peer_values=st.lists(decimals(2, 0, 10**6), min_size=1, max_size=6),
    max_rank=st.integers(1, 4),
    gap=decimals(2, 0, 10**5),
)
def test_rank_scale_does_not_change_the_verdict(
    own: Decimal, peer_values: list[Decimal], max_rank: int, gap: Decimal
) -> None:
    plain = rank(
        own,
        others("elderly.learners", {f"d{i}": v for i, v in enumerate(peer_values)}),
        max_rank=max_rank,
        warn_gap=gap,
    )
    big = others("elderly.learners", {f"d{i}": v * 10_000 for i, v in enumerate(peer_values)})
    scaled = rank(own * 10_000, big, max_rank=max_rank, warn_gap=gap * 10_000)
    assert (scaled.status, scaled.value) == (plain.status, plain.value)


# -- share ------------------------------------------------------------------------------

CITY_TOTAL = others("teacher.awards", {"淮南市": 72})
CITY = {"district": "淮南市"}


def test_rising_teacher_awards_a_third_of_the_city() -> None:
    j = share(24, CITY_TOTAL, min="33.3%", total=CITY)
    assert j.status is Status.OK
    assert j.value == Decimal("0.333333333333")
    assert j.unit == "%"
    assert j.details["own"] == 24 and j.details["total"] == 72
    assert j.details["total_series"] == "city=淮南市, district=淮南市"
    assert j.message == "24 is 33.33% of 72 in 2023-H1 and is on target (at least 33.3%)"


def test_a_third_is_below_a_minimum_a_hair_above_it() -> None:
    assert share(24, CITY_TOTAL, min="33.34%", total=CITY).status is Status.BREACH
    assert share(24, CITY_TOTAL, min="33.333333333334%", total=CITY).status is Status.BREACH
    assert share(24, CITY_TOTAL, min="33.333333333333%", total=CITY).status is Status.OK


def test_exactly_on_the_minimum_passes() -> None:
    j = share(24, others("teacher.awards", {"淮南市": 80}), min="30%", total=CITY)
    assert j.status is Status.OK
    assert (j.value, j.target, j.margin) == (Decimal("0.3"), Decimal("0.30"), Decimal(0))


def test_total_as_the_sum_of_peers() -> None:
    peers = others(
        "teacher.awards",
        {"谢家集区": 12, "大通区": 6, "八公山区": 5, "潘集区": 9, "凤台县": 10, "寿县": 6},
    )
    j = share(24, peers, min="33.3%")
    assert j.status is Status.OK
    assert j.details["total"] == 72 and j.details["peers_count"] == 7


def test_a_peer_without_the_period_makes_the_sum_unknown() -> None:
    peers = others("teacher.awards", {"谢家集区": 12}) + others(
        "teacher.awards", {"寿县": 6}, period="2022-H2"
    )
    j = share(24, peers, min="33.3%")
    assert j.status is Status.UNKNOWN
    assert "寿县" in j.message


def test_max_caps_the_share() -> None:
    private = others("teacher.awards", {"淮南市": 100})
    assert share("4.2", private, max="4.89%", total=CITY).status is Status.OK
    j = share(5, private, max="4.89%", total=CITY)
    assert j.status is Status.BREACH
    assert j.margin == Decimal("-0.0011")
    assert "above the maximum" in j.message


def test_warning_band_above_min() -> None:
    assert share(24, CITY_TOTAL, min="30%", warn_min="35%", total=CITY).status is Status.WARN
    assert share(24, CITY_TOTAL, min="30%", warn_min="33%", total=CITY).status is Status.OK


def test_total_selector_must_match_exactly_one_series() -> None:
    assert share(24, [], min="30%", total=CITY).status is Status.UNKNOWN
    two = CITY_TOTAL + others("teacher.awards", {"淮南市": 70}, city="合肥市")
    j = share(24, two, min="30%", total=CITY)
    assert j.status is Status.UNKNOWN and "2 series" in j.message
    assert share(24, two, min="30%", total=CITY, within=["city"]).status is Status.OK


def test_total_missing_for_the_period_is_unknown() -> None:
    j = share(24, others("teacher.awards", {"淮南市": 72}, period="2022-H2"), min="30%", total=CITY)
    assert j.status is Status.UNKNOWN


def test_zero_total_is_unknown() -> None:
    assert (
        share(0, others("teacher.awards", {"淮南市": 0}), min="30%", total=CITY).status
        is Status.UNKNOWN
    )
    assert share(0, others("teacher.awards", {"谢家集区": 0}), min="30%").status is Status.UNKNOWN


def test_the_total_series_itself_is_unknown() -> None:
    j = judge(
        SHARE,
        {"indicator": "a", "min": "30%", "total": {"district": "淮南市"}},
        [("2023-H1", 72)],
        "2023-07-15",
        cal=CAL,
        labels={"district": "淮南市"},
    )
    assert j.status is Status.UNKNOWN


def test_share_needs_a_bound() -> None:
    _, problems = parse(ShareKind.Params, {"indicator": "a"}, ParseContext(calendar=CAL))
    assert [p.key for p in problems] == ["min"]
    _, problems = parse(
        RankKind.Params, {"indicator": "a", "max_rank": 0}, ParseContext(calendar=CAL)
    )
    assert [p.key for p in problems] == ["max_rank"]


@given(minimum=decimals(4, 1, 10_000), total=st.integers(1, 10**6))
def test_share_exactly_on_target_passes_and_just_below_fails(minimum: Decimal, total: int) -> None:
    own = minimum * total
    assume(own < total)
    rest = others("teacher.awards", {"rest": total - own})
    assert share(own, rest, min=minimum).status is Status.OK
    assert (
        share(
            own - Decimal("0.0001"),
            others("teacher.awards", {"rest": total - own + Decimal("0.0001")}),
            min=minimum,
        ).status
        is Status.BREACH
    )


@given(
    a=decimals(2, 0, 10**6),
    b=decimals(2, 0, 10**6),
    total=decimals(2, 1, 10**7),
    minimum=decimals(3, 0, 1000),
    band=decimals(3, 0, 100),
)
def test_more_own_is_never_worse_against_a_fixed_total(
    a: Decimal, b: Decimal, total: Decimal, minimum: Decimal, band: Decimal
) -> None:
    low, high = sorted((a, b))
    fixed = others("teacher.awards", {"淮南市": total})
    params = {"min": minimum, "warn_min": minimum + band, "total": CITY}
    assert BAD[share(high, fixed, **params).status] <= BAD[share(low, fixed, **params).status]
    capped = {"max": minimum, "total": CITY}
    assert BAD[share(low, fixed, **capped).status] <= BAD[share(high, fixed, **capped).status]


@given(
    own=decimals(2, 0, 10**6),
    peer_values=st.lists(decimals(2, 0, 10**6), min_size=1, max_size=5),
    minimum=decimals(3, 0, 1000),
)
def test_share_scale_does_not_change_the_verdict(
    own: Decimal, peer_values: list[Decimal], minimum: Decimal
) -> None:
    plain = share(
        own, others("teacher.awards", {f"d{i}": v for i, v in enumerate(peer_values)}), min=minimum
    )
    scaled = share(
        own * 10_000,
        others("teacher.awards", {f"d{i}": v * 10_000 for i, v in enumerate(peer_values)}),
        min=minimum,
    )
    assert (scaled.status, scaled.value) == (plain.status, plain.value)
    if own + sum(peer_values) == 0:
        assert plain.status is Status.UNKNOWN
