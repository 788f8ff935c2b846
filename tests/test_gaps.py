"""Gaps in a period's observations: a total missing a sub-period is UNKNOWN, naming what is
missing, unless what was observed already decides (``minimum`` and ``cap``, ``gaps``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kindkit import judge

from targetwatch.default_plugins.cap import CapKind
from targetwatch.default_plugins.gaps import missing, ordinals_within, runs, starting_within
from targetwatch.default_plugins.minimum import MinimumKind
from targetwatch.default_plugins.progress import ProgressKind
from targetwatch.grains import Term
from targetwatch.model import Judgement, Status
from targetwatch.periods import Calendar

CAL = Calendar("Asia/Shanghai")
D = Decimal
MINIMUM, CAP = MinimumKind(), CapKind()
H2_MONTHS = ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"]


def labels(cal: Calendar, grain: str, within: str) -> list[str]:
    return [cal.period(grain, o).label for o in ordinals_within(cal, grain, cal.parse(within))]


def obs(*periods: str) -> list[tuple[Any, Decimal]]:
    return [(CAL.parse(p), D(1)) for p in periods]


def minimum(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str) -> Judgement:
    return judge(MINIMUM, {"indicator": "events", "period": "2023-H2", **params}, rows, as_of, cal=CAL)


def cap(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str) -> Judgement:
    return judge(CAP, {"indicator": "events", "period": "2023-H2", "aggregate": "sum", **params}, rows, as_of, cal=CAL)


# The sub-periods expected ---------------------------------------------------------------------


def test_the_periods_of_a_grain_lying_within_a_period() -> None:
    assert labels(CAL, "month", "2023-H2") == H2_MONTHS
    assert labels(CAL, "quarter", "2023") == ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]
    assert labels(CAL, "month", "2023-04..2023-09") == ["2023-04", "2023-05", "2023-06", "2023-07", "2023-08", "2023-09"]
    # Only weeks entirely inside: 2023-10 starts on a Sunday and ends on a Tuesday.
    assert labels(CAL, "week", "2023-10") == ["2023-W40", "2023-W41", "2023-W42", "2023-W43"]
    assert labels(CAL, "half", "2023-Q1") == []
    assert labels(CAL, "month span", "2023") == []  # spans overlap: they never tile a period


def test_terms_within_a_year_are_the_declared_ones_and_the_holidays_are_no_gap() -> None:
    cal = Calendar("Asia/Shanghai", terms=[Term("2022-autumn", dt.date(2022, 9, 1), dt.date(2023, 1, 16)),
                                          Term("2023-spring", dt.date(2023, 2, 13), dt.date(2023, 7, 8)),
                                          Term("2023-autumn", dt.date(2023, 9, 1), dt.date(2024, 1, 16))])
    assert labels(cal, "term", "2023") == ["2023-spring"]
    assert labels(cal, "term", "2022-09..2024-01") == ["2022-autumn", "2023-spring", "2023-autumn"]
    both = [(cal.parse("2022-autumn"), D(1)), (cal.parse("2023-spring"), D(1))]
    assert missing(cal, cal.parse("2022-09..2023-07"), both, closed=True, aggregate="sum") == []


# What is missing --------------------------------------------------------------------------------


def test_a_closed_period_misses_every_sub_period_without_an_observation() -> None:
    h2 = CAL.parse("2023-H2")
    gone = missing(CAL, h2, obs("2023-07", "2023-09", "2023-10"), closed=True, aggregate="sum")
    assert [p.label for p in gone] == ["2023-08", "2023-11", "2023-12"]
    assert runs(gone) == ["2023-08", "2023-11..2023-12"]
    assert missing(CAL, h2, obs(*H2_MONTHS), closed=True, aggregate="sum") == []


def test_an_open_period_misses_only_what_lies_before_its_newest_observation() -> None:
    h2 = CAL.parse("2023-H2")
    assert missing(CAL, h2, obs("2023-07", "2023-08"), closed=False, aggregate="sum") == []  # not reported yet
    assert [p.label for p in missing(CAL, h2, obs("2023-07", "2023-09"), closed=False, aggregate="mean")] == ["2023-08"]
    assert [p.label for p in missing(CAL, h2, obs("2023-08", "2023-09"), closed=False, aggregate="max")] == ["2023-07"]


def test_latest_count_and_a_figure_for_the_whole_period_have_no_gap() -> None:
    h2 = CAL.parse("2023-H2")
    assert missing(CAL, h2, obs("2023-07", "2023-09"), closed=True, aggregate="count") == []
    assert missing(CAL, h2, obs("2023-07", "2023-12"), closed=True, aggregate="latest") == []
    assert missing(CAL, h2, obs("2023-07", "2023-09"), closed=False, aggregate="latest") == []
    # Closed without its last month, the newest is not the half's latest: all that is missing is named.
    assert runs(missing(CAL, h2, obs("2023-07", "2023-09"), closed=True, aggregate="latest")) == ["2023-08", "2023-10..2023-12"]
    assert missing(CAL, h2, [(h2, D(5))], closed=True, aggregate="sum") == []


@given(st.sets(st.integers(0, 11), min_size=1), st.booleans(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_observed_and_missing_are_the_expected_range_exactly(present: set[int], closed: bool, how: str) -> None:
    year = CAL.parse("2023")
    months = [CAL.period("month", 2023 * 12 + m) for m in sorted(present)]
    gone = missing(CAL, year, [(p, D(1)) for p in months], closed=closed, aggregate=how)
    last = 11 if closed else max(present)
    assert {p.ordinal - 2023 * 12 for p in gone} == set(range(last + 1)) - present
    assert [p.ordinal for p in gone] == sorted(p.ordinal for p in gone)
    shown = runs(gone)
    assert sum(1 if ".." not in r else int(r[-2:]) - int(r[5:7]) + 1 for r in shown) == len(gone)


# Through the kinds ------------------------------------------------------------------------------


def test_a_closed_half_missing_months_is_unknown_naming_them() -> None:
    rows = [("2023-07", 6200), ("2023-08", 7900), ("2023-09", 8400), ("2023-10", 2100)]
    j = minimum({"min": 50000}, rows, "2024-01-05")
    assert j.status is Status.UNKNOWN and j.value is None
    assert j.message == ('events in 2023-H2 is not judged: no observation for 2023-11..2023-12 (4 of 6 observed); '
                         'set gaps = "ignore" to judge what is there')
    assert j.details["missing"] == ["2023-11..2023-12"] and j.details["expected_observations"] == 6
    assert j.details["total"] == D(24600) and j.period is not None and j.period.label == "2023-H2"
    assert minimum({"min": 50000, "gaps": "ignore"}, rows, "2024-01-05").status is Status.BREACH


def test_what_is_observed_may_already_decide() -> None:
    rows = [("2023-07", 30000), ("2023-09", 25000)]
    assert minimum({"min": 50000}, rows, "2024-01-05").status is Status.OK  # a sum can only grow
    assert minimum({"min": 20000, "aggregate": "max"}, rows, "2024-01-05").status is Status.OK
    # At the minimum but in the warning band: the missing month could lift it out.
    assert minimum({"min": 50000, "warn_below": 60000}, rows, "2024-01-05").status is Status.UNKNOWN
    assert minimum({"min": 20000, "aggregate": "mean"}, rows, "2024-01-05").status is Status.UNKNOWN
    assert cap({"max": 50000}, rows, "2024-01-05").status is Status.BREACH  # already above the ceiling
    assert cap({"max": 60000}, rows, "2024-01-05").status is Status.UNKNOWN
    assert cap({"max": 60000, "warn_at": 50000}, rows, "2024-01-05").status is Status.UNKNOWN
    assert cap({"max": 60000, "gaps": "ignore"}, rows, "2024-01-05").status is Status.OK


def test_an_open_period_is_judged_on_pace_unless_a_month_before_the_newest_is_missing() -> None:
    assert minimum({"min": 50000}, [("2023-07", 6000), ("2023-08", 6000)], "2023-10-16").status is Status.WARN
    j = minimum({"min": 50000}, [("2023-07", 6000), ("2023-09", 6000)], "2023-10-16")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-08"] and "(2 of 3 observed)" in j.message


def test_a_rolling_window_with_a_month_missing_is_unknown() -> None:
    rows = [(f"2023-{m:02d}", 100) for m in (4, 5, 7, 8, 9)]
    j = minimum({"min": 600, "period": "last 6 months"}, rows, "2023-10-16")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-06"]
    assert minimum({"min": 500, "period": "last 6 months"}, rows, "2023-10-16").status is Status.OK
    assert minimum({"min": 600, "period": "last 6 months"}, [*rows, ("2023-06", 100)], "2023-10-16").status is Status.OK


def test_a_long_list_of_gaps_is_cut_short() -> None:
    rows = [(f"2023-{m:02d}", 1) for m in (1, 3, 5, 7, 9, 11)]
    j = minimum({"min": 100, "period": "2023"}, rows, "2024-01-05")
    assert "no observation for 2023-02, 2023-04, 2023-06, 2023-08 and 2 more (6 of 12 observed)" in j.message
    assert j.details["missing"] == ["2023-02", "2023-04", "2023-06", "2023-08", "2023-10", "2023-12"]


def test_a_cap_on_the_latest_observation_has_no_period_to_fill() -> None:
    j = judge(CAP, {"indicator": "events", "max": 10}, [("2023-01", 5), ("2023-05", 12)], "2024-01-05", cal=CAL)
    assert j.status is Status.BREACH


@pytest.mark.parametrize("as_of", ["2023-08-20", "2023-10-16", "2024-01-05"])
def test_gaps_is_a_rule_key_with_two_values(as_of: str) -> None:
    with pytest.raises(Exception, match="gaps"):
        minimum({"min": 1, "gaps": "zero"}, [("2023-07", 1)], as_of)


# Properties -------------------------------------------------------------------------------------

amounts = st.decimals(min_value=D(0), max_value=D(100000), places=0, allow_nan=False, allow_infinity=False)
as_ofs = st.sampled_from(["2023-07-20", "2023-09-02", "2023-10-16", "2023-12-31", "2024-01-05"])


@given(st.lists(amounts, min_size=6, max_size=6), amounts, as_ofs, st.sampled_from(["sum", "mean", "max", "min", "latest"]))
def test_with_nothing_missing_gaps_change_nothing(values: list[Decimal], bound: Decimal, as_of: str, how: str) -> None:
    rows = list(zip(H2_MONTHS, values, strict=True))
    visible = [r for r in rows if r[0] < as_of[:7]]  # months not yet begun are not reported
    for kind, params in ((minimum, {"min": bound, "aggregate": how}),
                         (cap, {"max": bound, "aggregate": "latest" if how in ("min", "latest") else how})):
        assert kind({**params, "gaps": "unknown"}, visible, as_of) == kind({**params, "gaps": "ignore"}, visible, as_of)


@given(st.lists(st.one_of(st.none(), amounts), min_size=6, max_size=6), st.lists(amounts, min_size=6, max_size=6), amounts,
       st.sampled_from(["sum", "max", "mean"]))
def test_a_verdict_given_despite_a_gap_holds_whatever_fills_it(values: list[Decimal | None], fill: list[Decimal], bound: Decimal,
                                                               how: str) -> None:
    """Soundness: a closed half judged with months missing is either UNKNOWN or the verdict the
    complete half gets, whatever non-negative values the missing months turn out to have."""
    partial = [(m, v) for m, v in zip(H2_MONTHS, values, strict=True) if v is not None]
    complete = [(m, v if v is not None else f) for m, v, f in zip(H2_MONTHS, values, fill, strict=True)]
    for kind, params in ((minimum, {"min": bound, "aggregate": how}), (cap, {"max": bound, "aggregate": how})):
        before = kind(params, partial, "2024-01-05")
        after = kind(params, complete, "2024-01-05")
        assert before.status in (Status.UNKNOWN, after.status), (params, partial, complete)
        if len(partial) < 6 and partial:
            assert before.status is Status.UNKNOWN or (
                before.status is (Status.OK if kind is minimum else Status.BREACH) and how in ("sum", "max")
            )


# progress: the periods starting within its window of days ----------------------------------------

PROGRESS = ProgressKind()
YEAR = {"indicator": "places", "target": 1200, "start": "2023-01-01", "deadline": "2023-12-31"}


def progress(params: dict[str, Any], rows: list[tuple[str, Any]], as_of: str) -> Judgement:
    return judge(PROGRESS, {**YEAR, **params}, rows, as_of, cal=CAL)


def test_the_periods_starting_within_a_window_of_days() -> None:
    def names(grain: str, first: str, last: str) -> list[str]:
        days = starting_within(CAL, grain, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
        return [CAL.period(grain, o).label for o in days]

    assert names("month", "2023-01-01", "2023-12-31") == [f"2023-{m:02d}" for m in range(1, 13)]
    assert names("month", "2023-07-01", "2023-09-01") == ["2023-07", "2023-08", "2023-09"]  # September starts on the deadline
    assert names("quarter", "2023-02-15", "2023-12-31") == ["2023-Q2", "2023-Q3", "2023-Q4"]
    assert names("term", "2023-01-01", "2023-12-31") == []


def test_progress_with_a_month_missing_before_the_newest_is_unknown() -> None:
    rows = [(f"2023-{m:02d}", 50) for m in (1, 2, 4, 5, 6, 7, 8, 9)]  # March missing; 400 done, ~950 expected
    j = progress({}, rows, "2023-10-16")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-03"] and j.period is None
    assert j.message.startswith("places from 2023-01-01 to 2023-12-31 is not judged: no observation for 2023-03 (8 of 9 observed)")
    assert progress({"gaps": "ignore"}, rows, "2023-10-16").status is Status.WARN
    # Not yet reported is no gap: September missing while October is under way.
    assert progress({}, [(f"2023-{m:02d}", 50) for m in range(1, 9)], "2023-10-16").status is Status.WARN
    assert progress({}, [(m, 400) for m, _ in rows], "2023-10-16").status is Status.OK  # on pace whatever March was


def test_progress_after_the_deadline_needs_every_period_of_the_window() -> None:
    rows = [(f"2023-{m:02d}", 90) for m in range(1, 12)]  # December never reported
    j = progress({}, rows, "2024-01-05")
    assert j.status is Status.UNKNOWN and j.details["missing"] == ["2023-12"]
    assert progress({"gaps": "ignore"}, rows, "2024-01-05").status is Status.BREACH
    assert progress({}, [*rows, ("2023-12", 90)], "2024-01-05").status is Status.BREACH
    running = [(f"2023-{m:02d}", 90 * m) for m in range(1, 12)]
    assert progress({"cumulative": True}, running, "2024-01-05").details["missing"] == ["2023-12"]
    assert progress({"cumulative": True}, running[:-1] + [("2023-12", 1100)], "2024-01-05").status is Status.BREACH
    assert progress({"cumulative": True}, running, "2023-12-20").status is not Status.UNKNOWN  # open: the newest counts


def test_progress_of_mixed_grains_is_judged_as_it_is() -> None:
    assert progress({"target": 40}, [("2023-H1", 23), ("2023-Q3", 6)], "2024-01-05").status is Status.BREACH
